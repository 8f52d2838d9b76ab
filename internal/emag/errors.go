package emag

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/magflow/magflow"
)

// Kind classifies an *Error for callers that branch on it.
type Kind string

// The kinds of failure a caller branches on.
const (
	// KindRateLimited: eMAG answered 429 on every attempt.
	KindRateLimited Kind = "rate_limited"
	// KindUnavailable: 5xx, a timeout, a reset or an unreachable host,
	// after the retries the request allowed.
	KindUnavailable Kind = "unavailable"
	// KindAuth: 403 "You are not allowed to use this API." (wrong
	// credentials or no API rights).
	KindAuth Kind = "auth"
	// KindIPNotWhitelisted: "Invalid vendor ip": this host's IP is not on
	// the account's allow-list.
	KindIPNotWhitelisted Kind = "ip_not_whitelisted"
	// KindNonJSON: an HTML page (captcha, WAF, error page) or other
	// non-JSON body where JSON was expected.
	KindNonJSON Kind = "non_json"
	// KindAPI: eMAG answered isError:true (or a 4xx) with its messages.
	KindAPI Kind = "api"
	// KindPartial: a bulk save where some items failed; Items lists them.
	KindPartial Kind = "partial"
	// KindValidation: the request was refused before sending.
	KindValidation Kind = "validation"
	// KindDecode: the body was truncated or not the JSON shape expected.
	KindDecode Kind = "decode"
	// KindNotFound: eMAG answered 404 (an unknown offer or route).
	KindNotFound Kind = "not_found"
)

// kindError is the sentinel behind ErrRateLimited and friends.
type kindError Kind

func (k kindError) Error() string { return "emag: " + strings.ReplaceAll(string(k), "_", " ") }

// Sentinels for errors.Is: errors.Is(err, emag.ErrRateLimited) reports whether
// err is an *Error of that kind.
var (
	ErrRateLimited      error = kindError(KindRateLimited)
	ErrUnavailable      error = kindError(KindUnavailable)
	ErrAuth             error = kindError(KindAuth)
	ErrIPNotWhitelisted error = kindError(KindIPNotWhitelisted)
	ErrNonJSON          error = kindError(KindNonJSON)
	ErrAPI              error = kindError(KindAPI)
	ErrPartial          error = kindError(KindPartial)
	ErrValidation       error = kindError(KindValidation)
	ErrDecode           error = kindError(KindDecode)
	ErrNotFound         error = kindError(KindNotFound)
)

// ItemError is one entity's failure within a bulk request.
type ItemError struct {
	ID       int64    // the entity id eMAG keyed the result by, when it did
	Index    int      // the position in the request, -1 when unknown
	Field    string   // the field eMAG blamed, when it said
	Messages []string // eMAG's messages for this item
}

// Error is every failure the client returns, except the caller's own context
// ending (which is returned as ctx.Err(), wrapped). It never carries the
// account's password or Authorization header.
type Error struct {
	Kind     Kind
	Account  string
	Route    string // "product_offer/read", "offer_stock/1001", ...
	Status   int    // HTTP status; 0 when no response arrived
	Messages []string
	// Field and Fix describe a validation failure: the field at fault and
	// what to change.
	Field string
	Fix   string
	// Items are per-entity failures of a bulk save (KindPartial, and
	// KindAPI or KindValidation when eMAG or the checks named entities).
	Items []ItemError
	// Attempts is how many requests were sent (0 for validation).
	Attempts int
	// RetryAfter is the wait eMAG asked for on a 429, when it said.
	RetryAfter time.Duration
	// Err is the underlying transport or decoding error, redacted.
	Err error

	// unreachable: the request cannot have reached eMAG (dial failed).
	unreachable bool
	// timeout: a deadline or reset cut the exchange.
	timeout bool
	// maybeApplied: eMAG may have applied the write despite the error.
	maybeApplied bool
}

// Error implements error. The text names the account and route.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("emag")
	if e.Account != "" {
		b.WriteString(" " + e.Account)
	}
	if e.Route != "" {
		b.WriteString(" " + e.Route)
	}
	b.WriteString(": ")
	switch e.Kind {
	case KindValidation:
		b.WriteString("invalid request")
		if e.Field != "" {
			b.WriteString(": " + e.Field)
		}
	default:
		b.WriteString(strings.ReplaceAll(string(e.Kind), "_", " "))
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if len(e.Messages) > 0 {
		b.WriteString(": " + truncate(strings.Join(e.Messages, "; "), 500))
	}
	if len(e.Items) > 0 {
		fmt.Fprintf(&b, " (%d item(s) failed", len(e.Items))
		for i, it := range e.Items {
			if i == 3 {
				b.WriteString(", ...")
				break
			}
			if it.ID != 0 {
				fmt.Fprintf(&b, "; %d: %s", it.ID, truncate(strings.Join(it.Messages, ", "), 120))
			} else {
				fmt.Fprintf(&b, "; #%d: %s", it.Index, truncate(strings.Join(it.Messages, ", "), 120))
			}
		}
		b.WriteString(")")
	}
	if e.Fix != "" {
		b.WriteString("; " + e.Fix)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrRateLimited) (and the other sentinels) match
// by Kind.
func (e *Error) Is(target error) bool {
	k, ok := target.(kindError)
	return ok && Kind(k) == e.Kind
}

// As lets magflow.ErrorCode and errors.As(err, **magflow.Error) see the
// client's errors in the domain vocabulary.
func (e *Error) As(target any) bool {
	if t, ok := target.(**magflow.Error); ok {
		*t = &magflow.Error{Code: e.Code(), Message: e.userMessage(), Field: e.Field, Err: e}
		return true
	}
	return false
}

// MaybeApplied reports whether eMAG may have applied a write despite the
// error (product_offer/save answers isError:true yet saves; a 5xx or a
// timeout on a write leaves the outcome unknown). Reconcile by reading back.
func (e *Error) MaybeApplied() bool { return e.maybeApplied }

// Code maps the error to magflow's error vocabulary.
func (e *Error) Code() string {
	switch e.Kind {
	case KindRateLimited:
		return magflow.ERateLimited
	case KindUnavailable, KindNonJSON:
		return magflow.EUnavailable
	case KindAuth:
		return magflow.EUnauthorized
	case KindIPNotWhitelisted:
		return magflow.EForbidden
	case KindAPI, KindPartial, KindValidation:
		return magflow.EInvalid
	case KindNotFound:
		return magflow.ENotFound
	}
	return magflow.EInternal
}

func (e *Error) userMessage() string {
	msg := e.Error()
	if r := e.Remedy(); r != "" {
		msg += " (" + r + ")"
	}
	return msg
}

var ipPattern = regexp.MustCompile(`\[([0-9a-fA-F.:]+)\]`)

// Remedy says what the seller should do about the error, in one sentence.
func (e *Error) Remedy() string {
	acct := e.Account
	if acct == "" {
		acct = "this account"
	} else {
		acct = "account " + acct
	}
	switch e.Kind {
	case KindAuth:
		return "check the username and password of " + acct + " and that its user has API rights in the eMAG seller UI"
	case KindIPNotWhitelisted:
		ip := "this server's public IP"
		for _, m := range e.Messages {
			if s := ipPattern.FindStringSubmatch(m); s != nil {
				ip = "IP " + s[1]
				break
			}
		}
		return "whitelist " + ip + " for " + acct + " in the eMAG seller UI (API settings); each platform account has its own list"
	case KindRateLimited:
		return "lower the account's request rate (EMAG_<NAME>_ORDERS_RPS / _OTHER_RPS) or retry later"
	case KindUnavailable:
		if e.unreachable {
			return "host unreachable: check the API URL, DNS and this server's outbound network"
		}
		return "eMAG is failing or slow right now; retry later"
	case KindNonJSON:
		return "eMAG answered with an HTML page (captcha, firewall or error page) instead of JSON; check the API URL and retry later, and contact eMAG support if it persists"
	case KindValidation:
		if e.Fix != "" {
			return e.Fix
		}
		return "fix the request"
	case KindAPI:
		if e.maybeApplied {
			return "read the entity back: eMAG may have saved it despite the error; fix the fields its messages name"
		}
		return "fix what eMAG's messages name and send again"
	case KindPartial:
		return "fix the failed items and send only those again"
	case KindDecode:
		return "eMAG sent a body the client cannot read; retry, and report it if it persists"
	case KindNotFound:
		return "check the id: eMAG does not know it"
	}
	return ""
}

// invalid builds a KindValidation error: field is at fault, fix says what
// to change. The client fills in Account and Route.
func invalid(field, fix, format string, args ...any) *Error {
	return &Error{Kind: KindValidation, Field: field, Fix: fix, Messages: []string{fmt.Sprintf(format, args...)}}
}

// IsRetryable reports whether the error is transient (rate limited or
// unavailable) so a later attempt may succeed.
func IsRetryable(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Kind == KindRateLimited || e.Kind == KindUnavailable
}
