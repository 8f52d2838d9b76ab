package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/syncer"
)

// Syncer is the part of the sync engine the workers use; *syncer.Engine
// implements it.
type Syncer interface {
	Sync(ctx context.Context, req syncer.Request) (syncer.Report, error)
	AccountNames() []string
}

// Options configure a Service. Zero durations get the defaults named.
type Options struct {
	DB     *sqldb.DB
	Engine Syncer
	Logger *slog.Logger
	// Schedule is in force until the API stores one.
	Schedule Defaults
	// Workers is how many syncs this process runs at once (default: two per
	// account, so every account's catalogue and orders can run side by
	// side). With several processes, a lower figure spreads the accounts.
	Workers int
	// Jitter is the most a tick is moved from its slot (default a tenth of
	// the interval, at most 2 minutes).
	Jitter time.Duration
	// ScheduleRefresh is how often the stored schedule is re-read (30s).
	ScheduleRefresh time.Duration
	// ReapInterval is the reaper's period (1 minute): a dead worker's run is
	// resumed within the database's lease (sqldb.DB.Lease) plus this.
	ReapInterval time.Duration
	// JobTimeout bounds one sync job (6 hours); a run cut by it ends
	// cancelled and its job is retried, resuming the scan. River rescues a
	// job still marked running JobTimeout + Lease + ReapInterval after it
	// started (the reaper normally acts long before).
	JobTimeout time.Duration
	// ResumeDelay is how soon a job cancelled by a shutdown is offered to
	// the workers again (1s).
	ResumeDelay time.Duration
	// FetchPollInterval is how often idle workers look for jobs (1s).
	FetchPollInterval time.Duration
	// NoSchedule leaves out the periodic sync jobs (the reaper stays).
	NoSchedule bool
	// TwoWay, when set, runs the outbox drainers with the service and
	// reconciles orders every ReconcileInterval (DefaultReconcileInterval).
	TwoWay            TwoWay
	ReconcileInterval time.Duration
}

// Service is River on MagFlow's database: workers for the sync and reaper
// jobs and, on the elected leader, the periodic jobs.
type Service struct {
	opts   Options
	logger *slog.Logger
	client *river.Client[*sql.Tx]
	driver riverdriver.Driver[*sql.Tx]

	stopping atomic.Bool

	mu       sync.Mutex
	periodic []string // IDs of the periodic sync jobs in force
	cancel   context.CancelFunc
	done     chan struct{}
}

// New builds the service on opts.DB (SQLite or PostgreSQL) without touching
// the database; Start migrates River's tables and starts working.
func New(opts Options) (*Service, error) {
	if opts.DB == nil || opts.Engine == nil {
		return nil, errors.New("jobs: DB and Engine are required")
	}
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	opts.Workers = cmp.Or(opts.Workers, max(2*len(opts.Engine.AccountNames()), 2))
	opts.ScheduleRefresh = cmp.Or(opts.ScheduleRefresh, 30*time.Second)
	opts.ReapInterval = cmp.Or(opts.ReapInterval, time.Minute)
	opts.JobTimeout = cmp.Or(opts.JobTimeout, 6*time.Hour)
	opts.ResumeDelay = cmp.Or(opts.ResumeDelay, time.Second)
	opts.FetchPollInterval = cmp.Or(opts.FetchPollInterval, time.Second)
	s := &Service{opts: opts, logger: opts.Logger.With("component", "jobs")}
	switch opts.DB.Dialect() {
	case sqldb.Postgres:
		s.driver = riverdatabasesql.New(opts.DB.WriteDB())
	default:
		s.driver = riversqlite.New(opts.DB.WriteDB())
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &syncWorker{s: s}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &reapWorker{s: s}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	reaper := river.NewPeriodicJob(TickSchedule{Key: "reaper", Interval: opts.ReapInterval, Jitter: opts.ReapInterval / 10},
		func() (river.JobArgs, *river.InsertOpts) { return ReapArgs{}, nil },
		&river.PeriodicJobOpts{ID: "reaper", RunOnStart: true})
	twoWayJobs, err := s.addTwoWay(workers)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	client, err := river.NewClient(s.driver, &river.Config{
		// host_pid_start, so that an operator (and the tests) can tell which
		// process leads.
		ID: fmt.Sprintf("%s_%d_%d", host, os.Getpid(), time.Now().UnixNano()),
		// River reports its routine at info level every few seconds.
		Logger: slog.New(minLevel{Handler: s.logger.Handler(), min: slog.LevelWarn}),
		Queues: map[string]river.QueueConfig{
			QueueSync:        {MaxWorkers: opts.Workers},
			QueueMaintenance: {MaxWorkers: 1},
		},
		Workers:      workers,
		PeriodicJobs: append([]*river.PeriodicJob{reaper}, twoWayJobs...),
		// Poll: database/sql has no LISTEN, and SQLite no server to notify.
		PollOnly:          true,
		FetchPollInterval: opts.FetchPollInterval,
		FetchCooldown:     min(opts.FetchPollInterval, river.FetchCooldownDefault),
		JobTimeout:        opts.JobTimeout,
		// Never before a job could still be running legitimately; the
		// reaper, driven by the runs' heartbeats, acts sooner.
		RescueStuckJobsAfter: opts.JobTimeout + s.lease() + opts.ReapInterval,
		MaxAttempts:          5,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: new River client: %w", err)
	}
	s.client = client
	return s, nil
}

// Client returns the River client (to insert jobs or inspect them).
func (s *Service) Client() *river.Client[*sql.Tx] { return s.client }

func (s *Service) lease() time.Duration {
	return cmp.Or(s.opts.DB.Lease, sqldb.DefaultLease)
}

// Migrate applies River's own migrations. Processes starting together on
// PostgreSQL take turns under an advisory lock.
func (s *Service) Migrate(ctx context.Context) error {
	m, err := rivermigrate.New(s.driver, &rivermigrate.Config{Logger: s.logger})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if s.opts.DB.Dialect() == sqldb.Postgres {
		conn, err := s.opts.DB.WriteDB().Conn(ctx)
		if err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		defer conn.Close()
		var schema string
		if err := conn.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return fmt.Errorf("river migrations: %w", err)
		}
		h := fnv.New64a()
		h.Write([]byte("magflow-river-migrate:" + schema))
		key := int64(h.Sum64() >> 1)
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
			return fmt.Errorf("river migrations: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	for _, v := range res.Versions {
		s.logger.Info("river migration applied", "version", v.Version, "duration", v.Duration)
	}
	return nil
}

// Start migrates River's tables, loads the schedule and starts the workers,
// the leader election and the schedule refresher. It returns once they run.
func (s *Service) Start(ctx context.Context) error {
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	s.stopping.Store(false)
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ref := &refresher{
		load: func(ctx context.Context) (Plan, error) {
			return loadPlan(ctx, s.opts.DB, s.opts.Engine.AccountNames(), s.opts.Schedule)
		},
		apply:  s.applyPlan,
		every:  s.opts.ScheduleRefresh,
		logger: s.logger,
	}
	if !s.opts.NoSchedule {
		ref.refresh(ctx)
	}
	if err := s.client.Start(rctx); err != nil {
		cancel()
		return fmt.Errorf("start the River client: %w", err)
	}
	if err := s.startTwoWay(rctx); err != nil {
		cancel()
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if !s.opts.NoSchedule {
			ref.run(rctx)
		}
	}()
	s.mu.Lock()
	s.cancel, s.done = cancel, done
	s.mu.Unlock()
	s.logger.Info("job workers started", "database", s.opts.DB.Dialect(), "workers", s.opts.Workers,
		"lease", s.lease(), "reap_interval", s.opts.ReapInterval)
	return nil
}

// Stop stops fetching jobs, cancels the syncs in hand (each commits or
// drops its page in flight, records itself cancelled with its scan open,
// and its job is requeued after ResumeDelay so that another worker resumes
// it) and returns once River has recorded every job, or when ctx ends.
func (s *Service) Stop(ctx context.Context) error {
	s.stopping.Store(true)
	err := errors.Join(s.client.StopAndCancel(ctx), s.stopTwoWay(ctx))
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	if err != nil {
		return fmt.Errorf("stop the job workers: %w", err)
	}
	s.logger.Info("job workers stopped")
	return nil
}

// applyPlan replaces the periodic sync jobs with p's.
func (s *Service) applyPlan(p Plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pj := s.client.PeriodicJobs()
	pj.RemoveManyByID(s.periodic)
	s.periodic = s.periodic[:0]
	var add []*river.PeriodicJob
	for _, e := range p.Entries {
		jitter := s.opts.Jitter
		if jitter <= 0 {
			jitter = min(e.Interval/10, 2*time.Minute)
		}
		args := SyncArgs{Account: e.Account, Stream: e.Stream, Trigger: TriggerSchedule}
		id := "sync/" + e.Key()
		add = append(add, river.NewPeriodicJob(TickSchedule{Key: e.Key(), Interval: e.Interval, Jitter: jitter},
			func() (river.JobArgs, *river.InsertOpts) { return args, nil }, &river.PeriodicJobOpts{ID: id}))
		s.periodic = append(s.periodic, id)
	}
	if _, err := pj.AddManySafely(add); err != nil {
		s.logger.Error("install the sync schedule", "err", err)
		return
	}
	s.logger.Info("sync schedule in force", "periodic_syncs", len(p.Entries))
}

// EnqueueSync inserts a sync job of account and stream now; inserted is
// false when one is already queued or running.
func (s *Service) EnqueueSync(ctx context.Context, account string, stream magflow.Stream, trigger string) (inserted bool, err error) {
	res, err := s.client.Insert(ctx, SyncArgs{Account: account, Stream: stream, Trigger: trigger}, nil)
	if err != nil {
		return false, fmt.Errorf("enqueue sync %s %s: %w", account, stream, err)
	}
	return !res.UniqueSkippedAsDuplicate, nil
}

// minLevel drops the records of a handler below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(as), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}
