package sandbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Clock tells the sandbox what time it is. Order arrival, status changes,
// date filters and the rate-limit windows all read it, so a test can drive
// time with a fake clock (or run under testing/synctest with the default).
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// AccountOptions describes one simulated seller account.
type AccountOptions struct {
	// Name identifies the account (main, fbe, ...). Required and unique.
	Name string
	// Username and Password are the Basic-auth credentials; generated from
	// the seed when empty. Accounts are told apart by their credentials.
	Username string
	Password string
	// Products is the catalogue size (default 5000; -1 for none).
	Products int
	// Orders is the number of orders over the last 90 days (default 2000;
	// -1 for none).
	Orders int
	// FBEShare is the fraction of orders of type 2 (fulfilled by eMAG).
	// Default: 0.8 for an account named "fbe", 0.1 otherwise.
	FBEShare float64
	// AllowedIPs, when not empty, is the account's IP allow-list; calls
	// from other addresses get "ERROR: Invalid vendor ip [ip]".
	AllowedIPs []string
	// CallbackURL, when set, overrides Options.CallbackURL for this account.
	CallbackURL string
}

// ChurnOptions makes the catalogue change while it is being scanned: after
// every Every-th product_offer/read of an account, Inserts new products are
// inserted at random positions and Deletes random products are removed, so
// later pages shift. Zero Inserts and Deletes switch churn off.
type ChurnOptions struct {
	Every   int // default 1
	Inserts int
	Deletes int
}

// Options configures a sandbox. The zero value is usable: two accounts
// "main" and "fbe" of 5000 products on a random loopback port.
type Options struct {
	// Addr is the listen address (default "127.0.0.1:0").
	Addr string
	// Seed makes every generated value, and the random faults, deterministic.
	Seed int64
	// Accounts lists the simulated accounts (default "main" and "fbe").
	Accounts []AccountOptions
	// Overlap is the fraction of each catalogue whose part numbers also
	// appear in the other accounts, with different prices and stock
	// (default 0.3; negative for none).
	Overlap float64
	// OrderRate is how many new orders per minute arrive in each account
	// while the sandbox runs (0: none).
	OrderRate float64
	// Clock drives time (default: the real clock).
	Clock Clock
	// RateScale multiplies every rate limit (default 1). A limit never drops
	// below 1 request per window.
	RateScale float64
	// NoRateLimit removes the rate limits (statistics are still kept).
	NoRateLimit bool
	// Faults injects failures.
	Faults FaultOptions
	// Churn changes the catalogue during scans.
	Churn ChurnOptions
	// CallbackURL receives GET ?order_id=N for every new (status 1, type 3)
	// order, every CallbackInterval, until the order is acknowledged.
	CallbackURL string
	// CallbackInterval is the period of the callback calls (default 1 minute).
	CallbackInterval time.Duration
	// CallbackClient sends the callbacks (default: a client with a 10 s timeout).
	CallbackClient *http.Client
	// Logger receives one line per request at debug level and callback
	// failures at warn level (default: discard). Passwords are never logged.
	Logger *slog.Logger
}

// AccountInfo is what a seller puts in .env to point MagFlow at the sandbox.
type AccountInfo struct {
	Name     string
	BaseURL  string // URL()+"/api-3"; every account shares it and is told apart by credentials
	Username string
	Password string
}

// Sandbox is a running simulator.
type Sandbox struct {
	opts     Options
	clock    Clock
	log      *slog.Logger
	started  time.Time
	zone     *time.Location
	accounts []*account
	byUser   map[string]*account
	catalog  *catalog
	faults   *faultState
	limits   map[bucket]limitSet
	handler  http.Handler

	// churnOpts is Options.Churn, replaceable while running (SetChurn).
	churnOpts atomic.Pointer[ChurnOptions]

	mu     sync.Mutex
	ln     net.Listener
	srv    *http.Server
	url    string
	bg     context.Context // ends on Close or when the caller's context ends
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed bool

	unauthorized counter
}

// New builds a sandbox without listening: serve it with Handler. Its
// background work (order callbacks) stops when ctx ends or on Close.
func New(ctx context.Context, opts Options) (*Sandbox, error) {
	opts.Addr = cmp.Or(opts.Addr, "127.0.0.1:0")
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.RateScale == 0 {
		opts.RateScale = 1
	}
	if opts.RateScale < 0 {
		return nil, errors.New("sandbox options: rate scale must be positive")
	}
	if opts.Overlap == 0 {
		opts.Overlap = 0.3
	}
	opts.Overlap = min(max(opts.Overlap, 0), 1)
	if opts.OrderRate < 0 {
		return nil, errors.New("sandbox options: order rate must not be negative")
	}
	opts.CallbackInterval = cmp.Or(opts.CallbackInterval, time.Minute)
	if opts.CallbackClient == nil {
		opts.CallbackClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Churn.Every <= 0 {
		opts.Churn.Every = 1
	}
	if len(opts.Accounts) == 0 {
		opts.Accounts = []AccountOptions{{Name: "main"}, {Name: "fbe"}}
	}
	if err := opts.Faults.validate(); err != nil {
		return nil, fmt.Errorf("sandbox options: %w", err)
	}
	s := &Sandbox{
		opts:    opts,
		clock:   opts.Clock,
		log:     opts.Logger,
		zone:    bucharest(),
		byUser:  map[string]*account{},
		faults:  newFaultState(opts.Faults),
		limits:  scaledLimits(opts.RateScale),
		started: opts.Clock.Now(),
	}
	s.churnOpts.Store(&opts.Churn)
	seen := map[string]bool{}
	for i, ao := range opts.Accounts {
		if ao.Name == "" {
			return nil, fmt.Errorf("sandbox options: account %d has no name", i)
		}
		if seen[ao.Name] {
			return nil, fmt.Errorf("sandbox options: duplicate account %q", ao.Name)
		}
		seen[ao.Name] = true
		ao.Products = defaultCount(ao.Products, 5000)
		ao.Orders = defaultCount(ao.Orders, 2000)
		if ao.FBEShare == 0 {
			ao.FBEShare = 0.1
			if ao.Name == "fbe" {
				ao.FBEShare = 0.8
			}
		}
		ao.Username = cmp.Or(ao.Username, ao.Name+"@sandbox.magflow.test")
		ao.Password = cmp.Or(ao.Password, derivePassword(opts.Seed, ao.Name))
		if _, dup := s.byUser[ao.Username]; dup {
			return nil, fmt.Errorf("sandbox options: accounts %q share a username", ao.Name)
		}
		a := newAccount(s, i, ao)
		s.accounts = append(s.accounts, a)
		s.byUser[ao.Username] = a
	}
	s.generate()
	s.handler = http.HandlerFunc(s.serveHTTP)
	s.bg, s.cancel = context.WithCancel(ctx)
	if s.callbacksEnabled() {
		s.wg.Go(func() { s.callbackLoop(s.bg) })
	}
	return s, nil
}

// Start builds a sandbox and serves it on opts.Addr until Close or until
// ctx ends.
func Start(ctx context.Context, opts Options) (*Sandbox, error) {
	s, err := New(ctx, opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		s.cancel()
		return nil, fmt.Errorf("sandbox listen on %s: %w", s.opts.Addr, err)
	}
	s.mu.Lock()
	s.ln = ln
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.mu.Unlock()
	s.wg.Go(func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox server stopped", "err", err)
		}
	})
	s.wg.Go(func() {
		<-s.bg.Done()
		_ = s.Close()
	})
	return s, nil
}

// Close stops the server and the background work. It is safe to call twice.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.srv
	s.mu.Unlock()
	s.cancel()
	var err error
	if srv != nil {
		err = srv.Close()
	}
	return err
}

// Wait blocks until the server and the background goroutines have stopped
// (after Close or the end of Start's context).
func (s *Sandbox) Wait() { s.wg.Wait() }

// SetChurn replaces the churn options while the sandbox runs: tests switch
// catalogue churn on for one scan and off for the next. Zero Inserts and
// Deletes switch it off.
func (s *Sandbox) SetChurn(c ChurnOptions) {
	if c.Every <= 0 {
		c.Every = 1
	}
	s.churnOpts.Store(&c)
}

// URL is the server root, e.g. http://127.0.0.1:41234 ("" when built with New).
func (s *Sandbox) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Handler serves the whole API, for in-memory transports and tests.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// Accounts lists the simulated accounts with their base URL and credentials.
func (s *Sandbox) Accounts() []AccountInfo {
	base := s.URL() + "/api-3"
	out := make([]AccountInfo, 0, len(s.accounts))
	for _, a := range s.accounts {
		out = append(out, AccountInfo{Name: a.name, BaseURL: base, Username: a.username, Password: a.password})
	}
	return out
}

// ProductIDs returns the seller product ids an account lists right now, in
// read order: the ground truth a sync engine's scan is checked against.
func (s *Sandbox) ProductIDs(account string) []int64 {
	a := s.account(account)
	if a == nil {
		return nil
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	ids := make([]int64, len(a.products))
	for i, p := range a.products {
		ids[i] = p.ID
	}
	return ids
}

// OrderIDs returns every order id of an account (both types), ascending,
// after letting the clock's pending arrivals happen.
func (s *Sandbox) OrderIDs(account string) []int64 {
	a := s.account(account)
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.advance(s.clock.Now())
	ids := make([]int64, len(a.orders))
	for i, o := range a.orders {
		ids[i] = o.ID
	}
	return ids
}

func (s *Sandbox) account(name string) *account {
	for _, a := range s.accounts {
		if a.name == name {
			return a
		}
	}
	return nil
}

func defaultCount(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0
	}
	return n
}

func bucharest() *time.Location {
	if loc, err := time.LoadLocation("Europe/Bucharest"); err == nil {
		return loc
	}
	return time.FixedZone("EET", 2*3600)
}

func derivePassword(seed int64, name string) string {
	h := mix(uint64(seed), hashString(name), 0x9e3779b97f4a7c15)
	return fmt.Sprintf("sbx-%016x", h)
}

// clientIP is the caller's address without the port.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return strings.TrimSpace(r.RemoteAddr)
	}
	return host
}
