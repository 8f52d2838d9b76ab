// Package app is MagFlow's composition root: the one place that knows the
// concrete types. It opens the database and builds, once per process, one
// rate limiter and one eMAG client per account and the sync engine over
// them; the CLI's sync, the REST API and the River workers all drive that
// same engine.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/magflow/magflow/internal/config"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/metrics"
	"github.com/magflow/magflow/internal/ratelimit"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/syncer"
	"github.com/magflow/magflow/internal/twoway"
)

// Options configure an App.
type Options struct {
	Config *config.Config
	Logger *slog.Logger
	// NoMigrate skips applying migrations on start.
	NoMigrate bool
	// Observer receives live sync progress (the CLI's progress bars).
	Observer syncer.Observer
	// HTTPClient is the eMAG clients' transport (a pooled one when nil).
	HTTPClient *http.Client
	// Metrics receives every account's eMAG request events and the run
	// outcomes (a new private registry when nil).
	Metrics *metrics.Metrics
	// RateScale speeds every account's limits up by this factor, for a
	// sandbox started with the same --rate-scale; 0 or 1 means eMAG's.
	RateScale float64
	// Heartbeat is how often a running run renews its lease (the engine's
	// default when zero); keep it well under the database's Lease.
	Heartbeat time.Duration
	// Retry overrides the eMAG clients' retry policy (their defaults when zero).
	Retry emag.RetryPolicy
}

// App is a running MagFlow: database, limiters, eMAG clients, sync engine.
type App struct {
	Config   *config.Config
	Logger   *slog.Logger
	DB       *sqldb.DB
	Metrics  *metrics.Metrics
	Limiters map[string]ratelimit.Waiter
	Clients  map[string]*emag.Client
	Stats    map[string]*syncer.RequestStats
	// Engine reads eMAG through syncer.SpaceRequests (the API's
	// delay_between_requests).
	Engine *syncer.Engine
	// TwoWay writes to eMAG: the outbox drainers, order callbacks and
	// reconciliation.
	TwoWay *twoway.Service
}

// New opens the database (migrating it unless told not to) and assembles
// the App. Close releases it.
func New(ctx context.Context, opts Options) (*App, error) {
	db, err := OpenDB(ctx, opts.Config, cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)), !opts.NoMigrate)
	if err != nil {
		return nil, err
	}
	a, err := Assemble(db, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// Assemble builds the App over an open database: on PostgreSQL the
// accounts' limiters share one budget per account with every other MagFlow
// process (ratelimit.Shared over the database's ledger); on SQLite, one
// process, they are local.
func Assemble(db *sqldb.DB, opts Options) (*App, error) {
	cfg := opts.Config
	a := &App{
		Config:  cfg,
		Logger:  cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)),
		DB:      db,
		Metrics: opts.Metrics,
	}
	if a.Metrics == nil {
		a.Metrics = metrics.New()
	}
	var store ratelimit.Store
	if db.Dialect() == sqldb.Postgres {
		rs, err := db.RateStore()
		if err != nil {
			return nil, err
		}
		store = rs
	}
	var err error
	a.Limiters, err = newLimiters(cfg, store, opts.RateScale)
	if err != nil {
		return nil, err
	}
	a.Clients, a.Stats, err = newClients(cfg, a.Logger, a.Limiters, ClientOptions{HTTPClient: opts.HTTPClient, Retry: opts.Retry, Hooks: a.Metrics.EMAGHooks()})
	if err != nil {
		return nil, err
	}
	if a.TwoWay, err = newTwoWay(db, cfg, a.Clients, a.Logger); err != nil {
		return nil, err
	}
	var accounts []syncer.Account
	for _, ac := range cfg.Accounts {
		accounts = append(accounts, syncer.Account{
			Name:           ac.Name,
			Source:         syncer.SpaceRequests(a.Clients[ac.Name]),
			Stats:          a.Stats[ac.Name],
			MaxPages:       ac.MaxPages,
			PagesPerSecond: pagesPerSecond(ac, opts.RateScale),
		})
	}
	a.Engine, err = syncer.New(syncer.Options{
		Store:    db,
		Accounts: accounts,
		Logger:   a.Logger,
		Observer: opts.Observer,
		OnFinish: func(r syncer.RunResult) {
			a.Metrics.ObserveRun(r.Account, r.Stream, r.Status, r.Counters, r.Duration)
		},
		OrdersBackfill: cfg.OrdersBackfill,
		Heartbeat:      opts.Heartbeat,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// OpenDB opens the configured database and, when migrate is set, applies
// pending migrations.
func OpenDB(ctx context.Context, cfg *config.Config, logger *slog.Logger, migrate bool) (*sqldb.DB, error) {
	db, err := sqldb.Open(ctx, cfg.DatabaseURL, logger)
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := db.Migrate(ctx, "up"); err != nil {
			db.Close()
			return nil, fmt.Errorf("migrate the database: %w", err)
		}
	}
	return db, nil
}

// Close closes the database.
func (a *App) Close() error {
	if a.DB != nil {
		return a.DB.Close()
	}
	return nil
}

// ClientOptions tune the eMAG clients.
type ClientOptions struct {
	// HTTPClient is the transport (a pooled one when nil).
	HTTPClient *http.Client
	// Retry overrides the client's retry policy (its defaults when zero).
	Retry emag.RetryPolicy
	// Hooks receive every request event besides the run counters.
	Hooks emag.Hooks
}

// NewClients builds one eMAG client per configured account, each paced by
// its own local rate limiter, without a database: `sync --mode test` uses it.
func NewClients(cfg *config.Config, logger *slog.Logger, co ClientOptions) (map[string]*emag.Client, map[string]*syncer.RequestStats, error) {
	limiters, err := newLimiters(cfg, nil, 1)
	if err != nil {
		return nil, nil, err
	}
	return newClients(cfg, cmp.Or(logger, slog.New(slog.DiscardHandler)), limiters, co)
}

// pagesPerSecond is how many catalogue pages a second account ac's limiter
// allows over time: the slowest window of its other bucket (scaled as
// newLimiters scales it: 3 a second but 180 a minute is 3 a second), and
// its minimum spacing.
func pagesPerSecond(ac config.Account, scale float64) float64 {
	limits := ratelimit.FromRPS(ac.OrdersRPS, ac.OtherRPS)
	if scale > 0 && scale != 1 && !math.IsNaN(scale) {
		limits = limits.Scale(scale)
	}
	pps := math.Inf(1)
	for _, w := range limits[ratelimit.Other] {
		pps = min(pps, float64(w.N)/w.Per.Seconds())
	}
	if ac.Delay > 0 {
		pps = min(pps, 1/ac.Delay.Seconds())
	}
	if math.IsInf(pps, 1) {
		return 0
	}
	return pps
}

// newLimiters builds one limiter per account: ratelimit.Shared over store
// when there is one, ratelimit.Local otherwise. scale > 1 is refused for
// accounts that talk to eMAG itself.
func newLimiters(cfg *config.Config, store ratelimit.Store, scale float64) (map[string]ratelimit.Waiter, error) {
	out := map[string]ratelimit.Waiter{}
	for _, ac := range cfg.Accounts {
		limits := ratelimit.FromRPS(ac.OrdersRPS, ac.OtherRPS)
		if scale > 0 && scale != 1 && !math.IsNaN(scale) {
			if ac.Official() && scale > 1 {
				return nil, fmt.Errorf("account %s calls eMAG itself (%s): a rate scale above 1 is for the sandbox only", ac.Name, ac.BaseURL)
			}
			limits = limits.Scale(scale)
		}
		opts := ratelimit.Options{Limits: limits, MinSpacing: ac.Delay}
		var (
			w   ratelimit.Waiter
			err error
		)
		if store != nil {
			w, err = ratelimit.NewShared(ac.Name, store, opts)
		} else {
			w, err = ratelimit.NewLocal(opts)
		}
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", ac.Name, err)
		}
		out[ac.Name] = w
	}
	return out, nil
}

// newClients builds one client per account, paced by its limiter, counted
// by its own RequestStats and reporting to co.Hooks.
func newClients(cfg *config.Config, logger *slog.Logger, limiters map[string]ratelimit.Waiter, co ClientOptions) (map[string]*emag.Client, map[string]*syncer.RequestStats, error) {
	hc := co.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		}}
	}
	clients := map[string]*emag.Client{}
	stats := map[string]*syncer.RequestStats{}
	for _, ac := range cfg.Accounts {
		st := &syncer.RequestStats{}
		loc, err := time.LoadLocation(ac.Platform.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		c, err := emag.New(emag.Options{
			Account:    ac.Name,
			BaseURL:    ac.BaseURL,
			Username:   ac.Username,
			Password:   ac.Password.Reveal(),
			HTTPClient: hc,
			Limiter:    limiters[ac.Name],
			Logger:     logger.With("account", ac.Name),
			Location:   loc,
			Hooks:      metrics.CombineHooks(st.Hooks(), co.Hooks),
			Retry:      co.Retry,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("account %s: %w", ac.Name, err)
		}
		clients[ac.Name] = c
		stats[ac.Name] = st
	}
	return clients, stats, nil
}

// CheckAccount makes one cheap authenticated call (a product count) to tell
// whether the account's credentials, IP allow-list and host work.
func CheckAccount(ctx context.Context, c *emag.Client) error {
	_, err := c.CountProductOffers(ctx, emag.ProductOfferFilter{ItemsPerPage: 1})
	if err != nil {
		var ee *emag.Error
		if errors.As(err, &ee) {
			return err
		}
		return fmt.Errorf("count products: %w", err)
	}
	return nil
}
