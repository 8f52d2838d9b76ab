package sandbox

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnv(t *testing.T) {
	t.Parallel()
	s := newTestSandbox(t, small())
	env := s.Env()
	for _, want := range []string{"EMAG_ACCOUNTS=main,fbe\n", "EMAG_MAIN_API_URL=/api-3\n", "EMAG_FBE_USERNAME=fbe@sandbox.magflow.test\n", "EMAG_FBE_PASSWORD=" + s.Accounts()[1].Password + "\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %q:\n%s", want, env)
		}
	}
}

func TestParseFaultRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    FaultRule
		wantErr string
	}{
		{"account=fbe,route=product_offer/read,page=3,kind=502,times=2", FaultRule{Account: "fbe", Route: "product_offer/read", Page: 3, Kind: Fault502, Times: 2}, ""},
		{"kind=reset, skip=4", FaultRule{Kind: FaultReset, Skip: 4}, ""},
		{"route=order/read", FaultRule{}, "kind is required"},
		{"kind=418", FaultRule{}, "unknown fault kind"},
		{"kind=500,route=foo/bar", FaultRule{}, "unknown route"},
		{"kind=500,page=-1", FaultRule{}, "whole number"},
		{"kind=500,color=red", FaultRule{}, "unknown key"},
		{"kind", FaultRule{}, "not key=value"},
	}
	for _, tt := range tests {
		got, err := ParseFaultRule(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.in, diff)
		}
	}
	if r := Routes(); len(r) != len(routes) || r[0] > r[1] {
		t.Errorf("Routes() = %v", r)
	}
}
