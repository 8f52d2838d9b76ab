package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
)

// Problem is an RFC 9457 problem document, the body of every error answer
// (Content-Type application/problem+json). Code is MagFlow's error code;
// Errors name each offending field ("query.limit", "body.accounts[0]") and
// what it accepts.
type Problem struct {
	Type   string `json:"type,omitempty" doc:"A URI reference identifying the problem type (about:blank)."`
	Title  string `json:"title" doc:"The HTTP status text."`
	Status int    `json:"status" doc:"The HTTP status code."`
	Detail string `json:"detail,omitempty" doc:"What went wrong and how to fix it."`
	Code   string `json:"code,omitempty" doc:"MagFlow's error code: invalid, unauthorized, forbidden, not_found, conflict, rate_limited, unavailable, internal."`
	// Field names the input at fault, when there is one.
	Field  string              `json:"field,omitempty" doc:"The input at fault, when there is one."`
	Errors []*huma.ErrorDetail `json:"errors,omitempty" doc:"Each invalid input with its location and the fix."`
	// RunningRunID is the run that made a sync start answer 409.
	RunningRunID int64 `json:"running_run_id,omitempty" doc:"On 409 from a sync start: the id of the run already running."`

	headers http.Header
}

// Error implements error.
func (p *Problem) Error() string { return p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// GetHeaders implements huma.HeadersError (Retry-After, WWW-Authenticate).
func (p *Problem) GetHeaders() http.Header { return p.headers }

// ContentType implements huma.ContentTypeFilter.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" || ct == "" {
		return "application/problem+json"
	}
	return ct
}

// statusOf is the one mapping from MagFlow's error codes to HTTP statuses.
func statusOf(code string) int {
	switch code {
	case magflow.EInvalid:
		return http.StatusBadRequest
	case magflow.EUnauthorized:
		return http.StatusUnauthorized
	case magflow.EForbidden:
		return http.StatusForbidden
	case magflow.ENotFound:
		return http.StatusNotFound
	case magflow.EConflict:
		return http.StatusConflict
	case magflow.ERateLimited:
		return http.StatusTooManyRequests
	case magflow.EUnavailable:
		return http.StatusServiceUnavailable
	case magflow.ENotImplemented:
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

// codeOf is statusOf's inverse for answers huma produces itself.
func codeOf(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusNotAcceptable:
		return magflow.EInvalid
	case http.StatusUnauthorized:
		return magflow.EUnauthorized
	case http.StatusForbidden:
		return magflow.EForbidden
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return magflow.ENotFound
	case http.StatusConflict:
		return magflow.EConflict
	case http.StatusTooManyRequests:
		return magflow.ERateLimited
	case http.StatusServiceUnavailable:
		return magflow.EUnavailable
	case http.StatusNotImplemented:
		return magflow.ENotImplemented
	}
	return magflow.EInternal
}

// newProblem builds a problem with the status's title.
func newProblem(status int, detail string) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Code: codeOf(status)}
}

// problemOf turns any error into a problem: a *magflow.Error keeps its
// code, message and field; anything else is a 500 whose detail hides the
// cause (it is logged instead).
func problemOf(err error, logger *slog.Logger) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var se huma.StatusError
	if errors.As(err, &se) {
		return newProblem(se.GetStatus(), se.Error())
	}
	code := magflow.ErrorCode(err)
	status := statusOf(code)
	p = &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code, Detail: magflow.ErrorMessage(err)}
	var me *magflow.Error
	if errors.As(err, &me) && me.Field != "" {
		p.Field = me.Field
		p.Errors = []*huma.ErrorDetail{{Location: me.Field, Message: me.Message}}
	}
	if id, ok := sqldb.RunningRunID(err); ok {
		p.RunningRunID = id
	}
	if status >= 500 && logger != nil {
		logger.Error("request failed", "code", code, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		p.headers = http.Header{"Retry-After": []string{"5"}}
	}
	return p
}

// invalid is a 400 naming field (a location such as "query.limit") and the
// fix.
func invalid(field, msg string) *Problem {
	p := newProblem(http.StatusBadRequest, field+": "+msg)
	p.Field = field
	p.Errors = []*huma.ErrorDetail{{Location: field, Message: msg}}
	return p
}

var installErrors sync.Once

// useProblems makes huma answer every error, its own validation errors
// included, with Problem; huma's 422 for invalid input becomes 400. huma
// offers only this package-level hook; MagFlow runs one API per process.
func useProblems() {
	installErrors.Do(func() {
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			if status == http.StatusUnprocessableEntity {
				status = http.StatusBadRequest
			}
			p := newProblem(status, msg)
			for _, e := range errs {
				if e == nil {
					continue
				}
				var d *huma.ErrorDetail
				if dd, ok := e.(huma.ErrorDetailer); ok {
					d = dd.ErrorDetail()
				} else {
					d = &huma.ErrorDetail{Message: e.Error()}
				}
				p.Errors = append(p.Errors, d)
			}
			if len(p.Errors) > 0 {
				if p.Field == "" {
					p.Field = p.Errors[0].Location
				}
				var parts []string
				for _, d := range p.Errors {
					parts = append(parts, strings.TrimSpace(d.Location+": "+d.Message))
				}
				p.Detail = msg + ": " + strings.Join(parts, "; ")
			}
			return p
		}
	})
}

// writeProblem writes p outside huma (middlewares, plain handlers).
func writeProblem(w http.ResponseWriter, p *Problem) {
	for k, vs := range p.headers {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
