package app

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/magflow/magflow/internal/config"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/jobs"
	"github.com/magflow/magflow/internal/metrics"
	"github.com/magflow/magflow/internal/ratelimit"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/syncer"
)

// JobsOptions configure NewJobs. Zero values get the jobs package's
// defaults.
type JobsOptions struct {
	jobs.Options
	// Limiters, when set, are the accounts' rate limiters to use (so that
	// the API's engine and the jobs' draw on one budget per account within
	// the process); NewLimiters builds them otherwise.
	Limiters map[string]ratelimit.Waiter
	// RateScale speeds every account's limits up by this factor (a sandbox
	// started with the same --rate-scale); 0 or 1 means eMAG's.
	RateScale float64
	// Hooks receive every account's eMAG request events besides the run
	// counters (the Prometheus metrics in magflow serve).
	Hooks emag.Hooks
	// HTTPClient is the eMAG clients' transport (one with a connection pool
	// per host when nil).
	HTTPClient *http.Client
	// Heartbeat is how often a running run renews its lease (the engine's
	// 30s default); keep it well under the database's Lease.
	Heartbeat time.Duration
}

// NewLimiters builds one rate limiter per configured account. On
// PostgreSQL each is a ratelimit.Shared drawing on the database's ledger
// (sqldb.RateStore), so that every MagFlow process together keeps each
// account within eMAG's limits; on SQLite (one process) a ratelimit.Local.
// scale > 1 speeds the limits up for a sandbox and is refused for accounts
// that talk to eMAG itself.
func NewLimiters(a *App, scale float64) (map[string]ratelimit.Waiter, error) {
	var store ratelimit.Store
	if a.DB.Dialect() == sqldb.Postgres {
		rs, err := a.DB.RateStore()
		if err != nil {
			return nil, err
		}
		store = rs
	}
	out := map[string]ratelimit.Waiter{}
	for _, ac := range a.Config.Accounts {
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

// NewJobs builds the River job service over a's database: its own eMAG
// clients, paced by the shared limiters on PostgreSQL, and an engine whose
// runs are recorded as started by the schedule (or a takeover). magflow
// serve and magflow worker Start it after the database is open and Stop it
// on SIGTERM.
func NewJobs(a *App, opts JobsOptions) (*jobs.Service, error) {
	limiters := opts.Limiters
	if limiters == nil {
		var err error
		if limiters, err = NewLimiters(a, opts.RateScale); err != nil {
			return nil, err
		}
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
		}}
	}
	var accounts []syncer.Account
	for _, ac := range a.Config.Accounts {
		lim, ok := limiters[ac.Name]
		if !ok {
			return nil, fmt.Errorf("account %s: no rate limiter", ac.Name)
		}
		st := &syncer.RequestStats{}
		c, err := newJobClient(ac, a, hc, lim, metrics.CombineHooks(st.Hooks(), opts.Hooks))
		if err != nil {
			return nil, err
		}
		accounts = append(accounts, syncer.Account{Name: ac.Name, Source: c, Stats: st, MaxPages: ac.MaxPages})
	}
	engine, err := syncer.New(syncer.Options{
		Store:          syncer.NotifyStarts(a.DB),
		Accounts:       accounts,
		Logger:         a.Logger,
		OrdersBackfill: a.Config.OrdersBackfill,
		Heartbeat:      opts.Heartbeat,
	})
	if err != nil {
		return nil, err
	}
	o := opts.Options
	o.DB, o.Engine = a.DB, engine
	if o.Logger == nil {
		o.Logger = a.Logger
	}
	if o.Schedule == (jobs.Defaults{}) {
		o.Schedule = jobs.Defaults{
			Enabled:         a.Config.EnableScheduledSync,
			CatalogInterval: a.Config.SyncInterval,
			OrdersInterval:  a.Config.OrdersSyncInterval,
		}
	}
	return jobs.New(o)
}

// newJobClient is one account's eMAG client paced by lim.
func newJobClient(ac config.Account, a *App, hc *http.Client, lim ratelimit.Waiter, hooks emag.Hooks) (*emag.Client, error) {
	loc, err := time.LoadLocation(ac.Platform.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	c, err := emag.New(emag.Options{
		Account: ac.Name, BaseURL: ac.BaseURL, Username: ac.Username, Password: ac.Password.Reveal(), HTTPClient: hc,
		Limiter: lim, Logger: a.Logger.With("account", ac.Name), Location: loc, Hooks: hooks,
	})
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", ac.Name, err)
	}
	return c, nil
}
