package sandbox

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// FaultKind is one kind of injected failure.
type FaultKind string

// The faults the sandbox can inject.
const (
	// Fault500, Fault502 and Fault504 answer that status with an HTML body,
	// as eMAG's gateway does under load.
	Fault500 FaultKind = "500"
	Fault502 FaultKind = "502"
	Fault504 FaultKind = "504"
	// FaultSlow delays the answer by a latency drawn between SlowMin and
	// SlowMax, then answers normally.
	FaultSlow FaultKind = "slow"
	// FaultReset closes the connection without an answer (a TCP reset when
	// the connection can be hijacked).
	FaultReset FaultKind = "reset"
	// FaultCaptcha answers an HTML captcha page with status 200.
	FaultCaptcha FaultKind = "captcha"
	// FaultTruncated serves the request (saves are applied) but sends only
	// the first half of the JSON body, with a matching Content-Length.
	FaultTruncated FaultKind = "truncated"
	// FaultIsError answers 200 with isError true and IsErrorMessage.
	FaultIsError FaultKind = "iserror"
)

var faultKinds = []FaultKind{Fault500, Fault502, Fault504, FaultSlow, FaultReset, FaultCaptcha, FaultTruncated, FaultIsError}

// FaultOptions sets a probability per fault kind (0..1, drawn per request,
// deterministically from the seed and the account's request sequence) and a
// plan of targeted faults. Only API routes get faults, after authentication
// and rate limiting: a faulted request counts toward the limits.
type FaultOptions struct {
	P500       float64
	P502       float64
	P504       float64
	PSlow      float64
	PReset     float64
	PCaptcha   float64
	PTruncated float64
	PIsError   float64
	// SlowMin and SlowMax bound the uniform latency of slow answers
	// (defaults 1 s and 5 s).
	SlowMin time.Duration
	SlowMax time.Duration
	// IsErrorMessage is the message of FaultIsError (default "An error
	// occurred while processing your request. Please try again later.").
	IsErrorMessage string
	// Plan lists targeted faults, checked before the random ones.
	Plan []FaultRule
}

// FaultRule is a targeted fault: "page 3 of product_offer/read on account
// fbe fails twice with 502, then succeeds" is
// {Account: "fbe", Route: "product_offer/read", Page: 3, Kind: Fault502, Times: 2}.
type FaultRule struct {
	// Account, Route (e.g. "order/read", "offer_stock") and Page
	// (currentPage) select requests; empty or 0 matches any.
	Account string
	Route   string
	Page    int
	// Kind is the fault to inject.
	Kind FaultKind
	// Skip lets that many matching requests through first.
	Skip int
	// Times is how many matching requests fail (0: all of them).
	Times int
}

func (o *FaultOptions) validate() error {
	total := 0.0
	for _, p := range []float64{o.P500, o.P502, o.P504, o.PSlow, o.PReset, o.PCaptcha, o.PTruncated, o.PIsError} {
		if p < 0 || p > 1 {
			return errors.New("fault probabilities must be between 0 and 1")
		}
		total += p
	}
	if total > 1 {
		return fmt.Errorf("fault probabilities add up to %.3f, more than 1", total)
	}
	if o.SlowMin == 0 && o.SlowMax == 0 {
		o.SlowMin, o.SlowMax = time.Second, 5*time.Second
	}
	if o.SlowMax < o.SlowMin {
		return errors.New("fault SlowMax is below SlowMin")
	}
	if o.IsErrorMessage == "" {
		o.IsErrorMessage = "An error occurred while processing your request. Please try again later."
	}
	for i, r := range o.Plan {
		if !validKind(r.Kind) {
			return fmt.Errorf("fault plan rule %d: unknown kind %q", i, r.Kind)
		}
		if r.Route != "" && routes[r.Route] == nil {
			return fmt.Errorf("fault plan rule %d: unknown route %q", i, r.Route)
		}
	}
	return nil
}

func validKind(k FaultKind) bool {
	for _, x := range faultKinds {
		if x == k {
			return true
		}
	}
	return false
}

// ParseFaultKind validates a fault kind's name (for flags).
func ParseFaultKind(s string) (FaultKind, error) {
	if validKind(FaultKind(s)) {
		return FaultKind(s), nil
	}
	return "", fmt.Errorf("unknown fault kind %q: use 500, 502, 504, slow, reset, captcha, truncated or iserror", s)
}

type faultState struct {
	opts    FaultOptions
	mu      sync.Mutex
	seen    []int
	fired   []int
	probs   []float64
	any     bool
	slowSeq atomic.Uint64
}

func newFaultState(o FaultOptions) *faultState {
	f := &faultState{opts: o, seen: make([]int, len(o.Plan)), fired: make([]int, len(o.Plan))}
	f.probs = []float64{o.P500, o.P502, o.P504, o.PSlow, o.PReset, o.PCaptcha, o.PTruncated, o.PIsError}
	for _, p := range f.probs {
		f.any = f.any || p > 0
	}
	return f
}

// pick decides the fault of one request ("" for none).
func (f *faultState) pick(a *account, route string, page int64, seed int64) FaultKind {
	if len(f.opts.Plan) > 0 {
		f.mu.Lock()
		for i, r := range f.opts.Plan {
			if (r.Account != "" && r.Account != a.name) || (r.Route != "" && r.Route != route) || (r.Page != 0 && int64(r.Page) != page) {
				continue
			}
			f.seen[i]++
			if f.seen[i] <= r.Skip || (r.Times > 0 && f.fired[i] >= r.Times) {
				continue
			}
			f.fired[i]++
			f.mu.Unlock()
			return r.Kind
		}
		f.mu.Unlock()
	}
	if !f.any {
		return ""
	}
	u := unitFloat(mix(uint64(seed), uint64(a.index), a.faultSeq.Add(1), 0xfa))
	for i, p := range f.probs {
		if u < p {
			return faultKinds[i]
		}
		u -= p
	}
	return ""
}

func unitFloat(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// applyFault injects f. It reports whether the answer is complete; slow and
// truncated faults let the request go on.
func (s *Sandbox) applyFault(w http.ResponseWriter, r *http.Request, f FaultKind) bool {
	switch f {
	case Fault500, Fault502, Fault504:
		code := map[FaultKind]int{Fault500: 500, Fault502: 502, Fault504: 504}[f]
		body := fmt.Sprintf("<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
			code, http.StatusText(code), code, http.StatusText(code))
		w.Header()["Content-Type"] = []string{"text/html"}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
		return true
	case FaultCaptcha:
		w.Header()["Content-Type"] = []string{"text/html; charset=UTF-8"}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(captchaPage))
		return true
	case FaultIsError:
		msg, _ := marshal([]string{s.opts.Faults.IsErrorMessage})
		writeJSON(w, http.StatusOK, fmt.Appendf(nil, `{"isError":true,"messages":%s,"errors":[],"results":[]}`, msg))
		return true
	case FaultReset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // close with RST, not FIN
				}
				_ = conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	case FaultSlow:
		o := s.opts.Faults
		d := o.SlowMin
		if span := o.SlowMax - o.SlowMin; span > 0 {
			d += time.Duration(unitFloat(mix(uint64(s.opts.Seed), s.faults.slowSeq.Add(1), 0x510)) * float64(span))
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
	}
	return false
}

const captchaPage = `<!DOCTYPE html>
<html lang="ro">
<head><meta charset="utf-8"><title>eMAG Captcha</title></head>
<body>
<div class="captcha-container">
<h1>Verificare de securitate</h1>
<p>Pentru a continua, te rugăm să confirmi că nu ești un robot.</p>
<form method="post" action="/captcha/verify"><div class="g-recaptcha" data-sitekey="sandbox"></div>
<button type="submit">Continuă</button></form>
</div>
</body>
</html>
`
