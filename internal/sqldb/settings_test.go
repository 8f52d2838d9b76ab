package sqldb_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/magflow/magflow/internal/sqldb"
)

// TestSQLiteConnectionSettings: a new database file is in WAL mode with
// synchronous=NORMAL and the page size the store means it to have, on the
// writer and on the read pool (the driver sorts its pragma list, which once
// let journal_mode fix the page size before page_size ran).
func TestSQLiteConnectionSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqldb.Open(ctx, filepath.Join(t.TempDir(), "settings.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, "up"); err != nil {
		t.Fatal(err)
	}
	for name, conn := range map[string]*sql.DB{"writer": db.WriteDB(), "reader": db.ReadDB()} {
		var pageSize, sync int
		var mode string
		if err := conn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if pageSize != 4096 || mode != "wal" || sync != 1 {
			t.Errorf("%s: page_size %d, journal_mode %s, synchronous %d; want 4096, wal, 1 (NORMAL)", name, pageSize, mode, sync)
		}
	}
}
