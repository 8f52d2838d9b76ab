package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
)

// RunListInput are the filters of GET .../sync/runs.
type RunListInput struct {
	Account string    `query:"account" maxLength:"32"`
	Stream  string    `query:"stream" enum:"products,offers,orders"`
	Status  string    `query:"status" enum:"running,completed,partial,failed,cancelled"`
	Trigger string    `query:"trigger" enum:"cli,api,schedule"`
	Since   time.Time `query:"since" doc:"Runs started at or after this time (RFC 3339)."`
	Until   time.Time `query:"until" doc:"Runs started before this time (RFC 3339)."`
	Limit   int       `query:"limit" minimum:"1" maximum:"1000" default:"50"`
	Offset  int       `query:"offset" minimum:"0" maximum:"100000000" default:"0"`
}

// RunListOutput is one page of runs, newest first.
type RunListOutput struct {
	Body struct {
		Items []Run `json:"items"`
		Page
	}
}

// RunInput names one run.
type RunInput struct {
	ID int64 `path:"id" minimum:"1"`
}

// RunOutput is one run with its holes.
type RunOutput struct {
	Body struct {
		Run
		Holes []Hole `json:"holes" doc:"Pages that failed after every retry; the next run fetches them first."`
	}
}

// CancelOutput answers a cancellation.
type CancelOutput struct {
	Location string `header:"Location"`
	Body     struct {
		RunID  int64  `json:"run_id"`
		Status string `json:"status" example:"cancelling"`
	}
}

// errCancelled is the cause recorded when a user cancels a run.
type errCancelled struct{ by string }

func (e errCancelled) Error() string { return "cancelled by " + e.by }

func (s *Server) registerRuns() {
	huma.Register(s.api, huma.Operation{
		OperationID: "listRuns", Method: http.MethodGet, Path: "/api/v1/emag/enhanced/sync/runs", Tags: []string{"Sync"},
		Summary: "Sync run history", Security: bearerAuth, Errors: []int{400, 401, 429},
	}, func(ctx context.Context, in *RunListInput) (*RunListOutput, error) {
		if err := s.checkAccount("query.account", in.Account); err != nil {
			return nil, err
		}
		runs, total, err := s.db.ListRuns(ctx, sqldb.RunFilter{Account: in.Account, Stream: magflow.Stream(in.Stream),
			Status: magflow.RunStatus(in.Status), Trigger: in.Trigger, Since: in.Since, Until: in.Until, Limit: in.Limit, Offset: in.Offset})
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		now := time.Now().UTC()
		out := &RunListOutput{}
		out.Body.Items = make([]Run, len(runs))
		for i, r := range runs {
			out.Body.Items[i] = runOf(r, now)
		}
		out.Body.Page = pageOf(total, in.Limit, in.Offset, len(runs))
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "getRun", Method: http.MethodGet, Path: "/api/v1/emag/enhanced/sync/runs/{id}", Tags: []string{"Sync"},
		Summary: "One sync run", Description: "A run with its counters, the reason it stopped and the holes it recorded.",
		Security: bearerAuth, Errors: []int{400, 401, 404, 429},
	}, func(ctx context.Context, in *RunInput) (*RunOutput, error) {
		r, holes, err := s.db.GetRun(ctx, in.ID)
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		out := &RunOutput{}
		out.Body.Run = runOf(r, time.Now().UTC())
		out.Body.Holes = make([]Hole, len(holes))
		for i, h := range holes {
			out.Body.Holes[i] = Hole{Page: h.Page, Error: h.Error, Tries: h.Tries}
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "cancelRun", Method: http.MethodPost, Path: "/api/v1/emag/enhanced/sync/runs/{id}/cancel", Tags: []string{"Sync"},
		Summary:     "Cancel a running run",
		Description: "Stops a run this server started; it records itself cancelled and the next run resumes from its checkpoint. 409 when the run is finished or runs in another process.",
		Security:    bearerAuth, Metadata: map[string]any{metaOperator: true}, DefaultStatus: http.StatusAccepted,
		Errors: []int{400, 401, 403, 404, 409, 429},
	}, func(ctx context.Context, in *RunInput) (*CancelOutput, error) {
		r, _, err := s.db.GetRun(ctx, in.ID)
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		if r.Status.Finished() {
			return nil, problemOf(magflow.Errorf(magflow.EConflict, "run %d already finished (%s): nothing to cancel", r.ID, r.Status), s.log)
		}
		p := PrincipalFrom(ctx)
		if !s.cancelRun(r.ID, errCancelled{by: p.Username}) {
			return nil, problemOf(magflow.Errorf(magflow.EConflict,
				"run %d was not started by this server (trigger %s): stop it where it runs (Ctrl-C for the CLI)", r.ID, r.Trigger), s.log)
		}
		s.log.Info("sync run cancelled", "run", r.ID, "by", p.Username)
		out := &CancelOutput{Location: fmt.Sprintf("/api/v1/emag/enhanced/sync/runs/%d", r.ID)}
		out.Body.RunID, out.Body.Status = r.ID, "cancelling"
		return out, nil
	})
}
