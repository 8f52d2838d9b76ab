package sqldb_test

import (
	"context"
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
