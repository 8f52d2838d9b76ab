package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/time/rate"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/auth"
	"github.com/magflow/magflow/internal/catalog"
	"github.com/magflow/magflow/internal/sqldb"
)

// Principal is the authenticated user of a request.
type Principal struct {
	UserID   int64
	Username string
	Role     string
}

// CanOperate reports whether the user may start syncs and change schedules.
func (p *Principal) CanOperate() bool { return p != nil && p.Role == sqldb.RoleOperator }

type principalKey struct{}

// PrincipalFrom returns the request's authenticated user, nil when none.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Operation metadata keys.
const (
	metaPublic     = "public"     // no token needed
	metaOperator   = "operator"   // the operator role is needed
	metaQueryToken = "queryToken" // ?access_token= accepted (EventSource, download links)
)

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(h string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// authenticate verifies the access token and checks, on every request, that
// the user still exists, is enabled and has not changed password since the
// token was issued. The role comes from the database, so a role change
// applies at once.
func (s *Server) authenticate(ctx context.Context, header, queryToken string) (*Principal, error) {
	tok := bearer(header)
	if tok == "" {
		tok = queryToken
	}
	if tok == "" {
		return nil, &magflow.Error{Code: magflow.EUnauthorized,
			Message: "authentication required: log in with POST /api/v1/auth/login and send `Authorization: Bearer <access_token>`"}
	}
	c, err := s.issuer.Verify(tok, auth.KindAccess)
	if err != nil {
		return nil, err
	}
	return s.checkUser(ctx, c)
}

func (s *Server) checkUser(ctx context.Context, c *auth.Claims) (*Principal, error) {
	u, err := s.user(ctx, c.UserID())
	if magflow.ErrorCode(err) == magflow.ENotFound {
		return nil, &magflow.Error{Code: magflow.EUnauthorized, Message: "the token's user no longer exists: log in again"}
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, &magflow.Error{Code: magflow.EUnauthorized, Message: "this user is disabled: ask an administrator (magflow user enable)"}
	}
	if u.passwordVersion != c.PasswordVersion {
		return nil, &magflow.Error{Code: magflow.EUnauthorized, Message: "the password changed since this token was issued: log in again"}
	}
	return &Principal{UserID: u.ID, Username: u.Username, Role: u.Role}, nil
}

// cachedUser is a user as the cache keeps it.
type cachedUser struct {
	sqldb.User
	passwordVersion string
	version         int64 // the users' change counter it was read under
}

// userCache keeps the users requests authenticate as, between changes of
// the users table (see catalog.Model.UsersVersion): a disabled user, a
// changed password or role applies at the next request, from any process.
type userCache struct {
	mu sync.Mutex
	m  map[int64]*cachedUser
}

// user returns the user id: from the cache while no user changed since it
// was read (read model on), else from the database.
func (s *Server) user(ctx context.Context, id int64) (*cachedUser, error) {
	var v int64
	ok := false
	if s.model != nil {
		v, ok = s.model.UsersVersion(ctx)
	}
	if ok {
		s.users.mu.Lock()
		cu := s.users.m[id]
		s.users.mu.Unlock()
		if cu != nil && cu.version == v {
			return cu, nil
		}
	}
	u, err := s.db.GetUserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	cu := &cachedUser{User: u, passwordVersion: auth.PasswordVersion(u.PasswordHash), version: v}
	if ok {
		// v was read before the user: a change after it moves the counter.
		s.users.mu.Lock()
		if s.users.m == nil || len(s.users.m) > 10000 {
			s.users.m = map[int64]*cachedUser{}
		}
		s.users.m[id] = cu
		s.users.mu.Unlock()
	}
	return cu, nil
}

func unauthorized(p *Problem) *Problem {
	if p.Status == http.StatusUnauthorized {
		p.headers = http.Header{"WWW-Authenticate": []string{`Bearer realm="magflow"`}}
	}
	return p
}

// authorize is the huma middleware that enforces authentication and roles
// from each operation's metadata.
func (s *Server) authorize(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	if op.Metadata[metaPublic] == true {
		next(ctx)
		return
	}
	q := ""
	if op.Metadata[metaQueryToken] == true {
		q = ctx.Query("access_token")
	}
	if s.model != nil {
		// One read of the change counters serves the user check and the
		// product list.
		ctx = huma.WithContext(ctx, catalog.WithMemo(ctx.Context()))
	}
	p, err := s.authenticate(ctx.Context(), ctx.Header("Authorization"), q)
	if err != nil {
		writeHumaProblem(ctx, unauthorized(problemOf(err, s.log)))
		return
	}
	if op.Metadata[metaOperator] == true && !p.CanOperate() {
		writeHumaProblem(ctx, problemOf(&magflow.Error{Code: magflow.EForbidden,
			Message: fmt.Sprintf("user %q has the %s role; %s %s needs the operator role (magflow user create --role operator)", p.Username, p.Role, op.Method, op.Path)}, s.log))
		return
	}
	next(huma.WithValue(ctx, principalKey{}, p))
}

// requireUser is authorize for plain chi handlers (/metrics, /openapi.json).
func (s *Server) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r.Context(), r.Header.Get("Authorization"), "")
		if err != nil {
			writeProblem(w, unauthorized(problemOf(err, s.log)))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

func writeHumaProblem(ctx huma.Context, p *Problem) {
	for k, vs := range p.headers {
		for _, v := range vs {
			ctx.AppendHeader(k, v)
		}
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetHeader("Cache-Control", "no-store")
	ctx.SetStatus(p.Status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(p)
}

// recoverer answers a panic with a 500 problem and logs the stack.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving a request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeProblem(w, newProblem(http.StatusInternalServerError, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// cors answers browsers from the configured origins only; others get no
// CORS headers (and a 403 on preflight).
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Add("Vary", "Origin")
		allowed := slices.ContainsFunc(s.opts.CORSOrigins, func(o string) bool { return o == "*" || strings.EqualFold(strings.TrimRight(o, "/"), origin) })
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if !allowed {
			if preflight {
				writeProblem(w, newProblem(http.StatusForbidden, fmt.Sprintf("origin %q is not allowed: add it to MAGFLOW_CORS_ORIGINS", origin)))
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Expose-Headers", "Location, Retry-After, Content-Disposition")
		if preflight {
			w.Header().Add("Vary", "Access-Control-Request-Method")
			w.Header().Add("Vary", "Access-Control-Request-Headers")
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Last-Event-ID")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limiters keeps one token bucket per client IP for the API and one for
// logins, forgetting idle clients.
type limiters struct {
	cfg   RateLimits
	mu    sync.Mutex
	api   map[string]*clientLimiter
	login map[string]*clientLimiter
	sweep time.Time
}

type clientLimiter struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiters(cfg RateLimits) *limiters {
	if cfg.APIPerSecond <= 0 {
		cfg.APIPerSecond = 50
	}
	if cfg.APIBurst <= 0 {
		cfg.APIBurst = 100
	}
	if cfg.LoginPerMinute <= 0 {
		cfg.LoginPerMinute = 10
	}
	if cfg.LoginBurst <= 0 {
		cfg.LoginBurst = 5
	}
	return &limiters{cfg: cfg, api: map[string]*clientLimiter{}, login: map[string]*clientLimiter{}}
}

// allow takes one token of ip's bucket; when none is left it returns how
// long to wait.
func (l *limiters) allow(m map[string]*clientLimiter, ip string, r rate.Limit, burst int, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	if now.Sub(l.sweep) > time.Minute {
		l.sweep = now
		for _, mm := range []map[string]*clientLimiter{l.api, l.login} {
			for k, c := range mm {
				if now.Sub(c.seen) > 10*time.Minute {
					delete(mm, k)
				}
			}
		}
	}
	c := m[ip]
	if c == nil {
		c = &clientLimiter{lim: rate.NewLimiter(r, burst)}
		m[ip] = c
	}
	c.seen = now
	l.mu.Unlock()
	res := c.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// rateLimit answers 429 with Retry-After once a client exceeds its budget.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := s.limits
		if l.cfg.Disabled || r.URL.Path == "/health" || r.URL.Path == "/ready" || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		ip, now := clientIP(r), time.Now()
		ok, wait := l.allow(l.api, ip, rate.Limit(l.cfg.APIPerSecond), l.cfg.APIBurst, now)
		what := "API requests"
		if ok && r.Method == http.MethodPost && (r.URL.Path == "/api/v1/auth/login" || r.URL.Path == "/api/v1/auth/refresh") {
			ok, wait = l.allow(l.login, ip, rate.Limit(l.cfg.LoginPerMinute/60), l.cfg.LoginBurst, now)
			what = "login attempts"
		}
		if !ok {
			secs := int(math.Ceil(wait.Seconds()))
			p := newProblem(http.StatusTooManyRequests, fmt.Sprintf("too many %s from %s: retry in %d s", what, ip, secs))
			p.headers = http.Header{"Retry-After": []string{strconv.Itoa(secs)}}
			writeProblem(w, p)
			return
		}
		next.ServeHTTP(w, r)
	})
}
