package httpapi_test

import (
	"context"
	"fmt"
	"log/slog"
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
	"github.com/magflow/magflow/internal/httpapi"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

// BenchmarkProductListSearch drives the real server over loopback: 50
// concurrent clients ask for 100-item pages of the product list with a
// search filter over 100,000 products (seeded with ApplyProductPage), and
// it reports the p50 and p99 latency per engine.
func BenchmarkProductListSearch(b *testing.B) {
	const total, clients = 100_000, 50
	for _, d := range sqldbtest.Engines {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			db := sqldbtest.Open(b, d)
			run, _, err := db.StartRun(ctx, "main", magflow.StreamProducts, "bench")
			if err != nil {
				b.Fatal(err)
			}
			for pg := range total / 100 {
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
					b.Fatal(err)
				}
			}
			if err := db.FinishRun(ctx, run.ID, magflow.RunCompleted, magflow.RunCounters{}, "", false); err != nil {
				b.Fatal(err)
			}
			if _, err := db.RebuildCanonical(ctx, []string{"main"}); err != nil {
				b.Fatal(err)
			}
			cfg := &config.Config{Env: config.EnvTesting, JWTSecret: config.Secret(jwtSecret), SyncInterval: time.Hour, OrdersSyncInterval: 5 * time.Minute,
				Accounts: []config.Account{{Name: "main", Platform: magflow.Platforms["emag.ro"], BaseURL: "http://127.0.0.1:1/api-3", Username: "u", Password: "p", OrdersRPS: 12, OtherRPS: 3}}}
			a, err := app.Assemble(db, app.Options{Config: cfg, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			api, err := app.NewAPI(a, app.APIOptions{RateLimits: httpapi.RateLimits{Disabled: true}})
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: api.Handler()}
			e := &env{t: b, db: db}
			e.srv = newLoopback(b, srv)
			h, _ := auth.HashPassword(viewerPassword, bcrypt.MinCost)
			if _, err := db.CreateUser(ctx, "view", h, sqldb.RoleViewer); err != nil {
				b.Fatal(err)
			}
			tok := e.login("view", viewerPassword).AccessToken
			terms := []string{"phone", "lamp", "PN-0421", "d0000", "594000000", "stand", "cable", "product 9"}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)) // about 50 clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				i := 0
				for pb.Next() {
					u := fmt.Sprintf("%s/api/v1/emag/enhanced/products/all?view=account&limit=100&search=%s&offset=%d", e.srv.URL, url.QueryEscape(terms[i%len(terms)]), (i%5)*100)
					i++
					req, _ := http.NewRequest("GET", u, nil)
					req.Header.Set("Authorization", "Bearer "+tok)
					start := time.Now()
					res, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}

					buf := make([]byte, 64<<10)
					for {
						if _, err := res.Body.Read(buf); err != nil {
							break
						}
					}
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Errorf("status %d", res.StatusCode)
						return
					}
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
			}
		})
	}
}
