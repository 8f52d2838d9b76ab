package emag

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/magflow/magflow/internal/ratelimit"
)

// Options configure a Client. Zero values get defaults where noted.
type Options struct {
	// Account names the seller account in errors, logs and hooks.
	Account string
	// BaseURL is the platform's MARKETPLACE_API_URL, ending in /api-3
	// (https://marketplace-api.emag.ro/api-3, or a sandbox). AWB labels
	// are served at its host root, without /api-3.
	BaseURL string
	// Username and Password are the account's API credentials (HTTP Basic).
	Username, Password string
	// HTTPClient sends the requests; nil means a client with sane timeouts.
	HTTPClient *http.Client
	// Limiter paces requests per bucket; it is asked before every attempt,
	// retries included. nil means no pacing.
	Limiter ratelimit.Waiter
	// MinSpacing is an optional minimum gap between two requests of this
	// client (EMAG_<NAME>_DELAY).
	MinSpacing time.Duration
	// AttemptTimeout bounds one attempt (request and body); default 60s.
	AttemptTimeout time.Duration
	// Retry bounds retries.
	Retry RetryPolicy
	// Hooks receive metrics events.
	Hooks Hooks
	// Logger receives debug lines per request and alerts; nil discards.
	Logger *slog.Logger
	// WrapData sends {"data": payload} instead of the raw JSON payload.
	WrapData bool
	// Location is the platform's wall-clock zone for date filters and the
	// dates eMAG returns; default Europe/Bucharest (UTC if unavailable).
	Location *time.Location
	// UserAgent is sent on every request; default "magflow".
	UserAgent string
}

// RetryPolicy bounds retries. Zero fields get defaults.
type RetryPolicy struct {
	// MaxAttempts counts every attempt, the first included; default 5.
	MaxAttempts int
	// BaseDelay is the first backoff ceiling; default 1s. It doubles per
	// retry up to MaxDelay (default 30s); the actual delay is drawn
	// uniformly from [0, ceiling] (full jitter).
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// MaxElapsed bounds the time from the first attempt to the start of
	// the last; default 2m. A retry whose delay would cross it is not made.
	MaxElapsed time.Duration
	// Jitter draws the actual delay from a ceiling; default uniform in
	// [0, ceiling]. Tests pass an identity for exact schedules.
	Jitter func(ceiling time.Duration) time.Duration
}

// Client calls one eMAG seller account's API. It is safe for concurrent use.
type Client struct {
	opts  Options
	base  string // BaseURL without trailing slash
	root  string // scheme://host[/prefix] without /api-3, for labels
	auth  string // the Authorization header value; never logged
	b64   string // the base64 token alone, for redaction
	http  *http.Client
	log   *slog.Logger
	retry RetryPolicy
	loc   *time.Location

	spacingMu sync.Mutex
	nextSlot  time.Time
}

var defaultLocation = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Bucharest")
	if err != nil {
		return time.UTC
	}
	return loc
}()

// New validates opts and returns a client. Errors name the field at fault.
func New(opts Options) (*Client, error) {
	var problems []string
	if strings.TrimSpace(opts.Username) == "" {
		problems = append(problems, "Username: empty; set the account's API username")
	}
	if opts.Password == "" {
		problems = append(problems, "Password: empty; set the account's API password")
	}
	u, err := url.Parse(opts.BaseURL)
	switch {
	case opts.BaseURL == "":
		problems = append(problems, "BaseURL: empty; use the platform's API URL, e.g. https://marketplace-api.emag.ro/api-3")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		problems = append(problems, fmt.Sprintf("BaseURL: %q is not an http(s) URL", opts.BaseURL))
	case u.User != nil:
		problems = append(problems, "BaseURL: must not carry credentials; use Username and Password")
	case u.RawQuery != "" || u.Fragment != "":
		problems = append(problems, "BaseURL: must not have a query or fragment")
	}
	if opts.MinSpacing < 0 {
		problems = append(problems, "MinSpacing: negative")
	}
	if opts.AttemptTimeout < 0 {
		problems = append(problems, "AttemptTimeout: negative")
	}
	r := opts.Retry
	if r.MaxAttempts < 0 || r.BaseDelay < 0 || r.MaxDelay < 0 || r.MaxElapsed < 0 {
		problems = append(problems, "Retry: negative bound")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("emag client %q: %s", opts.Account, strings.Join(problems, "; "))
	}
	r.MaxAttempts = cmp.Or(r.MaxAttempts, 5)
	r.BaseDelay = cmp.Or(r.BaseDelay, time.Second)
	r.MaxDelay = cmp.Or(r.MaxDelay, 30*time.Second)
	r.MaxElapsed = cmp.Or(r.MaxElapsed, 2*time.Minute)
	if r.Jitter == nil {
		r.Jitter = func(d time.Duration) time.Duration {
			if d <= 0 {
				return 0
			}
			return rand.N(d + 1)
		}
	}
	opts.AttemptTimeout = cmp.Or(opts.AttemptTimeout, 60*time.Second)
	opts.UserAgent = cmp.Or(opts.UserAgent, "magflow")
	if opts.Location == nil {
		opts.Location = defaultLocation
	}
	base := strings.TrimRight(opts.BaseURL, "/")
	root := strings.TrimSuffix(base, "/api-3")
	token := base64.StdEncoding.EncodeToString([]byte(opts.Username + ":" + opts.Password))
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 2 * opts.AttemptTimeout}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{
		opts: opts, base: base, root: root, auth: "Basic " + token, b64: token,
		http: hc, log: log.With("account", opts.Account), retry: r, loc: opts.Location,
	}, nil
}

// Account returns the account name the client was built with.
func (c *Client) Account() string { return c.opts.Account }

// Location returns the platform zone used for dates.
func (c *Client) Location() *time.Location { return c.loc }

// redact removes the password and the Authorization token from s.
func (c *Client) redact(s string) string {
	if c.opts.Password != "" && strings.Contains(s, c.opts.Password) {
		s = strings.ReplaceAll(s, c.opts.Password, "[REDACTED]")
	}
	if strings.Contains(s, c.b64) {
		s = strings.ReplaceAll(s, c.b64, "[REDACTED]")
	}
	return s
}

// scrub redacts every text of e that came from the server.
func (c *Client) scrub(e *Error) {
	for i, m := range e.Messages {
		e.Messages[i] = c.redact(m)
	}
	for i := range e.Items {
		e.Items[i].Field = c.redact(e.Items[i].Field)
		for j, m := range e.Items[i].Messages {
			e.Items[i].Messages[j] = c.redact(m)
		}
	}
	e.Err = c.redactErr(e.Err)
}

// redactedError carries a redacted message for a transport error while
// keeping the original for errors.Is/As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (c *Client) redactErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if r := c.redact(msg); r != msg {
		return &redactedError{msg: r, err: err}
	}
	return err
}

// bucketFor maps a route to its rate-limit bucket.
func bucketFor(route string) ratelimit.Bucket {
	switch {
	case strings.HasPrefix(route, "order/") || route == "order":
		return ratelimit.Orders
	case strings.HasPrefix(route, "documentation/find_by_eans"):
		return ratelimit.EAN
	}
	return ratelimit.Other
}

// call is one logical request.
type call struct {
	method string
	route  string // for errors, hooks and the URL path under base
	url    string // full URL
	body   []byte
	ctype  string
	write  bool // not idempotent: retry only when it cannot have been applied
	// check inspects a 2xx answer; a retryable error (truncated body on a
	// read) makes the client try again.
	check func(resp *response) error
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// granter is a limiter that hears when the request it granted was sent
// (ratelimit.Local): eMAG counts arrivals, not grants.
type granter interface {
	WaitGrant(ctx context.Context, b ratelimit.Bucket) (ratelimit.Grant, error)
}

// wait asks the limiter and the spacing gate for permission. It returns
// what to call when the request has been written, or nil.
func (c *Client) wait(ctx context.Context, cl *call, bucket ratelimit.Bucket, attempt int) (sent func(time.Time), err error) {
	start := time.Now()
	if g, ok := c.opts.Limiter.(granter); ok {
		grant, err := g.WaitGrant(ctx, bucket)
		if err != nil {
			return nil, err
		}
		sent = grant.Sent
	} else if c.opts.Limiter != nil {
		if err := c.opts.Limiter.Wait(ctx, bucket); err != nil {
			return nil, err
		}
	}
	if c.opts.MinSpacing > 0 {
		c.spacingMu.Lock()
		now := time.Now()
		slot := c.nextSlot
		if slot.Before(now) {
			slot = now
		}
		c.nextSlot = slot.Add(c.opts.MinSpacing)
		c.spacingMu.Unlock()
		if d := slot.Sub(now); d > 0 {
			if err := sleep(ctx, d); err != nil {
				return nil, err
			}
		}
	}
	if waited := time.Since(start); waited > 0 && c.opts.Hooks.Wait != nil {
		c.opts.Hooks.Wait(WaitEvent{Account: c.opts.Account, Bucket: bucket, Route: cl.route, Attempt: attempt, Waited: waited})
	}
	return sent, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// do runs cl with pacing, retries, hooks and classification.
func (c *Client) do(ctx context.Context, cl *call) (*response, error) {
	bucket := bucketFor(cl.route)
	first := time.Now()
	for attempt := 1; ; attempt++ {
		sent, err := c.wait(ctx, cl, bucket, attempt)
		if err != nil {
			return nil, fmt.Errorf("emag %s %s: wait for rate limit: %w", c.opts.Account, cl.route, err)
		}
		start := time.Now()
		resp, eerr := c.once(ctx, cl, sent)
		if eerr == nil && cl.check != nil {
			if err := cl.check(resp); err != nil {
				var e *Error
				if !errors.As(err, &e) {
					e = &Error{Kind: KindDecode, Status: resp.status, Err: err}
				}
				eerr = e
			}
		}
		dur := time.Since(start)
		status := 0
		if resp != nil {
			status = resp.status
		}
		if eerr != nil && eerr.Status != 0 {
			status = eerr.Status
		}
		if h := c.opts.Hooks.Request; h != nil {
			ev := RequestEvent{Account: c.opts.Account, Bucket: bucket, Route: cl.route, Method: cl.method, Status: status, Duration: dur, Attempt: attempt}
			if eerr != nil {
				ev.ErrKind = eerr.Kind
			}
			h(ev)
		}
		c.log.LogAttrs(ctx, slog.LevelDebug, "emag request", slog.String("route", cl.route), slog.String("method", cl.method),
			slog.Int("status", status), slog.Duration("duration", dur), slog.Int("attempt", attempt))
		if eerr == nil {
			return resp, nil
		}
		eerr.Account, eerr.Route, eerr.Attempts = c.opts.Account, cl.route, attempt
		c.scrub(eerr)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("emag %s %s: %w", c.opts.Account, cl.route, ctx.Err())
		}
		if !c.retryable(eerr, cl.write) || attempt >= c.retry.MaxAttempts {
			c.finish(ctx, eerr, cl)
			return nil, eerr
		}
		delay := c.backoff(attempt, eerr)
		if time.Since(first)+delay > c.retry.MaxElapsed {
			c.finish(ctx, eerr, cl)
			return nil, eerr
		}
		if h := c.opts.Hooks.Retry; h != nil {
			h(RetryEvent{Account: c.opts.Account, Bucket: bucket, Route: cl.route, Attempt: attempt, Status: status, ErrKind: eerr.Kind, Delay: delay})
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "emag retry", slog.String("route", cl.route), slog.Int("attempt", attempt),
			slog.String("kind", string(eerr.Kind)), slog.Int("status", status), slog.Duration("delay", delay))
		if err := sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("emag %s %s: backoff: %w", c.opts.Account, cl.route, err)
		}
	}
}

// finish marks write outcomes and raises alerts for a final error.
func (c *Client) finish(ctx context.Context, e *Error, cl *call) {
	if cl.write && (e.Kind == KindUnavailable && !e.unreachable || e.Kind == KindDecode) {
		e.maybeApplied = true
	}
	switch e.Kind {
	case KindNonJSON, KindIPNotWhitelisted, KindAuth:
		c.alert(ctx, e)
	}
}

// alert logs an alert and calls the Alert hook.
func (c *Client) alert(ctx context.Context, e *Error) {
	msg := strings.Join(e.Messages, "; ")
	c.log.LogAttrs(ctx, slog.LevelError, "emag alert", slog.String("route", e.Route), slog.String("kind", string(e.Kind)),
		slog.Int("status", e.Status), slog.String("message", truncate(msg, 300)), slog.String("remedy", e.Remedy()))
	if h := c.opts.Hooks.Alert; h != nil {
		h(AlertEvent{Account: c.opts.Account, Route: e.Route, Kind: e.Kind, Status: e.Status, Message: truncate(msg, 300), Remedy: e.Remedy()})
	}
}

// retryable decides whether another attempt is allowed for e.
func (c *Client) retryable(e *Error, write bool) bool {
	switch e.Kind {
	case KindRateLimited:
		return true
	case KindUnavailable:
		return !write || e.unreachable
	case KindDecode:
		// A truncated body on a read: the next attempt may arrive whole.
		return !write && e.timeout
	}
	return false
}

// backoff returns the delay before attempt+1.
func (c *Client) backoff(attempt int, e *Error) time.Duration {
	if e.Kind == KindRateLimited && e.RetryAfter > 0 {
		return e.RetryAfter
	}
	ceiling := c.retry.BaseDelay
	for i := 1; i < attempt && ceiling < c.retry.MaxDelay; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, c.retry.MaxDelay)
	d := c.retry.Jitter(ceiling)
	if e.Kind == KindRateLimited {
		// eMAG counts per second: waiting less than a second is wasted.
		d = max(d, time.Second)
	}
	return d
}

// once sends one attempt and classifies transport and status failures;
// sent, when not nil, hears the moment the request was written.
func (c *Client) once(ctx context.Context, cl *call, sent func(time.Time)) (*response, *Error) {
	actx, cancel := context.WithTimeout(ctx, c.opts.AttemptTimeout)
	defer cancel()
	if sent != nil {
		actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { sent(time.Now()) },
		})
	}
	var body io.Reader
	if cl.body != nil {
		body = strings.NewReader(string(cl.body))
	}
	req, err := http.NewRequestWithContext(actx, cl.method, cl.url, body)
	if err != nil {
		return nil, &Error{Kind: KindValidation, Err: c.redactErr(err)}
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if cl.body != nil {
		req.Header.Set("Content-Type", cmp.Or(cl.ctype, "application/json"))
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	defer res.Body.Close()
	data, rerr := readBody(res, maxBody)
	resp := &response{status: res.StatusCode, header: res.Header, body: data}
	if rerr != nil {
		e := c.transportError(ctx, rerr)
		e.Status = res.StatusCode
		if res.StatusCode < 300 {
			// The answer arrived but was cut short: a truncated body.
			e.Kind, e.timeout = KindDecode, true
		}
		return resp, e
	}
	if e := c.classifyStatus(resp); e != nil {
		return resp, e
	}
	return resp, nil
}

// transportError classifies an error from the round trip.
func (c *Client) transportError(ctx context.Context, err error) *Error {
	e := &Error{Kind: KindUnavailable, Err: c.redactErr(err)}
	if ctx.Err() != nil {
		return e
	}
	e.unreachable = isDialError(err)
	e.timeout = !e.unreachable
	return e
}

// classifyStatus turns non-2xx answers into errors. 2xx bodies are left to
// the route's decoder.
func (c *Client) classifyStatus(r *response) *Error {
	if r.status >= 200 && r.status < 300 {
		return nil
	}
	e := &Error{Status: r.status}
	env, jsonErr := decodeEnvelope(r.body)
	if jsonErr == nil {
		e.Messages = env.Messages
		e.Items = env.fieldErrors()
	} else if len(trim(r.body)) > 0 {
		e.Messages = []string{c.redact(snippet(r.body))}
	}
	switch {
	case r.status == http.StatusTooManyRequests:
		e.Kind = KindRateLimited
		e.RetryAfter = retryAfter(r.header)
	case r.status == 500 || r.status == 502 || r.status == 503 || r.status == 504:
		e.Kind = KindUnavailable
	case r.status >= 500:
		e.Kind = KindUnavailable
	case jsonErr != nil:
		e.Kind = KindNonJSON
		if r.status == http.StatusNotFound {
			e.Kind = KindNotFound
		}
	default:
		e.Kind = classifyMessages(env.Messages)
		if e.Kind == KindAPI {
			switch r.status {
			case http.StatusUnauthorized, http.StatusForbidden:
				e.Kind = KindAuth
			case http.StatusNotFound:
				e.Kind = KindNotFound
			}
		}
	}
	return e
}

// classifyMessages spots the two eMAG messages that are not business errors.
func classifyMessages(msgs []string) Kind {
	for _, m := range msgs {
		switch {
		case strings.Contains(m, "Invalid vendor ip"):
			return KindIPNotWhitelisted
		case strings.Contains(m, "You are not allowed to use this API"):
			return KindAuth
		}
	}
	return KindAPI
}

// snippet returns a short printable excerpt of a non-JSON body.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if t := titleOf(s); t != "" {
		return "HTML page: " + truncate(t, 120)
	}
	return truncate(s, 200)
}

func titleOf(s string) string {
	low := strings.ToLower(s)
	i := strings.Index(low, "<title>")
	if i < 0 {
		return ""
	}
	j := strings.Index(low[i:], "</title>")
	if j < 0 {
		return ""
	}
	return strings.TrimSpace(s[i+len("<title>") : i+j])
}

// maxBody is the largest answer the client reads: a full page of
// product_offer/read is about 300 KB.
const maxBody = 64 << 20

// readBody reads an answer of at most limit bytes into a buffer sized by its
// Content-Length when the server sent one (io.ReadAll grows its buffer by
// doubling, leaving about as much garbage as the answer on every page).
func readBody(res *http.Response, limit int64) ([]byte, error) {
	r := io.LimitReader(res.Body, limit)
	if n := res.ContentLength; n > 0 && n <= limit {
		// net/http ends a body at its Content-Length, and reports one cut
		// short as io.ErrUnexpectedEOF, as io.ReadFull does.
		buf := make([]byte, n)
		m, err := io.ReadFull(r, buf)
		return buf[:m], err
	}
	return io.ReadAll(r)
}
