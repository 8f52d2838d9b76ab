package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/syncer"
)

// Queue names.
const (
	// QueueSync holds the sync jobs.
	QueueSync = "sync"
	// QueueMaintenance holds the reaper.
	QueueMaintenance = "maintenance"
)

// Triggers recorded on the runs the jobs start.
const (
	TriggerSchedule = "schedule"
	TriggerTakeover = "takeover"
)

// uniqueStates are the states in which a sync job of an account and stream
// blocks another: queued in any way, or running. River requires the first
// four.
var uniqueStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateScheduled, rivertype.JobStateRetryable,
}

// SyncArgs asks for one run of one account and stream. Jobs are unique per
// account and stream while available, scheduled, retryable or running; the
// trigger is recorded on the run and is not part of the key.
type SyncArgs struct {
	Account string         `json:"account" river:"unique"`
	Stream  magflow.Stream `json:"stream" river:"unique"`
	Trigger string         `json:"trigger"`
}

// Kind implements river.JobArgs.
func (SyncArgs) Kind() string { return "sync" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueSync,
		MaxAttempts: 5,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: uniqueStates},
	}
}

// ReapArgs asks for one pass of the reaper.
type ReapArgs struct{}

// Kind implements river.JobArgs.
func (ReapArgs) Kind() string { return "reap_runs" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ReapArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueMaintenance,
		MaxAttempts: 1, // the next tick tries again
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: uniqueStates},
	}
}

// modeOf returns the engine mode that makes exactly one run of stream.
func modeOf(s magflow.Stream) syncer.Mode {
	switch s {
	case magflow.StreamOffers:
		return syncer.ModeOffers
	case magflow.StreamOrders:
		return syncer.ModeOrders
	}
	return syncer.ModeProducts
}

// syncWorker runs SyncArgs through the engine.
type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	s *Service
}

// Timeout bounds a run; River's rescuer waits longer than this (see
// Options.JobTimeout).
func (w *syncWorker) Timeout(*river.Job[SyncArgs]) time.Duration { return w.s.opts.JobTimeout }

// Work runs the job's sync. A run already going elsewhere (single flight)
// ends the job quietly; a run cancelled because this process stops snoozes
// the job so that another worker (or this one, restarted) resumes the run
// at once from its checkpoint; a failed run is retried with River's
// backoff.
func (w *syncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	a := job.Args
	log := w.s.logger.With("account", a.Account, "stream", a.Stream, "job", job.ID, "attempt", job.Attempt)
	rep, err := w.s.opts.Engine.Sync(ctx, syncer.Request{Accounts: []string{a.Account}, Mode: modeOf(a.Stream), Trigger: a.Trigger})
	if err != nil {
		// A malformed job (an account no longer configured): no retry helps.
		return river.JobCancel(fmt.Errorf("sync %s %s: %w", a.Account, a.Stream, err))
	}
	if len(rep.Runs) != 1 {
		return river.JobCancel(fmt.Errorf("sync %s %s: %d runs, want 1", a.Account, a.Stream, len(rep.Runs)))
	}
	run := rep.Runs[0]
	if id, ok := sqldb.RunningRunID(run.Err); ok {
		log.Info("sync job skipped: the run is already going", "running_run", id)
		return nil
	}
	if run.Status != magflow.RunCompleted && ctx.Err() != nil && w.s.stopping.Load() {
		// Cancelled between pages or while committing one (then recorded
		// failed): either way the scan is open at its checkpoint.
		log.Info("sync run stopped for shutdown; requeued", "run", run.RunID, "status", run.Status)
		return river.JobSnooze(w.s.opts.ResumeDelay)
	}
	switch run.Status {
	case magflow.RunCompleted, magflow.RunPartial:
		log.Debug("sync job done", "run", run.RunID, "status", run.Status, "items", run.Counters.Items)
		return nil
	case magflow.RunCancelled:
		return fmt.Errorf("sync %s %s: run %d cancelled: %s", a.Account, a.Stream, run.RunID, run.Reason)
	}
	return fmt.Errorf("sync %s %s: run %d %s: %s", a.Account, a.Stream, run.RunID, run.Status, run.Reason)
}

// reapWorker hands the runs of dead processes to live workers.
type reapWorker struct {
	river.WorkerDefaults[ReapArgs]
	s *Service
}

// Timeout implements river.Worker.
func (w *reapWorker) Timeout(*river.Job[ReapArgs]) time.Duration { return time.Minute }

// Work implements river.Worker.
func (w *reapWorker) Work(ctx context.Context, _ *river.Job[ReapArgs]) error {
	_, err := w.s.Reap(ctx)
	return err
}

// ReapResult is what one reaper pass did.
type ReapResult struct {
	// Stale are the running runs whose lease had expired.
	Stale []sqldb.Run
	// Rescued are the River jobs of dead workers made available again.
	Rescued []int64
	// Enqueued counts the sync jobs inserted for stale runs that had no job
	// (a killed `magflow sync`, or a job already finished).
	Enqueued int
}

// Reap finds running runs whose heartbeat lease expired: their process is
// dead (or cut off from the database for longer than the lease). For each,
// the running River sync job of the same account and stream, if it started
// before the lease horizon, is made available again (it belonged to the
// dead worker; River's own rescuer would wait for Options.JobTimeout); when
// there is none, a sync job is enqueued. Either way a live worker picks it
// up, and StartRun takes the stale run over and resumes its scan from the
// checkpoint. A run is thus resumed at most Lease + ReapInterval (+ the
// fetch poll interval) after its process died.
func (s *Service) Reap(ctx context.Context) (ReapResult, error) {
	var res ReapResult
	runs, _, err := s.opts.DB.ListRuns(ctx, sqldb.RunFilter{Status: magflow.RunRunning, Limit: 1000})
	if err != nil {
		return res, fmt.Errorf("reap: list running runs: %w", err)
	}
	now := time.Now()
	horizon := now.Add(-s.lease())
	for _, r := range runs {
		if r.HeartbeatAt.Before(horizon) {
			res.Stale = append(res.Stale, r)
		}
	}
	if len(res.Stale) == 0 {
		return res, nil
	}
	list, err := s.client.JobList(ctx, river.NewJobListParams().Kinds(SyncArgs{}.Kind()).
		States(rivertype.JobStateRunning).First(10000))
	if err != nil {
		return res, fmt.Errorf("reap: list running jobs: %w", err)
	}
	jobs := map[string]*rivertype.JobRow{}
	for _, j := range list.Jobs {
		var a SyncArgs
		if json.Unmarshal(j.EncodedArgs, &a) != nil || j.AttemptedAt == nil || !j.AttemptedAt.Before(horizon) {
			continue
		}
		jobs[a.Account+"/"+string(a.Stream)] = j
	}
	rescue := riverdriver.JobRescueManyParams{StuckHorizon: horizon, Schema: s.client.Schema()}
	for _, r := range res.Stale {
		s.logger.Warn("sync run lease expired: handing it to a live worker", "account", r.Account, "stream", r.Stream,
			"run", r.ID, "last_heartbeat", r.HeartbeatAt)
		if j, ok := jobs[r.Account+"/"+string(r.Stream)]; ok {
			e, _ := json.Marshal(rivertype.AttemptError{At: now.UTC(), Attempt: j.Attempt,
				Error: fmt.Sprintf("worker lost: run %d has had no heartbeat since %s", r.ID, r.HeartbeatAt.UTC().Format(time.RFC3339))})
			rescue.ID = append(rescue.ID, j.ID)
			rescue.Error = append(rescue.Error, e)
			rescue.FinalizedAt = append(rescue.FinalizedAt, nil)
			rescue.ScheduledAt = append(rescue.ScheduledAt, now.UTC())
			rescue.State = append(rescue.State, string(rivertype.JobStateAvailable))
			res.Rescued = append(res.Rescued, j.ID)
			continue
		}
		ins, err := s.client.Insert(ctx, SyncArgs{Account: r.Account, Stream: r.Stream, Trigger: TriggerTakeover}, nil)
		if err != nil {
			return res, fmt.Errorf("reap: enqueue takeover of run %d: %w", r.ID, err)
		}
		if !ins.UniqueSkippedAsDuplicate {
			res.Enqueued++
		}
	}
	if len(rescue.ID) > 0 {
		if _, err := s.client.Driver().GetExecutor().JobRescueMany(ctx, &rescue); err != nil {
			return res, fmt.Errorf("reap: requeue the jobs of dead workers: %w", err)
		}
	}
	return res, nil
}
