package syncer_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
	"github.com/magflow/magflow/internal/syncer"
)

// retryAttempts is the client's attempts per request in these tests; a fault
// plan failing a page this many times turns it into a hole.
const retryAttempts = 3

type harness struct {
	sb     *sandbox.Sandbox
	db     *sqldb.DB
	engine *syncer.Engine
}

// setup starts a sandbox (unlimited unless opts say otherwise) and an engine
// over db with one fast-retrying client per sandbox account.
func setup(t *testing.T, db *sqldb.DB, opts sandbox.Options, maxPages int) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if opts.RateScale == 0 {
		opts.NoRateLimit = true
	}
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	var accounts []syncer.Account
	for _, info := range sb.Accounts() {
		stats := &syncer.RequestStats{}
		c, err := emag.New(emag.Options{
			Account: info.Name, BaseURL: info.BaseURL, Username: info.Username, Password: info.Password,
			HTTPClient: &http.Client{Timeout: 10 * time.Second}, Hooks: stats.Hooks(),
			Retry: emag.RetryPolicy{MaxAttempts: retryAttempts, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
		})
		if err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, syncer.Account{Name: info.Name, Source: c, Stats: stats, MaxPages: maxPages})
	}
	e, err := syncer.New(syncer.Options{Store: db, Accounts: accounts})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{sb: sb, db: db, engine: e}
}

func (h *harness) sync(t *testing.T, mode syncer.Mode) syncer.Report {
	t.Helper()
	rep, err := h.engine.Sync(context.Background(), syncer.Request{Mode: mode, Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func run(t *testing.T, rep syncer.Report, account string, stream magflow.Stream) syncer.RunResult {
	t.Helper()
	for _, r := range rep.Runs {
		if r.Account == account && r.Stream == stream {
			return r
		}
	}
	t.Fatalf("no %s %s run in %+v", account, stream, rep.Runs)
	return syncer.RunResult{}
}

// storedIDs returns the ids of the account's products that are not gone.
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

func TestSyncIsCompleteThenIdempotent(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := setup(t, db, sandbox.Options{Seed: 7, Accounts: []sandbox.AccountOptions{
			{Name: "main", Products: 450, Orders: 150}, {Name: "fbe", Products: 320, Orders: 120},
		}}, 0)
		rep := h.sync(t, syncer.ModeAll)
		if rep.Status() != magflow.RunCompleted {
			t.Fatalf("status %s: %+v", rep.Status(), rep.Runs)
		}
		for _, acct := range []string{"main", "fbe"} {
			if got, want := storedIDs(t, db, acct), slices.Sorted(slices.Values(h.sb.ProductIDs(acct))); !slices.Equal(got, want) {
				t.Errorf("%s: stored %d products, sandbox has %d", acct, len(got), len(want))
			}
			r := run(t, rep, acct, magflow.StreamProducts)
			if r.Counters.Inserted != len(h.sb.ProductIDs(acct)) || r.Counters.Requests == 0 {
				t.Errorf("%s counters %+v", acct, r.Counters)
			}
			o := run(t, rep, acct, magflow.StreamOrders)
			if o.Status != magflow.RunCompleted || o.Counters.Items < len(h.sb.OrderIDs(acct)) {
				t.Errorf("%s orders: %s, %d items, sandbox has %d orders", acct, o.Status, o.Counters.Items, len(h.sb.OrderIDs(acct)))
			}
		}
		if rep.Duplicates == 0 {
			t.Error("no duplicate SKUs found, but the sandbox shares 30% of part numbers")
		}

		again := h.sync(t, syncer.ModeBoth)
		for _, r := range again.Runs {
			if r.Status != magflow.RunCompleted || r.Counters.Inserted != 0 || r.Counters.Updated != 0 || r.Counters.Gone != 0 {
				t.Errorf("unchanged re-sync of %s wrote rows: %s %+v", r.Account, r.Status, r.Counters)
			}
		}
	})
}

func TestFailedPageBecomesAHoleAndIsFilledNextRun(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := setup(t, db, sandbox.Options{Seed: 3, Accounts: []sandbox.AccountOptions{{Name: "main", Products: 530, Orders: -1}},
			Faults: sandbox.FaultOptions{Plan: []sandbox.FaultRule{
				{Account: "main", Route: "product_offer/read", Page: 3, Kind: sandbox.Fault502, Times: retryAttempts},
			}}}, 0)
		first := run(t, h.sync(t, syncer.ModeProducts), "main", magflow.StreamProducts)
		if first.Status != magflow.RunPartial || first.Counters.Holes != 1 || !strings.Contains(first.Reason, "3") {
			t.Fatalf("first run: %s holes=%d reason=%q", first.Status, first.Counters.Holes, first.Reason)
		}
		if got := len(storedIDs(t, db, "main")); got != 430 {
			t.Errorf("stored %d products after a one-page hole, want 430", got)
		}
		holes, err := db.Holes(context.Background(), "main", magflow.StreamProducts)
		if err != nil || len(holes) != 1 || holes[0].Page != 3 {
			t.Fatalf("holes = %+v, %v", holes, err)
		}
		second := run(t, h.sync(t, syncer.ModeProducts), "main", magflow.StreamProducts)
		if second.Status != magflow.RunCompleted {
			t.Fatalf("second run: %s %q", second.Status, second.Reason)
		}
		if got, want := storedIDs(t, db, "main"), slices.Sorted(slices.Values(h.sb.ProductIDs("main"))); !slices.Equal(got, want) {
			t.Errorf("after the hole was filled: %d stored, %d in the sandbox", len(got), len(want))
		}
		if holes, _ := db.Holes(context.Background(), "main", magflow.StreamProducts); len(holes) != 0 {
			t.Errorf("holes left: %+v", holes)
		}
	})
}

func TestCaptchaStopsOnlyThatAccount(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := setup(t, db, sandbox.Options{Seed: 5, Accounts: []sandbox.AccountOptions{
			{Name: "main", Products: 250, Orders: -1}, {Name: "fbe", Products: 250, Orders: -1},
		}, Faults: sandbox.FaultOptions{Plan: []sandbox.FaultRule{{Account: "fbe", Kind: sandbox.FaultCaptcha}}}}, 0)
		rep := h.sync(t, syncer.ModeProducts)
		if r := run(t, rep, "main", magflow.StreamProducts); r.Status != magflow.RunCompleted {
			t.Errorf("main: %s %q", r.Status, r.Reason)
		}
		r := run(t, rep, "fbe", magflow.StreamProducts)
		if r.Status != magflow.RunFailed || !strings.Contains(strings.ToLower(r.Reason), "captcha") && !strings.Contains(strings.ToLower(r.Reason), "html") {
			t.Errorf("fbe: %s %q", r.Status, r.Reason)
		}
		if rep.Status() != magflow.RunFailed {
			t.Errorf("report status %s", rep.Status())
		}
	})
}

func TestCappedScanSaysSoAndMarksNothingGone(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := setup(t, db, sandbox.Options{Seed: 9, Accounts: []sandbox.AccountOptions{{Name: "main", Products: 640, Orders: -1}}}, 2)
		r := run(t, h.sync(t, syncer.ModeProducts), "main", magflow.StreamProducts)
		if r.Status != magflow.RunCompleted || !r.Capped || r.Counters.Page != 2 || r.Counters.Items != 200 || r.Counters.Gone != 0 {
			t.Errorf("capped run: %s capped=%v %+v", r.Status, r.Capped, r.Counters)
		}
	})
}

func TestCancelledRunResumesFromItsCheckpoint(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		h := setup(t, db, sandbox.Options{Seed: 11, Accounts: []sandbox.AccountOptions{{Name: "main", Products: 1000, Orders: -1}}}, 0)
		ctx, cancel := context.WithCancel(context.Background())
		pages := 0
		obs := syncer.ObserverFunc(func(p syncer.Progress) {
			if p.Status == magflow.RunRunning && p.Counters.Page > pages {
				pages = p.Counters.Page
				if pages == 4 {
					cancel()
				}
			}
		})
		e, err := syncer.New(syncer.Options{Store: db, Observer: obs, Accounts: []syncer.Account{{Name: "main", Source: sourceOf(t, h), Concurrency: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := e.Sync(ctx, syncer.Request{Mode: syncer.ModeProducts})
		if err != nil {
			t.Fatal(err)
		}
		first := run(t, rep, "main", magflow.StreamProducts)
		if first.Status != magflow.RunCancelled {
			t.Fatalf("first run: %s %q", first.Status, first.Reason)
		}
		second := run(t, h.sync(t, syncer.ModeProducts), "main", magflow.StreamProducts)
		if second.Status != magflow.RunCompleted {
			t.Fatalf("second run: %s %q", second.Status, second.Reason)
		}
		if second.Counters.Items >= 1000 || second.Counters.Page != 10 {
			t.Errorf("second run did not resume: %+v", second.Counters)
		}
		if got := len(storedIDs(t, db, "main")); got != 1000 {
			t.Errorf("stored %d products, want 1000", got)
		}
	})
}

// sourceOf builds a fresh client for the harness's main account.
func sourceOf(t *testing.T, h *harness) syncer.Source {
	t.Helper()
	info := h.sb.Accounts()[0]
	c, err := emag.New(emag.Options{Account: info.Name, BaseURL: info.BaseURL, Username: info.Username, Password: info.Password,
		Retry: emag.RetryPolicy{MaxAttempts: retryAttempts, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSQLiteTimesReadableBySQLite: after a sync of products, offers and
// orders (and a re-sync that marks some products gone), every time column
// of every MagFlow table holds text that SQLite's own date and time
// functions read, so an ERP can write date(modified) in its SQL.
func TestSQLiteTimesReadableBySQLite(t *testing.T) {
	t.Parallel()
	db := sqldbtest.Open(t, sqldb.SQLite)
	h := setup(t, db, sandbox.Options{Seed: 5, Accounts: []sandbox.AccountOptions{{Name: "main", Products: 300, Orders: 200}}}, 0)
	if rep := h.sync(t, syncer.ModeAll); rep.Status() != magflow.RunCompleted {
		t.Fatalf("sync: %+v", rep.Runs)
	}
	ctx := context.Background()
	w := db.WriteDB()
	rows, err := w.QueryContext(ctx, `SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
WHERE m.type = 'table' AND m.name NOT LIKE 'river%' AND m.name NOT LIKE 'goose%' AND m.name NOT LIKE 'sqlite%'
AND m.name NOT LIKE 'emag_products_fts%' AND upper(c.type) IN ('DATETIME', 'TIMESTAMP')`)
	if err != nil {
		t.Fatal(err)
	}
	var cols [][2]string
	for rows.Next() {
		var tc [2]string
		if err := rows.Scan(&tc[0], &tc[1]); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, tc)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if len(cols) < 30 {
		t.Fatalf("found %d time columns: %v", len(cols), cols)
	}
	seen := 0
	for _, tc := range cols {
		var n, bad int
		var example sql.NullString
		q := fmt.Sprintf("SELECT count(%[2]s), count(CASE WHEN datetime(%[2]s) IS NULL THEN 1 END), max(CASE WHEN %[2]s IS NOT NULL AND datetime(%[2]s) IS NULL THEN %[2]s END) FROM %[1]s WHERE %[2]s IS NOT NULL", tc[0], tc[1])
		if err := w.QueryRowContext(ctx, q).Scan(&n, &bad, &example); err != nil {
			t.Fatal(err)
		}
		if bad > 0 {
			t.Errorf("%s.%s: %d of %d values unreadable by datetime(), e.g. %q", tc[0], tc[1], bad, n, example.String)
		}
		seen += n
	}
	if seen < 1000 {
		t.Errorf("only %d time values checked", seen)
	}
}
