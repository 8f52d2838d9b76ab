// Package app is MagFlow's composition root: the one place that knows the
// concrete types. It opens the database, builds one eMAG client and one rate
// limiter per account, and wires the sync engine; the CLI commands call it.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/magflow/magflow/internal/config"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/ratelimit"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/syncer"
)

// Options configure an App.
type Options struct {
	Config *config.Config
	Logger *slog.Logger
	// NoMigrate skips applying migrations on start.
	NoMigrate bool
	// Observer receives live sync progress (the CLI's progress bars).
	Observer syncer.Observer
	// HTTPClient is the eMAG clients' transport (a default one when nil).
	HTTPClient *http.Client
}

// App is a running MagFlow: database, eMAG clients, sync engine.
type App struct {
	Config  *config.Config
	Logger  *slog.Logger
	DB      *sqldb.DB
	Clients map[string]*emag.Client
	Stats   map[string]*syncer.RequestStats
	Engine  *syncer.Engine
}

// New opens the database (migrating it unless told not to) and wires the
// clients and the engine. Close releases everything.
func New(ctx context.Context, opts Options) (*App, error) {
	cfg := opts.Config
	logger := cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	a := &App{Config: cfg, Logger: logger}
	clients, stats, err := NewClients(cfg, logger, ClientOptions{HTTPClient: opts.HTTPClient})
	if err != nil {
		return nil, err
	}
	a.Clients, a.Stats = clients, stats

	db, err := OpenDB(ctx, cfg, logger, !opts.NoMigrate)
	if err != nil {
		return nil, err
	}
	a.DB = db
	var accounts []syncer.Account
	for _, ac := range cfg.Accounts {
		accounts = append(accounts, syncer.Account{
			Name:     ac.Name,
			Source:   clients[ac.Name],
			Stats:    stats[ac.Name],
			MaxPages: ac.MaxPages,
		})
	}
	a.Engine, err = syncer.New(syncer.Options{
		Store:          db,
		Accounts:       accounts,
		Logger:         logger,
		Observer:       opts.Observer,
		OrdersBackfill: cfg.OrdersBackfill,
	})
	if err != nil {
		db.Close()
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

// ClientOptions tune the eMAG clients NewClients builds.
type ClientOptions struct {
	// HTTPClient is the transport (a default one when nil).
	HTTPClient *http.Client
	// Retry overrides the client's retry policy (its defaults when zero).
	Retry emag.RetryPolicy
}

// NewClients builds one eMAG client per configured account, each paced by
// its own rate limiter and counted by its own RequestStats.
func NewClients(cfg *config.Config, logger *slog.Logger, co ClientOptions) (map[string]*emag.Client, map[string]*syncer.RequestStats, error) {
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
		limiter, err := ratelimit.NewLocal(ratelimit.Options{
			Limits:     ratelimit.FromRPS(ac.OrdersRPS, ac.OtherRPS),
			MinSpacing: ac.Delay,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("account %s: %w", ac.Name, err)
		}
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
			Limiter:    limiter,
			Logger:     logger.With("account", ac.Name),
			Location:   loc,
			Hooks:      st.Hooks(),
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
