package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/app"
	"github.com/magflow/magflow/internal/auth"
	"github.com/magflow/magflow/internal/config"
	"github.com/magflow/magflow/internal/cpustat"
	"github.com/magflow/magflow/internal/httpapi"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

// benchProducts is the catalogue size of BenchmarkProductListSearch.
const benchProducts = 100_000

// seedBench writes n products of account "main" (with offers) page by page
// as a sync would, then ends the run and rebuilds the canonical view.
// Product i is "Product i <kind>", kind one of four (a quarter of the
// catalogue each), part number PN-%06d, key D%08X, EAN 594%010d.
func seedBench(tb testing.TB, db *sqldb.DB, n int) {
	tb.Helper()
	ctx := context.Background()
	run, _, err := db.StartRun(ctx, "main", magflow.StreamProducts, "bench")
	if err != nil {
		tb.Fatal(err)
	}
	for pg := range n / 100 {
		var ps []magflow.Product
		var os []magflow.Offer
		for i := range 100 {
			id := int64(pg*100 + i + 1)
			pn := fmt.Sprintf("PN-%06d", id)
			ps = append(ps, magflow.Product{Account: "main", ID: id, PartNumber: pn, PartNumberKey: fmt.Sprintf("D%08X", id),
				Name:  fmt.Sprintf("Product %d %s", id, []string{"phone case", "laptop stand", "desk lamp", "usb cable"}[id%4]),
				Brand: "Brand" + fmt.Sprint(id%50), CategoryID: id % 300, EAN: []string{fmt.Sprintf("594%010d", id)}, Status: 1})
			os = append(os, magflow.Offer{Account: "main", ProductID: id, PartNumber: pn, OfferID: id, SalePrice: magflow.NewDecimal(id * 100),
				Currency: "RON", Status: 1, GeneralStock: int(id % 40)})
		}
		if _, err := db.ApplyProductPage(ctx, run.ID, "main", pg+1, ps, os, sqldb.Checkpoint{NextPage: pg + 2}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := db.FinishRun(ctx, run.ID, magflow.RunCompleted, magflow.RunCounters{}, "", false); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.RebuildCanonical(ctx, []string{"main"}); err != nil {
		tb.Fatal(err)
	}
}

// settle does the maintenance a bulk load leaves behind, so that it does not
// run during the measurement: SQLite copies its WAL into the database file;
// PostgreSQL vacuums and analyzes the catalogue tables (autovacuum would,
// a moment later).
func settle(tb testing.TB, db *sqldb.DB) {
	tb.Helper()
	q := "PRAGMA wal_checkpoint(TRUNCATE)"
	if db.Dialect() == sqldb.Postgres {
		q = "VACUUM (ANALYZE) emag_products, emag_product_offers, emag_canonical_products, emag_sync_checkpoints"
	}
	if _, err := db.WriteDB().ExecContext(context.Background(), q); err != nil {
		tb.Fatal(err)
	}
}

// benchServer serves the API over db on loopback (rate limits off) and
// returns its URL and a viewer's access token.
func benchServer(tb testing.TB, db *sqldb.DB) (string, string) {
	tb.Helper()
	ctx := context.Background()
	cfg := &config.Config{Env: config.EnvTesting, JWTSecret: config.Secret(jwtSecret), SyncInterval: time.Hour, OrdersSyncInterval: 5 * time.Minute,
		Accounts: []config.Account{{Name: "main", Platform: magflow.Platforms["emag.ro"], BaseURL: "http://127.0.0.1:1/api-3", Username: "u", Password: "p", OrdersRPS: 12, OtherRPS: 3}}}
	a, err := app.Assemble(db, app.Options{Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	api, err := app.NewAPI(a, app.APIOptions{RateLimits: httpapi.RateLimits{Disabled: true}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = api.Shutdown(context.Background()) })
	if m := api.ReadModel(); m != nil {
		// Measure the model, not its first load.
		wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		if err := m.WaitCurrent(wctx); err != nil {
			tb.Fatal(err)
		}
	}
	e := &env{t: tb, db: db}
	e.srv = newLoopback(tb, &http.Server{Handler: api.Handler()})
	h, _ := auth.HashPassword(viewerPassword, bcrypt.MinCost)
	if _, err := db.CreateUser(ctx, "view", h, sqldb.RoleViewer); err != nil && magflow.ErrorCode(err) != magflow.EConflict {
		tb.Fatal(err)
	}
	return e.srv.URL, e.login("view", viewerPassword).AccessToken
}

// benchSearch is the search of a product list request as an ERP user
// types it, for a random product id in [1, n]: broad words matching a
// quarter of the catalogue, a word with the start of a number, part
// numbers whole and begun, a part number key, EANs whole and begun, and
// prefixes matching ten thousand products or more.
func benchSearch(r *rand.Rand, n int) string {
	id := 1 + r.IntN(n)
	switch r.IntN(12) {
	case 0:
		return []string{"phone", "lamp", "stand", "cable"}[r.IntN(4)]
	case 1:
		return []string{"desk lamp", "usb cable", "Phone Case", "laptop st"}[r.IntN(4)]
	case 2:
		return fmt.Sprintf("lamp %d", id/10)
	case 3:
		return fmt.Sprintf("product %d", id)
	case 4:
		return fmt.Sprintf("PN-%06d", id)
	case 5:
		return fmt.Sprintf("pn-%04d", id/100)
	case 6:
		return fmt.Sprintf("D%08X", id)
	case 7:
		return fmt.Sprintf("594%010d", id)
	case 8:
		return fmt.Sprintf("594%07d", id/1000)
	case 9:
		return "d0000"
	case 10:
		return "594000000"
	default:
		return fmt.Sprintf("product %d", id%10)
	}
}

// runListSearch has clients goroutines ask base's product list (account
// view) for 100-item pages with a search of benchSearch at offsets 0 to
// 400, until pb stops, and returns the latencies, sorted.
func runListSearch(b *testing.B, base, tok string, clients int) []time.Duration {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 2))
		buf := make([]byte, 64<<10)
		var mine []time.Duration
		for pb.Next() {
			u := fmt.Sprintf("%s/api/v1/emag/enhanced/products/all?view=account&limit=100&search=%s&offset=%d",
				base, url.QueryEscape(benchSearch(r, benchProducts)), r.IntN(5)*100)
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			start := time.Now()
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			for {
				if _, err := res.Body.Read(buf); err != nil {
					break
				}
			}
			res.Body.Close()
			mine = append(mine, time.Since(start))
			if res.StatusCode != 200 {
				b.Errorf("%s: status %d", u, res.StatusCode)
				return
			}
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	client.CloseIdleConnections()
	slices.Sort(lat)
	return lat
}

// BenchmarkProductListSearch drives the real server over loopback: 50
// concurrent clients, each sending its next request as soon as the last
// one is answered, ask for 100-item pages of the product list with a
// search filter (see benchSearch) over 100,000 products, and it reports the
// p50 and p99 latency per engine and the requests answered per second.
func BenchmarkProductListSearch(b *testing.B) {
	for _, d := range sqldbtest.Engines {
		b.Run(string(d), func(b *testing.B) {
			db := sqldbtest.Open(b, d)
			seedBench(b, db, benchProducts)
			settle(b, db)
			base, tok := benchServer(b, db)
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			cpu0, alloc0, gc0 := cpustat.Process(), ms.TotalAlloc, ms.NumGC
			lat := runListSearch(b, base, tok, 50)
			var ms2 runtime.MemStats
			runtime.ReadMemStats(&ms2)
			b.ReportMetric(float64(ms2.TotalAlloc-alloc0)/1024/float64(max(1, len(lat))), "alloc_KB/req")
			b.ReportMetric(float64(ms2.NumGC-gc0), "GCs")
			reportLatency(b, lat)
			// CPU per request, clients included: what the box must give
			// whatever else runs on it (wall-clock figures are not).
			b.ReportMetric(float64((cpustat.Process()-cpu0).Microseconds())/float64(max(1, len(lat))), "cpu_us/req")
			// The process's live heap once the model is loaded: the read
			// model's memory, and the database's caches.
			b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap_MB")
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "p90_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "req/s")
}
