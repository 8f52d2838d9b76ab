package sqldb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

// BenchmarkApplyProductPage measures page writes of 100 new products with
// their offers (one transaction each), and of 100 unchanged ones.
func BenchmarkApplyProductPage(b *testing.B) {
	for _, d := range sqldbtest.Engines {
		b.Run(string(d), func(b *testing.B) {
			db := sqldbtest.Open(b, d)
			ctx := context.Background()
			run, _, err := db.StartRun(ctx, "main", magflow.StreamProducts, "bench")
			if err != nil {
				b.Fatal(err)
			}
			b.Run("new", func(b *testing.B) {
				n := 0
				for b.Loop() {
					ps, os := page("main", int64(n*100+1), 100, "19.99")
					if _, err := db.ApplyProductPage(ctx, run.ID, "main", n+1, ps, os, sqldb.Checkpoint{NextPage: n + 2}); err != nil {
						b.Fatal(err)
					}
					n++
				}
				b.ReportMetric(float64(n*100)/b.Elapsed().Seconds(), "products/s")
			})
			b.Run("unchanged", func(b *testing.B) {
				ps, os := page("main", 1, 100, "19.99")
				n := 0
				for b.Loop() {
					if r, err := db.ApplyProductPage(ctx, run.ID, "main", 1, ps, os, sqldb.Checkpoint{NextPage: 2}); err != nil || r.Unchanged != 100 {
						b.Fatal(r, err)
					}
					n++
				}
				b.ReportMetric(float64(n*100)/b.Elapsed().Seconds(), "products/s")
			})
		})
	}
}

// BenchmarkListProductsSearch lists 100-item pages with a search filter over
// 100,000 products from 50 concurrent clients and reports the p99 latency.
// The searches mix a name with a number (word prefixes: "birou 1234" finds
// 1234 and 12340..12349), a part number prefix and an EAN.
func BenchmarkListProductsSearch(b *testing.B) {
	const total = 100_000
	for _, d := range sqldbtest.Engines {
		b.Run(string(d), func(b *testing.B) {
			db := sqldbtest.Open(b, d)
			ctx := context.Background()
			run, _, err := db.StartRun(ctx, "main", magflow.StreamProducts, "bench")
			if err != nil {
				b.Fatal(err)
			}
			for p := range total / 100 {
				ps, os := page("main", int64(p*100+1), 100, "19.99")
				if _, err := db.ApplyProductPage(ctx, run.ID, "main", p+1, ps, os, sqldb.Checkpoint{NextPage: p + 2}); err != nil {
					b.Fatal(err)
				}
			}
			// As a sync ends (the engine rebuilds the canonical view, which
			// also merges the SQLite word index).
			if _, err := db.RebuildCanonical(ctx, []string{"main"}); err != nil {
				b.Fatal(err)
			}
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism((50 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)) // 50 clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 1))
				var mine []time.Duration
				for pb.Next() {
					id := 1 + r.IntN(total)
					var q string
					switch r.IntN(3) {
					case 0:
						q = fmt.Sprintf("birou %d", id)
					case 1:
						q = fmt.Sprintf("pn-%d", id)
					default:
						q = fmt.Sprintf("594%010d", id)
					}
					start := time.Now()
					res, err := db.ListProducts(ctx, sqldb.ProductFilter{Search: q, Limit: 100, Account: "main"})
					mine = append(mine, time.Since(start))
					if err != nil || res.Total == 0 {
						b.Errorf("search %q: total %d, %v", q, res.Total, err)
						return
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			}
		})
	}
}
