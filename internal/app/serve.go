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
	"github.com/magflow/magflow/internal/httpapi"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/web"
)

// APIOptions configure NewAPI.
type APIOptions struct {
	Version    string
	RateLimits httpapi.RateLimits
}

// NewAPI builds the HTTP API over the App: its database, its engine (which
// reports each run it starts, so a sync start answers with run ids, and
// which the API cancels per run) and its metrics.
func NewAPI(a *App, opts APIOptions) (*httpapi.Server, error) {
	cfg, logger := a.Config, a.Logger
	if a.Engine == nil {
		return nil, errors.New("app: NewAPI needs an assembled App (app.New or app.Assemble)")
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
	return httpapi.New(httpapi.Options{
		DB: a.DB, Engine: a.Engine, Issuer: issuer, Metrics: a.Metrics, Logger: logger, CORSOrigins: cfg.CORSOrigins,
		DefaultSchedule: sqldb.Schedule{
			Enabled:               cfg.EnableScheduledSync,
			IntervalMinutes:       int(cfg.SyncInterval / time.Minute),
			OrdersIntervalMinutes: int(cfg.OrdersSyncInterval / time.Minute),
		},
		RateLimits: opts.RateLimits,
		Version:    opts.Version,
		UI:         web.Handler(web.Options{Version: opts.Version}),
		TwoWay:     a.TwoWay,
		Accounts:   accountInfos(cfg),
		ReadModel:  true,
	})
}

// accountInfos is what the API reports of each account to its users: the
// platform and rate limits, never a credential.
func accountInfos(cfg *config.Config) []httpapi.AccountInfo {
	out := make([]httpapi.AccountInfo, len(cfg.Accounts))
	for i, ac := range cfg.Accounts {
		out[i] = httpapi.AccountInfo{Name: ac.Name, Platform: ac.Platform.Code, Currency: ac.Platform.Currency,
			OrdersRPS: ac.OrdersRPS, OtherRPS: ac.OtherRPS, BaseURLIsOfficial: ac.Official()}
	}
	return out
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
	// NoJobs serves the API without the River workers and the schedule
	// (which magflow serve runs in-process by default).
	NoJobs bool
	// Jobs tune the River workers and the schedule.
	Jobs JobsOptions
}

// Serve runs the HTTP API and the River workers (the schedule, the reaper
// of dead runs) until ctx ends (SIGTERM), then stops accepting requests,
// lets those in flight finish, cancels the syncs the API and the workers
// started (they record themselves cancelled and resume from their
// checkpoint next time) and returns.
func Serve(ctx context.Context, a *App, opts ServeOptions) (err error) {
	api, err := NewAPI(a, opts.APIOptions)
	if err != nil {
		return err
	}
	if !opts.NoJobs {
		svc, err := NewJobs(a, opts.Jobs)
		if err != nil {
			return err
		}
		if err := svc.Start(ctx); err != nil {
			return fmt.Errorf("start the workers: %w", err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), cmp.Or(opts.ShutdownTimeout, 30*time.Second))
			defer cancel()
			err = errors.Join(err, svc.Stop(sctx))
		}()
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
