package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/twoway"
)

// TwoWay is what the workers run of the writes to eMAG: the outbox
// drainers, started and stopped with the Service, and the periodic order
// reconciliation. *twoway.Service implements it.
type TwoWay interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	AccountNames() []string
	Reconcile(ctx context.Context, account string) (twoway.ReconcileReport, error)
}

// TriggerReconcile is recorded on the orders syncs a reconciliation asks for.
const TriggerReconcile = "reconcile"

// DefaultReconcileInterval is the period of the order reconciliation.
const DefaultReconcileInterval = 10 * time.Minute

// ReconcileArgs asks for one reconciliation of every account's orders.
type ReconcileArgs struct{}

// Kind implements river.JobArgs.
func (ReconcileArgs) Kind() string { return "reconcile_orders" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueMaintenance,
		MaxAttempts: 1, // the next tick tries again
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: uniqueStates},
	}
}

type reconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	s *Service
}

// Timeout implements river.Worker.
func (w *reconcileWorker) Timeout(*river.Job[ReconcileArgs]) time.Duration { return 10 * time.Minute }

// Work implements river.Worker.
func (w *reconcileWorker) Work(ctx context.Context, _ *river.Job[ReconcileArgs]) error {
	return w.s.Reconcile(ctx)
}

// Reconcile compares every account's orders with eMAG's counts (see
// twoway.Service.Reconcile): missed new orders are stored and acknowledged
// at once; any other difference enqueues an orders sync of the account.
func (s *Service) Reconcile(ctx context.Context) error {
	tw := s.opts.TwoWay
	if tw == nil {
		return nil
	}
	var errs []error
	for _, name := range tw.AccountNames() {
		rep, err := tw.Reconcile(ctx, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("reconcile %s: %w", name, err))
			continue
		}
		if len(rep.Mismatched) > 0 && !rep.SyncRequested {
			if _, err := s.EnqueueSync(ctx, name, magflow.StreamOrders, TriggerReconcile); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// addTwoWay registers the reconciliation worker and returns its periodic
// job (none without a TwoWay).
func (s *Service) addTwoWay(workers *river.Workers) ([]*river.PeriodicJob, error) {
	if s.opts.TwoWay == nil {
		return nil, nil
	}
	if err := river.AddWorkerSafely(workers, &reconcileWorker{s: s}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	every := s.opts.ReconcileInterval
	if every <= 0 {
		every = DefaultReconcileInterval
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(TickSchedule{Key: "reconcile_orders", Interval: every, Jitter: every / 10},
		func() (river.JobArgs, *river.InsertOpts) { return ReconcileArgs{}, nil },
		&river.PeriodicJobOpts{ID: "reconcile_orders"})}, nil
}

func (s *Service) startTwoWay(ctx context.Context) error {
	if s.opts.TwoWay == nil {
		return nil
	}
	if err := s.opts.TwoWay.Start(ctx); err != nil {
		return fmt.Errorf("start the outbox drainers: %w", err)
	}
	return nil
}

func (s *Service) stopTwoWay(ctx context.Context) error {
	if s.opts.TwoWay == nil {
		return nil
	}
	return s.opts.TwoWay.Stop(ctx)
}
