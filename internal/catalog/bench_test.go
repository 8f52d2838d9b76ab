package catalog_test

import (
	"context"
	"testing"

	"github.com/magflow/magflow/internal/catalog"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

// BenchmarkRefresh loads a model of 20,000 products of one account (and
// their canonical rows) per iteration: the cost of one rebuild.
func BenchmarkRefresh(b *testing.B) {
	for _, d := range sqldbtest.Engines {
		b.Run(string(d), func(b *testing.B) {
			db := sqldbtest.Open(b, d)
			scan(b, db, "main", ids(1, 20000), nil)
			if _, err := db.RebuildCanonical(context.Background(), []string{"main"}); err != nil {
				b.Fatal(err)
			}
			m, err := catalog.New(db, catalog.Options{Encode: encode})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if d == sqldb.Postgres {
				if err := m.Start(ctx); err != nil {
					b.Fatal(err)
				}
				defer m.Close()
				if err := m.WaitCurrent(ctx); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				if err := m.Refresh(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
