// Package httpapi is MagFlow's REST API: a chi router with huma operations
// (OpenAPI 3.1 generated from the code at /openapi.json, an embedded docs
// page at /docs), JWT authentication with viewer and operator roles,
// per-client rate limits, CORS for the configured origins, RFC 9457 problem
// answers, live sync progress over server-sent events, streamed exports and
// Prometheus metrics.
//
// Handlers follow one rhythm: decode and validate (huma, from the struct
// tags), call the store or the engine, map the result to the wire types of
// types.go. Errors of any layer are *magflow.Error and become HTTP statuses
// in exactly one function, statusOf.
package httpapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"

	"github.com/magflow/magflow/internal/auth"
	"github.com/magflow/magflow/internal/catalog"
	"github.com/magflow/magflow/internal/metrics"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/syncer"
)

// Engine starts syncs; *syncer.Engine satisfies it. The API learns the
// run ids through syncer.Request.OnStart.
type Engine interface {
	Sync(ctx context.Context, req syncer.Request) (syncer.Report, error)
	AccountNames() []string
}

// RateLimits bound requests per client IP address. Zero fields get the
// defaults; Disabled turns every limit off (benchmarks).
type RateLimits struct {
	// APIPerSecond and APIBurst bound every request but /health and /ready.
	APIPerSecond float64
	APIBurst     int
	// LoginPerMinute and LoginBurst bound POST /api/v1/auth/login and
	// /refresh on top, against password guessing.
	LoginPerMinute float64
	LoginBurst     int
	Disabled       bool
}

// Options configure a Server.
type Options struct {
	DB      *sqldb.DB
	Engine  Engine
	Issuer  *auth.Issuer
	Metrics *metrics.Metrics // nil: a private set is made
	Logger  *slog.Logger
	// CORSOrigins are the front-end origins allowed to call the API from a
	// browser (MAGFLOW_CORS_ORIGINS); none means no cross-origin access.
	CORSOrigins []string
	// DefaultSchedule is the scheduled sync configuration in effect until one
	// is saved (EMAG_ENABLE_SCHEDULED_SYNC and the intervals).
	DefaultSchedule sqldb.Schedule
	RateLimits      RateLimits
	// ProgressInterval is how often a progress stream polls the store
	// (default 500ms); Heartbeat how often it sends a keep-alive comment
	// (default 15s).
	ProgressInterval time.Duration
	Heartbeat        time.Duration
	// StartTimeout bounds how long a sync start waits for the engine to open
	// its runs (default 30s).
	StartTimeout time.Duration
	// Version is reported by /health and the OpenAPI document.
	Version string
	// UI, when set, serves the dashboard (internal/web) at GET / and
	// GET /assets/*; it reads everything through this API.
	UI http.Handler
	// TwoWay, when set, takes offer changes and eMAG's order callbacks.
	TwoWay TwoWay
	// Accounts are the configured accounts in precedence order, reported by
	// GET .../accounts (to authenticated users only).
	Accounts []AccountInfo
	// ReadModel serves the product list from an in-memory read model
	// (internal/catalog) whenever it is current, and caches users between
	// their changes; the store answers otherwise. magflow serve turns it
	// on.
	ReadModel bool
}

// Server is the HTTP API. Create it with New, serve Handler, and call
// Shutdown to cancel the syncs it started and wait for them.
type Server struct {
	opts    Options
	db      *sqldb.DB
	engine  Engine
	issuer  *auth.Issuer
	metrics *metrics.Metrics
	log     *slog.Logger
	api     huma.API
	router  chi.Router
	limits  *limiters

	// bg is the parent of every sync the API starts: detached from the
	// request, cancelled by Shutdown.
	bg       context.Context
	stopBG   context.CancelCauseFunc
	syncs    sync.WaitGroup
	runsMu   sync.Mutex
	runs     map[int64]context.CancelCauseFunc
	closedMu sync.Mutex
	closed   bool
	specMu   sync.Mutex
	specJSON []byte

	// model is the product list's read model (nil unless ReadModel).
	model *catalog.Model
	users userCache
}

// New builds the server and its routes.
func New(opts Options) (*Server, error) {
	if opts.DB == nil || opts.Engine == nil || opts.Issuer == nil {
		return nil, errors.New("httpapi: DB, Engine and Issuer are required")
	}
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	if opts.Metrics == nil {
		opts.Metrics = metrics.New()
	}
	opts.ProgressInterval = cmp.Or(opts.ProgressInterval, 500*time.Millisecond)
	opts.Heartbeat = cmp.Or(opts.Heartbeat, 15*time.Second)
	opts.StartTimeout = cmp.Or(opts.StartTimeout, 30*time.Second)
	opts.Version = cmp.Or(opts.Version, "dev")
	if opts.DefaultSchedule.IntervalMinutes == 0 {
		opts.DefaultSchedule.IntervalMinutes = 60
	}
	if opts.DefaultSchedule.OrdersIntervalMinutes == 0 {
		opts.DefaultSchedule.OrdersIntervalMinutes = 5
	}
	useProblems()
	s := &Server{
		opts: opts, db: opts.DB, engine: opts.Engine, issuer: opts.Issuer, metrics: opts.Metrics, log: opts.Logger,
		runs: map[int64]context.CancelCauseFunc{}, limits: newLimiters(opts.RateLimits),
	}
	s.bg, s.stopBG = context.WithCancelCause(context.Background())
	if opts.ReadModel {
		m, err := catalog.New(opts.DB, catalog.Options{Encode: encodeProductItem, Logger: opts.Logger})
		if err != nil {
			return nil, err
		}
		if err := m.Start(s.bg); err != nil {
			return nil, fmt.Errorf("start the product list model: %w", err)
		}
		s.model = m
	}
	s.routes()
	return s, nil
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.router }

// ReadModel returns the product list's read model, nil unless
// Options.ReadModel.
func (s *Server) ReadModel() *catalog.Model { return s.model }

// OpenAPI returns the generated OpenAPI 3.1 document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

// ErrShutdown is the cause of the cancellation of syncs still running when
// the server shuts down.
var ErrShutdown = errors.New("the server is shutting down")

// Shutdown cancels the syncs the API started (each records itself
// cancelled, resumable from its checkpoint) and waits for them until ctx
// ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closedMu.Lock()
	s.closed = true
	s.closedMu.Unlock()
	s.stopBG(ErrShutdown)
	if s.model != nil {
		s.model.Close()
	}
	done := make(chan struct{})
	go func() {
		s.syncs.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for syncs to stop: %w", ctx.Err())
	}
}

func (s *Server) routes() {
	r := chi.NewRouter()
	r.Use(s.recoverer, s.metrics.Middleware(routePattern), s.cors, s.rateLimit)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.UI != nil && !strings.HasPrefix(r.URL.Path, "/api/") {
			s.opts.UI.ServeHTTP(w, r)
			return
		}
		writeProblem(w, newProblem(http.StatusNotFound, fmt.Sprintf("no route %s %s: see /docs for the API", r.Method, r.URL.Path)))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, newProblem(http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s: see /docs for the API", r.Method, r.URL.Path)))
	})

	cfg := huma.DefaultConfig("MagFlow API", s.opts.Version)
	cfg.Info.Description = "The MagFlow eMAG Marketplace connector: sync products, offers and orders of your eMAG seller accounts, " +
		"browse them, follow syncs live and export backups. Log in with POST /api/v1/auth/login and send the access token as " +
		"`Authorization: Bearer <token>`."
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath = "", "", ""
	cfg.CreateHooks = nil // no $schema links in bodies
	cfg.RejectUnknownQueryParameters = true
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
	}
	s.api = humachi.New(r, cfg)
	s.api.UseMiddleware(s.authorize)

	s.registerAuth()
	s.registerHealth()
	s.registerAccounts()
	s.registerCatalog()
	s.registerOrders()
	s.registerSync()
	s.registerRuns()
	s.registerStatus()
	s.registerExport()
	s.registerProgress()
	s.registerOfferWrites()
	s.registerCallbacks(r)

	r.With(s.requireUser).Get("/metrics", s.metrics.Handler().ServeHTTP)
	r.With(s.requireUser).Get("/openapi.json", s.serveOpenAPI)
	s.registerDocs(r)
	if s.opts.UI != nil {
		r.Get("/", s.opts.UI.ServeHTTP)
		r.Get("/assets/*", s.opts.UI.ServeHTTP)
	}
	s.router = r
}

// routePattern names the matched route for metrics.
func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		return rc.RoutePattern()
	}
	return ""
}

// tracked registers a running sync's cancel func under its run id.
func (s *Server) track(runID int64, cancel context.CancelCauseFunc) {
	s.runsMu.Lock()
	s.runs[runID] = cancel
	s.runsMu.Unlock()
}

func (s *Server) untrack(runID int64) {
	s.runsMu.Lock()
	delete(s.runs, runID)
	s.runsMu.Unlock()
}

// cancelRun cancels a run this process started; false when it did not.
func (s *Server) cancelRun(runID int64, cause error) bool {
	s.runsMu.Lock()
	cancel, ok := s.runs[runID]
	s.runsMu.Unlock()
	if ok {
		cancel(cause)
	}
	return ok
}
