package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/ratelimit"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func TestEMAGHooksAndRuns(t *testing.T) {
	t.Parallel()
	m := New()
	var calls int
	h := CombineHooks(emag.Hooks{Request: func(emag.RequestEvent) { calls++ }}, m.EMAGHooks(), emag.Hooks{})
	h.Request(emag.RequestEvent{Account: "main", Bucket: ratelimit.Other, Status: 200, Duration: 30 * time.Millisecond})
	h.Request(emag.RequestEvent{Account: "main", Bucket: ratelimit.Other, Status: 429, ErrKind: emag.KindRateLimited, Duration: time.Millisecond})
	h.Request(emag.RequestEvent{Account: "fbe", Bucket: ratelimit.Orders, Status: 0, ErrKind: emag.KindUnavailable})
	h.Retry(emag.RetryEvent{Account: "main", Bucket: ratelimit.Other})
	h.Wait(emag.WaitEvent{Account: "main", Bucket: ratelimit.Other, Waited: 300 * time.Millisecond})
	h.Alert(emag.AlertEvent{Account: "fbe", Kind: emag.KindNonJSON})
	m.ObserveRun("main", magflow.StreamProducts, magflow.RunCompleted, magflow.RunCounters{Inserted: 5, Unchanged: 2}, 3*time.Second)
	m.ObserveRun("fbe", magflow.StreamOrders, magflow.RunFailed, magflow.RunCounters{}, time.Second)
	if calls != 3 {
		t.Errorf("combined hook called %d times, want 3", calls)
	}
	out := scrape(t, m)
	for _, want := range []string{
		`magflow_emag_requests_total{account="main",bucket="other",code="2xx"} 1`,
		`magflow_emag_requests_total{account="main",bucket="other",code="4xx"} 1`,
		`magflow_emag_requests_total{account="fbe",bucket="orders",code="0xx"} 1`,
		`magflow_emag_request_errors_total{account="main",bucket="other",kind="rate_limited"} 1`,
		`magflow_emag_throttled_total{account="main",bucket="other"} 1`,
		`magflow_emag_retries_total{account="main",bucket="other"} 1`,
		`magflow_emag_ratelimit_wait_seconds_count{account="main",bucket="other"} 1`,
		`magflow_emag_alerts_total{account="fbe",kind="non_json"} 1`,
		`magflow_emag_request_duration_seconds_count{account="main",bucket="other"} 2`,
		`magflow_sync_items_total{account="main",outcome="inserted",stream="products"} 5`,
		`magflow_sync_items_total{account="main",outcome="unchanged",stream="products"} 2`,
		`magflow_sync_runs_total{account="fbe",status="failed",stream="orders"} 1`,
		`magflow_sync_run_duration_seconds_sum{account="main",status="completed",stream="products"} 3`,
		`magflow_sync_last_run_success{account="main",stream="products"} 1`,
		`magflow_sync_last_run_success{account="fbe",stream="orders"} 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	m := New()
	h := m.Middleware(func(r *http.Request) string {
		if r.URL.Path == "/x" {
			return "/x"
		}
		return ""
	})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/x" {
			w.WriteHeader(404)
			return
		}
		http.NewResponseController(w).Flush()
		io.WriteString(w, "ok")
	}))
	for _, p := range []string{"/x", "/x", "/nope/123"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	out := scrape(t, m)
	for _, want := range []string{
		`magflow_http_requests_total{code="200",method="GET",route="/x"} 2`,
		`magflow_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`magflow_http_request_duration_seconds_count{method="GET",route="/x"} 2`,
		`magflow_http_requests_in_flight 0`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
}
