package emag

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

const (
	testUser     = "seller@example.invalid"
	testPassword = "Sup3r-S3cret-Passw0rd!"
)

// fixture loads testdata/emag/name.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "emag", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

// recorded is one request the fake eMAG received.
type recorded struct {
	Method, Path, Query, Auth, ContentType string
	Body                                   []byte
}

// fakeEMAG is an httptest server that speaks eMAG's envelope: each route
// (path without /api-3) answers with a handler; requests are recorded.
type fakeEMAG struct {
	mu     sync.Mutex
	reqs   []recorded
	routes map[string]http.HandlerFunc
}

func (f *fakeEMAG) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"), Body: body})
	h, ok := f.routes[r.URL.Path]
	f.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"message":"Invalid URL"}`)
		return
	}
	h(w, r)
}

func (f *fakeEMAG) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// jsonAnswer answers with status and body as JSON.
func jsonAnswer(status int, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}
}

// ok wraps results in a success envelope.
func ok(results string) []byte {
	return []byte(`{"isError":false,"messages":[],"errors":[],"results":` + results + `}`)
}

// newFake starts a fake eMAG with routes and a client pointed at it.
func newFake(t *testing.T, routes map[string]http.HandlerFunc, mod ...func(*Options)) (*Client, *fakeEMAG) {
	t.Helper()
	f := &fakeEMAG{routes: routes}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	opts := Options{
		Account: "main", BaseURL: srv.URL + "/api-3", Username: testUser, Password: testPassword,
		HTTPClient: srv.Client(),
		Retry:      RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond, Jitter: func(d time.Duration) time.Duration { return d }},
	}
	for _, m := range mod {
		m(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

func bodyMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("request body %s: %v", b, err)
	}
	return m
}

var bg = context.Background()

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
