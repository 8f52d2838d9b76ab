package sqldb

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/magflow/magflow"
)

func TestDecodeStrings(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "[]", " [ ] ", `["5940000012345"]`, `["a", "b","c"]`, `["a\"b"]`, `["ă"]`, `[1]`, `["a"`, `["a"] x`, `{}`} {
		var want []string
		if s != "" {
			_ = json.Unmarshal([]byte(s), &want)
		}
		if diff := cmp.Diff(want, decodeStrings(s)); diff != "" {
			t.Errorf("decodeStrings(%q) (-want +got):\n%s", s, diff)
		}
	}
}

func TestDecodeWarehouses(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "[]", `[{"warehouse_id":1,"value":4}]`, `[{"value": 4, "warehouse_id": 1}, {"value": -2, "warehouse_id": 7}]`,
		`[{"warehouse_id":1}]`, `[{"warehouse_id":1,"value":4,"x":1}]`, `[{"warehouse_id":1.5,"value":4}]`, `[{"value":"4"}]`, `[{}]`, `[{"value":1}`} {
		var want []magflow.WarehouseValue
		if s != "" {
			_ = json.Unmarshal([]byte(s), &want)
		}
		if diff := cmp.Diff(want, decodeWarehouses(s)); diff != "" {
			t.Errorf("decodeWarehouses(%q) (-want +got):\n%s", s, diff)
		}
	}
}

// TestFastListings: the listings as both engines write them, and odd
// input, decode as encoding/json decodes them (fastListings declines what
// it does not know, and decodeListings falls back).
func TestFastListings(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		`[]`,
		`[{"account":"main","product_id":5,"sale_price":"12.3400","currency":"RON","general_stock":3,"status":1}]`,
		`[{"account" : "main", "product_id" : 5, "sale_price" : "12.3400", "currency" : "RON", "general_stock" : -3, "status" : 1}, ` + "\n" +
			` {"account" : "fbe", "product_id" : 77, "sale_price" : "0.0000", "currency" : "", "general_stock" : 0, "status" : 0}]`,
		`[{"account":"a\"b","product_id":5}]`,
		`[{"account":"main","sale_price":12.34}]`,
		`[{"account":"main","extra":1}]`,
		`[{"account":"main"}`,
		`[{"sale_price":"x"}]`,
		`[{"sale_price":""}]`,
	} {
		if d := cmp.Diff(jsonListings(s), decodeListings(s), cmp.Comparer(func(a, b magflow.Decimal) bool { return a == b })); d != "" {
			t.Errorf("%q (-json +ours):\n%s", s, d)
		}
	}
	if _, ok := fastListings(`[{"account":"main","product_id":5,"sale_price":"1.0000","currency":"RON","general_stock":3,"status":1}]`); !ok {
		t.Error("the SQLite shape took the slow path")
	}
}

// FuzzFlatDecoders: whenever the hand-written decoders accept an input,
// they decode it as encoding/json does.
func FuzzFlatDecoders(f *testing.F) {
	for _, s := range []string{`["a","b"]`, `[{"warehouse_id":1,"value":4}]`,
		`[{"account":"main","product_id":5,"sale_price":"12.3400","currency":"RON","general_stock":3,"status":1}]`, `[ ]`, `[{}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, ok := fastStrings(s); ok {
			var want []string
			if err := json.Unmarshal([]byte(s), &want); err != nil || !cmp.Equal(want, got) {
				t.Errorf("fastStrings(%q) = %q; encoding/json: %q, %v", s, got, want, err)
			}
		}
		if got, ok := fastWarehouses(s); ok {
			var want []magflow.WarehouseValue
			if err := json.Unmarshal([]byte(s), &want); err != nil || !cmp.Equal(want, got) {
				t.Errorf("fastWarehouses(%q) = %v; encoding/json: %v, %v", s, got, want, err)
			}
		}
		if got, ok := fastListings(s); ok {
			err := json.Unmarshal([]byte(s), new([]listingJSON))
			want := jsonListings(s)
			if err != nil || !cmp.Equal(want, got, cmp.Comparer(func(a, b magflow.Decimal) bool { return a == b })) {
				t.Errorf("fastListings(%q) = %v; encoding/json: %v, %v", s, got, want, err)
			}
		}
	})
}
