package app

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/magflow/magflow/internal/auth"
	"github.com/magflow/magflow/internal/config"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/httpapi"
	"github.com/magflow/magflow/internal/metrics"
	"github.com/magflow/magflow/internal/ratelimit"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/syncer"
	"github.com/magflow/magflow/internal/web"
)

// APIOptions configure NewAPI.
type APIOptions struct {
	Version    string
	RateLimits httpapi.RateLimits
	// HTTPClient is the eMAG clients' transport (a default one when nil).
	HTTPClient *http.Client
	// Metrics receives the collectors (a new set when nil).
	Metrics *metrics.Metrics
}

// NewAPI builds the HTTP API over a's database: eMAG clients whose hooks
// feed the Prometheus metrics as well as the run counters, and an engine
// whose store reports each run it starts (so a sync start answers with run
// ids) and which the API cancels per run.
func NewAPI(a *App, opts APIOptions) (*httpapi.Server, error) {
	cfg, logger := a.Config, a.Logger
	m := opts.Metrics
	if m == nil {
		m = metrics.New()
	}
	secret := []byte(cfg.JWTSecret.Reveal())
	if len(secret) == 0 {
		if cfg.Env == config.EnvProduction {
			return nil, errors.New("MAGFLOW_JWT_SECRET is required in production")
		}
		secret = make([]byte, 32)
		rand.Read(secret)
		logger.Warn("MAGFLOW_JWT_SECRET is not set: using a random secret, so tokens end with this process; set it (openssl rand -hex 32) to keep sessions across restarts")
	}
	issuer, err := auth.NewIssuer(auth.IssuerOptions{Secret: secret})
	if err != nil {
		return nil, err
	}
	var accounts []syncer.Account
	for _, ac := range cfg.Accounts {
		st := &syncer.RequestStats{}
		c, err := newClient(ac, logger, opts.HTTPClient, metrics.CombineHooks(st.Hooks(), m.EMAGHooks()))
		if err != nil {
			return nil, err
		}
		accounts = append(accounts, syncer.Account{Name: ac.Name, Source: syncer.SpaceRequests(c), Stats: st, MaxPages: ac.MaxPages})
	}
	engine, err := syncer.New(syncer.Options{
		Store:          syncer.NotifyStarts(a.DB),
		Accounts:       accounts,
		Logger:         logger,
		OrdersBackfill: cfg.OrdersBackfill,
	})
	if err != nil {
		return nil, err
	}
	return httpapi.New(httpapi.Options{
		DB: a.DB, Engine: engine, Issuer: issuer, Metrics: m, Logger: logger, CORSOrigins: cfg.CORSOrigins,
		DefaultSchedule: sqldb.Schedule{
			Enabled:               cfg.EnableScheduledSync,
			IntervalMinutes:       int(cfg.SyncInterval / time.Minute),
			OrdersIntervalMinutes: int(cfg.OrdersSyncInterval / time.Minute),
		},
		RateLimits: opts.RateLimits,
		Version:    opts.Version,
		UI:         web.Handler(web.Options{Accounts: webAccounts(cfg), Version: opts.Version}),
	})
}

// webAccounts is what the dashboard shows of each account beside the API's
// figures: its platform and rate limits, never a credential.
func webAccounts(cfg *config.Config) []web.Account {
	out := make([]web.Account, len(cfg.Accounts))
	for i, ac := range cfg.Accounts {
		out[i] = web.Account{Name: ac.Name, Platform: ac.Platform.Code, Currency: ac.Platform.Currency, OrdersRPS: ac.OrdersRPS, OtherRPS: ac.OtherRPS}
	}
	return out
}

// newClient is NewClients for one account with the given hooks.
func newClient(ac config.Account, logger *slog.Logger, hc *http.Client, hooks emag.Hooks) (*emag.Client, error) {
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		}}
	}
	limiter, err := ratelimit.NewLocal(ratelimit.Options{Limits: ratelimit.FromRPS(ac.OrdersRPS, ac.OtherRPS), MinSpacing: ac.Delay})
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", ac.Name, err)
	}
	loc, err := time.LoadLocation(ac.Platform.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	c, err := emag.New(emag.Options{
		Account: ac.Name, BaseURL: ac.BaseURL, Username: ac.Username, Password: ac.Password.Reveal(), HTTPClient: hc,
		Limiter: limiter, Logger: logger.With("account", ac.Name), Location: loc, Hooks: hooks,
	})
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", ac.Name, err)
	}
	return c, nil
}

// ServeOptions configure Serve.
type ServeOptions struct {
	APIOptions
	// Listener, when set, is served instead of listening on
	// Config.HTTPAddr (tests pass a loopback listener).
	Listener net.Listener
	// Ready is called with the address once the server listens.
	Ready func(addr string)
	// ShutdownTimeout bounds the graceful shutdown (default 30s).
	ShutdownTimeout time.Duration
}

// Serve runs the HTTP API until ctx ends (SIGTERM), then stops accepting
// requests, lets those in flight finish, cancels the syncs the API started
// (they record themselves cancelled and resume from their checkpoint next
// time) and returns.
func Serve(ctx context.Context, a *App, opts ServeOptions) error {
	api, err := NewAPI(a, opts.APIOptions)
	if err != nil {
		return err
	}
	ln := opts.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", a.Config.HTTPAddr)
		if err != nil {
			return fmt.Errorf("listen on MAGFLOW_HTTP_ADDR %s: %w", a.Config.HTTPAddr, err)
		}
	}
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second, // streams lift it for themselves
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.Logger.Info("serving the API", "addr", ln.Addr().String(), "database", a.DB.String(), "docs", "http://"+ln.Addr().String()+"/docs")
	if opts.Ready != nil {
		opts.Ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Logger.Info("shutting down the API")
	sctx, cancel := context.WithTimeout(context.Background(), cmp.Or(opts.ShutdownTimeout, 30*time.Second))
	defer cancel()
	// Syncs first: progress streams end when the API's background context
	// does, so Shutdown does not wait for them.
	errSyncs := api.Shutdown(sctx)
	errSrv := srv.Shutdown(sctx)
	if errors.Is(errSrv, context.DeadlineExceeded) {
		srv.Close()
	}
	<-errc
	return errors.Join(errSyncs, errSrv)
}
