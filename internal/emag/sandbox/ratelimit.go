package sandbox

import (
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// bucket is one of eMAG's rate-limit scopes within an account.
type bucket string

// The buckets, with the names the stats endpoint uses.
const (
	bucketOrders bucket = "orders"
	bucketOther  bucket = "other"
	bucketEAN    bucket = "ean"
)

var allBuckets = []bucket{bucketOrders, bucketOther, bucketEAN}

// limitSet is a bucket's limits per window; 0 means no limit on that window.
type limitSet struct {
	second, minute, day int
}

func scaledLimits(scale float64) map[bucket]limitSet {
	f := func(n int) int { return max(1, int(math.Round(float64(n)*scale))) }
	return map[bucket]limitSet{
		bucketOrders: {second: f(12), minute: f(720)},
		bucketOther:  {second: f(3), minute: f(180)},
		bucketEAN:    {second: f(5), minute: f(200), day: f(5000)},
	}
}

// window is a sliding-window log limiter: a ring of the timestamps of the
// last `limit` accepted requests. A request is accepted when fewer than
// limit accepted requests happened in (now-dur, now], so the 429 comes at
// exactly the request that would make limit+1 inside any window of length
// dur. The ring grows only up to limit.
type window struct {
	dur   int64
	limit int
	ring  []int64
	head  int // oldest entry once the ring is full
}

func newWindow(d time.Duration, limit int) *window {
	if limit <= 0 {
		return nil
	}
	return &window{dur: int64(d), limit: limit}
}

func (w *window) allow(now int64) bool {
	if w == nil || len(w.ring) < w.limit {
		return true
	}
	return now-w.ring[w.head] >= w.dur
}

func (w *window) add(now int64) {
	if w == nil {
		return
	}
	if len(w.ring) < w.limit {
		w.ring = append(w.ring, now)
		return
	}
	w.ring[w.head] = now
	w.head = (w.head + 1) % w.limit
}

// inWindow counts the accepted requests in (now-dur, now].
func (w *window) inWindow(now int64) int {
	n := len(w.ring)
	at := func(i int) int64 { return w.ring[(w.head+i)%n] } // oldest first
	first := sort.Search(n, func(i int) bool { return now-at(i) < w.dur })
	return n - first
}

func (w *window) remaining(now int64) int {
	if w == nil {
		return 0
	}
	return max(0, w.limit-w.inWindow(now))
}

// retryAfter is how long until the oldest request leaves a full window.
func (w *window) retryAfter(now int64) time.Duration {
	if w == nil || w.allow(now) {
		return 0
	}
	return time.Duration(w.ring[w.head] + w.dur - now)
}

// peak tracks the highest number of events seen in any sliding window of
// length dur, keeping only the events of the last window.
type peak struct {
	dur  int64
	q    []int64
	head int
	max  int
}

func (p *peak) add(now int64) {
	p.q = append(p.q, now)
	for now-p.q[p.head] >= p.dur {
		p.head++
	}
	p.max = max(p.max, len(p.q)-p.head)
	if p.head > 256 && p.head*2 > len(p.q) {
		n := copy(p.q, p.q[p.head:])
		p.q = p.q[:n]
		p.head = 0
	}
}

// counter is an atomic statistic.
type counter struct{ atomic.Int64 }

// bucketState is one account's bucket: limiter windows and statistics.
type bucketState struct {
	mu          sync.Mutex
	limits      limitSet
	sec, min    *window
	day         *window
	peakSec     peak
	peakMin     peak
	requests    int64
	rateLimited int64
	faults      int64
}

func newBucketState(l limitSet, limited bool) *bucketState {
	b := &bucketState{limits: l, peakSec: peak{dur: int64(time.Second)}, peakMin: peak{dur: int64(time.Minute)}}
	if limited {
		b.sec = newWindow(time.Second, l.second)
		b.min = newWindow(time.Minute, l.minute)
		b.day = newWindow(24*time.Hour, l.day)
	}
	return b
}

// rateHeaders are the Kong-style headers sent with every answer of a bucket.
type rateHeaders struct {
	limited                bool
	lim                    limitSet
	remSec, remMin, remDay int
	retryAfter             time.Duration
}

// take counts one request at now. It reports whether the request is within
// the limits; a rejected request does not enter the windows.
func (b *bucketState) take(now time.Time) (bool, rateHeaders) {
	t := now.UnixNano()
	b.mu.Lock()
	defer b.mu.Unlock()
	h := rateHeaders{lim: b.limits, limited: b.sec != nil}
	if !b.sec.allow(t) || !b.min.allow(t) || !b.day.allow(t) {
		b.rateLimited++
		h.retryAfter = max(b.sec.retryAfter(t), b.min.retryAfter(t), b.day.retryAfter(t))
		h.remSec, h.remMin, h.remDay = b.sec.remaining(t), b.min.remaining(t), b.day.remaining(t)
		return false, h
	}
	b.sec.add(t)
	b.min.add(t)
	b.day.add(t)
	b.peakSec.add(t)
	b.peakMin.add(t)
	b.requests++
	h.remSec, h.remMin, h.remDay = b.sec.remaining(t), b.min.remaining(t), b.day.remaining(t)
	return true, h
}

func (b *bucketState) addFault() {
	b.mu.Lock()
	b.faults++
	b.mu.Unlock()
}

// write sets the headers. Go canonicalises their names
// (X-Ratelimit-Limit-Second); HTTP header names are case-insensitive and
// clients look them up canonically.
func (h rateHeaders) write(hdr http.Header) {
	if !h.limited {
		return
	}
	set := func(k string, v int) { hdr.Set(k, strconv.Itoa(v)) }
	set("X-RateLimit-Limit-second", h.lim.second)
	set("X-RateLimit-Remaining-second", h.remSec)
	set("X-RateLimit-Limit-minute", h.lim.minute)
	set("X-RateLimit-Remaining-minute", h.remMin)
	if h.lim.day > 0 {
		set("X-RateLimit-Limit-day", h.lim.day)
		set("X-RateLimit-Remaining-day", h.remDay)
	}
}

// BucketStats is what one account's bucket has seen.
type BucketStats struct {
	// Requests counts the requests accepted (not rejected with 429),
	// whatever their answer.
	Requests int64 `json:"requests"`
	// MaxPerSecond and MaxPerMinute are the highest numbers of accepted
	// requests seen in any sliding 1-second and 60-second window.
	MaxPerSecond int `json:"max_per_second"`
	MaxPerMinute int `json:"max_per_minute"`
	// RateLimited counts the 429 answers.
	RateLimited int64 `json:"rate_limited"`
	// Faults counts the injected faults.
	Faults int64 `json:"faults"`
	// LimitPerSecond, LimitPerMinute and LimitPerDay are the limits in
	// force (0 when there is none).
	LimitPerSecond int `json:"limit_per_second"`
	LimitPerMinute int `json:"limit_per_minute"`
	LimitPerDay    int `json:"limit_per_day"`
}

// AccountStats is one account's statistics.
type AccountStats struct {
	Buckets map[string]BucketStats `json:"buckets"`
	// Inserted and Deleted count the products churn added and removed.
	Inserted int64 `json:"inserted"`
	Deleted  int64 `json:"deleted"`
	// CallbacksSent counts the order callbacks made.
	CallbacksSent int64 `json:"callbacks_sent"`
}

// Stats is the sandbox's view of its traffic, per account and bucket.
type Stats struct {
	Accounts map[string]AccountStats `json:"accounts"`
	// Unauthorized counts the requests refused with 403 (no account known).
	Unauthorized int64 `json:"unauthorized"`
}

// Stats returns a snapshot of the statistics.
func (s *Sandbox) Stats() Stats {
	st := Stats{Accounts: map[string]AccountStats{}, Unauthorized: s.unauthorized.Load()}
	for _, a := range s.accounts {
		as := AccountStats{Buckets: map[string]BucketStats{}, Inserted: a.inserted.Load(), Deleted: a.deleted.Load(), CallbacksSent: a.callbacks.Load()}
		for _, bk := range allBuckets {
			b := a.buckets[bk]
			b.mu.Lock()
			bs := BucketStats{Requests: b.requests, MaxPerSecond: b.peakSec.max, MaxPerMinute: b.peakMin.max, RateLimited: b.rateLimited, Faults: b.faults}
			if !s.opts.NoRateLimit {
				bs.LimitPerSecond, bs.LimitPerMinute, bs.LimitPerDay = b.limits.second, b.limits.minute, b.limits.day
			}
			b.mu.Unlock()
			as.Buckets[string(bk)] = bs
		}
		st.Accounts[a.name] = as
	}
	return st
}

// ResetStats zeroes the statistics (not the rate-limit windows).
func (s *Sandbox) ResetStats() {
	s.unauthorized.Store(0)
	for _, a := range s.accounts {
		a.inserted.Store(0)
		a.deleted.Store(0)
		a.callbacks.Store(0)
		for _, b := range a.buckets {
			b.mu.Lock()
			b.requests, b.rateLimited, b.faults = 0, 0, 0
			b.peakSec = peak{dur: b.peakSec.dur}
			b.peakMin = peak{dur: b.peakMin.dur}
			b.mu.Unlock()
		}
	}
}
