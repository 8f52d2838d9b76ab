package sandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/magflow/magflow"
)

// route is one API route: its name (the fault plan and logs use it), its
// rate-limit bucket, the method it answers and its handler.
type route struct {
	name    string
	bucket  bucket
	methods string // space-separated
	handle  func(*call)
}

// rpc routes: POST /api-3/{resource}/{action}.
var routes map[string]*route

func init() {
	routes = map[string]*route{}
	add := func(name string, b bucket, methods string, h func(*call)) {
		routes[name] = &route{name: name, bucket: b, methods: methods, handle: h}
	}
	add("product_offer/read", bucketOther, "POST", (*call).productRead)
	add("product_offer/count", bucketOther, "POST", (*call).productCount)
	add("product_offer/save", bucketOther, "POST", (*call).productSave)
	add("offer/save", bucketOther, "POST", (*call).lightOfferSave)
	add("offer_stock", bucketOther, "PATCH", (*call).offerStock)
	add("measurements/save", bucketOther, "POST", (*call).measurementsSave)
	add("campaign_proposals/save", bucketOther, "POST", (*call).campaignProposalsSave)
	add("documentation/find_by_eans", bucketEAN, "GET POST", (*call).findByEANs)
	add("smart-deals-price-check", bucketOther, "GET POST", (*call).smartDeals)
	add("order/read", bucketOrders, "POST", (*call).orderRead)
	add("order/count", bucketOrders, "POST", (*call).orderCount)
	add("order/save", bucketOrders, "POST", (*call).orderSave)
	add("order/acknowledge", bucketOrders, "POST", (*call).orderAcknowledge)
	add("order/unlock-courier", bucketOrders, "POST", (*call).orderUnlockCourier)
	add("order/attachments/save", bucketOrders, "POST", (*call).attachmentsSave)
	add("awb/save", bucketOther, "POST", (*call).awbSave)
	add("awb/read", bucketOther, "POST", (*call).awbRead)
	add("awb/read_pdf", bucketOther, "GET POST", (*call).awbPDF)
	add("awb/read_zpl", bucketOther, "GET POST", (*call).awbZPL)
	add("rma/read", bucketOther, "POST", (*call).rmaRead)
	add("rma/count", bucketOther, "POST", (*call).rmaCount)
	add("rma/save", bucketOther, "POST", (*call).rmaSave)
	add("category/read", bucketOther, "POST", (*call).categoryRead)
	add("category/count", bucketOther, "POST", (*call).categoryCount)
	add("vat/read", bucketOther, "POST", (*call).vatRead)
	add("handling_time/read", bucketOther, "POST", (*call).handlingTimeRead)
	add("locality/read", bucketOther, "POST", (*call).localityRead)
	add("locality/count", bucketOther, "POST", (*call).localityCount)
	add("courier_accounts/read", bucketOther, "POST", (*call).courierAccountsRead)
	add("addresses/read", bucketOther, "POST", (*call).addressesRead)
	add("invoice/categories", bucketOther, "POST", (*call).invoiceCategories)
}

// resolve maps a method and path to a route and the id a path carries.
// It returns nil for an unknown route.
func resolve(method, path string) (*route, string) {
	rest, ok := strings.CutPrefix(path, "/api-3/")
	if !ok {
		// The AWB label downloads live at the host root too.
		rest, ok = strings.CutPrefix(path, "/")
		if !ok || !strings.HasPrefix(rest, "awb/read_") {
			return nil, ""
		}
	}
	rest = strings.TrimSuffix(rest, "/")
	var name, id string
	switch {
	case strings.HasPrefix(rest, "order/acknowledge/"):
		name, id = "order/acknowledge", strings.TrimPrefix(rest, "order/acknowledge/")
	case strings.HasPrefix(rest, "offer_stock/"):
		name, id = "offer_stock", strings.TrimPrefix(rest, "offer_stock/")
	case strings.HasPrefix(rest, "order/") && strings.HasSuffix(rest, "/unlock-courier"):
		name, id = "order/unlock-courier", strings.TrimSuffix(strings.TrimPrefix(rest, "order/"), "/unlock-courier")
	default:
		name = rest
	}
	rt := routes[name]
	if rt == nil || !strings.Contains(" "+rt.methods+" ", " "+method+" ") {
		return nil, ""
	}
	if (name == "order/acknowledge" || name == "offer_stock" || name == "order/unlock-courier") && (id == "" || strings.Contains(id, "/")) {
		return nil, ""
	}
	return rt, id
}

// call is one request being served.
type call struct {
	s      *Sandbox
	a      *account
	r      *http.Request
	route  *route
	pathID string
	body   any
	now    time.Time

	status int
	ctype  string
	out    *bytes.Buffer
}

// params returns the body as filters (an empty set when it is not an object).
func (c *call) params() params {
	if m, ok := c.body.(map[string]any); ok {
		return m
	}
	return params{}
}

// entities returns the body as a list of objects (a lone object is a list
// of one).
func (c *call) entities() ([]map[string]any, bool) {
	var list []any
	switch b := c.body.(type) {
	case []any:
		list = b
	case map[string]any:
		list = []any{b}
	case nil:
		return nil, true
	default:
		return nil, false
	}
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		out = append(out, m)
	}
	return out, true
}

// bulk returns the entities of a save request, failing the call when there
// are none or more than magflow.MaxBulkEntities; what names them in the
// message (orders, offers, ...).
func (c *call) bulk(what string) ([]map[string]any, bool) {
	items, ok := c.entities()
	switch {
	case !ok || len(items) == 0:
		c.fail("The request must contain a list of " + what)
	case len(items) > magflow.MaxBulkEntities:
		c.fail(fmt.Sprintf("You can send at most %d entities per request", magflow.MaxBulkEntities))
	default:
		return items, true
	}
	return nil, false
}

const envelopeHead = `{"isError":false,"messages":[],"errors":[],"results":`

// okRaw answers a success envelope around already-encoded results.
func (c *call) okRaw(results []byte) {
	c.status = http.StatusOK
	c.out.WriteString(envelopeHead)
	c.out.Write(results)
	c.out.WriteByte('}')
}

// ok answers a success envelope, with optional messages.
func (c *call) ok(results any, messages ...string) {
	b, err := marshal(results)
	if err != nil {
		c.s.log.Error("encode results", "route", c.route.name, "err", err)
		c.fail("Internal error")
		return
	}
	if len(messages) == 0 {
		c.okRaw(b)
		return
	}
	c.envelope(false, messages, b)
}

// fail answers HTTP 200 with isError true: how eMAG reports business errors.
func (c *call) fail(messages ...string) { c.envelope(true, messages, []byte("[]")) }

func (c *call) envelope(isError bool, messages []string, results []byte) {
	c.status = http.StatusOK
	m, _ := marshal(nonNil(messages))
	fmt.Fprintf(c.out, `{"isError":%t,"messages":%s,"errors":[],"results":%s}`, isError, m, results)
}

// plain answers a non-envelope JSON body with a status (offer_stock, 404s).
func (c *call) plain(status int, body string) {
	c.status = status
	c.out.WriteString(body)
}

const (
	msgDenied      = `{"isError":true,"messages":["You are not allowed to use this API."],"results":[]}`
	msgInvalidURL  = `{"message":"Invalid URL"}`
	msgRateLimited = `{"message":"API rate limit exceeded"}`
	maxBody        = 64 << 20
)

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// authenticate finds the account of the Basic-auth credentials.
func (s *Sandbox) authenticate(r *http.Request) *account {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return nil
	}
	a := s.byUser[user]
	if a == nil || subtle.ConstantTimeCompare([]byte(pass), []byte(a.password)) != 1 {
		return nil
	}
	return a
}

func (s *Sandbox) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sandbox/") {
		s.serveControl(w, r)
		return
	}
	rt, pathID := resolve(r.Method, r.URL.Path)
	a := s.authenticate(r)
	if a == nil {
		s.unauthorized.Add(1)
		s.log.Debug("sandbox request refused", "path", r.URL.Path, "status", http.StatusForbidden)
		writeJSON(w, http.StatusForbidden, []byte(msgDenied))
		return
	}
	bk := bucketOther
	if rt != nil {
		bk = rt.bucket
	}
	b := a.buckets[bk]
	now := s.clock.Now()
	allowed, rh := b.take(now)
	rh.write(w.Header())
	if !allowed {
		secs := int((rh.retryAfter + time.Second - 1) / time.Second)
		w.Header()["Retry-After"] = []string{strconv.Itoa(max(1, secs))}
		s.log.Debug("sandbox request throttled", "account", a.name, "bucket", bk, "path", r.URL.Path)
		w.Header()["Content-Type"] = []string{"application/json; charset=utf-8"}
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, msgRateLimited)
		return
	}
	if rt == nil {
		writeJSON(w, http.StatusNotFound, []byte(msgInvalidURL))
		return
	}
	if ip := clientIP(r); !a.ipAllowed(ip) {
		msg, _ := marshal([]string{"ERROR: Invalid vendor ip [" + ip + "]"})
		writeJSON(w, http.StatusOK, fmt.Appendf(nil, `{"isError":true,"messages":%s,"results":[]}`, msg))
		return
	}
	c := &call{s: s, a: a, r: r, route: rt, pathID: pathID, now: now, ctype: "application/json"}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, []byte(`{"message":"Invalid content"}`))
		return
	}
	c.out = getBuf()
	defer putBuf(c.out)
	var parseErr error
	if rt.name != "offer_stock" {
		c.body, parseErr = parseBody(r.Header.Get("Content-Type"), raw)
		if parseErr == nil && (r.Method == http.MethodGet || (len(raw) == 0 && r.URL.RawQuery != "")) {
			c.body = mergeQuery(c.body, r)
		}
	} else {
		c.body = raw
	}
	page := int64(1)
	if p, ok := c.body.(map[string]any); ok {
		if n, _, err := params(p).intParam("currentPage"); err == nil && n > 0 {
			page = n
		}
	}
	f := s.faults.pick(a, rt.name, page, s.opts.Seed)
	if f != "" {
		b.addFault()
		s.log.Debug("sandbox fault injected", "account", a.name, "route", rt.name, "page", page, "fault", f)
		if done := s.applyFault(w, r, f); done {
			return
		}
	}
	switch {
	case parseErr != nil:
		c.fail("Invalid request body: " + parseErr.Error())
	case countVars(c.body) > maxInputVars:
		c.fail("Maximum input vars of 4000 exceeded")
	default:
		a.maybeAdvance(now)
		rt.handle(c)
	}
	body := c.out.Bytes()
	if f == FaultTruncated && len(body) > 1 {
		body = body[:len(body)/2]
	}
	s.log.Debug("sandbox request", "account", a.name, "route", rt.name, "status", c.status, "bytes", len(body))
	if c.status == http.StatusNoContent {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h := w.Header()
	h["Content-Type"] = []string{c.ctype}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(c.status)
	_, _ = w.Write(body)
}

// mergeQuery adds query-string parameters (GET routes, ?language=) to the
// body's filters.
func mergeQuery(body any, r *http.Request) any {
	m, ok := body.(map[string]any)
	if !ok {
		if body != nil {
			return body
		}
		m = map[string]any{}
	}
	q := r.URL.Query()
	if len(q) == 0 {
		return m
	}
	tree, err := formToTree(q)
	if err != nil {
		return m
	}
	if t, ok := tree.(map[string]any); ok {
		for k, v := range t {
			if _, exists := m[k]; !exists {
				m[k] = v
			}
		}
	}
	return m
}

// serveControl answers the sandbox's own endpoints under /_sandbox/.
func (s *Sandbox) serveControl(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_sandbox/stats" && r.Method == http.MethodGet:
		b, err := json.MarshalIndent(s.Stats(), "", "  ")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, http.StatusOK, b)
	case r.URL.Path == "/_sandbox/reset-stats" && r.Method == http.MethodPost:
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusNotFound, []byte(msgInvalidURL))
	}
}

var errNotInt = errors.New("not an integer")

func parseID(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, errNotInt
	}
	return n, nil
}
