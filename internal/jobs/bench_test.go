package jobs_test

import (
	"context"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/jobs"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

// BenchmarkWorkers measures total products per second of 40 sandbox
// accounts at eMAG's real limits (3 requests/s and 180/min each) with 1, 2
// and 4 `magflow worker` processes on PostgreSQL, against the physical
// ceiling of 40 x 3 x 100 = 12,000 products/s. Every account's catalogue
// (2,000 products) is rescanned back to back: a feeder re-enqueues each
// account's sync as soon as the previous one ends. After a warm-up, the
// products committed (the runs' item counters) over a fixed window give the
// rate. Run with:
//
//	MAGFLOW_TEST_POSTGRES_URL=... go test -run '^$' -bench BenchmarkWorkers -benchtime 1x ./internal/jobs/
func BenchmarkWorkers(b *testing.B) {
	const (
		accounts = 40
		products = 2000
		warmup   = 10 * time.Second
		window   = 20 * time.Second
		ceiling  = accounts * magflow.OtherRPS * magflow.MaxItemsPerPage
	)
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			for b.Loop() {
				rate, throttled, peak := measureWorkers(b, n, accounts, products, warmup, window)
				b.ReportMetric(rate, "products/s")
				b.ReportMetric(100*rate/ceiling, "%ceiling")
				b.ReportMetric(float64(throttled), "429s")
				b.ReportMetric(float64(peak), "peak/s")
			}
		})
	}
}

// measureWorkers returns the products committed per second, the 429s the
// sandbox answered (over the whole run) and the highest per-second count
// of accepted requests of any account.
func measureWorkers(b *testing.B, workers, accounts, products int, warmup, window time.Duration) (rate float64, throttled int64, peak int) {
	url := sqldbtest.URL(b, sqldb.Postgres)
	ctx := context.Background()
	db, err := sqldb.Open(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, "up"); err != nil {
		b.Fatal(err)
	}
	var opts []sandbox.AccountOptions
	var names []string
	for i := range accounts {
		name := "acct" + strconv.Itoa(i+1)
		names = append(names, name)
		opts = append(opts, sandbox.AccountOptions{Name: name, Products: products, Orders: -1})
	}
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 40, Accounts: opts, Overlap: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	env := writeEnv(b, sb)
	args := []string{"--env-file", env, "--database-url", url, "--workers", strconv.Itoa((2*accounts + workers - 1) / workers),
		"--poll-interval", "200ms"}
	var procs []*worker
	for range workers {
		procs = append(procs, startWorker(b, args...))
	}
	defer func() {
		for _, p := range procs {
			p.cmd.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			p.cmd.Wait()
		}
	}()
	// The feeder: an insert-only River client keeps one sync job per
	// account queued or running.
	client, err := river.NewClient(riverdatabasesql.New(db.WriteDB()), &river.Config{})
	if err != nil {
		b.Fatal(err)
	}
	feed := func() {
		for _, a := range names {
			if _, err := client.Insert(ctx, jobs.SyncArgs{Account: a, Stream: magflow.StreamProducts, Trigger: "bench"}, nil); err != nil {
				// River's tables may not exist until a worker migrated them.
				return
			}
		}
	}
	items := func() int64 {
		var n int64
		if err := db.WriteDB().QueryRowContext(ctx, "SELECT coalesce(sum(items), 0) FROM emag_sync_logs").Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	var t0, t1 time.Time
	var n0, n1 int64
	for t1.IsZero() {
		<-tick.C
		feed()
		switch now := time.Now(); {
		case t0.IsZero() && now.Sub(start) >= warmup:
			t0, n0 = now, items()
		case !t0.IsZero() && now.Sub(t0) >= window:
			t1, n1 = now, items()
		}
	}
	st := sb.Stats()
	for _, a := range names {
		bs := st.Accounts[a].Buckets["other"]
		throttled += bs.RateLimited
		peak = max(peak, bs.MaxPerSecond)
		if bs.MaxPerSecond > bs.LimitPerSecond || bs.MaxPerMinute > bs.LimitPerMinute {
			b.Errorf("%s above its limits: %+v", a, bs)
		}
	}
	return float64(n1-n0) / t1.Sub(t0).Seconds(), throttled, peak
}
