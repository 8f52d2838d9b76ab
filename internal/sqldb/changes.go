package sqldb

import (
	"context"
	"fmt"
)

// catalogChanged moves the catalog change counter that magflow serve's read
// model compares (migration 00016) in tx, on SQLite; every writer of
// products, offers and canonical rows calls it once per transaction that
// wrote any. SQLite has no statement-level triggers, and a row trigger
// would run an UPDATE for every row a sync writes. On PostgreSQL
// statement-level triggers notify at commit instead, and this does nothing.
func (db *DB) catalogChanged(ctx context.Context, tx execer) error {
	if db.dialect != SQLite {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1"); err != nil {
		return fmt.Errorf("move the catalog change counter: %w", err)
	}
	return nil
}
