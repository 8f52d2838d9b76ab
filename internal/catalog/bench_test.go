package catalog_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/magflow/magflow"

	"github.com/magflow/magflow/internal/catalog"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

// BenchmarkRefresh loads a model of 20,000 products of one account (and
// their canonical rows) per iteration: the cost of one rebuild but the
// items' encoding.
func BenchmarkRefresh(b *testing.B) {
	for _, d := range sqldbtest.Engines {
		b.Run(string(d), func(b *testing.B) {
			db := sqldbtest.Open(b, d)
			scan(b, db, "main", ids(1, 20000), nil)
			if _, err := db.RebuildCanonical(context.Background(), []string{"main"}); err != nil {
				b.Fatal(err)
			}
			// A trivial encoder: the load and the indexes are measured (the
			// API's encoder is measured by its own tests' benchmarks).
			cheap := func(dst []byte, it *sqldb.ProductItem) ([]byte, error) { return append(dst, "{}"...), nil }
			m, err := catalog.New(db, catalog.Options{Encode: cheap})
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

// BenchmarkPageWrites measures what the change triggers of migration 00016
// cost a sync: complete scans of 5,000 products of one account, every row
// changed, with the triggers and without them.
func BenchmarkPageWrites(b *testing.B) {
	drop := map[sqldb.Dialect][]string{
		sqldb.SQLite: {"DROP TRIGGER magflow_cc_products_ins", "DROP TRIGGER magflow_cc_products_upd", "DROP TRIGGER magflow_cc_products_del",
			"DROP TRIGGER magflow_cc_offers_ins", "DROP TRIGGER magflow_cc_offers_upd", "DROP TRIGGER magflow_cc_offers_del",
			"DROP TRIGGER magflow_cc_scans_ins", "DROP TRIGGER magflow_cc_scans_upd", "DROP TRIGGER magflow_cc_scans_del"},
		sqldb.Postgres: {"DROP TRIGGER magflow_cc_products ON emag_products", "DROP TRIGGER magflow_cc_offers ON emag_product_offers",
			"DROP TRIGGER magflow_cc_scans_ins ON emag_sync_checkpoints", "DROP TRIGGER magflow_cc_scans_upd ON emag_sync_checkpoints",
			"DROP TRIGGER magflow_cc_scans_del ON emag_sync_checkpoints"},
	}
	for _, d := range sqldbtest.Engines {
		for _, triggers := range []bool{true, false} {
			name := string(d) + "/triggers"
			if !triggers {
				name = string(d) + "/none"
			}
			b.Run(name, func(b *testing.B) {
				db := sqldbtest.Open(b, d)
				if !triggers {
					for _, q := range drop[d] {
						if _, err := db.WriteDB().ExecContext(context.Background(), q); err != nil {
							b.Fatal(err)
						}
					}
				}
				const n = 5000
				round := 0
				for b.Loop() {
					round++
					scan(b, db, "main", ids(1, n), func(p *magflow.Product, o *magflow.Offer) {
						p.Name = fmt.Sprintf("%s round %d", p.Name, round)
						o.GeneralStock = round
					})
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n)/1000, "us/product")
			})
		}
	}
}
