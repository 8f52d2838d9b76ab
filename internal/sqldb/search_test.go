package sqldb_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

// TestSearchSemantics: words of the name, brand and EANs, the last one a
// prefix (any order, case and diacritics ignored), part number and part
// number key prefixes; the word index follows renames.
func TestSearchSemantics(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		ps, os := page("main", 1, 4, "10")
		ps[0].Name, ps[0].Brand = "Lampă LED 10W birou", "Ștefănescu"
		ps[1].Name, ps[1].Brand = "Lampadar living", "Acme"
		ps[2].Name = "Cablu LEDuri decorative"
		ps[3].Name, ps[3].PartNumber = "Suport", "ABC-77/x"
		apply(t, db, run.ID, "main", 1, ps, os)
		search := func(q string) []int64 {
			t.Helper()
			p, err := db.ListProducts(ctx, sqldb.ProductFilter{Search: q})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			var ids []int64
			for _, it := range p.Items {
				ids = append(ids, it.Product.ID)
			}
			if p.Total != len(ids) {
				t.Errorf("search %q: total %d for %d items", q, p.Total, len(ids))
			}
			return ids
		}
		cases := []struct {
			q    string
			want []int64
		}{
			{"lampa le", []int64{1}},
			{"LED lampă", []int64{1}},
			{"lamp led", nil},
			{"lamp", []int64{1, 2}},
			{"led", []int64{1, 3}},
			{"stefanescu", []int64{1}},
			{"ștef", []int64{1}},
			{"10w", []int64{1}},
			{"amp", nil},
			{"5940000000003", []int64{3}},
			{"594000000000", []int64{1, 2, 3, 4}},
			{"abc-77/", []int64{4}},
			{"Abc-77/X", []int64{4}},
			{"pnk2", []int64{2}},
			{"  ", []int64{1, 2, 3, 4}},
			{`"*) OR (`, nil},
			{"x' OR 1=1 --", nil},
		}
		// Driven from the matches (the default at this size), and walking
		// the products in order (as searches with many matches do).
		for _, most := range []int{0, 1} {
			db.SetSearchDriveMax(most)
			for _, c := range cases {
				if got := search(c.q); !slices.Equal(got, c.want) {
					t.Errorf("drive max %d: search %q = %v, want %v", most, c.q, got, c.want)
				}
			}
		}
		db.SetSearchDriveMax(0)
		// Renamed: the old words stop matching, the new ones match.
		ps[1].Name = "Veioza"
		apply(t, db, run.ID, "main", 1, ps, os)
		if got := search("lampadar"); got != nil {
			t.Errorf("old name still found: %v", got)
		}
		if got := search("veio"); !slices.Equal(got, []int64{2}) {
			t.Errorf("new name: %v", got)
		}
	})
}

// TestSearchCapped: a search with more matches than the drive maximum is
// not counted (Total a lower bound, TotalCapped) and its pages are the
// same as when every match is sorted: found by a walk in key order
// (evenly spread matches), or by sorting them all (matches clustered past
// the walk's budget, deep pages, other orders); filters and the canonical
// view apply alike.
func TestSearchCapped(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		const n = 300
		for first := int64(1); first <= n; first += 100 {
			ps, os := page("main", first, 100, "10")
			for i := range ps {
				id := ps[i].ID
				ps[i].Name = fmt.Sprintf("Item %d %s", id, map[bool]string{true: "alpha", false: "beta"}[id%3 == 0])
				if id > n-20 {
					ps[i].Name += " gamma"
				}
				if id%2 == 0 {
					ps[i].Brand = "Even"
				}
			}
			apply(t, db, run.ID, "main", int(first/100)+1, ps, os)
		}
		finish(t, db, run.ID, magflow.RunCompleted)
		if _, err := db.RebuildCanonical(ctx, []string{"main"}); err != nil {
			t.Fatal(err)
		}
		// want lists the ids matching keep, in key order.
		want := func(keep func(id int64) bool) []int64 {
			var ids []int64
			for id := int64(1); id <= n; id++ {
				if keep(id) {
					ids = append(ids, id)
				}
			}
			return ids
		}
		alpha := want(func(id int64) bool { return id%3 == 0 })
		gamma := want(func(id int64) bool { return id > n-20 })
		pn2 := want(func(id int64) bool { return id == 2 || id/10 == 2 || id/100 == 2 })
		alphaEven := want(func(id int64) bool { return id%6 == 0 })
		all := want(func(int64) bool { return true })
		reversed := slices.Clone(all)
		slices.Reverse(reversed)
		cases := []struct {
			f       sqldb.ProductFilter
			matches []int64 // every match, in the list's order
		}{
			{sqldb.ProductFilter{Search: "alpha", Limit: 10}, alpha},
			{sqldb.ProductFilter{Search: "alpha", Limit: 10, Offset: 40}, alpha},
			{sqldb.ProductFilter{Search: "alpha", Limit: 10, Offset: 95}, alpha},
			{sqldb.ProductFilter{Search: "alpha", Limit: 10, Offset: 100}, alpha},
			{sqldb.ProductFilter{Search: "ALPHA", Limit: 10, Canonical: true, Account: "main"}, alpha},
			{sqldb.ProductFilter{Search: "alp", Limit: 10, Brand: "Even"}, alphaEven},
			{sqldb.ProductFilter{Search: "item gam", Limit: 10}, gamma},
			{sqldb.ProductFilter{Search: "gamma", Limit: 10, Offset: 10}, gamma},
			{sqldb.ProductFilter{Search: "pn-2", Limit: 10, Offset: 20}, pn2},
			{sqldb.ProductFilter{Search: "item", Limit: 10, Sort: "-id", Offset: 30}, reversed},
			{sqldb.ProductFilter{Search: "594", Limit: 7, Sort: "-price"}, reversed}, // prices equal: ties by account and id, descending
		}
		for _, most := range []int{0, 5} {
			db.SetSearchDriveMax(most)
			for _, c := range cases {
				p, err := db.ListProducts(ctx, c.f)
				if err != nil {
					t.Fatalf("%+v: %v", c.f, err)
				}
				var got []int64
				for _, it := range p.Items {
					got = append(got, it.Product.ID)
				}
				exp := c.matches[min(c.f.Offset, len(c.matches)):min(c.f.Offset+c.f.Limit, len(c.matches))]
				if !slices.Equal(got, exp) {
					t.Errorf("drive max %d, %+v: ids %v, want %v", most, c.f, got, exp)
				}
				capped := most == 5 && len(c.matches) > 5
				more := c.f.Offset+len(got) < len(c.matches)
				switch {
				case p.TotalCapped != capped:
					t.Errorf("drive max %d, %+v: capped %v, want %v", most, c.f, p.TotalCapped, capped)
				case !capped && p.Total != len(c.matches):
					t.Errorf("drive max %d, %+v: total %d, want %d", most, c.f, p.Total, len(c.matches))
				case capped && (p.Total > len(c.matches) || p.Total <= most || more && p.Total <= c.f.Offset+len(got)):
					t.Errorf("drive max %d, %+v: capped total %d, not a lower bound of %d above %d that shows a next page (%v)", most, c.f, p.Total, len(c.matches), most, more)
				}
			}
		}
	})
}
