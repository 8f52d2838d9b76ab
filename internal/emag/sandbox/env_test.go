package sandbox

import (
	"log/slog"
	"strings"
	"sync"
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

func TestLogsKeepSecrets(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	var mu sync.Mutex
	opts := small()
	opts.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Faults.Plan = []FaultRule{{Route: "vat/read", Kind: Fault500, Times: 1}}
	s := newTestSandbox(t, opts)
	serve(t, s, req{account: "main", path: "/api-3/vat/read"})
	serve(t, s, req{account: "main", path: "/api-3/product_offer/count"})
	serve(t, s, req{path: "/api-3/vat/read"})
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), "fault") || !strings.Contains(buf.String(), "product_offer/count") {
		t.Fatalf("log lacks the requests:\n%s", buf.String())
	}
	for _, a := range s.Accounts() {
		if strings.Contains(buf.String(), a.Password) {
			t.Fatal("a password reached the log")
		}
	}
}

type lockedWriter struct {
	w  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
