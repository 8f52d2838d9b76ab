package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestFaultKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults FaultOptions
		check  func(t *testing.T, r response)
	}{
		{"500", FaultOptions{P500: 1}, wantHTML(500)},
		{"502", FaultOptions{P502: 1}, wantHTML(502)},
		{"504", FaultOptions{P504: 1}, wantHTML(504)},
		{"captcha", FaultOptions{PCaptcha: 1}, func(t *testing.T, r response) {
			if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "Captcha") {
				t.Errorf("captcha: %d %s", r.status, r.header.Get("Content-Type"))
			}
		}},
		{"iserror", FaultOptions{PIsError: 1, IsErrorMessage: "boom"}, func(t *testing.T, r response) {
			e := mustEnvelope(t, r)
			if !e.IsError || !hasMessage(e, "boom") {
				t.Errorf("iserror: %+v", e)
			}
		}},
		{"truncated", FaultOptions{PTruncated: 1}, func(t *testing.T, r response) {
			if r.status != 200 || json.Valid(r.body) || r.header.Get("Content-Length") != fmt.Sprint(len(r.body)) || len(r.body) < 100 {
				t.Errorf("truncated: %d, %d bytes, valid %v", r.status, len(r.body), json.Valid(r.body))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := small()
			opts.Faults = tt.faults
			s := newTestSandbox(t, opts)
			tt.check(t, serve(t, s, req{account: "main", path: "/api-3/product_offer/read", body: `{"itemsPerPage":5}`}))
			if n := s.Stats().Accounts["main"].Buckets["other"].Faults; n != 1 {
				t.Errorf("faults counted %d", n)
			}
		})
	}
}

func wantHTML(code int) func(t *testing.T, r response) {
	return func(t *testing.T, r response) {
		t.Helper()
		if r.status != code || r.header.Get("Content-Type") != "text/html" || !strings.Contains(string(r.body), fmt.Sprintf("<h1>%d ", code)) {
			t.Errorf("got %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
		}
	}
}

func TestFaultReset(t *testing.T) {
	t.Parallel()
	opts := small()
	opts.Faults = FaultOptions{PReset: 1}
	s, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	acc := s.Accounts()[0]
	r, _ := http.NewRequest("POST", acc.BaseURL+"/vat/read", nil)
	r.SetBasicAuth(acc.Username, acc.Password)
	resp, err := http.DefaultClient.Do(r)
	if err == nil {
		_ = resp.Body.Close()
		t.Fatalf("reset fault answered %d", resp.StatusCode)
	}
	// Without a hijackable connection the handler aborts.
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want ErrAbortHandler", v)
		}
	}()
	hr, _ := http.NewRequest("POST", "/api-3/vat/read", nil)
	hr.SetBasicAuth(acc.Username, acc.Password)
	hr.RemoteAddr = "127.0.0.1:1"
	s.Handler().ServeHTTP(&recorder{header: http.Header{}}, hr)
}

func TestFaultSlow(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		opts := small()
		opts.Faults = FaultOptions{PSlow: 1, SlowMin: 2 * time.Second, SlowMax: 3 * time.Second}
		s, err := New(t.Context(), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		start := time.Now()
		r := serve(t, s, req{account: "main", path: "/api-3/vat/read"})
		if d := time.Since(start); r.status != 200 || d < 2*time.Second || d > 3*time.Second {
			t.Errorf("slow answer %d after %v", r.status, d)
		}
	})
}

func TestFaultPlan(t *testing.T) {
	t.Parallel()
	opts := small()
	opts.Faults.Plan = []FaultRule{
		{Account: "fbe", Route: "product_offer/read", Page: 3, Kind: Fault502, Times: 2},
		{Route: "order/acknowledge", Kind: FaultIsError, Skip: 1, Times: 1},
	}
	s := newTestSandbox(t, opts)
	page := func(acct string, n int) int {
		return serve(t, s, req{account: acct, path: "/api-3/product_offer/read", body: fmt.Sprintf(`{"currentPage":%d,"itemsPerPage":10}`, n)}).status
	}
	got := []int{page("fbe", 2), page("main", 3), page("fbe", 3), page("fbe", 3), page("fbe", 3), page("fbe", 3)}
	if want := []int{200, 200, 502, 502, 200, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	var acks []bool
	for range 3 {
		e := mustEnvelope(t, serve(t, s, req{account: "main", path: "/api-3/order/acknowledge/1"}))
		acks = append(acks, hasMessage(e, "Please try again later"))
	}
	if want := []bool{false, true, false}; !slices.Equal(acks, want) {
		t.Errorf("planned iserror on acknowledges %v, want %v", acks, want)
	}
	if n := s.Stats().Accounts["fbe"].Buckets["other"].Faults; n != 2 {
		t.Errorf("fbe faults %d", n)
	}
	if _, err := New(context.Background(), Options{Faults: FaultOptions{Plan: []FaultRule{{Route: "nope/read", Kind: Fault500}}}}); err == nil {
		t.Error("unknown route in plan accepted")
	}
	if _, err := New(context.Background(), Options{Faults: FaultOptions{P500: 0.7, P502: 0.7}}); err == nil {
		t.Error("probabilities above 1 accepted")
	}
}

func TestRandomFaultsAreDeterministic(t *testing.T) {
	t.Parallel()
	run := func(seed int64) []int {
		opts := small()
		opts.Seed = seed
		opts.Faults = FaultOptions{P500: 0.2, P504: 0.1}
		s := newTestSandbox(t, opts)
		var out []int
		for range 200 {
			out = append(out, serve(t, s, req{account: "main", path: "/api-3/vat/read"}).status)
		}
		return out
	}
	a, b, c := run(5), run(5), run(6)
	if !slices.Equal(a, b) {
		t.Error("same seed, different faults")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds, same faults")
	}
	n := 0
	for _, st := range a {
		if st != 200 {
			n++
		}
	}
	if n < 40 || n > 80 {
		t.Errorf("%d faults in 200 requests at p=0.3", n)
	}
}

func TestDeterministicData(t *testing.T) {
	t.Parallel()
	snapshot := func(seed int64) []byte {
		opts := small()
		opts.Seed = seed
		opts.Clock = newFakeClock()
		s := newTestSandbox(t, opts)
		var b bytes.Buffer
		for _, acct := range []string{"main", "fbe"} {
			for _, path := range []string{"product_offer/read", "order/read"} {
				for page := 1; page <= 2; page++ {
					b.Write(serve(t, s, req{account: acct, path: "/api-3/" + path, body: fmt.Sprintf(`{"currentPage":%d,"type":[2,3]}`, page)}).body)
				}
			}
			b.Write(serve(t, s, req{account: acct, path: "/api-3/rma/read"}).body)
		}
		return b.Bytes()
	}
	a, b, c := snapshot(11), snapshot(11), snapshot(12)
	if !bytes.Equal(a, b) {
		t.Error("same seed gave different data")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same data")
	}
	s1 := newTestSandbox(t, Options{Seed: 11})
	s2 := newTestSandbox(t, Options{Seed: 11})
	if s1.Accounts()[0].Password != s2.Accounts()[0].Password || s1.Accounts()[0].Password == s1.Accounts()[1].Password {
		t.Error("passwords not derived from the seed per account")
	}
	if len(s1.ProductIDs("main")) != 5000 || len(s1.OrderIDs("fbe")) != 2000 {
		t.Errorf("defaults: %d products, %d orders", len(s1.ProductIDs("main")), len(s1.OrderIDs("fbe")))
	}
}

func TestOverlap(t *testing.T) {
	t.Parallel()
	s := newTestSandbox(t, small())
	main, fbe := s.account("main"), s.account("fbe")
	shared, samePrice := 0, 0
	for pn, p := range main.byPN {
		if q := fbe.byPN[pn]; q != nil {
			shared++
			if p.PNK != q.PNK || !slices.Equal(p.EAN, q.EAN) {
				t.Fatalf("shared part number %s with different documentation", pn)
			}
			if p.SalePrice == q.SalePrice {
				samePrice++
			}
			if b := readOne(t, s, p.ID); b["number_of_offers"].(float64) < 2 {
				t.Fatalf("shared product %s has %v offers", pn, b["number_of_offers"])
			}
		}
	}
	if want := int(150 * 0.3); shared != want {
		t.Errorf("%d shared part numbers, want %d", shared, want)
	}
	if samePrice > shared/4 {
		t.Errorf("%d of %d shared products have the same price", samePrice, shared)
	}
}

func TestChurnShiftsPages(t *testing.T) {
	t.Parallel()
	opts := small()
	opts.Churn = ChurnOptions{Inserts: 3, Deletes: 3}
	s := newTestSandbox(t, opts)
	before := s.ProductIDs("main")
	var scanned []int64
	for page := 1; ; page++ {
		ids := idsOf(t, post(t, s, "product_offer/read", fmt.Sprintf(`{"currentPage":%d,"itemsPerPage":50}`, page)))
		if len(ids) == 0 {
			break
		}
		scanned = append(scanned, ids...)
	}
	after := s.ProductIDs("main")
	if len(after) != len(before) || slices.Equal(before, after) {
		t.Fatalf("churn did not change the catalogue: %d -> %d", len(before), len(after))
	}
	if slices.Equal(scanned, before) || slices.Equal(scanned, after) {
		t.Error("a scan during churn matched a snapshot exactly: pages did not shift")
	}
	st := s.Stats().Accounts["main"]
	if st.Inserted == 0 || st.Deleted == 0 || st.Inserted != st.Deleted {
		t.Errorf("churn stats %+v", st)
	}
	if !slices.IsSorted(after) {
		t.Error("catalogue no longer in id order")
	}
}

func TestOrderArrival(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	opts := small()
	opts.Clock = clock
	opts.OrderRate = 6
	s := newTestSandbox(t, opts)
	count := func(body string) string {
		return decode[map[string]string](t, mustOK(t, post(t, s, "order/count", body)))["noOfItems"]
	}
	start := clock.Now().In(s.zone)
	if got := count(`{}`); got != "300" {
		t.Fatalf("initial count %s", got)
	}
	clock.Advance(10 * time.Minute)
	if got := count(`{}`); got != "360" {
		t.Errorf("count after 10 minutes %s, want 360", got)
	}
	window := fmt.Sprintf(`{"modifiedAfter":%q,"modifiedBefore":%q}`, start.Format(dateLayout), clock.Now().In(s.zone).Format(dateLayout))
	if got := count(window); got < "60" || len(got) < 2 {
		t.Errorf("orders modified in the window: %s", got)
	}
	newIDs := s.OrderIDs("main")
	if len(newIDs) != 360 || !slices.IsSorted(newIDs) {
		t.Errorf("order ids: %d, sorted %v", len(newIDs), slices.IsSorted(newIDs))
	}
}

// recordingTransport records callback URLs.
type recordingTransport struct {
	mu   sync.Mutex
	urls []string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.urls = append(rt.urls, r.URL.String())
	rt.mu.Unlock()
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok")), Request: r}, nil
}

func (rt *recordingTransport) take() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := rt.urls
	rt.urls = nil
	return out
}

func TestCallbacks(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recordingTransport{}
		s, err := New(t.Context(), Options{
			Seed: 1, OrderRate: 2, CallbackURL: "http://seller.invalid/emag?shop=1",
			CallbackClient: &http.Client{Transport: rec},
			Accounts:       []AccountOptions{{Name: "main", Products: 20, Orders: -1, FBEShare: -1}},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = s.Close(); s.Wait() }()
		time.Sleep(time.Minute + time.Second)
		got := rec.take()
		if len(got) != 2 {
			t.Fatalf("callbacks after a minute: %v", got)
		}
		u, _ := url.Parse(got[0])
		if u.Query().Get("shop") != "1" || u.Query().Get("order_id") == "" {
			t.Fatalf("callback URL %s", got[0])
		}
		mustOK(t, post(t, s, "order/acknowledge/"+u.Query().Get("order_id"), ""))
		time.Sleep(time.Minute)
		got = rec.take()
		if len(got) != 3 || slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, "order_id="+u.Query().Get("order_id")) }) {
			t.Errorf("second round %v: want the other order and two new ones, not the acknowledged one", got)
		}
		if n := s.Stats().Accounts["main"].CallbacksSent; n != 5 {
			t.Errorf("callbacks counted %d", n)
		}
	})
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }

func TestMemoryDoesNotGrow(t *testing.T) {
	s := newTestSandbox(t, Options{Seed: 1, NoRateLimit: true, Accounts: []AccountOptions{{Name: "main", Products: 2000, Orders: -1}}})
	a := s.account("main")
	w := &discard{h: http.Header{}}
	run := func(n int) {
		for i := range n {
			r, _ := http.NewRequest("POST", "/api-3/product_offer/read", strings.NewReader(fmt.Sprintf(`{"currentPage":%d,"itemsPerPage":100}`, i%20+1)))
			r.SetBasicAuth(a.username, a.password)
			r.RemoteAddr = "127.0.0.1:1"
			clear(w.h)
			s.Handler().ServeHTTP(w, r)
		}
	}
	run(400) // render and cache every product
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	run(3000)
	runtime.GC()
	runtime.ReadMemStats(&m1)
	if grow := int64(m1.HeapAlloc) - int64(m0.HeapAlloc); grow > 1<<20 {
		t.Errorf("heap grew by %d bytes over 3000 pages", grow)
	}
}

// BenchmarkProductPages fetches product_offer/read pages of 100 over
// loopback HTTP, as a sync client does, and reports products per second.
func BenchmarkProductPages(b *testing.B) {
	s, err := Start(b.Context(), Options{Seed: 1, NoRateLimit: true, Accounts: []AccountOptions{{Name: "main", Products: 20000, Orders: -1}}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	acc := s.Accounts()[0]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	products := 0
	page := 0
	b.ResetTimer()
	for b.Loop() {
		page = page%200 + 1
		r, _ := http.NewRequest("POST", acc.BaseURL+"/product_offer/read", strings.NewReader(fmt.Sprintf(`{"currentPage":%d,"itemsPerPage":100}`, page)))
		r.SetBasicAuth(acc.Username, acc.Password)
		r.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || n < 100_000 {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
		products += 100
	}
	b.ReportMetric(float64(products)/b.Elapsed().Seconds(), "products/s")
}

func TestStartAndClose(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	s, err := Start(ctx, Options{Accounts: []AccountOptions{{Name: "main", Products: 3, Orders: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL())
	}
	cancel() // ending the context closes the sandbox
	s.Wait()
	if _, err := http.Get(s.URL() + "/_sandbox/stats"); err == nil {
		t.Error("server still answers after its context ended")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	s2, err := Start(t.Context(), Options{Accounts: []AccountOptions{{Name: "main", Products: 3, Orders: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	_ = s2.Close()
	s2.Wait() // Close alone lets Wait return
	if _, err := New(t.Context(), Options{Accounts: []AccountOptions{{Name: "a"}, {Name: "a"}}}); err == nil {
		t.Error("duplicate account names accepted")
	}
}
