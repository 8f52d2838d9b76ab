package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 10, 13, 12, 4, 42, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// small returns options for a fast sandbox: small catalogues, no limits.
func small() Options {
	return Options{Seed: 7, NoRateLimit: true, Accounts: []AccountOptions{
		{Name: "main", Products: 250, Orders: 300},
		{Name: "fbe", Products: 150, Orders: 200},
	}}
}

func newTestSandbox(t *testing.T, opts Options) *Sandbox {
	t.Helper()
	s, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("new sandbox: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

type response struct {
	status int
	header http.Header
	body   []byte
}

type envelope struct {
	IsError  bool            `json:"isError"`
	Messages []string        `json:"messages"`
	Errors   []any           `json:"errors"`
	Results  json.RawMessage `json:"results"`
}

type req struct {
	account string // "" for none
	method  string
	path    string
	ctype   string
	body    string
	remote  string
}

// serve sends one request through the handler (no network).
func serve(t *testing.T, s *Sandbox, r req) response {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	hr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	hr.RemoteAddr = "127.0.0.1:40000"
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	if r.ctype == "" && r.body != "" {
		r.ctype = "application/json"
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	if r.account != "" {
		a := s.account(r.account)
		if a == nil {
			t.Fatalf("no account %q", r.account)
		}
		hr.SetBasicAuth(a.username, a.password)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, hr)
	return response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// call posts a JSON body to /api-3/path as account main.
func post(t *testing.T, s *Sandbox, path, body string) envelope {
	t.Helper()
	return mustEnvelope(t, serve(t, s, req{account: "main", path: "/api-3/" + path, body: body}))
}

func mustEnvelope(t *testing.T, r response) envelope {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	var e envelope
	dec := json.NewDecoder(bytes.NewReader(r.body))
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("decode envelope %q: %v", r.body, err)
	}
	return e
}

func mustOK(t *testing.T, e envelope) json.RawMessage {
	t.Helper()
	if e.IsError {
		t.Fatalf("isError: %v", e.Messages)
	}
	return e.Results
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func hasMessage(e envelope, sub string) bool {
	for _, m := range e.Messages {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}
