package jobs_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/app"
	"github.com/magflow/magflow/internal/config"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/jobs"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
	"github.com/magflow/magflow/internal/syncer"
)

// writeEnv writes the sandbox's accounts and extra lines to a .env file.
func writeEnv(t testing.TB, sb *sandbox.Sandbox, extra ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(p, []byte(sb.Env()+strings.Join(extra, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newApp opens a MagFlow app of dialect d on a fresh database, its
// accounts pointing at sb.
func newApp(t *testing.T, d sqldb.Dialect, sb *sandbox.Sandbox, obs ...syncer.Observer) *app.App {
	t.Helper()
	url := sqldbtest.URL(t, d)
	cfg, err := config.Load(config.FromOS(writeEnv(t, sb), map[string]string{"DATABASE_URL": url}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	opts := app.Options{Config: cfg}
	if len(obs) > 0 {
		opts.Observer = obs[0]
	}
	a, err := app.New(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func storedIDs(t *testing.T, db *sqldb.DB, account string) []int64 {
	t.Helper()
	var ids []int64
	for p, err := range db.ExportProducts(context.Background(), account) {
		if err != nil {
			t.Fatal(err)
		}
		if p.GoneAt == nil {
			ids = append(ids, p.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// waitJobs waits for n sync jobs to end and returns how each ended.
func waitJobs(t *testing.T, events <-chan *river.Event, n int) map[river.EventKind]int {
	t.Helper()
	got := map[river.EventKind]int{}
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	for done := 0; done < n; {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the River client stopped")
			}
			if ev.Job.Kind != (jobs.SyncArgs{}).Kind() {
				continue
			}
			if ev.Kind != river.EventKindJobCompleted {
				t.Logf("job %d (%s) ended %s: %v", ev.Job.ID, ev.Job.EncodedArgs, ev.Kind, ev.Job.Errors)
			}
			got[ev.Kind]++
			done++
		case <-timeout.C:
			t.Fatalf("%v of %d jobs ended in 60s", got, n)
		}
	}
	return got
}

// TestSyncJobs runs sync jobs through River on both engines: unique per
// account and stream while queued, each a complete run of its stream.
func TestSyncJobs(t *testing.T) {
	t.Parallel()
	for _, d := range sqldbtest.Engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			sb, err := sandbox.Start(t.Context(), sandbox.Options{Seed: 6, NoRateLimit: true, Accounts: []sandbox.AccountOptions{
				{Name: "main", Products: 450, Orders: 40}, {Name: "fbe", Products: 250, Orders: -1}}})
			if err != nil {
				t.Fatal(err)
			}
			defer sb.Close()
			a := newApp(t, d, sb)
			svc, err := app.NewJobs(a, app.JobsOptions{Options: jobs.Options{NoSchedule: true, FetchPollInterval: 50 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if err := svc.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for _, j := range []struct {
				account string
				stream  magflow.Stream
				want    bool
			}{
				{"main", magflow.StreamProducts, true},
				{"main", magflow.StreamProducts, false}, // already queued
				{"fbe", magflow.StreamProducts, true},
				{"main", magflow.StreamOrders, true},
				{"gone", magflow.StreamProducts, true}, // no longer configured: cancelled, not retried
			} {
				ins, err := svc.EnqueueSync(ctx, j.account, j.stream, "test")
				if err != nil || ins != j.want {
					t.Fatalf("enqueue %s %s: inserted %v, %v; want %v", j.account, j.stream, ins, err, j.want)
				}
			}
			events, cancel := svc.Client().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
			defer cancel()
			if err := svc.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if got := waitJobs(t, events, 4); got[river.EventKindJobCompleted] != 3 || got[river.EventKindJobCancelled] != 1 {
				t.Errorf("jobs ended %v, want 3 completed and 1 cancelled", got)
			}
			if err := svc.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			for _, acct := range []string{"main", "fbe"} {
				if got, want := storedIDs(t, a.DB, acct), slices.Sorted(slices.Values(sb.ProductIDs(acct))); !slices.Equal(got, want) {
					t.Errorf("%s: stored %d products, the sandbox has %d", acct, len(got), len(want))
				}
			}
			runs, _, err := a.DB.ListRuns(ctx, sqldb.RunFilter{Trigger: "test"})
			if err != nil || len(runs) != 3 {
				t.Fatalf("runs: %d, %v", len(runs), err)
			}
			for _, r := range runs {
				if r.Status != magflow.RunCompleted {
					t.Errorf("run %d %s %s: %s %q", r.ID, r.Account, r.Stream, r.Status, r.Reason)
				}
			}
		})
	}
}

// TestReaperTakesOverExpiredRun: a run whose heartbeat lease expired (its
// process died) is handed to a worker, which resumes the scan from the
// checkpoint: the interrupted run ends failed, the new one completed, and
// the catalogue is complete.
func TestReaperTakesOverExpiredRun(t *testing.T) {
	t.Parallel()
	for _, d := range sqldbtest.Engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			// 30 pages: far more than a scan fetches ahead of its commits
			// (and a group commit takes at once), so stopping at page 2
			// leaves most of the catalogue to the worker.
			const products = 3000
			sb, err := sandbox.Start(t.Context(), sandbox.Options{Seed: 7, NoRateLimit: true, Accounts: []sandbox.AccountOptions{
				{Name: "main", Products: products, Orders: -1}}})
			if err != nil {
				t.Fatal(err)
			}
			defer sb.Close()
			// A process dies after a few pages: its run stays running, its
			// heartbeat stops, its checkpoint says where it was.
			ctx := t.Context()
			syncCtx, stopSync := context.WithCancel(ctx)
			defer stopSync()
			a := newApp(t, d, sb, syncer.ObserverFunc(func(p syncer.Progress) {
				if p.Counters.Page >= 2 {
					stopSync()
				}
			}))
			rep, err := a.Engine.Sync(syncCtx, syncer.Request{Accounts: []string{"main"}, Mode: syncer.ModeProducts, Trigger: "cli"})
			// Cancelled between pages, or failed if the cancellation hit a
			// page's commit: either way the scan stays open.
			if err != nil || len(rep.Runs) != 1 || rep.Runs[0].Status == magflow.RunCompleted {
				t.Fatalf("first run: %+v, %v", rep.Runs, err)
			}
			dead := rep.Runs[0].RunID
			q := "UPDATE emag_sync_logs SET status = 'running', finished_at = NULL, heartbeat_at = ? WHERE id = ?"
			if d == sqldb.Postgres {
				q = "UPDATE emag_sync_logs SET status = 'running', finished_at = NULL, heartbeat_at = $1 WHERE id = $2"
			}
			if _, err := a.DB.WriteDB().ExecContext(ctx, q, time.Now().Add(-time.Hour).UTC(), dead); err != nil {
				t.Fatal(err)
			}
			before := len(storedIDs(t, a.DB, "main"))
			if before == 0 || before >= products {
				t.Fatalf("%d products stored before the crash", before)
			}

			svc, err := app.NewJobs(a, app.JobsOptions{Options: jobs.Options{NoSchedule: true, FetchPollInterval: 50 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			res, err := svc.Reap(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Stale) != 1 || res.Stale[0].ID != dead || res.Enqueued != 1 {
				t.Fatalf("reap: %+v", res)
			}
			if res, err := svc.Reap(ctx); err != nil || res.Enqueued != 0 {
				t.Fatalf("second reap enqueued again: %+v, %v", res, err)
			}
			events, cancel := svc.Client().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled)
			defer cancel()
			if err := svc.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer svc.Stop(context.Background())
			if got := waitJobs(t, events, 1); got[river.EventKindJobCompleted] != 1 {
				t.Fatalf("takeover job: %v", got)
			}
			runs, _, err := a.DB.ListRuns(ctx, sqldb.RunFilter{Account: "main"})
			if err != nil || len(runs) != 2 {
				t.Fatalf("runs: %+v, %v", runs, err)
			}
			taker, old := runs[0], runs[1]
			if old.ID != dead || old.Status != magflow.RunFailed || !strings.Contains(old.Reason, "interrupted") {
				t.Errorf("dead run: %d %s %q", old.ID, old.Status, old.Reason)
			}
			if taker.Status != magflow.RunCompleted || taker.Trigger != jobs.TriggerTakeover {
				t.Errorf("takeover run: %s %s %q", taker.Trigger, taker.Status, taker.Reason)
			}
			// It resumed: the pages already stored were not fetched again.
			if taker.Counters.Inserted != products-before {
				t.Errorf("takeover run inserted %d, want the %d not stored before", taker.Counters.Inserted, products-before)
			}
			if got, want := storedIDs(t, a.DB, "main"), slices.Sorted(slices.Values(sb.ProductIDs("main"))); !slices.Equal(got, want) {
				t.Errorf("stored %d products, the sandbox has %d", len(got), len(want))
			}
		})
	}
}
