package emag

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// envelope is eMAG's response wrapper:
// {"isError": false, "messages": [], "errors": [], "results": ...}.
// Non-envelope JSON bodies ({"message": "..."} from the gateway and from
// offer_stock) decode into Messages too.
type envelope struct {
	IsError    bool
	HasIsError bool
	Messages   []string
	Errors     json.RawMessage // as sent; often []
	Results    []byte          // a sub-slice of the body, not copied
}

var errNotJSON = errors.New("body is not JSON")

// decodeEnvelope parses body. It never panics: invalid JSON returns
// errNotJSON (not JSON at all) or a syntax error (truncated or broken JSON).
func decodeEnvelope(body []byte) (envelope, error) {
	var env envelope
	t := trim(body)
	if len(t) == 0 {
		return env, errNotJSON
	}
	if t[0] != '{' && t[0] != '[' {
		return env, errNotJSON
	}
	if !json.Valid(t) {
		return env, fmt.Errorf("invalid or truncated JSON (%d bytes)", len(t))
	}
	if t[0] == '[' {
		// A bare list: treat as results with no envelope.
		env.Results = t
		return env, nil
	}
	err := eachField(t, func(key, val []byte) error {
		switch string(key) {
		case "isError":
			b, err := parseBool(val)
			if err != nil {
				return wrapField(key, err)
			}
			env.IsError, env.HasIsError = b, true
		case "messages":
			m, err := parseStrings(val)
			if err != nil {
				return wrapField(key, err)
			}
			env.Messages = append(env.Messages, m...)
		case "message":
			if s, err := parseString(val); err == nil && s != "" {
				env.Messages = append(env.Messages, s)
			}
		case "errors":
			env.Errors = cloneRaw(val)
		case "results":
			env.Results = trim(val)
		}
		return nil
	})
	return env, err
}

// fieldErrors extracts {"message": "...", "field": "stock"} entries from
// the errors key, as offer_stock's 400 sends them.
func (env envelope) fieldErrors() []ItemError {
	var out []ItemError
	_ = eachListItem(env.Errors, func(e []byte) error {
		it := ItemError{Index: -1}
		switch kind(e) {
		case '{':
			_ = eachField(e, func(k, v []byte) error {
				switch string(k) {
				case "message", "messages":
					m, _ := parseStrings(v)
					it.Messages = append(it.Messages, m...)
				case "field":
					it.Field, _ = parseString(v)
				case "id":
					it.ID, _ = parseInt64(v)
				}
				return nil
			})
		default:
			s, _ := parseString(e)
			if s == "" {
				s = string(trim(e))
			}
			it.Messages = []string{s}
		}
		out = append(out, it)
		return nil
	})
	return out
}

// isHTMLish reports whether a body looks like a web page, not JSON.
func isHTMLish(b []byte) bool {
	t := bytes.ToLower(trim(b))
	return bytes.HasPrefix(t, []byte("<")) || bytes.Contains(t[:min(len(t), 512)], []byte("<html"))
}

// checkEnvelope turns a 2xx body into an envelope or a classified error.
func (c *Client) checkEnvelope(resp *response, write bool, out *envelope) error {
	env, err := decodeEnvelope(resp.body)
	switch {
	case errors.Is(err, errNotJSON):
		// An HTML page on HTTP 200: a captcha, WAF or proxy error page.
		return &Error{Kind: KindNonJSON, Status: resp.status, Messages: []string{c.redact(snippet(resp.body))}}
	case err != nil:
		// Broken JSON on a 2xx is almost always a cut-off body.
		return &Error{Kind: KindDecode, Status: resp.status, Err: err, timeout: true}
	case !env.HasIsError && len(env.Messages) > 0:
		return &Error{Kind: classifyMessages(env.Messages), Status: resp.status, Messages: env.Messages, Items: env.fieldErrors()}
	case !env.HasIsError:
		return &Error{Kind: KindDecode, Status: resp.status, Err: errors.New("response has no isError key")}
	case env.IsError:
		e := &Error{Kind: classifyMessages(env.Messages), Status: resp.status, Messages: env.Messages, Items: env.fieldErrors()}
		e.maybeApplied = write && e.Kind == KindAPI
		return e
	}
	for i, m := range env.Messages {
		env.Messages[i] = c.redact(m)
	}
	*out = env
	return nil
}

// encode builds the request body for payload, wrapped in {"data": ...} when
// the account asks for it.
func (c *Client) encode(payload any) ([]byte, error) {
	var raw []byte
	switch p := payload.(type) {
	case nil:
		raw = []byte("{}")
	case json.RawMessage:
		raw = p
	default:
		b, err := json.Marshal(payload)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	if !c.opts.WrapData {
		return raw, nil
	}
	out := make([]byte, 0, len(raw)+10)
	out = append(out, `{"data":`...)
	out = append(out, raw...)
	return append(out, '}'), nil
}

// rpc POSTs payload to {base}/{route} and returns the success envelope.
func (c *Client) rpc(ctx context.Context, route string, payload any, write bool) (envelope, error) {
	var env envelope
	body, err := c.encode(payload)
	if err != nil {
		return env, &Error{Kind: KindValidation, Account: c.opts.Account, Route: route, Err: fmt.Errorf("encode request: %w", err)}
	}
	cl := &call{method: http.MethodPost, route: route, url: c.base + "/" + route, body: body, write: write}
	cl.check = func(r *response) error { return c.checkEnvelope(r, write, &env) }
	if _, err := c.do(ctx, cl); err != nil {
		return envelope{}, err
	}
	return env, nil
}

// get sends a GET with query to {base}/{route} and returns the envelope.
func (c *Client) get(ctx context.Context, route string, query url.Values) (envelope, error) {
	var env envelope
	u := c.base + "/" + route
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	cl := &call{method: http.MethodGet, route: route, url: u}
	cl.check = func(r *response) error { return c.checkEnvelope(r, false, &env) }
	if _, err := c.do(ctx, cl); err != nil {
		return envelope{}, err
	}
	return env, nil
}

// decodeErr wraps a results-decoding failure as KindDecode.
func (c *Client) decodeErr(route string, err error) error {
	return &Error{Kind: KindDecode, Account: c.opts.Account, Route: route, Err: err}
}

// validated fills Account and Route on a validation error.
func (c *Client) validated(route string, e *Error) error {
	if e == nil {
		return nil
	}
	e.Account, e.Route = c.opts.Account, route
	return e
}
