package twoway_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/ratelimit"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
	"github.com/magflow/magflow/internal/syncer"
	"github.com/magflow/magflow/internal/twoway"
)

const token = "callback-token-of-main-0123456789"

// routeLog counts the eMAG requests the clients made, per route prefix.
type routeLog struct {
	mu     sync.Mutex
	routes map[string]int
}

func (l *routeLog) add(ev emag.RequestEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := ev.Route
	for i := range len(r) {
		if r[i] >= '0' && r[i] <= '9' && i > 0 && r[i-1] == '/' {
			r = r[:i-1]
			break
		}
	}
	l.routes[r]++
}

func (l *routeLog) snapshot() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for k, v := range l.routes {
		out[k] = v
	}
	return out
}

func (l *routeLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.routes = map[string]int{}
}

type env struct {
	db      *sqldb.DB
	sb      *sandbox.Sandbox
	clients map[string]*emag.Client
	routes  *routeLog
	engine  *syncer.Engine
}

type setupOptions struct {
	products, orders int
	// scale is the rate scale of both the sandbox and the limiter; 0 lifts
	// the limits.
	scale  float64
	faults sandbox.FaultOptions
	clock  sandbox.Clock
	rate   float64 // new orders per minute
}

func setup(t testing.TB, d sqldb.Dialect, o setupOptions) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, RateScale: o.scale, NoRateLimit: o.scale == 0, Faults: o.faults, Clock: o.clock,
		OrderRate: o.rate, Accounts: []sandbox.AccountOptions{{Name: "main", Products: o.products, Orders: o.orders}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	e := &env{db: sqldbtest.Open(t, d), sb: sb, clients: map[string]*emag.Client{}, routes: &routeLog{routes: map[string]int{}}}
	var accounts []syncer.Account
	for _, a := range sb.Accounts() {
		limits := ratelimit.FromRPS(1000, 1000)
		if o.scale > 0 {
			limits = ratelimit.DefaultLimits().Scale(o.scale)
		}
		lim, err := ratelimit.NewLocal(ratelimit.Options{Limits: limits})
		if err != nil {
			t.Fatal(err)
		}
		c, err := emag.New(emag.Options{Account: a.Name, BaseURL: a.BaseURL, Username: a.Username, Password: a.Password, Limiter: lim,
			Hooks: emag.Hooks{Request: e.routes.add}, AttemptTimeout: 5 * time.Second,
			Retry: emag.RetryPolicy{BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		e.clients[a.Name] = c
		accounts = append(accounts, syncer.Account{Name: a.Name, Source: c, Stats: &syncer.RequestStats{}})
	}
	e.engine, err = syncer.New(syncer.Options{Store: e.db, Accounts: accounts, OrdersBackfill: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// service returns a twoway.Service over the env (main acknowledges
// automatically; its callback token is token).
func (e *env) service(t testing.TB, o twoway.Options) *twoway.Service {
	t.Helper()
	o.DB = e.db
	for name, c := range e.clients {
		o.Accounts = append(o.Accounts, twoway.Account{Name: name, Client: c, AutoAck: true, CallbackToken: token})
	}
	o.RetryBase = time.Millisecond
	s, err := twoway.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) sync(t testing.TB, mode syncer.Mode) {
	t.Helper()
	rep, err := e.engine.Sync(context.Background(), syncer.Request{Mode: mode, Trigger: "test"})
	if err != nil || rep.Status() != magflow.RunCompleted {
		t.Fatalf("sync %s: %v, %+v", mode, err, rep)
	}
}

// drain drains account's kind until nothing is due.
func drain(t testing.TB, s *twoway.Service, account, kind string) {
	t.Helper()
	ok, err := s.Drain(context.Background(), account, kind)
	if err != nil || !ok {
		t.Fatalf("drain %s %s: ok=%v, %v", account, kind, ok, err)
	}
}

// readOffer reads one offer from the sandbox.
func (e *env) readOffer(t testing.TB, id int64) emag.ProductOffer {
	t.Helper()
	got, err := e.clients["main"].ReadProductOffers(context.Background(), emag.ProductOfferFilter{ID: id})
	if err != nil || len(got) != 1 {
		t.Fatalf("read offer %d: %v, %d offers", id, err, len(got))
	}
	return got[0]
}

func stockOf(o emag.ProductOffer) int {
	for _, w := range o.Stock {
		if w.WarehouseID == 1 {
			return w.Value
		}
	}
	return -1
}

func ptr[T any](v T) *T { return &v }

// summary counts the entries of kind per state.
func summary(t testing.TB, db *sqldb.DB, kind string) map[sqldb.OutboxState]int {
	t.Helper()
	s, err := db.OutboxSummary(context.Background(), sqldb.OutboxFilter{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// offers returns the stored offers of main.
func offers(t testing.TB, db *sqldb.DB) []magflow.Offer {
	t.Helper()
	var out []magflow.Offer
	for o, err := range db.ExportOffers(context.Background(), "main") {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}
