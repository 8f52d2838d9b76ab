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
//
// inputs says the transaction changed what the canonical view is built
// from (products, offers, gone marks): it moves the canon counter too,
// which RebuildCanonical compares with the one its last rebuild read
// (migration 00018).
func (db *DB) catalogChanged(ctx context.Context, tx execer, inputs bool) error {
	if db.dialect != SQLite {
		return nil
	}
	q := "UPDATE magflow_change_counters SET catalog = catalog + 1 WHERE id = 1"
	if inputs {
		q = "UPDATE magflow_change_counters SET catalog = catalog + 1, canon = canon + 1 WHERE id = 1"
	}
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("move the catalog change counter: %w", err)
	}
	return nil
}
