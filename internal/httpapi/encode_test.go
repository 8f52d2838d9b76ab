package httpapi

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
)

// jsonOf is what huma writes for v (no HTML escaping), without the
// newline.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// TestAppendJSONString: every control character, quotes, HTML characters,
// invalid UTF-8, U+2028/2029 and plain text encode as encoding/json does.
func TestAppendJSONString(t *testing.T) {
	t.Parallel()
	cases := []string{"", "plain", `q"uote\back`, "<a href='x'>&amp;</a>", "Lampă LED 10W ș ț", "bad \xff\xfe utf8 \xc3", "line\u2028sep\u2029", "emoji 🎉"}
	for c := range 0x20 {
		cases = append(cases, "x"+string(rune(c))+"y")
	}
	cases = append(cases, string([]byte{0x7f}))
	for _, s := range cases {
		if d := cmp.Diff(jsonOf(t, s), string(appendJSONString(nil, s))); d != "" {
			t.Errorf("%q (-json +ours):\n%s", s, d)
		}
	}
}

// TestAppendProductItem: items with and without offer, gone times,
// listings, odd strings and empty slices encode as encoding/json encodes
// their wire form.
func TestAppendProductItem(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 891234000, time.UTC)
	t1 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	gone := t0.Add(time.Hour)
	items := []sqldb.ProductItem{
		{},
		{Product: sqldb.StoredProduct{Product: magflow.Product{Account: "main", ID: 42, PartNumber: "PN<&>\"1", PartNumberKey: "D1", Name: "Lampă \"LED\"\n10W\xff",
			Brand: "A&B", CategoryID: 7, EAN: []string{"5940000000001", "x\u2028"}, Status: 1, ValidationStatus: 9, OfferValidationStatus: 1,
			Ownership: true, GreenTax: magflow.NewDecimal(12345), SupplyLeadTime: 3, FirstSeenAt: t0, LastSeenAt: t1, GoneAt: &gone}, UpdatedAt: t0},
			HasOffer: true, Offer: magflow.Offer{Account: "main", ProductID: 42, PartNumber: "PN1", OfferID: 9, SalePrice: magflow.NewDecimal(1218400),
				RecommendedPrice: magflow.NewDecimal(-5), Currency: "RON", VatID: 1, Status: 1, GeneralStock: 3, EstimatedStock: 2,
				Stock: []magflow.WarehouseValue{{WarehouseID: 1, Value: 3}, {WarehouseID: 2, Value: -1}}, HandlingTime: []magflow.WarehouseValue{},
				BuyButtonRank: 1, NumberOfOffers: 4, LastSeenAt: t1, GoneAt: &gone},
			Listings: []magflow.Listing{{Account: "main", ProductID: 42, SalePrice: magflow.NewDecimal(1), Currency: "RON", GeneralStock: 3, Status: 1},
				{Account: "fbe", ProductID: 43}}},
		{Product: sqldb.StoredProduct{Product: magflow.Product{Account: "fbe", ID: 1, EAN: []string{}, FirstSeenAt: t1}}, Listings: []magflow.Listing{}},
	}
	for i := range items {
		if d := cmp.Diff(jsonOf(t, productItemOf(&items[i])), string(appendProductItem(nil, &items[i]))); d != "" {
			t.Errorf("item %d (-json +ours):\n%s", i, d)
		}
	}
}

// TestAppendDecimal: amounts encode as Decimal.String, quoted.
func TestAppendDecimal(t *testing.T) {
	t.Parallel()
	for _, u := range []int64{0, 1, -1, 9999, -9999, 10000, 1218400, -1218400, 123456789012, math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
		d := magflow.NewDecimal(u)
		if got, want := string(appendDecimal(nil, d)), jsonOf(t, d.String()); got != want {
			t.Errorf("%d: %s, want %s", u, got, want)
		}
	}
}
