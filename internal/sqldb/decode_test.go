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
