package sandbox

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func limited(clock Clock) Options {
	return Options{Seed: 1, Clock: clock, Accounts: []AccountOptions{{Name: "main", Products: 20, Orders: 20}}}
}

// step is one request at an offset from the start of a test.
type step struct {
	at     time.Duration
	path   string
	status int
}

func runSteps(t *testing.T, s *Sandbox, clock *fakeClock, steps []step) {
	t.Helper()
	start := clock.Now()
	for i, st := range steps {
		clock.Advance(start.Add(st.at).Sub(clock.Now()))
		r := serve(t, s, req{account: "main", path: st.path, method: methodFor(st.path)})
		if r.status != st.status {
			t.Fatalf("step %d (%v %s): status %d, want %d (%s)", i, st.at, st.path, r.status, st.status, r.body)
		}
	}
}

func methodFor(path string) string {
	if strings.Contains(path, "find_by_eans") {
		return http.MethodGet
	}
	return http.MethodPost
}

const (
	other  = "/api-3/vat/read"
	orders = "/api-3/order/count"
	ean    = "/api-3/documentation/find_by_eans?eans[]=5940000000018"
)

// TestSlidingWindows shows the 429 arriving at exactly the request that
// would put limit+1 requests inside a sliding window.
func TestSlidingWindows(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name  string
		steps []step
	}{
		{"other 3 per second", []step{
			{0, other, 200}, {300 * ms, other, 200}, {600 * ms, other, 200},
			{900 * ms, other, 429}, {999 * ms, other, 429}, // a 429 does not enter the window
			{1000 * ms, other, 200}, // the request at 0 left the window
			{1200 * ms, other, 429}, {1300 * ms, other, 200}, {1600 * ms, other, 200}, {1700 * ms, other, 429},
		}},
		{"buckets are separate", []step{
			{0, other, 200}, {0, other, 200}, {0, other, 200}, {0, other, 429},
			{0, orders, 200}, {0, ean, 200},
		}},
		{"invalid requests count", []step{
			{0, "/api-3/product_offer/read?", 200}, {0, "/api-3/no/such", 404}, {0, "/api-3/order/acknowledge/1", 200}, // the last is orders
			{0, "/api-3/category/read", 200}, {0, other, 429},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clock := newFakeClock()
			s := newTestSandbox(t, limited(clock))
			runSteps(t, s, clock, tt.steps)
		})
	}
	t.Run("orders 12 per second", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		s := newTestSandbox(t, limited(clock))
		var steps []step
		for i := range 12 {
			steps = append(steps, step{time.Duration(i) * 80 * ms, orders, 200})
		}
		steps = append(steps, step{990 * ms, orders, 429}, step{1000 * ms, orders, 200}, step{1000 * ms, orders, 429}, step{1080 * ms, orders, 200})
		runSteps(t, s, clock, steps)
	})
	t.Run("ean 200 per minute", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		s := newTestSandbox(t, limited(clock))
		var steps []step
		for sec := range 40 {
			for range 5 {
				steps = append(steps, step{time.Duration(sec) * time.Second, ean, 200})
			}
		}
		steps = append(steps, step{40 * time.Second, ean, 429}, step{59999 * ms, ean, 429}, step{60 * time.Second, ean, 200})
		runSteps(t, s, clock, steps)
		st := s.Stats().Accounts["main"].Buckets["ean"]
		want := BucketStats{Requests: 201, MaxPerSecond: 5, MaxPerMinute: 200, RateLimited: 2, LimitPerSecond: 5, LimitPerMinute: 200, LimitPerDay: 5000}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Errorf("ean stats (-want +got):\n%s", diff)
		}
	})
	t.Run("ean per day", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		opts := limited(clock)
		opts.RateScale = 0.01 // 1/s, 2/min, 50/day
		s := newTestSandbox(t, opts)
		var steps []step
		for m := range 25 {
			steps = append(steps, step{time.Duration(m) * time.Minute, ean, 200}, step{time.Duration(m)*time.Minute + time.Second, ean, 200})
		}
		steps = append(steps, step{25 * time.Minute, ean, 429}, step{24 * time.Hour, ean, 200})
		runSteps(t, s, clock, steps)
	})
}

func TestRateLimitAnswer(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newTestSandbox(t, limited(clock))
	var last response
	for range 4 {
		last = serve(t, s, req{account: "main", path: other})
	}
	if last.status != 429 || string(last.body) != `{"message":"API rate limit exceeded"}` {
		t.Fatalf("got %d %s", last.status, last.body)
	}
	want := map[string]string{
		"X-Ratelimit-Limit-Second": "3", "X-Ratelimit-Remaining-Second": "0",
		"X-Ratelimit-Limit-Minute": "180", "X-Ratelimit-Remaining-Minute": "177",
		"Retry-After": "1", "Content-Type": "application/json; charset=utf-8",
	}
	for k, v := range want {
		if got := last.header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	clock.Advance(time.Second)
	ok := serve(t, s, req{account: "main", path: other})
	if ok.status != 200 || ok.header.Get("X-RateLimit-Remaining-second") != "2" {
		t.Errorf("after a second: %d remaining %q", ok.status, ok.header.Get("X-RateLimit-Remaining-second"))
	}
	st := s.Stats().Accounts["main"].Buckets["other"]
	if st.Requests != 4 || st.RateLimited != 1 || st.MaxPerSecond != 3 || st.MaxPerMinute != 4 {
		t.Errorf("stats %+v", st)
	}
	// The stats endpoint serves the same numbers, and reset zeroes them.
	r := serve(t, s, req{method: "GET", path: "/_sandbox/stats"})
	got := decode[Stats](t, r.body)
	if diff := cmp.Diff(s.Stats(), got); diff != "" {
		t.Errorf("stats endpoint (-want +got):\n%s", diff)
	}
	if r := serve(t, s, req{path: "/_sandbox/reset-stats"}); r.status != 204 {
		t.Fatalf("reset: %d", r.status)
	}
	if st := s.Stats().Accounts["main"].Buckets["other"]; st.Requests != 0 || st.RateLimited != 0 {
		t.Errorf("after reset %+v", st)
	}
}

func TestNoRateLimit(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	opts := limited(clock)
	opts.NoRateLimit = true
	s := newTestSandbox(t, opts)
	for range 50 {
		if r := serve(t, s, req{account: "main", path: other}); r.status != 200 || r.header.Get("X-RateLimit-Limit-second") != "" {
			t.Fatalf("status %d headers %v", r.status, r.header)
		}
	}
	if st := s.Stats().Accounts["main"].Buckets["other"]; st.MaxPerSecond != 50 || st.LimitPerSecond != 0 {
		t.Errorf("stats %+v", st)
	}
}

// handlerTransport serves requests in memory, so that synctest's fake time
// drives everything.
type handlerTransport struct {
	h      http.Handler
	remote string
}

func (ht handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	r = r.Clone(r.Context())
	r.RemoteAddr = ht.remote
	if r.RemoteAddr == "" {
		r.RemoteAddr = "127.0.0.1:1"
	}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	ht.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// TestRateLimitSynctest drives the real clock of a synctest bubble.
func TestRateLimitSynctest(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s, err := New(t.Context(), Options{Accounts: []AccountOptions{{Name: "main", Products: 5, Orders: 5}}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		acc := s.Accounts()[0]
		client := &http.Client{Transport: handlerTransport{h: s.Handler()}}
		get := func() int {
			r, _ := http.NewRequest("POST", "http://sandbox/api-3/product_offer/count", strings.NewReader("{}"))
			r.SetBasicAuth(acc.Username, acc.Password)
			resp, err := client.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			return resp.StatusCode
		}
		var got []int
		for range 4 {
			got = append(got, get())
		}
		time.Sleep(time.Second)
		got = append(got, get())
		if diff := cmp.Diff([]int{200, 200, 200, 429, 200}, got); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
	})
}

func TestWindow(t *testing.T) {
	t.Parallel()
	w := newWindow(time.Second, 2)
	sec := int64(time.Second)
	type op struct {
		at    int64
		allow bool
		rem   int
	}
	for i, o := range []op{{0, true, 1}, {sec / 2, true, 0}, {sec - 1, false, 0}, {sec, true, 0}, {sec + sec/2, true, 0}, {3 * sec, true, 1}} {
		if got := w.allow(o.at); got != o.allow {
			t.Fatalf("op %d: allow %v, want %v", i, got, o.allow)
		}
		if o.allow {
			w.add(o.at)
		}
		if got := w.remaining(o.at); got != o.rem {
			t.Fatalf("op %d: remaining %d, want %d", i, got, o.rem)
		}
	}
	if d := w.retryAfter(3 * sec); d != 0 {
		t.Errorf("retryAfter on a free window %v", d)
	}
}

func ExampleStart() {
	s, err := Start(context.Background(), Options{Seed: 42, Accounts: []AccountOptions{{Name: "main", Products: 10}}})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	for _, a := range s.Accounts() {
		fmt.Println(a.Name, strings.HasSuffix(a.BaseURL, "/api-3"), a.Username)
	}
	// Output: main true main@sandbox.magflow.test
}
