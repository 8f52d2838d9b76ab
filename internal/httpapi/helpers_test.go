package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/app"
	"github.com/magflow/magflow/internal/auth"
	"github.com/magflow/magflow/internal/config"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/httpapi"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/syncer"
)

// Passwords the leak test looks for.
const (
	operatorPassword = "op-secret-Pa55word!"
	viewerPassword   = "viewer-secret-Pa55!"
	jwtSecret        = "test-jwt-secret-0123456789abcdef0123"
)

// syncBuffer is a concurrency-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a running API over a sandbox and a fresh database.
type env struct {
	t    testing.TB
	db   *sqldb.DB
	sb   *sandbox.Sandbox
	cfg  *config.Config
	app  *app.App
	api  *httpapi.Server
	srv  *httptest.Server
	logs *syncBuffer
}

type setupOptions struct {
	products, orders int
	rateScale        float64
	rateLimits       httpapi.RateLimits
	cors             []string
}

// setup starts a sandbox (accounts main and fbe), a migrated database of
// dialect d and the API over them, with an operator "op", a viewer "view"
// and a disabled operator "gone".
func setup(t testing.TB, d sqldb.Dialect, o setupOptions) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if o.products == 0 {
		o.products = 250
	}
	if o.orders == 0 {
		o.orders = 30
	}
	sbOpts := sandbox.Options{Seed: 7, NoRateLimit: o.rateScale == 0, RateScale: o.rateScale, Accounts: []sandbox.AccountOptions{
		{Name: "main", Products: o.products, Orders: o.orders}, {Name: "fbe", Products: o.products / 2, Orders: o.orders / 2},
	}}
	sb, err := sandbox.Start(ctx, sbOpts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cfg := &config.Config{Env: config.EnvTesting, JWTSecret: config.Secret(jwtSecret), CORSOrigins: o.cors,
		SyncInterval: 60 * 60e9, OrdersSyncInterval: 5 * 60e9, OrdersBackfill: 90 * 24 * 3600e9}
	for _, a := range sb.Accounts() {
		cfg.Accounts = append(cfg.Accounts, config.Account{Name: a.Name, Platform: magflow.Platforms["emag.ro"], BaseURL: a.BaseURL,
			Username: a.Username, Password: config.Secret(a.Password), OrdersRPS: 1000, OtherRPS: 1000,
			CallbackToken: config.Secret("callback-" + a.Name), AutoAck: true})
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	db := openDB(t, d)
	a, err := app.Assemble(db, app.Options{Config: cfg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	rl := o.rateLimits
	if rl == (httpapi.RateLimits{}) {
		rl.Disabled = true
	}
	api, err := app.NewAPI(a, app.APIOptions{RateLimits: rl, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		sctx, c := context.WithTimeout(context.Background(), 30e9)
		defer c()
		if err := api.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	e := &env{t: t, db: db, sb: sb, cfg: cfg, app: a, api: api, srv: srv, logs: logs}
	for _, u := range []struct{ name, pw, role string }{{"op", operatorPassword, "operator"}, {"view", viewerPassword, "viewer"}, {"gone", operatorPassword, "operator"}} {
		h, err := auth.HashPassword(u.pw, bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateUser(ctx, u.name, h, u.role); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// seed copies the sandbox into the database with a CLI-style engine (all
// streams), so lists have products, offers and orders.
func (e *env) seed() {
	e.t.Helper()
	var accounts []syncer.Account
	for _, a := range e.cfg.Accounts {
		c, err := emag.New(emag.Options{Account: a.Name, BaseURL: a.BaseURL, Username: a.Username, Password: a.Password.Reveal()})
		if err != nil {
			e.t.Fatal(err)
		}
		accounts = append(accounts, syncer.Account{Name: a.Name, Source: c})
	}
	eng, err := syncer.New(syncer.Options{Store: e.db, Accounts: accounts, OrdersBackfill: e.cfg.OrdersBackfill})
	if err != nil {
		e.t.Fatal(err)
	}
	rep, err := eng.Sync(context.Background(), syncer.Request{Mode: syncer.ModeAll, Trigger: "cli"})
	if err != nil || rep.Status() != magflow.RunCompleted {
		e.t.Fatalf("seed sync: %v %+v", err, rep)
	}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request with an optional bearer token and JSON body.
func (e *env) do(method, path, token string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			buf, _ := json.Marshal(b)
			rd = bytes.NewReader(buf)
		}
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func (e *env) login(user, pw string) tokens {
	e.t.Helper()
	r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": pw})
	if r.status != 200 {
		e.t.Fatalf("login %s: %d %s", user, r.status, r.body)
	}
	var tk tokens
	r.json(e.t, &tk)
	return tk
}

// follow reads the progress event stream of path until the "done" event
// and returns every event's data.
func (e *env) follow(path, token string) []httpapi.ProgressSnapshot {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") || res.Header.Get("X-Accel-Buffering") != "no" {
		b, _ := io.ReadAll(res.Body)
		e.t.Fatalf("progress stream: %d %v %s", res.StatusCode, res.Header, b)
	}
	var out []httpapi.ProgressSnapshot
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	event := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			var s httpapi.ProgressSnapshot
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &s); err != nil {
				e.t.Fatalf("event %s data %q: %v", event, line, err)
			}
			out = append(out, s)
			if event == "done" {
				if !s.Done {
					e.t.Fatalf("done event without done: %+v", s)
				}
				return out
			}
		}
	}
	e.t.Fatalf("the stream ended without a done event (%d events): %v", len(out), sc.Err())
	return nil
}

// newLoopback serves srv on a loopback port for the benchmark.
func newLoopback(tb testing.TB, srv *http.Server) *httptest.Server {
	ts := httptest.NewUnstartedServer(srv.Handler)
	ts.Start()
	tb.Cleanup(ts.Close)
	return ts
}
