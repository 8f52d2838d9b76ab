package emag

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/magflow/magflow/internal/ratelimit"
)

// Hooks receive events for metrics without the client importing a metrics
// library. Every hook is optional and must not block.
type Hooks struct {
	// Request is called after every attempt, failed or not.
	Request func(RequestEvent)
	// Retry is called before the client sleeps for another attempt.
	Retry func(RetryEvent)
	// Wait is called when the limiter or MinSpacing held an attempt back.
	Wait func(WaitEvent)
	// Alert is called for failures a human must see: an HTML or captcha
	// page where JSON was expected, an IP not whitelisted, bad credentials.
	Alert func(AlertEvent)
}

// RequestEvent describes one attempt.
type RequestEvent struct {
	Account  string
	Bucket   ratelimit.Bucket
	Route    string
	Method   string
	Status   int // 0 when no response arrived
	Duration time.Duration
	Attempt  int  // 1 for the first
	ErrKind  Kind // "" on success
}

// RetryEvent describes a decision to try again.
type RetryEvent struct {
	Account string
	Bucket  ratelimit.Bucket
	Route   string
	Attempt int // the attempt that failed
	Status  int
	ErrKind Kind
	Delay   time.Duration
}

// WaitEvent describes time spent waiting for the rate limiter or spacing.
type WaitEvent struct {
	Account string
	Bucket  ratelimit.Bucket
	Route   string
	Attempt int
	Waited  time.Duration
}

// AlertEvent describes a failure to alert on.
type AlertEvent struct {
	Account string
	Route   string
	Kind    Kind
	Status  int
	Message string // eMAG's message or a short excerpt of the page, redacted
	Remedy  string
}

// isDialError reports whether err happened before any byte reached the
// server, so a write cannot have been applied.
func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH)
}

// retryAfter reads how long a 429 asks us to wait: Retry-After (seconds or
// an HTTP date), RateLimit-Reset (seconds), or the longest exhausted
// X-RateLimit-Remaining-<window> (Kong's convention: -second, -3second,
// -minute, -hour, -day). 0 means the answer did not say.
func retryAfter(h http.Header) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := time.Until(t); d > 0 {
				return d
			}
		}
	}
	if v := strings.TrimSpace(h.Get("RateLimit-Reset")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	var longest time.Duration
	for k, vs := range h {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "x-ratelimit-remaining-") || len(vs) == 0 || strings.TrimSpace(vs[0]) != "0" {
			continue
		}
		if d := windowOf(strings.TrimPrefix(lk, "x-ratelimit-remaining-")); d > longest {
			longest = d
		}
	}
	return longest
}

// windowOf parses Kong window names: second, 3second, minute, hour, day.
func windowOf(w string) time.Duration {
	n := 1
	i := 0
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
	}
	if i > 0 {
		n, _ = strconv.Atoi(w[:i])
	}
	var unit time.Duration
	switch w[i:] {
	case "second":
		unit = time.Second
	case "minute":
		unit = time.Minute
	case "hour":
		unit = time.Hour
	case "day":
		unit = 24 * time.Hour
	default:
		return 0
	}
	return time.Duration(n) * unit
}
