package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
)

// StatusInput selects the accounts of GET .../status.
type StatusInput struct {
	AccountType string `query:"account_type" maxLength:"32" doc:"One account (main, fbe, ...); default: every account."`
}

// StreamStatus is where one account's stream stands.
type StreamStatus struct {
	Stream           magflow.Stream `json:"stream"`
	LastRun          *Run           `json:"last_run" doc:"The newest run, whatever its status; null when never synced."`
	LastCompletedAt  *time.Time     `json:"last_completed_at" doc:"When the last completed run finished."`
	FreshnessSeconds *float64       `json:"freshness_seconds" doc:"Seconds since last_completed_at."`
	Stale            bool           `json:"stale" doc:"No completed run within twice the scheduled interval."`
	OpenHoles        int            `json:"open_holes" doc:"Pages still missing; the next run fetches them first."`
}

// AccountStatus is one account's sync status.
type AccountStatus struct {
	Account string         `json:"account"`
	Streams []StreamStatus `json:"streams"`
	Running []Progress     `json:"running"`
	Errors  []Run          `json:"errors" doc:"The latest run of each stream when it did not complete (failed, partial or cancelled), with its reason."`
}

// StatusOutput answers GET .../status.
type StatusOutput struct {
	Body struct {
		GeneratedAt time.Time       `json:"generated_at"`
		Accounts    []AccountStatus `json:"accounts"`
		Schedule    Schedule        `json:"schedule"`
	}
}

// ScheduleInput is the body of POST .../sync/scheduled.
type ScheduleInput struct {
	Body struct {
		Enabled               bool             `json:"enabled"`
		IntervalMinutes       int              `json:"interval_minutes,omitempty" minimum:"1" maximum:"10080" doc:"Default: the current value."`
		OrdersIntervalMinutes int              `json:"orders_interval_minutes,omitempty" minimum:"1" maximum:"10080" doc:"Default: the current value."`
		Streams               []magflow.Stream `json:"streams,omitempty" maxItems:"3" uniqueItems:"true" doc:"Default: the current value (every stream at first)."`
	}
}

// ScheduleOutput answers the schedule endpoints.
type ScheduleOutput struct {
	Body Schedule
}

func (s *Server) schedule(ctx context.Context) (Schedule, error) {
	st, err := s.db.GetSchedule(ctx)
	source := "stored"
	if magflow.ErrorCode(err) == magflow.ENotFound {
		st, err, source = s.opts.DefaultSchedule, nil, "config"
		if len(st.Streams) == 0 {
			st.Streams = []magflow.Stream{magflow.StreamProducts, magflow.StreamOffers, magflow.StreamOrders}
		}
	}
	if err != nil {
		return Schedule{}, err
	}
	out := Schedule{Enabled: st.Enabled, IntervalMinutes: st.IntervalMinutes, OrdersIntervalMinutes: st.OrdersIntervalMinutes,
		Streams: st.Streams, Source: source, UpdatedBy: st.UpdatedBy}
	if !st.UpdatedAt.IsZero() {
		t := st.UpdatedAt
		out.UpdatedAt = &t
	}
	if out.Streams == nil {
		out.Streams = []magflow.Stream{}
	}
	return out, nil
}

func (s *Server) registerStatus() {
	huma.Register(s.api, huma.Operation{
		OperationID: "syncStatus", Method: http.MethodGet, Path: basePath + "/status", Tags: []string{"Sync"},
		Summary:     "Sync status",
		Description: "Per account and stream: the last run, freshness, open holes, running runs with live progress, and runs that did not complete.",
		Security:    bearerAuth, Errors: []int{400, 401, 429},
	}, func(ctx context.Context, in *StatusInput) (*StatusOutput, error) {
		if err := s.checkAccount("query.account_type", in.AccountType); err != nil {
			return nil, err
		}
		sched, err := s.schedule(ctx)
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		accounts := s.engine.AccountNames()
		if in.AccountType != "" {
			accounts = []string{in.AccountType}
		}
		now := time.Now().UTC()
		out := &StatusOutput{}
		out.Body.GeneratedAt, out.Body.Schedule = now, sched
		for _, a := range accounts {
			as, err := s.accountStatus(ctx, a, sched, now)
			if err != nil {
				return nil, problemOf(err, s.log)
			}
			out.Body.Accounts = append(out.Body.Accounts, as)
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "getSchedule", Method: http.MethodGet, Path: basePath + "/sync/scheduled", Tags: []string{"Sync"},
		Summary: "Read the scheduled sync configuration", Security: bearerAuth, Errors: []int{401, 429},
	}, func(ctx context.Context, _ *struct{}) (*ScheduleOutput, error) {
		sc, err := s.schedule(ctx)
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		return &ScheduleOutput{Body: sc}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "putSchedule", Method: http.MethodPost, Path: basePath + "/sync/scheduled", Tags: []string{"Sync"},
		Summary:     "Configure the scheduled sync",
		Description: "Saves whether periodic syncs run, their intervals and streams, in the database; the scheduler applies it. Omitted fields keep their current value.",
		Security:    bearerAuth, Metadata: map[string]any{metaOperator: true}, Errors: []int{400, 401, 403, 429},
	}, func(ctx context.Context, in *ScheduleInput) (*ScheduleOutput, error) {
		cur, err := s.schedule(ctx)
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		next := sqldb.Schedule{Enabled: in.Body.Enabled, IntervalMinutes: cur.IntervalMinutes, OrdersIntervalMinutes: cur.OrdersIntervalMinutes,
			Streams: cur.Streams, UpdatedBy: PrincipalFrom(ctx).Username}
		if in.Body.IntervalMinutes > 0 {
			next.IntervalMinutes = in.Body.IntervalMinutes
		}
		if in.Body.OrdersIntervalMinutes > 0 {
			next.OrdersIntervalMinutes = in.Body.OrdersIntervalMinutes
		}
		if in.Body.Streams != nil {
			next.Streams = in.Body.Streams
		}
		if _, err := s.db.PutSchedule(ctx, next); err != nil {
			p := problemOf(err, s.log)
			if p.Field != "" {
				p.Field = "body." + p.Field
				for _, d := range p.Errors {
					d.Location = "body." + d.Location
				}
			}
			return nil, p
		}
		s.log.Info("sync schedule changed", "enabled", next.Enabled, "interval_minutes", next.IntervalMinutes,
			"orders_interval_minutes", next.OrdersIntervalMinutes, "streams", next.Streams, "by", next.UpdatedBy)
		sc, err := s.schedule(ctx)
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		return &ScheduleOutput{Body: sc}, nil
	})
}

func (s *Server) accountStatus(ctx context.Context, account string, sched Schedule, now time.Time) (AccountStatus, error) {
	as := AccountStatus{Account: account, Streams: []StreamStatus{}, Running: []Progress{}, Errors: []Run{}}
	latest, err := s.db.LatestRuns(ctx, account)
	if err != nil {
		return as, err
	}
	byStream := map[magflow.Stream]sqldb.Run{}
	for _, r := range latest {
		byStream[r.Stream] = r
	}
	for _, st := range []magflow.Stream{magflow.StreamProducts, magflow.StreamOffers, magflow.StreamOrders} {
		ss := StreamStatus{Stream: st}
		if r, ok := byStream[st]; ok {
			run := runOf(r, now)
			ss.LastRun = &run
			if r.Status.Finished() && r.Status != magflow.RunCompleted {
				as.Errors = append(as.Errors, run)
			}
		}
		done, _, err := s.db.ListRuns(ctx, sqldb.RunFilter{Account: account, Stream: st, Status: magflow.RunCompleted, Limit: 1})
		if err != nil {
			return as, err
		}
		interval := time.Duration(sched.IntervalMinutes) * time.Minute
		if st == magflow.StreamOrders {
			interval = time.Duration(sched.OrdersIntervalMinutes) * time.Minute
		}
		ss.Stale = true
		if len(done) > 0 && done[0].FinishedAt != nil {
			t := *done[0].FinishedAt
			age := now.Sub(t).Seconds()
			ss.LastCompletedAt, ss.FreshnessSeconds = &t, &age
			ss.Stale = now.Sub(t) > 2*interval
		}
		holes, err := s.db.Holes(ctx, account, st)
		if err != nil {
			return as, err
		}
		ss.OpenHoles = len(holes)
		as.Streams = append(as.Streams, ss)
	}
	running, err := s.db.RunningProgress(ctx, account)
	if err != nil {
		return as, err
	}
	for _, p := range running {
		as.Running = append(as.Running, progressOf(p))
	}
	return as, nil
}
