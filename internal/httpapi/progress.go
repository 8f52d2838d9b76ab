package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
)

// ProgressInput selects the runs of GET .../products/sync-progress.
type ProgressInput struct {
	RunIDs      string `query:"run_ids" maxLength:"400" pattern:"^[0-9]+(,[0-9]+)*$" doc:"Comma-separated run ids (from a sync start); default: every running run."`
	Account     string `query:"account" maxLength:"32" doc:"Only this account's running runs (without run_ids)."`
	Follow      bool   `query:"follow" doc:"Event stream only: keep streaming after the runs finish (dashboards); otherwise the stream ends when they do."`
	AccessToken string `query:"access_token" maxLength:"4096" doc:"The access token, for EventSource clients that cannot send headers."`
	Accept      string `header:"Accept"`
}

// ProgressSnapshot is the live state of the selected runs.
type ProgressSnapshot struct {
	GeneratedAt time.Time  `json:"generated_at"`
	Runs        []Progress `json:"runs"`
	// Done is true when every selected run has finished (or, without
	// run_ids, when nothing is running).
	Done bool `json:"done"`
}

func parseIDs(s string) ([]int64, error) {
	var ids []int64
	for _, part := range strings.Split(s, ",") {
		id, err := strconv.ParseInt(part, 10, 64)
		if err != nil || id <= 0 {
			return nil, invalid("query.run_ids", fmt.Sprintf("%q is not a run id: use comma-separated positive integers", part))
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > 50 {
		return nil, invalid("query.run_ids", "at most 50 run ids")
	}
	return ids, nil
}

func (s *Server) snapshot(ctx context.Context, ids []int64, account string) (ProgressSnapshot, error) {
	snap := ProgressSnapshot{GeneratedAt: time.Now().UTC(), Runs: []Progress{}}
	if len(ids) == 0 {
		ps, err := s.db.RunningProgress(ctx, account)
		if err != nil {
			return snap, err
		}
		for _, p := range ps {
			snap.Runs = append(snap.Runs, progressOf(p))
		}
		snap.Done = len(ps) == 0
		return snap, nil
	}
	snap.Done = true
	for _, id := range ids {
		p, err := s.db.RunProgress(ctx, id)
		if err != nil {
			return snap, err
		}
		snap.Runs = append(snap.Runs, progressOf(p))
		if !p.Status.Finished() {
			snap.Done = false
		}
	}
	return snap, nil
}

func wantsEvents(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, _ := strings.Cut(part, ";")
		if strings.EqualFold(strings.TrimSpace(mt), "text/event-stream") {
			return true
		}
	}
	return false
}

func (s *Server) registerProgress() {
	op := huma.Operation{
		OperationID: "syncProgress", Method: http.MethodGet, Path: basePath + "/products/sync-progress", Tags: []string{"Sync"},
		Summary: "Live sync progress",
		Description: "A JSON snapshot of the selected runs (pages, items, rate, ETA, retries, 429s, holes); with `Accept: text/event-stream`, " +
			"server-sent events: a `progress` event whenever a figure changes, `: ping` comments every 15 s, and a final `done` event when " +
			"the runs finish (unless follow=true). EventSource clients pass the token as ?access_token=.",
		Security: bearerAuth, Metadata: map[string]any{metaQueryToken: true}, Errors: []int{400, 401, 404, 429},
		Responses: map[string]*huma.Response{
			"200": {Description: "The snapshot, or an event stream of snapshots.", Content: map[string]*huma.MediaType{
				"application/json":  {Schema: s.api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[ProgressSnapshot](), true, "ProgressSnapshot")},
				"text/event-stream": {Schema: &huma.Schema{Type: "string", Description: "event: progress\\ndata: <ProgressSnapshot JSON>\\n\\n ... event: done"}},
			}},
		},
	}
	huma.Register(s.api, op, func(ctx context.Context, in *ProgressInput) (*huma.StreamResponse, error) {
		var ids []int64
		if in.RunIDs != "" {
			var err error
			if ids, err = parseIDs(in.RunIDs); err != nil {
				return nil, err
			}
		}
		if err := s.checkAccount("query.account", in.Account); err != nil {
			return nil, err
		}
		snap, err := s.snapshot(ctx, ids, in.Account)
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		if !wantsEvents(in.Accept) {
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				hctx.SetHeader("Content-Type", "application/json")
				hctx.SetHeader("Cache-Control", "no-store")
				hctx.SetStatus(http.StatusOK)
				_ = json.NewEncoder(hctx.BodyWriter()).Encode(snap)
			}}, nil
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) { s.streamProgress(hctx, ids, in.Account, in.Follow, snap) }}, nil
	})
}

// streamProgress writes server-sent events until the runs finish, the
// client leaves or the server shuts down.
func (s *Server) streamProgress(hctx huma.Context, ids []int64, account string, follow bool, first ProgressSnapshot) {
	r, w := humachi.Unwrap(hctx)
	ctx := r.Context()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream has no end we know of
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\n\n")

	var last []byte
	send := func(event string, snap ProgressSnapshot) bool {
		b, _ := json.Marshal(snap.Runs)
		if event == "progress" && bytes.Equal(b, last) {
			return true
		}
		last = b
		data, _ := json.Marshal(snap)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("progress", first) {
		return
	}
	tick := time.NewTicker(s.opts.ProgressInterval)
	defer tick.Stop()
	beat := time.NewTicker(s.opts.Heartbeat)
	defer beat.Stop()
	snap := first
	for {
		if snap.Done && !follow {
			send("done", snap)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.bg.Done():
			fmt.Fprintf(w, "event: shutdown\ndata: {}\n\n")
			_ = rc.Flush()
			return
		case <-beat.C:
			if _, err := fmt.Fprintf(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case <-tick.C:
			next, err := s.snapshot(ctx, ids, account)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("progress stream", "err", err)
					p := problemOf(err, s.log)
					data, _ := json.Marshal(p)
					fmt.Fprintf(w, "event: error\ndata: %s\n\n", data)
					_ = rc.Flush()
				}
				return
			}
			snap = next
			if !send("progress", snap) {
				return
			}
		}
	}
}
