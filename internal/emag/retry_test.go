package emag

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/ratelimit"
)

// step answers one attempt inside a synctest bubble.
type step func(r *http.Request) (*http.Response, error)

// script is an http.RoundTripper that plays steps in order (the last one
// repeats) and records when each attempt arrived, in the bubble's clock.
type script struct {
	mu    sync.Mutex
	steps []step
	at    []time.Duration
	paths []string
	start time.Time
}

func newScript(steps ...step) *script { return &script{steps: steps, start: time.Now()} }

func (s *script) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	s.mu.Lock()
	i := min(len(s.at), len(s.steps)-1)
	s.at = append(s.at, time.Since(s.start))
	s.paths = append(s.paths, r.URL.Path)
	st := s.steps[i]
	s.mu.Unlock()
	return st(r)
}

func (s *script) times() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.at...)
}

func answer(status int, body []byte, header ...string) step {
	return func(r *http.Request) (*http.Response, error) {
		h := http.Header{"Content-Type": {"application/json"}}
		if len(body) > 0 && body[0] == '<' {
			h.Set("Content-Type", "text/html")
		}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
	}
}

func refused(r *http.Request) (*http.Response, error) {
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

func reset(r *http.Request) (*http.Response, error) {
	return nil, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

// hang never answers; the attempt timeout ends it.
func hang(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// cut sends the first n bytes of body, then the connection drops.
func cut(body []byte, n int) step {
	return func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(io.MultiReader(bytes.NewReader(body[:n]), failingReader{})), Request: r}, nil
	}
}

// events collects hook events.
type events struct {
	mu       sync.Mutex
	requests []RequestEvent
	retries  []RetryEvent
	waits    []WaitEvent
	alerts   []AlertEvent
}

func (e *events) hooks() Hooks {
	return Hooks{
		Request: func(ev RequestEvent) { e.mu.Lock(); e.requests = append(e.requests, ev); e.mu.Unlock() },
		Retry:   func(ev RetryEvent) { e.mu.Lock(); e.retries = append(e.retries, ev); e.mu.Unlock() },
		Wait:    func(ev WaitEvent) { e.mu.Lock(); e.waits = append(e.waits, ev); e.mu.Unlock() },
		Alert:   func(ev AlertEvent) { e.mu.Lock(); e.alerts = append(e.alerts, ev); e.mu.Unlock() },
	}
}

// bubbleClient builds a client over s with exact (jitter-free) backoff.
func bubbleClient(t *testing.T, s *script, mod ...func(*Options)) *Client {
	t.Helper()
	opts := Options{Account: "main", BaseURL: "http://emag.test/api-3", Username: testUser, Password: testPassword,
		HTTPClient: &http.Client{Transport: s},
		Retry:      RetryPolicy{MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: 8 * time.Second, MaxElapsed: time.Minute, Jitter: func(d time.Duration) time.Duration { return d }}}
	for _, m := range mod {
		m(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func secs(ss ...float64) []time.Duration {
	out := make([]time.Duration, len(ss))
	for i, s := range ss {
		out[i] = time.Duration(s * float64(time.Second))
	}
	return out
}

func TestReadRetriesGatewayErrorsWithExponentialBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newScript(answer(502, fixture(t, "gateway_502.html")), answer(504, nil), answer(500, nil), answer(200, fixture(t, "count_strings.json")))
		var ev events
		c := bubbleClient(t, s, func(o *Options) { o.Hooks = ev.hooks() })
		n, err := c.CountProductOffers(bg, ProductOfferFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if n.Items != 797 {
			t.Errorf("count = %+v", n)
		}
		if diff := cmp.Diff(secs(0, 1, 3, 7), s.times()); diff != "" {
			t.Errorf("attempt times (-want +got):\n%s", diff)
		}
		if len(ev.retries) != 3 || ev.retries[0].Status != 502 || ev.retries[2].Delay != 4*time.Second || ev.retries[0].Bucket != ratelimit.Other {
			t.Errorf("retry events = %+v", ev.retries)
		}
		if len(ev.requests) != 4 || ev.requests[0].ErrKind != KindUnavailable || ev.requests[3].ErrKind != "" || ev.requests[3].Attempt != 4 {
			t.Errorf("request events = %+v", ev.requests)
		}
	})
}

func TestReadGivesUpAfterMaxAttemptsAndMaxElapsed(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newScript(answer(503, fixture(t, "gateway_502.html")))
		c := bubbleClient(t, s, func(o *Options) { o.Retry.MaxAttempts = 3 })
		_, err := c.ReadProductOffers(bg, ProductOfferFilter{})
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrUnavailable) || e.Attempts != 3 || e.Status != 503 {
			t.Fatalf("err = %v", err)
		}
		if e.Code() != magflow.EUnavailable || magflow.ErrorCode(err) != magflow.EUnavailable || e.Remedy() == "" {
			t.Errorf("code %q remedy %q", e.Code(), e.Remedy())
		}
		if !strings.Contains(err.Error(), "502 Bad Gateway") {
			t.Errorf("error lacks the page title: %v", err)
		}
		if diff := cmp.Diff(secs(0, 1, 3), s.times()); diff != "" {
			t.Errorf("attempt times (-want +got):\n%s", diff)
		}

		// MaxElapsed: 1s + 2s + 4s = 7s fits in 8s; the 8s delay does not.
		s2 := newScript(answer(500, nil))
		c2 := bubbleClient(t, s2, func(o *Options) { o.Retry.MaxAttempts = 10; o.Retry.MaxElapsed = 8 * time.Second })
		if _, err := c2.ReadProductOffers(bg, ProductOfferFilter{}); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("err = %v", err)
		}
		if diff := cmp.Diff(secs(0, 1, 3, 7), s2.times()); diff != "" {
			t.Errorf("attempt times (-want +got):\n%s", diff)
		}
	})
}

func TestReadRetriesTimeoutsResetsAndTruncatedBodies(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		page := fixture(t, "product_offer_read_quirks.json")
		s := newScript(hang, reset, cut(page, 300), answer(200, page))
		c := bubbleClient(t, s, func(o *Options) { o.AttemptTimeout = 10 * time.Second })
		got, err := c.ReadProductOffers(bg, ProductOfferFilter{})
		if err != nil || len(got) != 3 {
			t.Fatalf("got %d offers, err %v", len(got), err)
		}
		// hang ends at 10s (attempt timeout), then 1s, reset, 2s, cut, 4s.
		if diff := cmp.Diff(secs(0, 11, 13, 17), s.times()); diff != "" {
			t.Errorf("attempt times (-want +got):\n%s", diff)
		}
		// A body that parses as broken JSON (a proxy cut it) retries too.
		s2 := newScript(answer(200, fixture(t, "truncated_product_offer.json")), answer(200, page))
		if got, err := bubbleClient(t, s2).ReadProductOffers(bg, ProductOfferFilter{}); err != nil || len(got) != 3 {
			t.Fatalf("truncated then whole: %d, %v", len(got), err)
		}
	})
}

func TestWritesRetryOnlyWhenNotApplied(t *testing.T) {
	t.Parallel()
	save := []OfferUpdate{{ID: 1001, Stock: []WarehouseValue{{1, 5}}}}
	for _, tc := range []struct {
		name     string
		first    step
		attempts int
		kind     Kind
		maybe    bool
	}{
		{"502 is not retried", answer(502, fixture(t, "gateway_502.html")), 1, KindUnavailable, true},
		{"timeout is not retried", hang, 1, KindUnavailable, true},
		{"reset is not retried", reset, 1, KindUnavailable, true},
		{"truncated body is not retried", cut(ok(`{"1001":{"isError":false,"messages":[]}}`), 20), 1, KindDecode, true},
		{"connection refused is retried", refused, 2, "", false},
		{"429 is retried", answer(429, fixture(t, "rate_limit_429.json")), 2, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := newScript(tc.first, answer(200, ok(`{"1001":{"isError":false,"messages":["Offer 1001 updated successfully"]}}`)))
				c := bubbleClient(t, s, func(o *Options) { o.AttemptTimeout = 5 * time.Second })
				_, err := c.SaveOffers(bg, save)
				if got := len(s.times()); got != tc.attempts {
					t.Errorf("%d attempts, want %d", got, tc.attempts)
				}
				if tc.kind == "" {
					if err != nil {
						t.Fatalf("err = %v", err)
					}
					return
				}
				var e *Error
				if !errors.As(err, &e) || e.Kind != tc.kind || e.MaybeApplied() != tc.maybe {
					t.Fatalf("err = %v (maybe applied %v)", err, e != nil && e.MaybeApplied())
				}
			})
		})
	}
}

func TestRateLimitedHonoursHeaders(t *testing.T) {
	t.Parallel()
	body := fixture(t, "rate_limit_429.json")
	for _, tc := range []struct {
		name   string
		header []string
		wait   time.Duration
	}{
		{"Retry-After seconds", []string{"Retry-After", "3"}, 3 * time.Second},
		{"Kong per-second window", []string{"X-RateLimit-Limit-Second", "3", "X-RateLimit-Remaining-Second", "0"}, time.Second},
		{"Kong 3-second window", []string{"X-RateLimit-Limit-3second", "1", "X-RateLimit-Remaining-3second", "0", "Server", "kong/0.12.1"}, 3 * time.Second},
		{"Kong minute window", []string{"X-RateLimit-Remaining-Second", "0", "X-RateLimit-Remaining-Minute", "0"}, time.Minute},
		{"no hint: backoff of at least one second", nil, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := newScript(answer(429, body, tc.header...), answer(200, ok(`{"noOfItems":"1","noOfPages":"1","itemsPerPage":"100"}`)))
				c := bubbleClient(t, s, func(o *Options) {
					o.Retry.MaxElapsed = 2 * time.Minute
					o.Retry.Jitter = func(time.Duration) time.Duration { return 0 }
				})
				if _, err := c.CountOrders(bg, OrderFilter{}); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]time.Duration{0, tc.wait}, s.times()); diff != "" {
					t.Errorf("attempt times (-want +got):\n%s", diff)
				}
			})
		})
	}
	synctest.Test(t, func(t *testing.T) {
		s := newScript(answer(429, body, "Retry-After", "2"))
		c := bubbleClient(t, s, func(o *Options) { o.Retry.MaxAttempts = 3 })
		_, err := c.CountOrders(bg, OrderFilter{})
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, ErrRateLimited) || e.Attempts != 3 || e.RetryAfter != 2*time.Second || e.Code() != magflow.ERateLimited || !IsRetryable(err) {
			t.Fatalf("err = %v", err)
		}
		if !strings.Contains(err.Error(), "API rate limit exceeded") {
			t.Errorf("message lost: %v", err)
		}
	})
}

// countingWaiter records the bucket of every Wait and can delay grants.
type countingWaiter struct {
	mu      sync.Mutex
	buckets []ratelimit.Bucket
	delay   time.Duration
}

func (w *countingWaiter) Wait(ctx context.Context, b ratelimit.Bucket) error {
	w.mu.Lock()
	w.buckets = append(w.buckets, b)
	w.mu.Unlock()
	if w.delay > 0 {
		return sleep(ctx, w.delay)
	}
	return ctx.Err()
}

func TestLimiterBeforeEveryAttemptWithRouteBuckets(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newScript(answer(502, nil), answer(200, ok(`[]`)))
		w := &countingWaiter{delay: 100 * time.Millisecond}
		var ev events
		c := bubbleClient(t, s, func(o *Options) { o.Limiter = w; o.Hooks = ev.hooks() })
		if _, err := c.ReadOrders(bg, OrderFilter{}); err != nil { // 502 then 200: two waits
			t.Fatal(err)
		}
		if _, err := c.ReadProductOffers(bg, ProductOfferFilter{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.FindByEANs(bg, []string{"5941234567890"}); err != nil {
			t.Fatal(err)
		}
		if err := c.AcknowledgeOrder(bg, 3115229985); err != nil {
			t.Fatal(err)
		}
		if err := c.UpdateOfferStock(bg, 1001, 3); err != nil {
			t.Fatal(err)
		}
		want := []ratelimit.Bucket{ratelimit.Orders, ratelimit.Orders, ratelimit.Other, ratelimit.EAN, ratelimit.Orders, ratelimit.Other}
		if diff := cmp.Diff(want, w.buckets); diff != "" {
			t.Errorf("buckets (-want +got):\n%s", diff)
		}
		if len(ev.waits) != 6 || ev.waits[0].Waited != 100*time.Millisecond || ev.waits[1].Attempt != 2 {
			t.Errorf("wait events = %+v", ev.waits)
		}
	})
}

func TestMinSpacingSeparatesConcurrentRequests(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newScript(answer(200, ok(`[]`)))
		c := bubbleClient(t, s, func(o *Options) { o.MinSpacing = 500 * time.Millisecond })
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := c.ReadVAT(bg); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if diff := cmp.Diff(secs(0, 0.5, 1, 1.5), s.times()); diff != "" {
			t.Errorf("attempt times (-want +got):\n%s", diff)
		}
	})
}

func TestCancelDuringBackoffReturnsPromptly(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := newScript(answer(500, nil))
		c := bubbleClient(t, s, func(o *Options) {
			o.Retry.BaseDelay = time.Minute
			o.Retry.MaxDelay = time.Minute
			o.Retry.MaxElapsed = time.Hour
		})
		ctx, cancel := context.WithTimeout(bg, 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.ReadProductOffers(ctx, ProductOfferFilter{})
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 5*time.Second {
			t.Fatalf("err = %v after %v", err, time.Since(start))
		}
	})
}
