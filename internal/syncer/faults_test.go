package syncer_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/ratelimit"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
	"github.com/magflow/magflow/internal/syncer"
)

func TestFaultyEMAGStillDeliversEveryProduct(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// 10% 5xx, 5% slow answers, 1% resets and truncated bodies; limits
		// at eMAG's, and clients that send at 10x: 429 bursts.
		sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 13, RateScale: 1,
			Accounts: []sandbox.AccountOptions{{Name: "main", Products: 900, Orders: 200}, {Name: "fbe", Products: 700, Orders: 150}},
			Faults: sandbox.FaultOptions{P500: 0.04, P502: 0.03, P504: 0.03, PSlow: 0.05, SlowMin: 20 * time.Millisecond,
				SlowMax: 150 * time.Millisecond, PReset: 0.01, PTruncated: 0.01}})
		if err != nil {
			t.Fatal(err)
		}
		defer sb.Close()
		var accounts []syncer.Account
		for _, a := range sb.Accounts() {
			lim, _ := ratelimit.NewLocal(ratelimit.Options{Limits: ratelimit.DefaultLimits().Scale(10)})
			stats := &syncer.RequestStats{}
			c, err := emag.New(emag.Options{Account: a.Name, BaseURL: a.BaseURL, Username: a.Username, Password: a.Password,
				Limiter: lim, Hooks: stats.Hooks(), HTTPClient: &http.Client{},
				Retry: emag.RetryPolicy{MaxAttempts: 10, BaseDelay: 5 * time.Millisecond, MaxDelay: 100 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			accounts = append(accounts, syncer.Account{Name: a.Name, Source: c, Stats: stats})
		}
		e, err := syncer.New(syncer.Options{Store: db, Accounts: accounts})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := e.Sync(ctx, syncer.Request{Mode: syncer.ModeAll})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Status() != magflow.RunCompleted {
			t.Fatalf("status %s: %+v", rep.Status(), rep.Runs)
		}
		retries, throttled := 0, 0
		for _, r := range rep.Runs {
			retries += r.Counters.Retries
			throttled += r.Counters.Throttled
		}
		if retries == 0 || throttled == 0 {
			t.Errorf("the faults did not bite: %d retries, %d 429s; sandbox %+v", retries, throttled, sb.Stats())
		}
		for _, acct := range []string{"main", "fbe"} {
			if got, want := storedIDs(t, db, acct), slices.Sorted(slices.Values(sb.ProductIDs(acct))); !slices.Equal(got, want) {
				t.Errorf("%s: %d stored, %d in the sandbox", acct, len(got), len(want))
			}
		}
	})
}

func TestPagesShiftingUnderTheScanConverge(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := setup(t, db, sandbox.Options{Seed: 17, Accounts: []sandbox.AccountOptions{{Name: "main", Products: 1200, Orders: -1}},
			Churn: sandbox.ChurnOptions{Inserts: 3, Deletes: 3}}, 0)
		first := run(t, h.sync(t, syncer.ModeProducts), "main", magflow.StreamProducts)
		if first.Status != magflow.RunCompleted {
			t.Fatalf("first run: %s %q", first.Status, first.Reason)
		}
		h.sb.SetChurn(sandbox.ChurnOptions{})
		second := run(t, h.sync(t, syncer.ModeProducts), "main", magflow.StreamProducts)
		if second.Status != magflow.RunCompleted {
			t.Fatalf("second run: %s %q", second.Status, second.Reason)
		}
		if got, want := storedIDs(t, db, "main"), slices.Sorted(slices.Values(h.sb.ProductIDs("main"))); !slices.Equal(got, want) {
			t.Errorf("after a quiet scan: %d stored, %d in the sandbox", len(got), len(want))
		}
	})
}

func TestDatabaseLostMidRunCommitsNothingHalfWay(t *testing.T) {
	t.Parallel()
	for _, d := range sqldbtest.Engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			url := sqldbtest.URL(t, d)
			db := openURL(t, url)
			if err := db.Migrate(context.Background(), "up"); err != nil {
				t.Fatal(err)
			}
			h := setup(t, db, sandbox.Options{Seed: 19, Accounts: []sandbox.AccountOptions{{Name: "main", Products: 1000, Orders: -1}}}, 0)
			obs := syncer.ObserverFunc(func(p syncer.Progress) {
				if p.Status == magflow.RunRunning && p.Counters.Page == 3 {
					db.Close() // the database goes away after page 3
				}
			})
			e, err := syncer.New(syncer.Options{Store: db, Observer: obs, Accounts: []syncer.Account{{Name: "main", Source: sourceOf(t, h), Concurrency: 1}}})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := e.Sync(context.Background(), syncer.Request{Mode: syncer.ModeProducts})
			if err != nil {
				t.Fatal(err)
			}
			r := run(t, rep, "main", magflow.StreamProducts)
			if r.Status != magflow.RunFailed || !strings.Contains(strings.ToLower(r.Reason), "database") {
				t.Fatalf("run: %s %q", r.Status, r.Reason)
			}

			again := openURL(t, url)
			if got := len(storedIDs(t, again, "main")); got != 300 {
				t.Errorf("stored %d products after losing the database at page 3, want 300 (whole pages only)", got)
			}
			// The dead run still says running (nobody could record its end);
			// once its lease has passed the next run takes over and resumes.
			again.Lease = time.Nanosecond
			e2, err := syncer.New(syncer.Options{Store: again, Accounts: []syncer.Account{{Name: "main", Source: sourceOf(t, h)}}})
			if err != nil {
				t.Fatal(err)
			}
			rep, err = e2.Sync(context.Background(), syncer.Request{Mode: syncer.ModeProducts})
			if err != nil {
				t.Fatal(err)
			}
			if r := run(t, rep, "main", magflow.StreamProducts); r.Status != magflow.RunCompleted || r.Counters.Items != 700 {
				t.Errorf("resumed run: %s items=%d %q", r.Status, r.Counters.Items, r.Reason)
			}
			if got := len(storedIDs(t, again, "main")); got != 1000 {
				t.Errorf("stored %d products, want 1000", got)
			}
		})
	}
}
