package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/app"
	"github.com/magflow/magflow/internal/jobs"
)

type workerFlags struct {
	workers        int
	noMigrate      bool
	verbose        bool
	rateScale      float64
	catalogEvery   time.Duration
	ordersEvery    time.Duration
	lease          time.Duration
	heartbeat      time.Duration
	reapEvery      time.Duration
	poll           time.Duration
	stopTimeout    time.Duration
	scheduleReread time.Duration
}

func workerCmd(e *env) *cobra.Command {
	var f workerFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run sync workers only (PostgreSQL): scheduled syncs, takeovers of dead runs, one rate budget per account",
		Long: "Run MagFlow's background workers on PostgreSQL, without the API: any number of `magflow worker` processes\n" +
			"(and `magflow serve`) share the sync jobs through River. The elected leader enqueues the jittered schedule\n" +
			"(EMAG_ENABLE_SCHEDULED_SYNC, EMAG_SYNC_INTERVAL_MINUTES, EMAG_ORDERS_SYNC_INTERVAL_MINUTES, or what the API\n" +
			"stored), every process draws on one eMAG rate budget per account, and a run whose worker died is resumed by\n" +
			"another within the lease plus the reaper interval. SIGTERM stops gracefully: running syncs checkpoint and are\n" +
			"requeued. See docs/operations.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			u := strings.ToLower(strings.TrimSpace(cfg.DatabaseURL))
			if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
				return &magflow.Error{Code: magflow.EInvalid, Field: "DATABASE_URL",
					Message: "magflow worker needs PostgreSQL (DATABASE_URL=postgres://user:password@host:5432/dbname): " +
						"SQLite serves one process, where `magflow serve` runs the workers itself"}
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			logger := e.logger(cfg, f.verbose).With("process", "worker")
			a, err := app.New(ctx, app.Options{Config: cfg, Logger: logger, NoMigrate: f.noMigrate, RateScale: f.rateScale, Heartbeat: f.heartbeat})
			if err != nil {
				return err
			}
			defer a.Close()
			if f.lease > 0 {
				a.DB.Lease = f.lease
			}
			opts := app.JobsOptions{
				Options: jobs.Options{
					Workers: f.workers, ReapInterval: f.reapEvery, FetchPollInterval: f.poll,
					ScheduleRefresh: f.scheduleReread,
				},
			}
			if f.catalogEvery > 0 || f.ordersEvery > 0 {
				opts.Schedule = jobs.Defaults{
					Enabled:         true,
					CatalogInterval: f.catalogEvery,
					OrdersInterval:  f.ordersEvery,
				}
			}
			svc, err := app.NewJobs(a, opts)
			if err != nil {
				return err
			}
			if err := svc.Start(ctx); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "MagFlow worker running on %s (%d accounts); SIGTERM stops it gracefully\n", a.DB, len(cfg.Accounts))
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), f.stopTimeout)
			defer cancel()
			return svc.Stop(sctx)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&f.workers, "workers", 0, "syncs this process runs at once (default: two per account)")
	fs.BoolVar(&f.noMigrate, "no-migrate", false, "do not apply MagFlow's database migrations on start (River's are always applied)")
	fs.BoolVar(&f.verbose, "verbose", false, "log at debug level")
	fs.DurationVar(&f.stopTimeout, "stop-timeout", 30*time.Second, "how long SIGTERM waits for running syncs to checkpoint")
	// For the sandbox, tests and benchmarks: shorter clocks than minutes.
	fs.Float64Var(&f.rateScale, "rate-scale", 1, "speed every account's rate limits up by this factor (a sandbox started with the same --rate-scale)")
	fs.DurationVar(&f.catalogEvery, "catalog-interval", 0, "schedule catalogue syncs this often, overriding the configuration (enables the schedule)")
	fs.DurationVar(&f.ordersEvery, "orders-interval", 0, "schedule order syncs this often, overriding the configuration (enables the schedule)")
	fs.DurationVar(&f.lease, "lease", 0, "how long a run's heartbeat keeps it owned (default 2m)")
	fs.DurationVar(&f.heartbeat, "heartbeat", 0, "how often a running run renews its lease (default 30s)")
	fs.DurationVar(&f.reapEvery, "reap-interval", 0, "how often the reaper looks for runs of dead workers (default 1m)")
	fs.DurationVar(&f.poll, "poll-interval", 0, "how often idle workers look for jobs (default 1s)")
	fs.DurationVar(&f.scheduleReread, "schedule-refresh", 0, "how often the stored schedule is re-read (default 30s)")
	for _, name := range []string{"rate-scale", "catalog-interval", "orders-interval", "lease", "heartbeat", "reap-interval", "poll-interval", "schedule-refresh"} {
		_ = fs.MarkHidden(name)
	}
	return cmd
}
