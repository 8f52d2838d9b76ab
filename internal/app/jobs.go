package app

import (
	"github.com/magflow/magflow/internal/jobs"
)

// JobsOptions configure NewJobs. Zero values get the jobs package's
// defaults.
type JobsOptions struct {
	jobs.Options
}

// NewJobs builds the River job service over the App's database and engine
// (so scheduled runs, API runs and CLI runs share the accounts' limiters).
// magflow serve and magflow worker Start it after the database is open and
// Stop it on SIGTERM.
func NewJobs(a *App, opts JobsOptions) (*jobs.Service, error) {
	o := opts.Options
	o.DB, o.Engine = a.DB, a.Engine
	if o.TwoWay == nil && a.TwoWay != nil {
		o.TwoWay = a.TwoWay
	}
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
