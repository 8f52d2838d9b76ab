package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// HealthOutput answers /health and /ready.
type HealthOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		Status   string `json:"status" example:"ok"`
		Version  string `json:"version,omitempty"`
		Database string `json:"database,omitempty" doc:"The database engine: sqlite or postgres."`
	}
}

func (s *Server) registerHealth() {
	huma.Register(s.api, huma.Operation{
		OperationID: "health", Method: http.MethodGet, Path: "/health", Tags: []string{"Operations"},
		Summary: "Liveness", Description: "200 while the process serves requests.", Metadata: map[string]any{metaPublic: true},
	}, func(context.Context, *struct{}) (*HealthOutput, error) {
		out := &HealthOutput{CacheControl: "no-store"}
		out.Body.Status, out.Body.Version = "ok", s.opts.Version
		return out, nil
	})
	huma.Register(s.api, huma.Operation{
		OperationID: "ready", Method: http.MethodGet, Path: "/ready", Tags: []string{"Operations"},
		Summary: "Readiness", Description: "200 when the database answers; 503 otherwise.", Metadata: map[string]any{metaPublic: true},
		Errors: []int{503},
	}, func(ctx context.Context, _ *struct{}) (*HealthOutput, error) {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if err := s.db.Ping(pctx); err != nil {
			s.log.Warn("readiness check failed", "err", err)
			p := newProblem(http.StatusServiceUnavailable, "the database does not answer")
			p.headers = http.Header{"Retry-After": []string{"5"}}
			return nil, p
		}
		out := &HealthOutput{CacheControl: "no-store"}
		out.Body.Status, out.Body.Database = "ready", string(s.db.Dialect())
		return out, nil
	})
}
