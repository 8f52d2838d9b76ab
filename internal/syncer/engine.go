package syncer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/sqldb"
)

// Store is what the engine needs from the database (internal/sqldb
// implements it on SQLite and PostgreSQL).
type Store interface {
	StartRun(ctx context.Context, account string, stream magflow.Stream, trigger string) (magflow.SyncRun, sqldb.Resume, error)
	Heartbeat(ctx context.Context, runID int64) error
	ApplyProductPages(ctx context.Context, runID int64, account string, pages []sqldb.ScanPage, next sqldb.Checkpoint) ([]sqldb.PageResult, error)
	MarkGone(ctx context.Context, account string, runID int64) (int, error)
	RecordHole(ctx context.Context, h magflow.Hole) error
	Holes(ctx context.Context, account string, stream magflow.Stream) ([]magflow.Hole, error)
	ResolveHole(ctx context.Context, account string, stream magflow.Stream, page int, runID int64) error
	ApplyOrders(ctx context.Context, runID int64, account string, orders []magflow.Order, next sqldb.Checkpoint) (sqldb.PageResult, error)
	UpdateProgress(ctx context.Context, runID int64, c magflow.RunCounters, rate float64, eta time.Duration) error
	FinishRun(ctx context.Context, runID int64, status magflow.RunStatus, c magflow.RunCounters, reason string, capped bool) error
	RebuildCanonical(ctx context.Context, accountOrder []string) (int, error)
}

// Source is one eMAG account as the engine reads it; *emag.Client satisfies
// it.
type Source interface {
	ReadProductOffers(ctx context.Context, f emag.ProductOfferFilter) ([]emag.ProductOffer, error)
	CountProductOffers(ctx context.Context, f emag.ProductOfferFilter) (emag.Count, error)
	ReadOrders(ctx context.Context, f emag.OrderFilter) ([]emag.Order, error)
}

// Account is one account the engine can sync.
type Account struct {
	Name   string
	Source Source
	// Stats counts this account's requests, retries and 429s (the client's
	// hooks feed it); runs report the difference over their lifetime.
	Stats *RequestStats
	// MaxPages caps a catalogue scan (0: no cap).
	MaxPages int
	// Concurrency is how many catalogue pages are in flight at once (the rate
	// limiter still paces them); 0 means 4.
	Concurrency int
	// PagesPerSecond is the most catalogue pages a second the account's rate
	// limit allows (0: no limit known). A scan's ETA never promises faster:
	// its first pages go in a burst, and an ETA from them alone would be far
	// too short.
	PagesPerSecond float64
}

// Mode selects the streams of a sync.
type Mode string

// Modes, as the CLI and API name them.
const (
	ModeProducts Mode = "products" // the catalogue scan, recorded as the products stream
	ModeOffers   Mode = "offers"   // the same scan, recorded as the offers stream
	ModeOrders   Mode = "orders"
	ModeBoth     Mode = "both" // products and offers: one catalogue scan
	ModeAll      Mode = "all"  // catalogue and orders
)

// ParseMode validates a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeProducts, ModeOffers, ModeOrders, ModeBoth, ModeAll:
		return m, nil
	}
	return "", &magflow.Error{Code: magflow.EInvalid, Field: "mode", Message: fmt.Sprintf("unknown mode %q: use products, offers, orders, both or all", s)}
}

// streams returns the runs a mode makes per account.
func (m Mode) streams() []magflow.Stream {
	switch m {
	case ModeProducts, ModeBoth:
		return []magflow.Stream{magflow.StreamProducts}
	case ModeOffers:
		return []magflow.Stream{magflow.StreamOffers}
	case ModeOrders:
		return []magflow.Stream{magflow.StreamOrders}
	}
	return []magflow.Stream{magflow.StreamProducts, magflow.StreamOrders}
}

// Request asks for one sync.
type Request struct {
	Accounts []string // in precedence order; empty means every account
	Mode     Mode
	Trigger  string // cli, api, schedule
	// MaxPages overrides every account's cap when not nil (0: no cap).
	MaxPages *int
	// OnStart, when set, hears of every run start (or refusal) as soon as
	// the store has answered, long before the run ends (the API answers a
	// sync start with the run ids). It is called from the run's goroutine
	// and must not block.
	OnStart func(StartEvent)
}

// Options configure an Engine.
type Options struct {
	Store    Store
	Accounts []Account // in precedence order (EMAG_ACCOUNTS)
	Logger   *slog.Logger
	// Observer receives live progress (the CLI's progress bars); optional.
	Observer Observer
	// OnFinish is called with every run's result once the store recorded
	// its end, before Sync returns (the metrics); optional.
	OnFinish func(RunResult)
	// OrdersBackfill is how far back the first order sync reaches.
	OrdersBackfill time.Duration
	// ItemsPerPage is the page size (eMAG's maximum, 100, by default).
	ItemsPerPage int
	// Heartbeat is how often a running run renews its lease (30s default).
	Heartbeat time.Duration
	// Now is the clock (time.Now by default).
	Now func() time.Time
}

// Engine runs syncs. It is safe for concurrent use; the store's single-flight
// rule keeps one run per account and stream.
type Engine struct {
	opts     Options
	accounts map[string]Account
	// rebuild serialises RebuildCanonical between the Sync calls of this
	// process (the API starts one per account); processes are kept apart
	// by the database.
	rebuild sync.Mutex
}

// New returns an engine.
func New(opts Options) (*Engine, error) {
	if opts.Store == nil {
		return nil, errors.New("syncer: Store is required")
	}
	if len(opts.Accounts) == 0 {
		return nil, errors.New("syncer: at least one account is required")
	}
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	opts.OrdersBackfill = cmp.Or(opts.OrdersBackfill, 90*24*time.Hour)
	opts.ItemsPerPage = cmp.Or(opts.ItemsPerPage, magflow.MaxItemsPerPage)
	opts.Heartbeat = cmp.Or(opts.Heartbeat, 30*time.Second)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	e := &Engine{opts: opts, accounts: map[string]Account{}}
	for _, a := range opts.Accounts {
		if a.Stats == nil {
			a.Stats = &RequestStats{}
		}
		a.Concurrency = cmp.Or(a.Concurrency, 4)
		e.accounts[a.Name] = a
	}
	return e, nil
}

// AccountNames returns the accounts in precedence order.
func (e *Engine) AccountNames() []string {
	names := make([]string, len(e.opts.Accounts))
	for i, a := range e.opts.Accounts {
		names[i] = a.Name
	}
	return names
}

// RunResult is the outcome of one run.
type RunResult struct {
	RunID    int64
	Account  string
	Stream   magflow.Stream
	Status   magflow.RunStatus
	Counters magflow.RunCounters
	Capped   bool
	Reason   string
	Started  time.Time
	Duration time.Duration
	// Err is set when the run could not start or stopped on an error.
	Err error `json:"-"`
}

// Report is the outcome of a sync: every run, and the de-duplication figures.
type Report struct {
	Runs []RunResult
	// Duplicates is how many SKUs more than one account lists.
	Duplicates int
	Started    time.Time
	Duration   time.Duration
}

// Status is the worst status of the report's runs: failed over partial over
// cancelled over completed.
func (r Report) Status() magflow.RunStatus {
	rank := map[magflow.RunStatus]int{magflow.RunCompleted: 0, magflow.RunCancelled: 1, magflow.RunPartial: 2, magflow.RunFailed: 3}
	worst := magflow.RunCompleted
	for _, run := range r.Runs {
		if rank[run.Status] > rank[worst] {
			worst = run.Status
		}
	}
	return worst
}

// Sync runs the requested streams for every requested account concurrently
// and waits for them. Failures of one account never stop the others; they
// are reported per run. The error is non-nil only for a malformed request.
func (e *Engine) Sync(ctx context.Context, req Request) (Report, error) {
	if req.Mode == "" {
		req.Mode = ModeAll
	}
	if _, err := ParseMode(string(req.Mode)); err != nil {
		return Report{}, err
	}
	names := req.Accounts
	if len(names) == 0 {
		names = e.AccountNames()
	}
	for _, n := range names {
		if _, ok := e.accounts[n]; !ok {
			return Report{}, &magflow.Error{Code: magflow.EInvalid, Field: "account",
				Message: fmt.Sprintf("unknown account %q: configured accounts are %v", n, e.AccountNames())}
		}
	}
	start := e.opts.Now()
	var (
		mu      sync.Mutex
		results []RunResult
		wg      sync.WaitGroup
	)
	for _, name := range names {
		acct := e.accounts[name]
		for _, stream := range req.Mode.streams() {
			wg.Go(func() {
				r := e.run(ctx, acct, stream, req)
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	order := map[string]int{}
	for i, n := range e.AccountNames() {
		order[n] = i
	}
	slices.SortFunc(results, func(a, b RunResult) int {
		return cmp.Or(cmp.Compare(order[a.Account], order[b.Account]), cmp.Compare(a.Stream, b.Stream))
	})
	rep := Report{Runs: results, Started: start}
	if req.Mode != ModeOrders {
		e.rebuild.Lock()
		dups, err := e.opts.Store.RebuildCanonical(context.WithoutCancel(ctx), e.AccountNames())
		e.rebuild.Unlock()
		if err != nil {
			e.opts.Logger.Error("rebuild the canonical SKU view", "err", err)
		}
		rep.Duplicates = dups
		for i := range rep.Runs {
			if rep.Runs[i].Stream != magflow.StreamOrders {
				rep.Runs[i].Counters.Duplicates = dups
			}
		}
	}
	rep.Duration = e.opts.Now().Sub(start)
	return rep, nil
}

// run executes one run of one stream for one account.
func (e *Engine) run(ctx context.Context, acct Account, stream magflow.Stream, req Request) RunResult {
	log := e.opts.Logger.With("account", acct.Name, "stream", stream)
	res := RunResult{Account: acct.Name, Stream: stream, Started: e.opts.Now()}
	run, resume, err := e.opts.Store.StartRun(ctx, acct.Name, stream, cmp.Or(req.Trigger, "cli"))
	if req.OnStart != nil {
		req.OnStart(StartEvent{Account: acct.Name, Stream: stream, Run: run, Resume: resume, Err: err})
	}
	if err != nil {
		res.Status, res.Err, res.Reason = magflow.RunFailed, err, err.Error()
		if magflow.ErrorCode(err) == magflow.EConflict {
			log.Warn("sync not started: already running", "err", err)
		} else {
			log.Error("sync not started", "err", err)
		}
		return res
	}
	res.RunID = run.ID
	log = log.With("run", run.ID)
	if resume.Resumed {
		log.Info("resuming an unfinished scan", "next_page", resume.Checkpoint.NextPage, "interrupted_run", resume.InterruptedRunID)
	}

	r := &runState{
		e: e, acct: acct, stream: stream, run: run, resume: resume, log: log,
		statsAtStart: acct.Stats.Snapshot(), started: e.opts.Now(),
	}
	maxPages := acct.MaxPages
	if req.MaxPages != nil {
		maxPages = *req.MaxPages
	}
	r.maxPages = maxPages

	hbCtx, stopHB := context.WithCancel(ctx)
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		r.heartbeat(hbCtx)
	}()

	var out outcome
	if stream == magflow.StreamOrders {
		out = r.syncOrders(ctx)
	} else {
		out = r.scanCatalog(ctx)
	}
	stopHB()
	<-hbDone

	r.counters.Requests, r.counters.Retries, r.counters.Throttled = r.requestDelta()
	status := out.status
	if ctx.Err() != nil && status != magflow.RunCompleted {
		// Whatever the work was doing when ctx ended (an eMAG request, a
		// commit), the run was cancelled; its scan stays open to resume.
		status, out.reason, out.err = magflow.RunCancelled, "cancelled: "+context.Cause(ctx).Error(), nil
	}
	// The run must be recorded even when ctx is done.
	finCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := e.opts.Store.FinishRun(finCtx, run.ID, status, r.counters, out.reason, out.capped); err != nil {
		log.Error("record the end of the run", "err", err)
		if out.err == nil {
			out.err = err
		}
		status = magflow.RunFailed
	}
	res.Status, res.Counters, res.Capped, res.Reason, res.Err = status, r.counters, out.capped, out.reason, out.err
	res.Duration = e.opts.Now().Sub(res.Started)
	e.opts.Observer.Progress(r.snapshot(status))
	if e.opts.OnFinish != nil {
		e.opts.OnFinish(res)
	}
	lvl := slog.LevelInfo
	if status != magflow.RunCompleted {
		lvl = slog.LevelWarn
	}
	log.Log(ctx, lvl, "sync run finished", "status", status, "pages", r.counters.Page, "items", r.counters.Items,
		"inserted", r.counters.Inserted, "updated", r.counters.Updated, "unchanged", r.counters.Unchanged,
		"holes", r.counters.Holes, "requests", r.counters.Requests, "retries", r.counters.Retries,
		"throttled", r.counters.Throttled, "duration", res.Duration.Round(time.Millisecond), "reason", out.reason)
	return res
}

// outcome is how a stream's work ended.
type outcome struct {
	status magflow.RunStatus
	reason string
	capped bool
	err    error
}

// runState is one run in progress.
type runState struct {
	e            *Engine
	acct         Account
	stream       magflow.Stream
	run          magflow.SyncRun
	resume       sqldb.Resume
	log          *slog.Logger
	maxPages     int
	statsAtStart StatsSnapshot
	started      time.Time
	// pagesBefore are the pages of a resumed scan done by earlier runs:
	// the ETA counts this run's pace only.
	pagesBefore int

	mu           sync.Mutex
	counters     magflow.RunCounters
	lastProgress time.Time
}

func (r *runState) heartbeat(ctx context.Context) {
	t := time.NewTicker(r.e.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.e.opts.Store.Heartbeat(ctx, r.run.ID); err != nil && ctx.Err() == nil {
				r.log.Warn("heartbeat", "err", err)
			}
		}
	}
}

func (r *runState) requestDelta() (requests, retries, throttled int) {
	now := r.acct.Stats.Snapshot()
	bucket := now.Other.Sub(r.statsAtStart.Other)
	if r.stream == magflow.StreamOrders {
		bucket = now.Orders.Sub(r.statsAtStart.Orders)
	}
	return int(bucket.Requests), int(bucket.Retries), int(bucket.Throttled)
}

// rate returns items per second and the ETA from the pages done so far.
func (r *runState) rateETA() (float64, time.Duration) {
	elapsed := max(0, r.e.opts.Now().Sub(r.started).Seconds())
	if r.counters.Items == 0 {
		return 0, 0
	}
	var rate float64
	if elapsed > 0 {
		rate = float64(r.counters.Items) / elapsed
	}
	var eta time.Duration
	if r.counters.TotalPages > 0 && r.counters.Page > 0 && r.counters.Page < r.counters.TotalPages {
		left := float64(r.counters.TotalPages - r.counters.Page)
		var perPage float64
		if done := r.counters.Page - r.pagesBefore; done > 0 {
			perPage = elapsed / float64(done)
		}
		if pps := r.acct.PagesPerSecond; pps > 0 {
			perPage = max(perPage, 1/pps)
		}
		eta = time.Duration(perPage * left * float64(time.Second))
	}
	return rate, eta
}

func (r *runState) snapshot(status magflow.RunStatus) Progress {
	rate, eta := r.rateETA()
	return Progress{RunID: r.run.ID, Account: r.acct.Name, Stream: r.stream, Status: status, Counters: r.counters, Rate: rate, ETA: eta}
}

// progressed publishes live progress after a page: to the observer every
// time, to the store (rate, ETA, requests) at most once a second; the page
// transaction itself already advanced the store's page and item counters.
func (r *runState) progressed(ctx context.Context) {
	r.counters.Requests, r.counters.Retries, r.counters.Throttled = r.requestDelta()
	p := r.snapshot(magflow.RunRunning)
	r.e.opts.Observer.Progress(p)
	now := r.e.opts.Now()
	if now.Sub(r.lastProgress) < time.Second {
		return
	}
	r.lastProgress = now
	if err := r.e.opts.Store.UpdateProgress(ctx, r.run.ID, r.counters, p.Rate, p.ETA); err != nil && ctx.Err() == nil {
		r.log.Warn("update progress", "err", err)
	}
}

// fatal reports whether err should stop this account's run at once rather
// than become a hole: eMAG refuses us (credentials, IP allow-list), answers
// with a captcha or HTML page, or the database failed.
func fatal(err error) (bool, string) {
	var ee *emag.Error
	if errors.As(err, &ee) {
		switch ee.Kind {
		case emag.KindAuth, emag.KindIPNotWhitelisted, emag.KindNonJSON, emag.KindValidation:
			return true, fmt.Sprintf("%s: %s", ee.Error(), ee.Remedy())
		}
		return false, ""
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true, err.Error()
	}
	return true, "store: " + err.Error()
}
