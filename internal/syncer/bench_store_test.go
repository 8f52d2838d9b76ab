package syncer

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/cpustat"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

// storePages are the pages of one account's catalogue, fetched from the
// sandbox and converted as the engine converts them.
type storePages struct {
	account string
	items   [][]emag.ProductOffer
}

// fetchStorePages reads every page of every sandbox account once.
func fetchStorePages(b *testing.B, products int) []storePages {
	b.Helper()
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 1, NoRateLimit: true, Accounts: []sandbox.AccountOptions{
		{Name: "main", Products: products, Orders: -1}, {Name: "fbe", Products: products, Orders: -1}}})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	var out []storePages
	for _, info := range sb.Accounts() {
		c, err := emag.New(emag.Options{Account: info.Name, BaseURL: info.BaseURL, Username: info.Username, Password: info.Password,
			HTTPClient: &http.Client{}})
		if err != nil {
			b.Fatal(err)
		}
		sp := storePages{account: info.Name}
		for pg := 1; ; pg++ {
			items, err := c.ReadProductOffers(ctx, emag.ProductOfferFilter{CurrentPage: pg, ItemsPerPage: 100})
			if err != nil {
				b.Fatal(err)
			}
			if len(items) == 0 {
				break
			}
			sp.items = append(sp.items, items)
		}
		out = append(out, sp)
	}
	return out
}

// BenchmarkStoreWrites isolates the write side of figure 2 of issue 4: the
// pages of two accounts (fetched and decoded before the timer starts) are
// committed as the engine commits them (each account's pages in order, the
// accounts side by side), then MarkGone and RebuildCanonical end the scans.
// MAGFLOW_BENCH_PRODUCTS sets the products per account (default 50,000).
// It reports products/s and the seconds of each phase.
func BenchmarkStoreWrites(b *testing.B) {
	products := 50000
	if n, err := strconv.Atoi(os.Getenv("MAGFLOW_BENCH_PRODUCTS")); err == nil && n > 0 {
		products = n
	}
	pages := fetchStorePages(b, products)
	for _, d := range sqldbtest.Engines {
		b.Run(string(d), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				db := sqldbtest.Open(b, d)
				ctx := context.Background()
				runs := make([]int64, len(pages))
				for i, sp := range pages {
					run, _, err := db.StartRun(ctx, sp.account, magflow.StreamProducts, "bench")
					if err != nil {
						b.Fatal(err)
					}
					runs[i] = run.ID
				}
				b.StartTimer()
				wchar0, syscw0, syscr0 := cpustat.IO()
				cpu0, mcpu0 := cpustat.Process(), cpustat.Machine()
				start := time.Now()
				var wg sync.WaitGroup
				for i, sp := range pages {
					wg.Go(func() {
						for n, items := range sp.items {
							ps := make([]magflow.Product, len(items))
							os := make([]magflow.Offer, len(items))
							for j := range items {
								ps[j], os[j] = productFromEMAG(sp.account, &items[j])
							}
							if _, err := db.ApplyProductPage(ctx, runs[i], sp.account, n+1, ps, os,
								sqldb.Checkpoint{NextPage: n + 2, TotalPages: len(sp.items)}); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				paged := time.Since(start)
				for i, sp := range pages {
					if _, err := db.MarkGone(ctx, sp.account, runs[i]); err != nil {
						b.Fatal(err)
					}
				}
				gone := time.Since(start) - paged
				if _, err := db.RebuildCanonical(ctx, []string{"main", "fbe"}); err != nil {
					b.Fatal(err)
				}
				total := time.Since(start)
				wchar, syscw, syscr := cpustat.IO()
				b.ReportMetric(float64(2*products)/total.Seconds(), "products/s")
				b.ReportMetric((cpustat.Process() - cpu0).Seconds(), "cpu_s")
				b.ReportMetric((cpustat.Machine() - mcpu0).Seconds(), "machine_cpu_s")
				b.ReportMetric(float64(wchar-wchar0)/1e6, "MB_written")
				b.ReportMetric(float64(syscw-syscw0), "write_calls")
				b.ReportMetric(float64(syscr-syscr0), "read_calls")
				b.ReportMetric(paged.Seconds(), "s_pages")
				b.ReportMetric(gone.Seconds(), "s_gone")
				b.ReportMetric((total - paged - gone).Seconds(), "s_canonical")
			}
		})
	}
}
