// Package metrics holds MagFlow's Prometheus collectors in a private
// registry (never the global one): eMAG requests, errors, latency, rate
// limiter waits, 429s and alerts per account and bucket; items synced per
// stream and outcome, run outcomes and durations; and the HTTP API's own
// request metrics. It imports no storage or HTTP-serving package of ours:
// internal/app feeds it from the eMAG client's hooks and the sync engine's
// results, and internal/httpapi wraps its router with Middleware.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
)

// Metrics is one set of collectors and the registry that holds them.
type Metrics struct {
	reg *prometheus.Registry

	emagRequests   *prometheus.CounterVec
	emagErrors     *prometheus.CounterVec
	emagLatency    *prometheus.HistogramVec
	emagWaits      *prometheus.HistogramVec
	emagThrottled  *prometheus.CounterVec
	emagRetries    *prometheus.CounterVec
	emagAlerts     *prometheus.CounterVec
	syncItems      *prometheus.CounterVec
	syncRuns       *prometheus.CounterVec
	syncDuration   *prometheus.HistogramVec
	syncLastStatus *prometheus.GaugeVec
	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
	httpInFlight   prometheus.Gauge
}

// New returns collectors registered in a new private registry, with the Go
// runtime and process collectors beside them.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	latency := []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

	m.emagRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "magflow_emag_requests_total",
		Help: "eMAG API attempts (retries included) per account, rate-limit bucket and HTTP status class (0xx: no answer)."},
		[]string{"account", "bucket", "code"})
	m.emagErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "magflow_emag_request_errors_total",
		Help: "Failed eMAG API attempts per account, bucket and error kind."}, []string{"account", "bucket", "kind"})
	m.emagLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "magflow_emag_request_duration_seconds",
		Help: "Duration of eMAG API attempts per account and bucket.", Buckets: latency}, []string{"account", "bucket"})
	m.emagWaits = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "magflow_emag_ratelimit_wait_seconds",
		Help:    "Time requests waited for the account's rate limiter (or its minimum spacing) per bucket.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60}}, []string{"account", "bucket"})
	m.emagThrottled = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "magflow_emag_throttled_total",
		Help: "HTTP 429 answers from eMAG per account and bucket."}, []string{"account", "bucket"})
	m.emagRetries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "magflow_emag_retries_total",
		Help: "Retried eMAG attempts per account and bucket."}, []string{"account", "bucket"})
	m.emagAlerts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "magflow_emag_alerts_total",
		Help: "Failures a human must see, per account and kind: non_json (captcha or HTML page), ip_not_whitelisted, auth."},
		[]string{"account", "kind"})
	m.syncItems = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "magflow_sync_items_total",
		Help: "Items synced per account, stream and outcome (inserted, updated, unchanged, gone)."}, []string{"account", "stream", "outcome"})
	m.syncRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "magflow_sync_runs_total",
		Help: "Finished sync runs per account, stream and status; success rate = completed / all."}, []string{"account", "stream", "status"})
	m.syncDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "magflow_sync_run_duration_seconds",
		Help: "Duration of finished sync runs per account, stream and status.", Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200}},
		[]string{"account", "stream", "status"})
	m.syncLastStatus = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "magflow_sync_last_run_success",
		Help: "1 when the last finished run of the account and stream completed, 0 otherwise."}, []string{"account", "stream"})
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "magflow_http_requests_total",
		Help: "HTTP API requests per method, route pattern and status code."}, []string{"method", "route", "code"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "magflow_http_request_duration_seconds",
		Help:    "HTTP API request durations per method and route pattern (streams included).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}}, []string{"method", "route"})
	m.httpInFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "magflow_http_requests_in_flight",
		Help: "HTTP API requests being served (open progress streams included)."})
	for _, c := range []prometheus.Collector{m.emagRequests, m.emagErrors, m.emagLatency, m.emagWaits, m.emagThrottled,
		m.emagRetries, m.emagAlerts, m.syncItems, m.syncRuns, m.syncDuration, m.syncLastStatus, m.httpRequests,
		m.httpDuration, m.httpInFlight} {
		f(c)
	}
	return m
}

// Registry returns the private registry (for tests and extra collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// EMAGHooks returns eMAG client hooks that feed the eMAG collectors.
// Combine them with other hooks (syncer.RequestStats.Hooks) with
// CombineHooks.
func (m *Metrics) EMAGHooks() emag.Hooks {
	return emag.Hooks{
		Request: func(ev emag.RequestEvent) {
			b := string(ev.Bucket)
			m.emagRequests.WithLabelValues(ev.Account, b, statusClass(ev.Status)).Inc()
			m.emagLatency.WithLabelValues(ev.Account, b).Observe(ev.Duration.Seconds())
			if ev.ErrKind != "" {
				m.emagErrors.WithLabelValues(ev.Account, b, string(ev.ErrKind)).Inc()
			}
			if ev.Status == http.StatusTooManyRequests {
				m.emagThrottled.WithLabelValues(ev.Account, b).Inc()
			}
		},
		Retry: func(ev emag.RetryEvent) { m.emagRetries.WithLabelValues(ev.Account, string(ev.Bucket)).Inc() },
		Wait: func(ev emag.WaitEvent) {
			m.emagWaits.WithLabelValues(ev.Account, string(ev.Bucket)).Observe(ev.Waited.Seconds())
		},
		Alert: func(ev emag.AlertEvent) { m.emagAlerts.WithLabelValues(ev.Account, string(ev.Kind)).Inc() },
	}
}

func statusClass(status int) string {
	if status <= 0 || status > 599 {
		return "0xx"
	}
	return strconv.Itoa(status/100) + "xx"
}

// CombineHooks returns hooks that call every non-nil hook of hs in order.
func CombineHooks(hs ...emag.Hooks) emag.Hooks {
	var out emag.Hooks
	for _, h := range hs {
		if f, prev := h.Request, out.Request; f != nil {
			out.Request = func(ev emag.RequestEvent) {
				if prev != nil {
					prev(ev)
				}
				f(ev)
			}
		}
		if f, prev := h.Retry, out.Retry; f != nil {
			out.Retry = func(ev emag.RetryEvent) {
				if prev != nil {
					prev(ev)
				}
				f(ev)
			}
		}
		if f, prev := h.Wait, out.Wait; f != nil {
			out.Wait = func(ev emag.WaitEvent) {
				if prev != nil {
					prev(ev)
				}
				f(ev)
			}
		}
		if f, prev := h.Alert, out.Alert; f != nil {
			out.Alert = func(ev emag.AlertEvent) {
				if prev != nil {
					prev(ev)
				}
				f(ev)
			}
		}
	}
	return out
}

// ObserveRun records one finished sync run: its items by outcome, its
// status and its duration.
func (m *Metrics) ObserveRun(account string, stream magflow.Stream, status magflow.RunStatus, c magflow.RunCounters, d time.Duration) {
	s := string(stream)
	for outcome, n := range map[string]int{"inserted": c.Inserted, "updated": c.Updated, "unchanged": c.Unchanged, "gone": c.Gone} {
		if n > 0 {
			m.syncItems.WithLabelValues(account, s, outcome).Add(float64(n))
		}
	}
	m.syncRuns.WithLabelValues(account, s, string(status)).Inc()
	m.syncDuration.WithLabelValues(account, s, string(status)).Observe(d.Seconds())
	ok := 0.0
	if status == magflow.RunCompleted {
		ok = 1
	}
	m.syncLastStatus.WithLabelValues(account, s).Set(ok)
}

// Middleware records HTTP API metrics. route names the matched route
// pattern once the request has been served (chi's RoutePattern); an empty
// pattern is recorded as "unmatched" so that scanners cannot blow up the
// label space.
func (m *Metrics) Middleware(route func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			m.httpInFlight.Inc()
			defer m.httpInFlight.Dec()
			sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
			next.ServeHTTP(sw, r)
			rt := route(r)
			if rt == "" {
				rt = "unmatched"
			}
			m.httpRequests.WithLabelValues(r.Method, rt, strconv.Itoa(sw.status)).Inc()
			m.httpDuration.WithLabelValues(r.Method, rt).Observe(time.Since(start).Seconds())
		})
	}
}

// statusWriter remembers the status code; Unwrap keeps
// http.ResponseController (flush, deadlines) working through it.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Flush lets streams through the wrapper.
func (w *statusWriter) Flush() {
	w.wroteHeader = true
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
