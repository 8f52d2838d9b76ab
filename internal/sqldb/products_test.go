package sqldb_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

// page returns n products (ids first..first+n-1) of account and their offers.
func page(account string, first int64, n int, price string) ([]magflow.Product, []magflow.Offer) {
	ps := make([]magflow.Product, n)
	os := make([]magflow.Offer, n)
	for i := range n {
		id := first + int64(i)
		pn := fmt.Sprintf("PN-%d", id)
		raw, _ := json.Marshal(map[string]any{"id": id, "part_number": pn, "name": fmt.Sprintf("Lampa birou %d", id),
			"images":          []map[string]any{{"url": "https://example.invalid/1.jpg", "display_type": 1}},
			"characteristics": []map[string]any{{"id": 38, "value": "Negru"}}, "manufacturer": true, "sale_price": price})
		ps[i] = magflow.Product{Account: account, ID: id, PartNumber: pn, PartNumberKey: fmt.Sprintf("PNK%dX", id),
			Name: fmt.Sprintf("Lampa birou %d", id), Brand: "Acme", CategoryID: 3514, EAN: []string{fmt.Sprintf("594%010d", id)},
			Status: 1, ValidationStatus: 9, OfferValidationStatus: 1, Ownership: true, GreenTax: magflow.MustDecimal("0.5"),
			SupplyLeadTime: 14, SafetyInformation: "keep dry", Raw: raw}
		os[i] = magflow.Offer{Account: account, ProductID: id, PartNumber: pn, OfferID: 42840000 + id,
			SalePrice: magflow.MustDecimal(price), MinSalePrice: magflow.MustDecimal("1"), MaxSalePrice: magflow.MustDecimal("1000"),
			Currency: "RON", VatID: 1, Status: 1, GeneralStock: int(id % 50), EstimatedStock: int(id % 50),
			Stock: []magflow.WarehouseValue{{WarehouseID: 1, Value: int(id % 50)}}, HandlingTime: []magflow.WarehouseValue{{WarehouseID: 1, Value: 1}}}
	}
	return ps, os
}

func startRun(t *testing.T, db *sqldb.DB, account string, stream magflow.Stream) (magflow.SyncRun, sqldb.Resume) {
	t.Helper()
	run, res, err := db.StartRun(context.Background(), account, stream, "test")
	if err != nil {
		t.Fatalf("StartRun(%s, %s): %v", account, stream, err)
	}
	return run, res
}

func apply(t *testing.T, db *sqldb.DB, runID int64, account string, pageNo int, ps []magflow.Product, os []magflow.Offer) sqldb.PageResult {
	t.Helper()
	r, err := db.ApplyProductPage(context.Background(), runID, account, pageNo, ps, os, sqldb.Checkpoint{NextPage: pageNo + 1, TotalPages: 3})
	if err != nil {
		t.Fatalf("ApplyProductPage(page %d): %v", pageNo, err)
	}
	return r
}

func finish(t *testing.T, db *sqldb.DB, runID int64, st magflow.RunStatus) {
	t.Helper()
	if err := db.FinishRun(context.Background(), runID, st, magflow.RunCounters{}, "", false); err != nil {
		t.Fatalf("FinishRun: %v", err)
	}
}

func TestApplyProductPageHashSemantics(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, res := startRun(t, db, "main", magflow.StreamProducts)
		if res.Resumed || res.ScanID != run.ID {
			t.Fatalf("fresh run: resume = %+v, want a new scan %d", res, run.ID)
		}
		ps, os := page("main", 1, 100, "99.99")
		if got := apply(t, db, run.ID, "main", 1, ps, os); got != (sqldb.PageResult{Inserted: 100}) {
			t.Fatalf("first apply = %+v, want 100 inserted", got)
		}
		if got := apply(t, db, run.ID, "main", 1, ps, os); got != (sqldb.PageResult{Unchanged: 100}) {
			t.Fatalf("second apply = %+v, want 100 unchanged", got)
		}
		before, err := db.GetProduct(ctx, "main", 7)
		if err != nil {
			t.Fatal(err)
		}
		ps[3].Name = "Renamed"
		ps[3].ContentHash = ""
		if got := apply(t, db, run.ID, "main", 1, ps, os); got != (sqldb.PageResult{Updated: 1, Unchanged: 99}) {
			t.Fatalf("apply with one change = %+v", got)
		}
		after, err := db.GetProduct(ctx, "main", 7)
		if err != nil {
			t.Fatal(err)
		}
		if !after.Product.UpdatedAt.Equal(before.Product.UpdatedAt) {
			t.Errorf("unchanged product 7 was rewritten: updated_at %v -> %v", before.Product.UpdatedAt, after.Product.UpdatedAt)
		}
		got, err := db.GetProduct(ctx, "main", 4)
		if err != nil {
			t.Fatal(err)
		}
		if got.Product.Name != "Renamed" || got.Product.GreenTax.String() != "0.5000" || len(got.Product.EAN) != 1 || !got.Product.Ownership {
			t.Errorf("product 4 = %+v", got.Product)
		}
		var img []map[string]any
		if err := json.Unmarshal(got.Product.Images, &img); err != nil || len(img) != 1 {
			t.Errorf("images = %s (%v)", got.Product.Images, err)
		}
		var raw, want any
		_ = json.Unmarshal(got.Product.Raw, &raw)
		_ = json.Unmarshal(ps[3].Raw, &want)
		if diff := cmp.Diff(want, raw); diff != "" {
			t.Errorf("raw payload (-want +got):\n%s", diff)
		}
		if len(got.Offers) != 1 || got.Offers[0].SalePrice.String() != "99.9900" || got.Offers[0].Stock[0].Value != 4 {
			t.Errorf("offers = %+v", got.Offers)
		}
	})
}

func TestBigIDsAndExactDecimals(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		ps, os := page("main", 4294967290, 3, "123456789.0123")
		os[1].SalePrice = magflow.MustDecimal("0.0001")
		os[2].SalePrice = magflow.MustDecimal("99999999999.9999")
		apply(t, db, run.ID, "main", 1, ps, os)
		for i, want := range []string{"123456789.0123", "0.0001", "99999999999.9999"} {
			p, err := db.GetProduct(ctx, "main", ps[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			if p.Product.ID != ps[i].ID || p.Offers[0].SalePrice.String() != want {
				t.Errorf("product %d: id %d price %s, want %s", ps[i].ID, p.Product.ID, p.Offers[0].SalePrice, want)
			}
		}
		// Prices sort numerically, not as text.
		list, err := db.ListProducts(ctx, sqldb.ProductFilter{Account: "main", Sort: "price"})
		if err != nil {
			t.Fatal(err)
		}
		var prices []string
		for _, it := range list.Items {
			prices = append(prices, it.Offer.SalePrice.String())
		}
		if diff := cmp.Diff([]string{"0.0001", "123456789.0123", "99999999999.9999"}, prices); diff != "" {
			t.Errorf("price order (-want +got):\n%s", diff)
		}
	})
}

func TestMarkGone(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		clock := time.Date(2025, 10, 1, 10, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return clock }
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		ps, os := page("main", 1, 10, "10")
		apply(t, db, run.ID, "main", 1, ps, os)
		if n, err := db.MarkGone(ctx, "main", run.ID); err != nil || n != 0 {
			t.Fatalf("MarkGone after a full scan = %d, %v; want 0", n, err)
		}
		finish(t, db, run.ID, magflow.RunCompleted)

		clock = clock.Add(time.Hour)
		run2, res := startRun(t, db, "main", magflow.StreamProducts)
		if res.Resumed {
			t.Fatalf("a completed scan was resumed: %+v", res)
		}
		// Second scan: products 3 and 8 vanished, across two pages.
		apply(t, db, run2.ID, "main", 1, ps[:2], os[:2])
		apply(t, db, run2.ID, "main", 2, append(append([]magflow.Product{}, ps[3:7]...), ps[8:]...), append(append([]magflow.Offer{}, os[3:7]...), os[8:]...))
		clock = clock.Add(time.Minute)
		n, err := db.MarkGone(ctx, "main", run2.ID)
		if err != nil || n != 2 {
			t.Fatalf("MarkGone = %d, %v; want 2", n, err)
		}
		finish(t, db, run2.ID, magflow.RunCompleted)
		for _, id := range []int64{3, 8} {
			p, err := db.GetProduct(ctx, "main", id)
			if err != nil {
				t.Fatalf("gone products must stay: %v", err)
			}
			if p.Product.GoneAt == nil || !p.Product.GoneAt.Equal(clock) {
				t.Errorf("product %d gone_at = %v, want %v", id, p.Product.GoneAt, clock)
			}
			if want := clock.Add(-time.Hour - time.Minute); !p.Product.LastSeenAt.Equal(want) {
				t.Errorf("product %d last_seen_at = %v, want the previous complete scan %v", id, p.Product.LastSeenAt, want)
			}
			if p.Offers[0].GoneAt == nil {
				t.Errorf("offer of product %d not gone", id)
			}
		}
		p1, _ := db.GetProduct(ctx, "main", 1)
		if p1.Product.GoneAt != nil || !p1.Product.LastSeenAt.Equal(clock.Add(-time.Minute)) {
			t.Errorf("present product: gone %v, last seen %v (want the scan start %v)", p1.Product.GoneAt, p1.Product.LastSeenAt, clock.Add(-time.Minute))
		}
		list, err := db.ListProducts(ctx, sqldb.ProductFilter{Account: "main", Gone: sqldb.GoneOnly})
		if err != nil || list.Total != 2 {
			t.Fatalf("gone list total = %d, %v", list.Total, err)
		}

		// Seen again: gone_at clears, even with identical content.
		run3, _ := startRun(t, db, "main", magflow.StreamProducts)
		if got := apply(t, db, run3.ID, "main", 1, ps, os); got.Updated != 2 || got.Unchanged != 8 {
			t.Fatalf("reappearing products = %+v, want 2 updated", got)
		}
		p3, _ := db.GetProduct(ctx, "main", 3)
		if p3.Product.GoneAt != nil || p3.Offers[0].GoneAt != nil {
			t.Errorf("reappeared product still gone: %v %v", p3.Product.GoneAt, p3.Offers[0].GoneAt)
		}
	})
}

func TestCheckpointAtomicity(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		ps, os := page("main", 1, 5, "10")
		apply(t, db, run.ID, "main", 1, ps, os)
		// Page 2 fails half-way: an offer of another account is refused
		// after the products were written inside the transaction.
		ps2, os2 := page("main", 100, 5, "10")
		os2[4].Account = "fbe"
		if _, err := db.ApplyProductPage(ctx, run.ID, "main", 2, ps2, os2, sqldb.Checkpoint{NextPage: 3}); err == nil {
			t.Fatal("a bad page was accepted")
		}
		if _, err := db.GetProduct(ctx, "main", 100); magflow.ErrorCode(err) != magflow.ENotFound {
			t.Errorf("product of the failed page committed: %v", err)
		}
		// A cancelled context mid-way commits nothing either.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := db.ApplyProductPage(cctx, run.ID, "main", 2, ps2, nil, sqldb.Checkpoint{NextPage: 3}); err == nil {
			t.Fatal("apply with a cancelled context succeeded")
		}
		// The run crashes (no heartbeat past the lease): the next run resumes at page 2.
		db.Lease = time.Nanosecond
		run2, res := startRun(t, db, "main", magflow.StreamProducts)
		if !res.Resumed || res.InterruptedRunID != run.ID || res.ScanID != run.ID || res.Checkpoint.NextPage != 2 || res.Checkpoint.TotalPages != 3 {
			t.Fatalf("resume = %+v, want page 2 of scan %d", res, run.ID)
		}
		old, _, err := db.GetRun(ctx, run.ID)
		if err != nil || old.Status != magflow.RunFailed || old.Reason == "" || old.FinishedAt == nil {
			t.Fatalf("interrupted run = %+v, %v", old, err)
		}
		// The old writer lost its run: it cannot commit any more.
		if _, err := db.ApplyProductPage(ctx, run.ID, "main", 2, ps2, nil, sqldb.Checkpoint{NextPage: 3}); magflow.ErrorCode(err) != magflow.EConflict {
			t.Fatalf("zombie writer: err = %v, want conflict", err)
		}
		apply(t, db, run2.ID, "main", 2, ps2, os2[:4])
		// The resumed scan saw pages 1 and 2: nothing is gone.
		if n, err := db.MarkGone(ctx, "main", run2.ID); err != nil || n != 0 {
			t.Fatalf("MarkGone after resume = %d, %v", n, err)
		}
	})
}

func TestSingleFlight(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		_, _, err := db.StartRun(ctx, "main", magflow.StreamProducts, "api")
		if magflow.ErrorCode(err) != magflow.EConflict {
			t.Fatalf("second start: %v, want conflict", err)
		}
		if id, ok := sqldbtest.RunningID(err); !ok || id != run.ID {
			t.Fatalf("conflict names run %d (%v), want %d", id, ok, run.ID)
		}
		// Other streams and accounts are independent.
		startRun(t, db, "main", magflow.StreamOrders)
		startRun(t, db, "fbe", magflow.StreamProducts)
		if err := db.Heartbeat(ctx, run.ID); err != nil {
			t.Fatal(err)
		}
		finish(t, db, run.ID, magflow.RunCompleted)
		if err := db.Heartbeat(ctx, run.ID); magflow.ErrorCode(err) != magflow.EConflict {
			t.Fatalf("heartbeat of a finished run: %v", err)
		}
		if err := db.FinishRun(ctx, run.ID, magflow.RunFailed, magflow.RunCounters{}, "", false); magflow.ErrorCode(err) != magflow.EConflict {
			t.Fatalf("finishing twice: %v", err)
		}
		startRun(t, db, "main", magflow.StreamProducts)
	})
}

// TestApplyProductPagesGroup: several pages in one call (a group commit)
// store what the same pages applied one by one would, count page by page,
// resolve each page's hole, checkpoint after the last page, and commit
// nothing when one of them is refused.
func TestApplyProductPagesGroup(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		if err := db.RecordHole(ctx, magflow.Hole{Account: "main", Stream: magflow.StreamProducts, Page: 2, RunID: run.ID, Error: "test"}); err != nil {
			t.Fatal(err)
		}
		var pages []sqldb.ScanPage
		for i := range 3 {
			ps, os := page("main", int64(1+20*i), 20, "10")
			pages = append(pages, sqldb.ScanPage{Page: i + 1, Products: ps, Offers: os})
		}
		// The catalogue shifted: page 3 repeats the last product of page 2.
		p2, o2 := page("main", 40, 1, "10")
		pages[2].Products, pages[2].Offers = append(p2, pages[2].Products[:19]...), append(o2, pages[2].Offers[:19]...)
		res, err := db.ApplyProductPages(ctx, run.ID, "main", pages, sqldb.Checkpoint{NextPage: 4, TotalPages: 6})
		if err != nil {
			t.Fatal(err)
		}
		want := []sqldb.PageResult{{Inserted: 20}, {Inserted: 20}, {Inserted: 19, Unchanged: 1}}
		if diff := cmp.Diff(want, res); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
		got, _, err := db.GetRun(ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c := got.Counters; c.Page != 3 || c.Items != 60 || c.Inserted != 59 || c.Unchanged != 1 || c.TotalPages != 6 {
			t.Errorf("run counters = %+v, want page 3, 60 items, 59 inserted, 1 unchanged of 6 pages", c)
		}
		if holes, err := db.Holes(ctx, "main", magflow.StreamProducts); err != nil || len(holes) != 0 {
			t.Errorf("open holes = %+v, %v; page 2's hole should be resolved", holes, err)
		}

		// Pages 4 and 5, page 5 refused: neither commits.
		p4, o4 := page("main", 100, 20, "10")
		p5, o5 := page("main", 120, 20, "10")
		o5[3].Account = "fbe"
		if _, err := db.ApplyProductPages(ctx, run.ID, "main", []sqldb.ScanPage{{Page: 4, Products: p4, Offers: o4}, {Page: 5, Products: p5, Offers: o5}},
			sqldb.Checkpoint{NextPage: 6, TotalPages: 6}); magflow.ErrorCode(err) != magflow.EInvalid {
			t.Fatalf("a group with a bad page: err = %v, want invalid", err)
		}
		if _, err := db.GetProduct(ctx, "main", 100); magflow.ErrorCode(err) != magflow.ENotFound {
			t.Errorf("product of a refused group committed: %v", err)
		}
		// The run crashes: the next one resumes after the group that committed.
		db.Lease = time.Nanosecond
		_, resume := startRun(t, db, "main", magflow.StreamProducts)
		if !resume.Resumed || resume.Checkpoint.NextPage != 4 {
			t.Fatalf("resume = %+v, want page 4", resume)
		}
	})
}

// TestPageTimesAsTheDriverWritesThem: SQLite page rows get their times as
// text formatted once per page; it must be the text the driver writes for
// a time.Time (as every other statement binds), SQLite's own format, even
// when DATABASE_URL asks the driver for another.
func TestPageTimesAsTheDriverWritesThem(t *testing.T) {
	t.Parallel()
	for _, opts := range []string{"", "?_time_format=datetime"} {
		t.Run(opts, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, err := sqldb.Open(ctx, "file:"+filepath.Join(t.TempDir(), "times.db")+opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx, "up"); err != nil {
				t.Fatal(err)
			}
			fixed := time.Date(2026, 11, 29, 9, 45, 1, 123456000, time.UTC)
			db.Now = func() time.Time { return fixed }
			run, _ := startRun(t, db, "main", magflow.StreamProducts)
			ps, os := page("main", 1, 1, "10")
			apply(t, db, run.ID, "main", 1, ps, os)
			var bound string
			if err := db.WriteDB().QueryRowContext(ctx, "SELECT CAST(? AS TEXT)", fixed).Scan(&bound); err != nil {
				t.Fatal(err)
			}
			if want := "2026-11-29 09:45:01.123456+00:00"; bound != want {
				t.Errorf("the driver writes %q, want SQLite's own format %q", bound, want)
			}
			for _, q := range []string{"SELECT updated_at AS x FROM emag_products", "SELECT first_seen_at AS x FROM emag_product_offers"} {
				var text string
				if err := db.WriteDB().QueryRowContext(ctx, "SELECT CAST(x AS TEXT) FROM ("+q+")").Scan(&text); err != nil {
					t.Fatal(err)
				}
				if text != bound {
					t.Errorf("%s: stored %q, want %q as the driver writes it", q, text, bound)
				}
			}
		})
	}
	// Integer times or another zone would break the store's comparisons of
	// time text: refused.
	for _, opt := range []string{"_time_integer_format=unix", "_timezone=Europe/Bucharest"} {
		_, err := sqldb.Open(context.Background(), "file:"+filepath.Join(t.TempDir(), "int.db")+"?"+opt, nil)
		name, _, _ := strings.Cut(opt, "=")
		if magflow.ErrorCode(err) != magflow.EInvalid || !strings.Contains(err.Error(), name) {
			t.Errorf("open with %s: err = %v, want an invalid DATABASE_URL naming the option", opt, err)
		}
	}
}

// TestApplyProductPagesSameProductTwice: a product that two pages of one
// group carry (the catalogue shifted under the scan), new or stored before,
// ends with the later page's content, in the word index too (which on
// SQLite must stay consistent: a row is unindexed only while indexed).
func TestApplyProductPagesSameProductTwice(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		ps0, os0 := page("main", 7, 1, "10")
		ps0[0].Name = "Gammaword lamp" // stored before the group
		apply(t, db, run.ID, "main", 1, ps0, os0)

		p1, o1 := page("main", 1, 10, "10")
		p2, o2 := page("main", 11, 10, "10")
		p1[4].Name = "Alfaword lamp"  // 5: new in page 1
		p1[6].Name = "Deltaword lamp" // 7: rewritten in page 1
		x, xo := page("main", 5, 1, "12")
		x[0].Name = "Betaword lamp" // 5 again in page 2, changed
		y, yo := page("main", 7, 1, "13")
		y[0].Name = "Epsilonword lamp" // 7 again in page 2, changed
		p2, o2 = append(append(p2, x...), y...), append(append(o2, xo...), yo...)
		res, err := db.ApplyProductPages(ctx, run.ID, "main", []sqldb.ScanPage{{Page: 1, Products: p1, Offers: o1}, {Page: 2, Products: p2, Offers: o2}},
			sqldb.Checkpoint{NextPage: 3, TotalPages: 3})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]sqldb.PageResult{{Inserted: 9, Updated: 1}, {Inserted: 10, Updated: 2}}, res); diff != "" {
			t.Errorf("results (-want +got):\n%s", diff)
		}
		for word, n := range map[string]int{"Alfaword": 0, "Gammaword": 0, "Deltaword": 0, "Betaword": 1, "Epsilonword": 1} {
			pg, err := db.ListProducts(ctx, sqldb.ProductFilter{Account: "main", Search: word})
			if err != nil {
				t.Fatal(err)
			}
			if len(pg.Items) != n {
				t.Errorf("search %q: %d products, want %d", word, len(pg.Items), n)
			}
		}
		if db.Dialect() == sqldb.SQLite {
			if _, err := db.WriteDB().ExecContext(ctx, "INSERT INTO emag_products_fts (emag_products_fts, rank) VALUES ('integrity-check', 1)"); err != nil {
				t.Errorf("word index integrity: %v", err)
			}
		}
		got, err := db.GetProduct(ctx, "main", 7)
		if err != nil {
			t.Fatal(err)
		}
		if got.Product.Name != "Epsilonword lamp" || len(got.Offers) != 1 || got.Offers[0].SalePrice.String() != "13.0000" {
			t.Errorf("product 7 = %q with offers %+v, want the second page's", got.Product.Name, got.Offers)
		}
	})
}

// TestSQLiteTimesMigration: migration 00017 moves stored times between the
// driver's old text (time.Time.String) and SQLite's own format, both ways,
// and the store reads either.
func TestSQLiteTimesMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := sqldbtest.Open(t, sqldb.SQLite)
	fixed := time.Date(2026, 11, 29, 9, 45, 1, 123456000, time.UTC)
	db.Now = func() time.Time { return fixed }
	run, _ := startRun(t, db, "main", magflow.StreamProducts)
	ps, os := page("main", 1, 3, "10")
	apply(t, db, run.ID, "main", 1, ps, os)
	stored := func() (text string, readable bool) {
		t.Helper()
		if err := db.WriteDB().QueryRowContext(ctx, "SELECT CAST(updated_at AS TEXT), datetime(updated_at) IS NOT NULL FROM emag_products WHERE id = 2").Scan(&text, &readable); err != nil {
			t.Fatal(err)
		}
		return text, readable
	}
	if text, ok := stored(); text != "2026-11-29 09:45:01.123456+00:00" || !ok {
		t.Fatalf("stored %q (readable by SQLite: %v)", text, ok)
	}
	// Down to before 00017 (past the migrations after it).
	for {
		st, err := db.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !st[len(st)-1].Applied && !slices.ContainsFunc(st, func(m sqldb.MigrationState) bool {
			return m.Applied && strings.HasPrefix(m.Name, "00017_")
		}) {
			break
		}
		if err := db.Migrate(ctx, "down"); err != nil {
			t.Fatal(err)
		}
	}
	if text, ok := stored(); text != "2026-11-29 09:45:01.123456 +0000 UTC" || ok {
		t.Fatalf("after down: stored %q (readable by SQLite: %v)", text, ok)
	}
	got, err := db.GetProduct(ctx, "main", 2)
	if err != nil || !got.Product.UpdatedAt.Equal(fixed) {
		t.Fatalf("read back after down: %v, %v", got.Product.UpdatedAt, err)
	}
	if err := db.Migrate(ctx, "up"); err != nil {
		t.Fatal(err)
	}
	if text, ok := stored(); text != "2026-11-29 09:45:01.123456+00:00" || !ok {
		t.Fatalf("after up: stored %q (readable by SQLite: %v)", text, ok)
	}
	got, err = db.GetProduct(ctx, "main", 2)
	if err != nil || !got.Product.UpdatedAt.Equal(fixed) {
		t.Fatalf("read back after up: %v, %v", got.Product.UpdatedAt, err)
	}
}
