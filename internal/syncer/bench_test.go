package syncer_test

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/cpustat"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/ratelimit"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
	"github.com/magflow/magflow/internal/syncer"
)

// The benchmarks of docs/benchmarks.md. Each is one whole sync, so run them
// with -benchtime=1x; MAGFLOW_BENCH_PRODUCTS overrides catalogue sizes.

func benchProducts(def int) int {
	if n, err := strconv.Atoi(os.Getenv("MAGFLOW_BENCH_PRODUCTS")); err == nil && n > 0 {
		return n
	}
	return def
}

// benchEngine starts a sandbox and an engine over store with a real rate
// limiter per account when limited is set.
func benchEngine(b *testing.B, store syncer.Store, products int, limited bool) (*sandbox.Sandbox, *syncer.Engine) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 1, NoRateLimit: !limited, Accounts: []sandbox.AccountOptions{
		{Name: "main", Products: products, Orders: -1}, {Name: "fbe", Products: products, Orders: -1}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sb.Close() })
	var accounts []syncer.Account
	for _, info := range sb.Accounts() {
		opts := emag.Options{Account: info.Name, BaseURL: info.BaseURL, Username: info.Username, Password: info.Password,
			HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}}
		if limited {
			lim, err := ratelimit.NewLocal(ratelimit.Options{Limits: ratelimit.DefaultLimits()})
			if err != nil {
				b.Fatal(err)
			}
			opts.Limiter = lim
		}
		stats := &syncer.RequestStats{}
		opts.Hooks = stats.Hooks()
		c, err := emag.New(opts)
		if err != nil {
			b.Fatal(err)
		}
		accounts = append(accounts, syncer.Account{Name: info.Name, Source: c, Stats: stats})
	}
	e, err := syncer.New(syncer.Options{Store: store, Accounts: accounts})
	if err != nil {
		b.Fatal(err)
	}
	return sb, e
}

func syncOnce(b *testing.B, e *syncer.Engine) (syncer.Report, time.Duration) {
	b.Helper()
	start := time.Now()
	rep, err := e.Sync(context.Background(), syncer.Request{Mode: syncer.ModeBoth, MaxPages: new(int)})
	if err != nil {
		b.Fatal(err)
	}
	if rep.Status() != magflow.RunCompleted {
		b.Fatalf("sync %s: %+v", rep.Status(), rep.Runs)
	}
	return rep, time.Since(start)
}

func items(rep syncer.Report) (n, written, throttled int) {
	for _, r := range rep.Runs {
		n += r.Counters.Items
		written += r.Counters.Inserted + r.Counters.Updated
		throttled += r.Counters.Throttled
	}
	return
}

// BenchmarkRateLimitUtilisation: two accounts of 10,000 products at eMAG's
// real limits; the physical minimum is pages / 3 per second, the accounts
// side by side. Reports the ratio to it and the 429s (target <= 1.05, 0).
func BenchmarkRateLimitUtilisation(b *testing.B) {
	products := benchProducts(10000)
	db := sqldbtest.Open(b, sqldb.SQLite)
	_, e := benchEngine(b, db, products, true)
	for b.Loop() {
		rep, d := syncOnce(b, e)
		pages := (products + 99) / 100
		minimum := time.Duration(float64(pages) / magflow.OtherRPS * float64(time.Second))
		_, _, throttled := items(rep)
		b.ReportMetric(d.Seconds()/minimum.Seconds(), "x_physical_min")
		b.ReportMetric(float64(throttled), "429s")
		b.ReportMetric(d.Seconds(), "s/sync")
	}
}

// BenchmarkEngineOverhead: the sandbox unlimited, two accounts, syncing into
// each engine versus fetching the same pages and discarding them.
func BenchmarkEngineOverhead(b *testing.B) {
	products := benchProducts(50000)
	b.Run("discard", func(b *testing.B) {
		_, e := benchEngine(b, discardStore{}, products, false)
		for b.Loop() {
			overheadSync(b, e)
		}
	})
	benchEachEngine(b, products, overheadSync)
}

// overheadSync runs one sync of BenchmarkEngineOverhead and reports its
// products per second and the CPU it took: this process's and the whole
// machine's (the sandbox runs in this process; PostgreSQL's server does
// not). On two cores, a sync cannot take less wall time than half the
// machine's CPU time.
func overheadSync(b *testing.B, e *syncer.Engine) {
	cpu0, mcpu0 := cpustat.Process(), cpustat.Machine()
	rep, d := syncOnce(b, e)
	n, _, _ := items(rep)
	b.ReportMetric(float64(n)/d.Seconds(), "products/s")
	b.ReportMetric((cpustat.Process() - cpu0).Seconds(), "cpu_s")
	b.ReportMetric((cpustat.Machine() - mcpu0).Seconds(), "machine_cpu_s")
}

// benchEachEngine runs fn once per iteration per database engine, over an
// unlimited engine on a fresh database set up with the timer stopped
// (sqldbtest.Open skips PostgreSQL when its URL is unset).
func benchEachEngine(b *testing.B, products int, fn func(b *testing.B, e *syncer.Engine)) {
	for _, d := range sqldbtest.Engines {
		b.Run(string(d), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				_, e := benchEngine(b, sqldbtest.Open(b, d), products, false)
				b.StartTimer()
				fn(b, e)
			}
		})
	}
}

// BenchmarkUnchangedResync: a second sync of an unchanged catalogue writes no
// product rows; reports its time relative to the first (target <= 0.6).
func BenchmarkUnchangedResync(b *testing.B) {
	products := benchProducts(50000)
	benchEachEngine(b, products, func(b *testing.B, e *syncer.Engine) {
		_, first := syncOnce(b, e)
		rep, second := syncOnce(b, e)
		_, written, _ := items(rep)
		b.ReportMetric(second.Seconds()/first.Seconds(), "x_first_sync")
		b.ReportMetric(float64(written), "rows_rewritten")
	})
}

// discardStore is a Store that keeps nothing: the baseline of fetching and
// decoding pages with no database.
type discardStore struct{}

func (discardStore) StartRun(_ context.Context, account string, stream magflow.Stream, _ string) (magflow.SyncRun, sqldb.Resume, error) {
	return magflow.SyncRun{ID: 1, Account: account, Stream: stream}, sqldb.Resume{}, nil
}
func (discardStore) Heartbeat(context.Context, int64) error { return nil }
func (discardStore) ApplyProductPages(_ context.Context, _ int64, _ string, pages []sqldb.ScanPage, _ sqldb.Checkpoint) ([]sqldb.PageResult, error) {
	res := make([]sqldb.PageResult, len(pages))
	for i, p := range pages {
		res[i].Inserted = len(p.Products)
	}
	return res, nil
}
func (discardStore) MarkGone(context.Context, string, int64) (int, error) { return 0, nil }
func (discardStore) RecordHole(context.Context, magflow.Hole) error       { return nil }
func (discardStore) Holes(context.Context, string, magflow.Stream) ([]magflow.Hole, error) {
	return nil, nil
}
func (discardStore) ResolveHole(context.Context, string, magflow.Stream, int, int64) error {
	return nil
}
func (discardStore) ApplyOrders(_ context.Context, _ int64, _ string, o []magflow.Order, _ sqldb.Checkpoint) (sqldb.PageResult, error) {
	return sqldb.PageResult{Inserted: len(o)}, nil
}
func (discardStore) UpdateProgress(context.Context, int64, magflow.RunCounters, float64, time.Duration) error {
	return nil
}
func (discardStore) FinishRun(context.Context, int64, magflow.RunStatus, magflow.RunCounters, string, bool) error {
	return nil
}
func (discardStore) RebuildCanonical(context.Context, []string) (int, error) { return 0, nil }
