package ratelimit

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/magflow/magflow"
)

// DefaultMargin is added to every window's length unless Options.Margin says
// otherwise. Requests reach eMAG after a varying network delay; a request
// granted at the very end of a window may arrive before one granted just
// after it reaches the previous window's end. The margin absorbs that much
// jitter in latency, so eMAG's own count stays under its limit too. It costs
// 2.5% of the budget (25ms per 1s window): measured against the sandbox on a
// loaded 2-core machine, 10ms still let a few requests arrive bunched (429s,
// each costing a Retry-After wait), 25ms none. A 429 caused by larger jitter
// is still waited out and retried by the client.
const DefaultMargin = 25 * time.Millisecond

// Options configures a Local limiter. The zero value means eMAG's published
// limits with DefaultMargin, no spacing and no jitter.
type Options struct {
	// Limits per bucket; nil means DefaultLimits().
	Limits Limits
	// Margin is added to the length of every window. Zero means
	// DefaultMargin; a negative value means no margin at all.
	Margin time.Duration
	// MinSpacing is the least time between two grants of the account, in
	// any bucket (the seller's EMAG_<NAME>_DELAY). Zero means none.
	MinSpacing time.Duration
	// Jitter delays every grant by a random extra amount in [0, Jitter]
	// beyond the moment the limits allow it, so that several processes or
	// accounts do not fire in lockstep. Zero means none.
	Jitter time.Duration
	// Rand draws the jitter; nil means math/rand/v2's global source. Tests
	// pass a seeded one. It is used under the limiter's lock only.
	Rand *rand.Rand
	// OnWait, if set, is called after every grant with the bucket and the
	// time the caller waited (zero when it did not wait), outside the
	// limiter's lock. It must not block.
	OnWait func(b Bucket, waited time.Duration)
}

// Local is an in-process limiter for one eMAG account. It is exact: it keeps,
// for each window, the times of the grants that can still matter (a sliding
// window log), so under no schedule of concurrent callers do more than N
// grants fall in any interval of length Per+Margin.
//
// Waiters of one bucket are served first come, first served, High priority
// before Normal. Buckets are independent budgets; only MinSpacing couples
// them. A single timer per Local wakes the next waiter due: there is no
// goroutine per waiter and no polling. A Local must be used within one
// testing/synctest bubble if created in one.
type Local struct {
	margin  time.Duration
	spacing time.Duration
	jitter  time.Duration
	onWait  func(Bucket, time.Duration)
	base    time.Time
	buckets []*bucketState // fixed after NewLocal

	mu        sync.Mutex
	rnd       *rand.Rand
	waiting   int           // waiters queued in all buckets
	lastAny   time.Duration // the latest grant of any bucket
	anyGrant  bool
	timer     *time.Timer
	timerAt   time.Duration
	timerLive bool
}

// Local implements Waiter.
var _ Waiter = (*Local)(nil)

type bucketState struct {
	name    Bucket
	windows []windowLog
	queues  [2]waitList // indexed by Priority: Normal, High
	cand    *waiter     // the head last seen by dispatch, whose since is set
}

type windowLog struct {
	n   int
	per time.Duration // Per + margin
	log timeLog
}

type waiter struct {
	prev, next *waiter
	list       *waitList
	jitter     time.Duration
	since      time.Duration // when it became its bucket's head
	grantedAt  time.Duration
	granted    bool
	ready      chan struct{} // closed on grant
}

// NewLocal returns a limiter configured by opts, or an error if the limits
// are malformed.
func NewLocal(opts Options) (*Local, error) {
	limits := opts.Limits
	if limits == nil {
		limits = DefaultLimits()
	}
	if err := limits.Validate(); err != nil {
		return nil, fmt.Errorf("new rate limiter: %w", err)
	}
	if opts.MinSpacing < 0 || opts.Jitter < 0 {
		return nil, magflow.Errorf(magflow.EInvalid, "new rate limiter: negative spacing or jitter")
	}
	margin := opts.Margin
	switch {
	case margin == 0:
		margin = DefaultMargin
	case margin < 0:
		margin = 0
	}
	l := &Local{
		margin:  margin,
		spacing: opts.MinSpacing,
		jitter:  opts.Jitter,
		onWait:  opts.OnWait,
		rnd:     opts.Rand,
		base:    time.Now(),
	}
	for _, b := range slices.Sorted(maps.Keys(limits)) {
		bs := &bucketState{name: b}
		for _, w := range limits[b] {
			bs.windows = append(bs.windows, windowLog{n: w.N, per: w.Per + margin})
		}
		l.buckets = append(l.buckets, bs)
	}
	return l, nil
}

// Margin returns the margin added to every window.
func (l *Local) Margin() time.Duration { return l.margin }

func (l *Local) bucket(b Bucket) *bucketState {
	for _, bs := range l.buckets {
		if bs.name == b {
			return bs
		}
	}
	return nil
}

func (l *Local) now() time.Duration { return time.Since(l.base) }

// Wait blocks until a request in bucket b may be sent, then records the grant.
// The caller's priority comes from ctx (see WithPriority). If ctx ends first,
// Wait returns an error wrapping ctx.Err() and consumes nothing; a grant that
// raced with the cancellation is kept and reported as success.
func (l *Local) Wait(ctx context.Context, b Bucket) error {
	_, err := l.WaitGrant(ctx, b)
	return err
}

// Grant is a permission Local gave. eMAG counts a request when it arrives,
// the limiter when it grants it: a request that leaves late (a loaded
// machine: the grant's goroutine not scheduled, a new connection) may
// arrive within one window of requests granted a window after it. Sent
// moves the grant to the moment the request actually left, so the grants
// that follow keep their distance from it.
type Grant struct {
	l  *Local
	bs *bucketState
	at time.Duration
	// shared moves the grant's slot in a Shared limiter's ledger too.
	shared func(t time.Time)
}

// Sent records that the granted request was written at t (for an HTTP
// request, httptrace's WroteRequest). A t before the grant changes nothing;
// so does a grant of the zero Grant. Safe for concurrent use.
func (g Grant) Sent(t time.Time) {
	if g.shared != nil {
		g.shared(t)
	}
	if g.l == nil {
		return
	}
	to := t.Sub(g.l.base)
	if to <= g.at {
		return
	}
	g.l.mu.Lock()
	defer g.l.mu.Unlock()
	for i := range g.bs.windows {
		g.bs.windows[i].log.delay(g.at, to)
	}
	if g.l.lastAny < to {
		g.l.lastAny = to
	}
	if g.l.waiting > 0 {
		g.l.dispatch(g.l.now())
	}
}

// WaitGrant is Wait, returning the grant for its request to report when it
// was sent (see Grant).
func (l *Local) WaitGrant(ctx context.Context, b Bucket) (Grant, error) {
	if err := ctx.Err(); err != nil {
		return Grant{}, fmt.Errorf("wait for rate limit bucket %s: %w", b, err)
	}
	bs := l.bucket(b)
	if bs == nil {
		return Grant{}, magflow.Errorf(magflow.EInvalid, "wait for rate limit: no limits for bucket %q", b)
	}
	prio := PriorityFrom(ctx)

	l.mu.Lock()
	start := l.now()
	if l.waiting > 0 {
		// Serve whoever is already due before a newcomer can take a slot.
		l.dispatch(start)
	}
	if l.jitter == 0 && bs.empty() && l.readyAt(bs, start, start) <= start {
		l.recordIn(bs, start)
		l.mu.Unlock()
		l.report(b, 0)
		return Grant{l: l, bs: bs, at: start}, nil
	}
	w := &waiter{ready: make(chan struct{})}
	if l.jitter > 0 {
		w.jitter = l.drawJitter()
	}
	bs.queues[prio].pushBack(w)
	l.waiting++
	l.dispatch(start)
	if w.granted {
		l.mu.Unlock()
		l.report(b, w.grantedAt-start)
		return Grant{l: l, bs: bs, at: w.grantedAt}, nil
	}
	l.mu.Unlock()

	select {
	case <-w.ready:
		l.report(b, w.grantedAt-start)
		return Grant{l: l, bs: bs, at: w.grantedAt}, nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	if w.granted {
		l.mu.Unlock()
		l.report(b, w.grantedAt-start)
		return Grant{l: l, bs: bs, at: w.grantedAt}, nil
	}
	w.list.remove(w)
	l.waiting--
	if bs.cand == w {
		bs.cand = nil
	}
	l.dispatch(l.now())
	l.mu.Unlock()
	return Grant{}, fmt.Errorf("wait for rate limit bucket %s: %w", b, ctx.Err())
}

func (l *Local) report(b Bucket, waited time.Duration) {
	if l.onWait != nil {
		l.onWait(b, waited)
	}
}

func (l *Local) drawJitter() time.Duration {
	if l.rnd != nil {
		return time.Duration(l.rnd.Int64N(int64(l.jitter) + 1))
	}
	return time.Duration(rand.Int64N(int64(l.jitter) + 1))
}

// readyAt returns the earliest time a grant in bs may happen given the grants
// so far, not before since. It drops the log entries that can no longer
// constrain a grant at or after now, so a log never holds more than its
// window's N entries.
func (l *Local) readyAt(bs *bucketState, since, now time.Duration) time.Duration {
	at := since
	for i := range bs.windows {
		w := &bs.windows[i]
		for w.log.len() > 0 && w.log.at(0)+w.per <= now {
			w.log.popFront()
		}
		if w.log.len() >= w.n {
			at = max(at, w.log.at(w.log.len()-w.n)+w.per)
		}
	}
	if l.anyGrant {
		at = max(at, l.lastAny+l.spacing)
	}
	return at
}

// recordIn notes a grant at now in every window of bs's bucket.
func (l *Local) recordIn(bs *bucketState, now time.Duration) {
	for i := range bs.windows {
		bs.windows[i].log.push(now)
	}
	l.lastAny, l.anyGrant = now, true
}

// dispatch grants every waiter that is due at now, heads first, High before
// Normal across buckets, then arms the timer for the next one due.
func (l *Local) dispatch(now time.Duration) {
	for {
		var (
			best     *waiter
			bestB    *bucketState
			bestHigh bool
			bestAt   time.Duration
			next     time.Duration
			any      bool
		)
		for _, bs := range l.buckets {
			w, high := bs.head()
			if w == nil {
				bs.cand = nil
				continue
			}
			if w != bs.cand {
				bs.cand, w.since = w, now
			}
			at := l.readyAt(bs, w.since, now) + w.jitter
			if at > now {
				if !any || at < next {
					next, any = at, true
				}
				continue
			}
			if best == nil || (high && !bestHigh) || (high == bestHigh && at < bestAt) {
				best, bestB, bestHigh, bestAt = w, bs, high, at
			}
		}
		if best == nil {
			l.arm(now, next, any)
			return
		}
		best.list.remove(best)
		l.waiting--
		bestB.cand = nil
		l.recordIn(bestB, now)
		best.granted, best.grantedAt = true, now
		close(best.ready)
	}
}

func (l *Local) arm(now, at time.Duration, live bool) {
	switch {
	case !live:
		if l.timerLive {
			l.timer.Stop()
			l.timerLive = false
		}
	case l.timer == nil:
		l.timer = time.AfterFunc(at-now, l.fire)
		l.timerAt, l.timerLive = at, true
	case !l.timerLive || at != l.timerAt:
		l.timer.Reset(at - now)
		l.timerAt, l.timerLive = at, true
	}
}

func (l *Local) fire() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timerLive = false
	l.dispatch(l.now())
}

func (bs *bucketState) empty() bool {
	return bs.queues[High].front == nil && bs.queues[Normal].front == nil
}

// head returns the waiter next in line: the oldest High one, else the oldest
// Normal one.
func (bs *bucketState) head() (*waiter, bool) {
	if w := bs.queues[High].front; w != nil {
		return w, true
	}
	return bs.queues[Normal].front, false
}

// waitList is an intrusive doubly linked FIFO of waiters.
type waitList struct {
	front, back *waiter
}

func (q *waitList) pushBack(w *waiter) {
	w.list, w.prev, w.next = q, q.back, nil
	if q.back != nil {
		q.back.next = w
	} else {
		q.front = w
	}
	q.back = w
}

func (q *waitList) remove(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.front = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.back = w.prev
	}
	w.prev, w.next, w.list = nil, nil, nil
}
