package jobs

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
)

// Defaults is the schedule in force until POST .../sync/scheduled stores
// one: the configuration's EMAG_ENABLE_SCHEDULED_SYNC,
// EMAG_SYNC_INTERVAL_MINUTES and EMAG_ORDERS_SYNC_INTERVAL_MINUTES.
type Defaults struct {
	Enabled bool
	// CatalogInterval is the period of catalogue (products and offers) syncs
	// (60 minutes when zero).
	CatalogInterval time.Duration
	// OrdersInterval is the period of order syncs (5 minutes when zero).
	OrdersInterval time.Duration
}

// Plan is the schedule in force: which streams of which accounts are synced
// how often. The zero Plan schedules nothing.
type Plan struct {
	Entries []PlanEntry
}

// PlanEntry is one periodic sync.
type PlanEntry struct {
	Account  string
	Stream   magflow.Stream
	Interval time.Duration
}

// Key names the entry: "account/stream".
func (e PlanEntry) Key() string { return e.Account + "/" + string(e.Stream) }

// MakePlan turns a schedule into periodic syncs of accounts: one catalogue
// sync per account (the products stream, whose scan feeds the offers table
// too; the offers stream when only offers are asked for) and one orders
// sync per account. Streams empty means all of them.
func MakePlan(accounts []string, enabled bool, catalog, orders time.Duration, streams []magflow.Stream) Plan {
	if !enabled {
		return Plan{}
	}
	want := func(s magflow.Stream) bool { return len(streams) == 0 || slices.Contains(streams, s) }
	var p Plan
	for _, a := range accounts {
		switch {
		case want(magflow.StreamProducts):
			p.Entries = append(p.Entries, PlanEntry{Account: a, Stream: magflow.StreamProducts, Interval: catalog})
		case want(magflow.StreamOffers):
			p.Entries = append(p.Entries, PlanEntry{Account: a, Stream: magflow.StreamOffers, Interval: catalog})
		}
		if want(magflow.StreamOrders) {
			p.Entries = append(p.Entries, PlanEntry{Account: a, Stream: magflow.StreamOrders, Interval: orders})
		}
	}
	return p
}

// Equal reports whether p and q schedule the same syncs.
func (p Plan) Equal(q Plan) bool { return slices.Equal(p.Entries, q.Entries) }

// loadPlan reads the stored schedule (what the API saved) and falls back on
// the defaults when none was stored.
func loadPlan(ctx context.Context, db *sqldb.DB, accounts []string, d Defaults) (Plan, error) {
	s, err := db.GetSchedule(ctx)
	switch {
	case magflow.ErrorCode(err) == magflow.ENotFound:
		return MakePlan(accounts, d.Enabled, cmp.Or(d.CatalogInterval, time.Hour), cmp.Or(d.OrdersInterval, 5*time.Minute), nil), nil
	case err != nil:
		return Plan{}, err
	}
	return MakePlan(accounts, s.Enabled, time.Duration(s.IntervalMinutes)*time.Minute, time.Duration(s.OrdersIntervalMinutes)*time.Minute, s.Streams), nil
}

// refresher re-reads the plan every period and applies it when it changed.
type refresher struct {
	load   func(context.Context) (Plan, error)
	apply  func(Plan)
	every  time.Duration
	logger *slog.Logger

	current Plan
	loaded  bool
}

// refresh loads the plan once and applies it if it changed.
func (r *refresher) refresh(ctx context.Context) {
	p, err := r.load(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.logger.Warn("read the sync schedule; keeping the current one", "err", err)
		}
		return
	}
	if r.loaded && p.Equal(r.current) {
		return
	}
	r.current, r.loaded = p, true
	r.apply(p)
}

// run refreshes every period until ctx ends.
func (r *refresher) run(ctx context.Context) {
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.refresh(ctx)
		}
	}
}
