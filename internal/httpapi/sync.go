package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/syncer"
)

// SyncInput is the body of the sync start endpoints.
type SyncInput struct {
	Body struct {
		MaxPagesPerAccount   *int     `json:"max_pages_per_account,omitempty" minimum:"0" maximum:"100000" doc:"Most catalogue pages (100 products each) per account; 0 for no cap; default: EMAG_<NAME>_MAX_PAGES. A capped run is not a complete scan."`
		DelayBetweenRequests float64  `json:"delay_between_requests,omitempty" minimum:"0" maximum:"60" doc:"Extra seconds between two eMAG requests of this sync, on top of the account's rate limits."`
		IncludeInactive      *bool    `json:"include_inactive,omitempty" doc:"Inactive products are always synced (a complete scan is how removed products are detected); false is accepted and reported in warnings. Filter lists with status=1."`
		Accounts             []string `json:"accounts,omitempty" maxItems:"32" doc:"Accounts to sync; default: every configured account."`
	} `required:"false"`
}

// StartedRun is one run a sync start opened.
type StartedRun struct {
	RunID       int64          `json:"run_id"`
	Account     string         `json:"account"`
	Stream      magflow.Stream `json:"stream"`
	Status      string         `json:"status" example:"running"`
	Resumed     bool           `json:"resumed" doc:"The run continues a scan an earlier run left unfinished."`
	URL         string         `json:"url" doc:"The run: GET it for counters, holes and errors."`
	ProgressURL string         `json:"progress_url"`
}

// RunningRun is a run that was already running, so no new one started.
type RunningRun struct {
	RunID   int64          `json:"run_id"`
	Account string         `json:"account"`
	Stream  magflow.Stream `json:"stream"`
}

// SyncOutput answers a sync start with 202.
type SyncOutput struct {
	Location string `header:"Location" doc:"The progress of the runs started (JSON, or server-sent events with Accept: text/event-stream)."`
	Body     struct {
		Runs           []StartedRun `json:"runs"`
		AlreadyRunning []RunningRun `json:"already_running,omitempty" doc:"Accounts skipped because a run of the stream was already running (single flight)."`
		ProgressURL    string       `json:"progress_url"`
		Warnings       []string     `json:"warnings,omitempty"`
	}
}

const basePath = "/api/v1/emag/enhanced"

func progressURL(ids []int64) string {
	var parts []string
	for _, id := range ids {
		parts = append(parts, strconv.FormatInt(id, 10))
	}
	return basePath + "/products/sync-progress?run_ids=" + url.QueryEscape(strings.Join(parts, ","))
}

func (s *Server) registerSync() {
	for _, st := range []struct {
		id, path string
		mode     syncer.Mode
		stream   magflow.Stream
	}{
		{"syncAllProducts", "/sync/all-products", syncer.ModeProducts, magflow.StreamProducts},
		{"syncAllOffers", "/sync/all-offers", syncer.ModeOffers, magflow.StreamOffers},
	} {
		huma.Register(s.api, huma.Operation{
			OperationID: st.id, Method: http.MethodPost, Path: basePath + st.path, Tags: []string{"Sync"},
			Summary: fmt.Sprintf("Start a %s sync", st.stream),
			Description: fmt.Sprintf("Starts one %s run per account in the background and answers 202 with the run ids and where to follow them. "+
				"409 when every requested account already has a %s run running (its id is in running_run_id).", st.stream, st.stream),
			Security: bearerAuth, Metadata: map[string]any{metaOperator: true}, DefaultStatus: http.StatusAccepted,
			Errors: []int{400, 401, 403, 409, 429, 503},
		}, func(ctx context.Context, in *SyncInput) (*SyncOutput, error) {
			return s.startSync(ctx, in, st.mode, st.stream)
		})
	}
}

// startSync runs one Sync per account, each under its own cancellable
// context detached from the request, and waits until every run has been
// opened (or refused) by the store.
func (s *Server) startSync(ctx context.Context, in *SyncInput, mode syncer.Mode, stream magflow.Stream) (*SyncOutput, error) {
	b := in.Body
	names := s.engine.AccountNames()
	if len(b.Accounts) > 0 {
		names = nil
		for i, a := range b.Accounts {
			a = strings.ToLower(strings.TrimSpace(a))
			if err := s.checkAccount(fmt.Sprintf("body.accounts[%d]", i), a); err != nil {
				return nil, err
			}
			if a == "" {
				return nil, invalid(fmt.Sprintf("body.accounts[%d]", i), "empty account name")
			}
			if !slices.Contains(names, a) {
				names = append(names, a)
			}
		}
	}
	out := &SyncOutput{}
	if b.IncludeInactive != nil && !*b.IncludeInactive {
		out.Body.Warnings = append(out.Body.Warnings, "include_inactive=false is not applied: the catalogue scan always copies inactive products so that it can detect removed ones; filter lists with status=1")
	}
	s.closedMu.Lock()
	closed := s.closed
	if !closed {
		s.syncs.Add(len(names))
	}
	s.closedMu.Unlock()
	if closed {
		return nil, problemOf(&magflow.Error{Code: magflow.EUnavailable, Message: "the server is shutting down: retry on another instance or after the restart"}, s.log)
	}
	delay := time.Duration(b.DelayBetweenRequests * float64(time.Second))
	events := make([]chan syncer.StartEvent, len(names))
	by := PrincipalFrom(ctx).Username
	for i, name := range names {
		ch := make(chan syncer.StartEvent, 2)
		events[i] = ch
		runCtx, cancel := context.WithCancelCause(s.bg)
		hook := func(ev syncer.StartEvent) {
			if ev.Err == nil {
				s.track(ev.Run.ID, cancel)
			}
			ch <- ev
		}
		req := syncer.Request{Accounts: []string{name}, Mode: mode, Trigger: "api", MaxPages: b.MaxPagesPerAccount, OnStart: hook}
		go func() {
			defer s.syncs.Done()
			defer cancel(nil)
			rep, err := s.engine.Sync(syncer.WithRequestDelay(runCtx, delay), req)
			if err != nil {
				select {
				case ch <- syncer.StartEvent{Account: name, Stream: stream, Err: err}:
				default:
				}
				return
			}
			for _, r := range rep.Runs {
				if r.RunID == 0 {
					continue
				}
				s.untrack(r.RunID)
			}
			s.log.Info("API sync finished", "account", name, "stream", stream, "status", rep.Status(), "by", by)
		}()
	}

	timeout := time.NewTimer(s.opts.StartTimeout)
	defer timeout.Stop()
	var conflict, failure error
	var ids []int64
	for i, ch := range events {
		var ev syncer.StartEvent
		select {
		case ev = <-ch:
		case <-timeout.C:
			return nil, problemOf(&magflow.Error{Code: magflow.EUnavailable, Message: fmt.Sprintf("the %s run of account %s did not start within %s: the database may be busy; see GET %s/sync/runs", stream, names[i], s.opts.StartTimeout, basePath)}, s.log)
		}
		switch {
		case ev.Err == nil:
			ids = append(ids, ev.Run.ID)
			out.Body.Runs = append(out.Body.Runs, StartedRun{RunID: ev.Run.ID, Account: ev.Account, Stream: ev.Stream, Status: string(magflow.RunRunning),
				Resumed: ev.Resume.Resumed, URL: fmt.Sprintf("%s/sync/runs/%d", basePath, ev.Run.ID), ProgressURL: progressURL([]int64{ev.Run.ID})})
		case magflow.ErrorCode(ev.Err) == magflow.EConflict:
			id, _ := sqldb.RunningRunID(ev.Err)
			out.Body.AlreadyRunning = append(out.Body.AlreadyRunning, RunningRun{RunID: id, Account: ev.Account, Stream: ev.Stream})
			if conflict == nil {
				conflict = ev.Err
			}
		default:
			failure = errors.Join(failure, ev.Err)
		}
	}
	if len(ids) == 0 {
		if failure != nil {
			return nil, problemOf(failure, s.log)
		}
		p := problemOf(conflict, s.log)
		p.Detail += fmt.Sprintf(": follow it at %s or cancel it with POST %s/sync/runs/%d/cancel", progressURL([]int64{p.RunningRunID}), basePath, p.RunningRunID)
		return nil, p
	}
	if failure != nil {
		out.Body.Warnings = append(out.Body.Warnings, "some accounts did not start: "+magflow.ErrorMessage(failure))
	}
	out.Body.ProgressURL = progressURL(ids)
	out.Location = out.Body.ProgressURL
	s.log.Info("API sync started", "stream", stream, "runs", ids, "by", by)
	return out, nil
}
