package sqldb_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

// canonicalRows exports the canonical view as "PN from account listings".
func canonicalRows(t *testing.T, db *sqldb.DB) []string {
	t.Helper()
	var got []string
	for c, err := range db.ExportCanonical(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		var ls []string
		for _, l := range c.Listings {
			ls = append(ls, l.Account+"="+l.SalePrice.String())
		}
		got = append(got, c.PartNumber+" from "+c.SourceAccount+" "+strings.Join(ls, ","))
	}
	return got
}

// TestCanonicalFollowsChanges: a rebuild after a listing's price changed,
// a SKU appeared and another went gone writes exactly those SKUs; the
// rebuild after it, with nothing changed, writes nothing.
func TestCanonicalFollowsChanges(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		mainRun, _ := startRun(t, db, "main", magflow.StreamProducts)
		ps, os := page("main", 1, 3, "10") // PN-1..PN-3
		apply(t, db, mainRun.ID, "main", 1, ps, os)
		fbeRun, _ := startRun(t, db, "fbe", magflow.StreamProducts)
		fps, fos := page("fbe", 2, 2, "20") // PN-2, PN-3
		apply(t, db, fbeRun.ID, "fbe", 1, fps, fos)
		if _, err := db.RebuildCanonical(ctx, []string{"main", "fbe"}); err != nil {
			t.Fatal(err)
		}
		finish(t, db, mainRun.ID, magflow.RunCompleted)
		finish(t, db, fbeRun.ID, magflow.RunCompleted)

		// fbe's next scan: PN-2 at a new price, PN-4 new, PN-3 gone.
		fbeRun, _ = startRun(t, db, "fbe", magflow.StreamProducts)
		fps, fos = page("fbe", 2, 1, "25")
		nps, nos := page("fbe", 4, 1, "30")
		res := apply(t, db, fbeRun.ID, "fbe", 1, append(fps, nps...), append(fos, nos...))
		if want := (sqldb.PageResult{Inserted: 1, Updated: 1}); res != want {
			t.Fatalf("page result = %+v, want %+v", res, want)
		}
		if n, err := db.MarkGone(ctx, "fbe", fbeRun.ID); err != nil || n != 1 {
			t.Fatalf("MarkGone = %d, %v; want 1", n, err)
		}
		dups, err := db.RebuildCanonical(ctx, []string{"main", "fbe"})
		if err != nil || dups != 1 {
			t.Fatalf("RebuildCanonical = %d, %v; want 1 duplicate", dups, err)
		}
		want := []string{"PN-1 from main main=10.0000", "PN-2 from main main=10.0000,fbe=25.0000",
			"PN-3 from main main=10.0000", "PN-4 from fbe fbe=30.0000"}
		if diff := cmp.Diff(want, canonicalRows(t, db)); diff != "" {
			t.Fatalf("canonical after the changes (-want +got):\n%s", diff)
		}

		before := canonicalUpdatedAt(t, db)
		if dups, err := db.RebuildCanonical(ctx, []string{"main", "fbe"}); err != nil || dups != 1 {
			t.Fatalf("unchanged RebuildCanonical = %d, %v; want 1 duplicate", dups, err)
		}
		if diff := cmp.Diff(before, canonicalUpdatedAt(t, db)); diff != "" {
			t.Fatalf("an unchanged rebuild rewrote rows (-before +after):\n%s", diff)
		}
		if diff := cmp.Diff(want, canonicalRows(t, db)); diff != "" {
			t.Fatalf("canonical after an unchanged rebuild (-want +got):\n%s", diff)
		}

		// An offers run changes only main's price of PN-1.
		finish(t, db, fbeRun.ID, magflow.RunCompleted)
		offRun, _ := startRun(t, db, "main", magflow.StreamOffers)
		_, oos := page("main", 1, 1, "11")
		apply(t, db, offRun.ID, "main", 1, nil, oos)
		if _, err := db.RebuildCanonical(ctx, []string{"main", "fbe"}); err != nil {
			t.Fatal(err)
		}
		want[0] = "PN-1 from main main=11.0000"
		if diff := cmp.Diff(want, canonicalRows(t, db)); diff != "" {
			t.Fatalf("canonical after an offer changed (-want +got):\n%s", diff)
		}
	})
}

// canonicalUpdatedAt returns each canonical row's content hash and
// updated_at by SKU.
func canonicalUpdatedAt(t *testing.T, db *sqldb.DB) map[string]string {
	t.Helper()
	rows, err := db.ReadDB().QueryContext(context.Background(), "SELECT sku, content_hash, CAST(updated_at AS TEXT) FROM emag_canonical_products")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var sku, hash, at string
		if err := rows.Scan(&sku, &hash, &at); err != nil {
			t.Fatal(err)
		}
		out[sku] = hash + " " + at
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestApplyProductPageRunChecks: a page of an unknown run, or of another
// account's run, is refused and writes nothing.
func TestApplyProductPageRunChecks(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		ps, os := page("fbe", 1, 2, "10")
		if _, err := db.ApplyProductPage(ctx, run.ID+1000, "fbe", 1, ps, os, sqldb.Checkpoint{NextPage: 2}); magflow.ErrorCode(err) != magflow.ENotFound {
			t.Fatalf("page of an unknown run: %v, want %s", err, magflow.ENotFound)
		}
		if _, err := db.ApplyProductPage(ctx, run.ID, "fbe", 1, ps, os, sqldb.Checkpoint{NextPage: 2}); magflow.ErrorCode(err) != magflow.EInvalid {
			t.Fatalf("page of another account's run: %v, want %s", err, magflow.EInvalid)
		}
		if _, err := db.GetProduct(ctx, "fbe", 1); magflow.ErrorCode(err) != magflow.ENotFound {
			t.Fatalf("a refused page wrote its products: %v", err)
		}
	})
}

// TestConcurrentCanonicalRebuilds: rebuilds started side by side (several
// worker processes ending scans at once) take turns and agree.
func TestConcurrentCanonicalRebuilds(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		for pg := range 4 {
			ps, os := page("main", int64(1+100*pg), 100, "10")
			apply(t, db, run.ID, "main", pg+1, ps, os)
		}
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				_, err := db.RebuildCanonical(ctx, []string{"main"})
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatalf("concurrent RebuildCanonical: %v", err)
			}
		}
		if skus, _, err := db.CanonicalStats(ctx); err != nil || skus != 400 {
			t.Fatalf("stats = %d, %v; want 400 SKUs", skus, err)
		}
	})
}

// TestCanonicalRebuildSkipsWhenNothingChanged: a rebuild with no product,
// offer or gone mark written since the last one, in the same account order,
// reads nothing (a canonical row changed behind the store's back stays as
// it is); a page write, or another account order, makes the next one
// rebuild (and repair the row).
func TestCanonicalRebuildSkipsWhenNothingChanged(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		ps, os := page("main", 1, 2, "10")
		apply(t, db, run.ID, "main", 1, ps, os)
		frun, _ := startRun(t, db, "fbe", magflow.StreamProducts)
		fps, fos := page("fbe", 2, 1, "20")
		apply(t, db, frun.ID, "fbe", 1, fps, fos)
		if _, err := db.RebuildCanonical(ctx, []string{"main", "fbe"}); err != nil {
			t.Fatal(err)
		}
		want := []string{"PN-1 from main main=10.0000", "PN-2 from main main=10.0000,fbe=20.0000"}
		if diff := cmp.Diff(want, canonicalRows(t, db)); diff != "" {
			t.Fatalf("canonical (-want +got):\n%s", diff)
		}
		tamper := func() {
			t.Helper()
			q := "UPDATE emag_canonical_products SET listings = '[]', content_hash = 'x' WHERE sku = 'PN-1'"
			if _, err := db.WriteDB().ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		tamper()
		if dups, err := db.RebuildCanonical(ctx, []string{"main", "fbe"}); err != nil || dups != 1 {
			t.Fatalf("RebuildCanonical = %d, %v; want 1 duplicate", dups, err)
		}
		if got := canonicalRows(t, db); got[0] != "PN-1 from main " {
			t.Fatalf("a rebuild with nothing changed rebuilt: %v", got)
		}
		// Another account order: rebuilt, and PN-2 comes from fbe.
		if _, err := db.RebuildCanonical(ctx, []string{"fbe", "main"}); err != nil {
			t.Fatal(err)
		}
		want = []string{"PN-1 from main main=10.0000", "PN-2 from fbe fbe=20.0000,main=10.0000"}
		if diff := cmp.Diff(want, canonicalRows(t, db)); diff != "" {
			t.Fatalf("canonical in another order (-want +got):\n%s", diff)
		}
		// A page write makes the next rebuild read everything again.
		tamper()
		ps, os = page("main", 3, 1, "10")
		apply(t, db, run.ID, "main", 2, ps, os)
		if _, err := db.RebuildCanonical(ctx, []string{"fbe", "main"}); err != nil {
			t.Fatal(err)
		}
		want = append(want, "PN-3 from main main=10.0000")
		if diff := cmp.Diff(want, canonicalRows(t, db)); diff != "" {
			t.Fatalf("canonical after a page (-want +got):\n%s", diff)
		}
		// A scan that writes no row but marks PN-2 gone from main: rebuilt.
		finish(t, db, run.ID, magflow.RunCompleted)
		run, _ = startRun(t, db, "main", magflow.StreamProducts)
		p1, o1 := page("main", 1, 1, "10")
		p3, o3 := page("main", 3, 1, "10")
		if res := apply(t, db, run.ID, "main", 1, append(p1, p3...), append(o1, o3...)); res != (sqldb.PageResult{Unchanged: 2}) {
			t.Fatalf("page = %+v, want 2 unchanged", res)
		}
		if n, err := db.MarkGone(ctx, "main", run.ID); err != nil || n != 1 {
			t.Fatalf("MarkGone = %d, %v; want 1", n, err)
		}
		if _, err := db.RebuildCanonical(ctx, []string{"fbe", "main"}); err != nil {
			t.Fatal(err)
		}
		want[1] = "PN-2 from fbe fbe=20.0000"
		if diff := cmp.Diff(want, canonicalRows(t, db)); diff != "" {
			t.Fatalf("canonical after a gone mark (-want +got):\n%s", diff)
		}
	})
}
