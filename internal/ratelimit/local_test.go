package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// grantLog records, in fake time since the start of a synctest bubble, when
// each Wait returned.
type grantLog struct {
	start time.Time
	mu    sync.Mutex
	times map[Bucket][]time.Duration
	all   []time.Duration
	order []string
}

func newGrantLog() *grantLog {
	return &grantLog{start: time.Now(), times: map[Bucket][]time.Duration{}}
}

func (g *grantLog) add(b Bucket, who string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := time.Since(g.start)
	g.times[b] = append(g.times[b], d)
	g.all = append(g.all, d)
	g.order = append(g.order, who)
	return d
}

func newLocal(t *testing.T, opts Options) *Local {
	t.Helper()
	l, err := NewLocal(opts)
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	return l
}

// checkWindows fails unless no interval of length w.Per+extra holds more than
// w.N of the (sorted) grant times, for every window.
func checkWindows(t *testing.T, name string, grants []time.Duration, windows []Window, extra time.Duration) {
	t.Helper()
	if !slices.IsSorted(grants) {
		t.Fatalf("%s: grant times not sorted", name)
	}
	for _, w := range windows {
		for i := 0; i+w.N < len(grants); i++ {
			if gap := grants[i+w.N] - grants[i]; gap < w.Per+extra {
				t.Fatalf("%s: grants %d and %d are %v apart: %d grants within %v, limit %v", name, i, i+w.N, gap, w.N+1, w.Per+extra, w)
			}
		}
	}
}

// greedy returns the earliest possible time of each of n grants requested all
// at time 0 under windows lengthened by margin: the schedule an exact,
// work-conserving limiter must produce.
func greedy(n int, windows []Window, margin time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for k := range out {
		for _, w := range windows {
			if k >= w.N {
				out[k] = max(out[k], out[k-w.N]+w.Per+margin)
			}
		}
	}
	return out
}

// hammer runs callers goroutines of calls Waits each on bucket b and returns
// the grant times.
func hammer(t *testing.T, l *Local, b Bucket, callers, calls int) []time.Duration {
	t.Helper()
	g := newGrantLog()
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for range calls {
				if err := l.Wait(t.Context(), b); err != nil {
					t.Errorf("caller %d: Wait: %v", c, err)
					return
				}
				g.add(b, "")
			}
		})
	}
	wg.Wait()
	return g.times[b]
}

func TestLocalConcurrentCallersNeverExceedAnyWindow(t *testing.T) {
	t.Parallel()
	for _, b := range []Bucket{Orders, Other, EAN} {
		for _, margin := range []time.Duration{-1, DefaultMargin} {
			t.Run(fmt.Sprintf("%s/margin=%v", b, max(margin, 0)), func(t *testing.T) {
				t.Parallel()
				synctest.Test(t, func(t *testing.T) {
					l := newLocal(t, Options{Margin: margin})
					grants := hammer(t, l, b, 50, 40)
					if len(grants) != 2000 {
						t.Fatalf("got %d grants, want 2000", len(grants))
					}
					windows := DefaultLimits()[b]
					checkWindows(t, string(b), grants, windows, l.Margin())
					// Exactness the other way: the limiter grants as soon as
					// the windows allow, so the rate equals the limit.
					if diff := cmp.Diff(greedy(len(grants), windows, l.Margin()), grants); diff != "" {
						t.Errorf("grant times differ from the ideal schedule (-want +got):\n%s", diff)
					}
				})
			})
		}
	}
}

func TestLocalRateEqualsLimit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLocal(t, Options{})
		grants := hammer(t, l, Other, 30, 6) // 180 grants
		// 3 per second: the 180th grant opens the 60th second. Each second
		// is stretched by the margin, and nothing else.
		ideal := 59 * time.Second
		withMargins := 59 * (time.Second + DefaultMargin)
		last := grants[len(grants)-1]
		if last != withMargins {
			t.Errorf("180th grant at %v, want %v", last, withMargins)
		}
		if float64(last) > 1.01*float64(ideal+59*DefaultMargin) {
			t.Errorf("180 grants took %v, more than 1%% over %v", last, ideal+59*DefaultMargin)
		}
	})
}

func TestLocalPerMinuteCapDominates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		windows []Window
		// the first minute holds exactly perMinute grants
		perMinute int
	}{
		{"orders 12/s 720/min", []Window{{12, time.Second}, {720, time.Minute}}, 720},
		{"5/s capped at 180/min", []Window{{5, time.Second}, {180, time.Minute}}, 180},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				l := newLocal(t, Options{Limits: Limits{Orders: tt.windows}, Margin: -1})
				grants := hammer(t, l, Orders, 40, (tt.perMinute+200)/40)
				inFirstMinute := 0
				for _, g := range grants {
					if g < time.Minute {
						inFirstMinute++
					}
				}
				if inFirstMinute != tt.perMinute {
					t.Errorf("%d grants in the first minute, want %d", inFirstMinute, tt.perMinute)
				}
				if next := grants[tt.perMinute]; next != time.Minute {
					t.Errorf("grant %d at %v, want exactly 1m", tt.perMinute+1, next)
				}
				checkWindows(t, tt.name, grants, tt.windows, 0)
			})
		})
	}
}

// exhaust takes every slot of b's first window at time 0.
func exhaust(t *testing.T, l *Local, b Bucket, n int) {
	t.Helper()
	for range n {
		if err := l.Wait(t.Context(), b); err != nil {
			t.Fatalf("Wait: %v", err)
		}
	}
}

func TestLocalFIFO(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLocal(t, Options{Limits: Limits{Other: {{1, time.Second}}}, Margin: -1})
		exhaust(t, l, Other, 1)
		g := newGrantLog()
		var wg sync.WaitGroup
		var want []string
		for i := range 10 {
			name := fmt.Sprint("w", i)
			want = append(want, name)
			wg.Go(func() {
				if err := l.Wait(t.Context(), Other); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				g.add(Other, name)
			})
			synctest.Wait() // name is queued before the next one starts
		}
		wg.Wait()
		if diff := cmp.Diff(want, g.order); diff != "" {
			t.Errorf("grant order mismatch (-want +got):\n%s", diff)
		}
		for i, d := range g.all {
			if want := time.Duration(i+1) * time.Second; d != want {
				t.Errorf("grant %d at %v, want %v", i, d, want)
			}
		}
	})
}

func TestLocalHighPriorityGoesFirst(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// One grant per second, so that each has its own instant and the
		// order of the records is the order of the grants.
		l := newLocal(t, Options{Limits: Limits{Other: {{1, time.Second}}}, Margin: -1})
		exhaust(t, l, Other, 1)
		g := newGrantLog()
		var wg sync.WaitGroup
		start := func(name string, p Priority) {
			wg.Go(func() {
				if err := l.Wait(WithPriority(t.Context(), p), Other); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				g.add(Other, name)
			})
			synctest.Wait()
		}
		for i := range 6 {
			start(fmt.Sprint("read", i), Normal)
		}
		for i := range 4 {
			start(fmt.Sprint("write", i), High)
		}
		wg.Wait()
		want := []string{"write0", "write1", "write2", "write3", "read0", "read1", "read2", "read3", "read4", "read5"}
		if diff := cmp.Diff(want, g.order); diff != "" {
			t.Errorf("grant order mismatch (-want +got):\n%s", diff)
		}
		for i, d := range g.all {
			if want := time.Duration(i+1) * time.Second; d != want {
				t.Errorf("grant %d at %v, want %v", i, d, want)
			}
		}
	})
}

func TestLocalHighPriorityArrivingLaterOvertakesQueuedReads(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLocal(t, Options{Margin: -1})
		// A catalogue scan keeps 100 reads queued; a write arrives at 2.5s.
		g := newGrantLog()
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				if err := l.Wait(t.Context(), Other); err != nil {
					t.Error(err)
				}
				g.add(Other, "read")
			})
		}
		time.Sleep(2500 * time.Millisecond)
		if err := l.Wait(WithPriority(t.Context(), High), Other); err != nil {
			t.Fatal(err)
		}
		if got, want := time.Since(g.start), 3*time.Second; got != want {
			t.Errorf("write granted at %v, want %v (the next free slot)", got, want)
		}
		wg.Wait()
		checkWindows(t, "other", g.times[Other], DefaultLimits()[Other], 0)
	})
}

func TestLocalCancelConsumesNothing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLocal(t, Options{Margin: -1})
		exhaust(t, l, Other, 3)
		g := newGrantLog()
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() { errc <- l.Wait(ctx, Other) }() // first in line
		synctest.Wait()
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() {
				if err := l.Wait(t.Context(), Other); err != nil {
					t.Error(err)
				}
				g.add(Other, fmt.Sprint(i))
			})
			synctest.Wait()
		}
		time.Sleep(500 * time.Millisecond)
		cancel()
		err := <-errc
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Wait = %v, want context.Canceled", err)
		}
		if got := time.Since(g.start); got != 500*time.Millisecond {
			t.Errorf("cancelled Wait returned at %v, want 500ms", got)
		}
		wg.Wait()
		// The three others all fit in the second second: the cancelled
		// waiter took no slot.
		want := []time.Duration{time.Second, time.Second, time.Second}
		if diff := cmp.Diff(want, g.all); diff != "" {
			t.Errorf("grant times mismatch (-want +got):\n%s", diff)
		}
	})
}

// fixedSource replays its values as a rand.Source.
type fixedSource struct{ vals []uint64 }

func (s *fixedSource) Uint64() uint64 {
	v := s.vals[0]
	s.vals = s.vals[1:]
	return v
}

func TestLocalCancelledHeadDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// The head of the line draws a long jitter, the next one none: when
		// the head gives up, the timer must be re-armed for the next one's
		// earlier due time. (Jitter+1 is a power of two, so a draw is the
		// source's value masked.)
		const jitter = 1<<29 - 1 // about 537ms
		src := &fixedSource{vals: []uint64{0, 500 * uint64(time.Millisecond), 0}}
		l := newLocal(t, Options{Limits: Limits{Other: {{1, time.Second}}}, Margin: -1, Jitter: jitter, Rand: rand.New(src)})
		exhaust(t, l, Other, 1)
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- l.Wait(ctx, Other) }()
		synctest.Wait()
		done := make(chan time.Duration, 1)
		start := time.Now()
		go func() {
			if err := l.Wait(t.Context(), Other); err != nil {
				t.Error(err)
			}
			done <- time.Since(start)
		}()
		if err := <-errc; !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want DeadlineExceeded", err)
		}
		if got := <-done; got != time.Second {
			t.Errorf("second waiter granted after %v, want 1s", got)
		}
	})
}

func TestLocalAlreadyCancelled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLocal(t, Options{Limits: Limits{Other: {{1, time.Second}}}})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := l.Wait(ctx, Other); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want context.Canceled", err)
		}
		start := time.Now()
		exhaust(t, l, Other, 1) // the slot is still free
		if d := time.Since(start); d != 0 {
			t.Errorf("first real Wait took %v, want 0", d)
		}
	})
}

func TestLocalUnknownBucket(t *testing.T) {
	t.Parallel()
	l := newLocal(t, Options{Limits: Limits{Other: {{1, time.Second}}}})
	if err := l.Wait(t.Context(), Orders); err == nil {
		t.Fatal("Wait on a bucket without limits succeeded")
	}
}

func TestLocalBucketsAreIndependent(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newLocal(t, Options{Margin: -1})
		g := newGrantLog()
		var wg sync.WaitGroup
		for range 24 { // two seconds' worth of orders
			wg.Go(func() {
				if err := l.Wait(t.Context(), Orders); err != nil {
					t.Error(err)
				}
				g.add(Orders, "")
			})
		}
		synctest.Wait()
		exhaust(t, l, Other, 3)
		if d := time.Since(g.start); d != 0 {
			t.Errorf("Other waited %v behind Orders, want 0", d)
		}
		wg.Wait()
		if got := g.times[Orders][23]; got != time.Second {
			t.Errorf("24th order grant at %v, want 1s", got)
		}
	})
}

func TestLocalMinSpacing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const spacing = 400 * time.Millisecond
		l := newLocal(t, Options{MinSpacing: spacing})
		g := newGrantLog()
		var wg sync.WaitGroup
		for i := range 20 {
			b := []Bucket{Orders, Other, EAN}[i%3]
			wg.Go(func() {
				for range 5 {
					if err := l.Wait(t.Context(), b); err != nil {
						t.Error(err)
					}
					g.add(b, "")
				}
			})
		}
		wg.Wait()
		if len(g.all) != 100 {
			t.Fatalf("%d grants, want 100", len(g.all))
		}
		for i := 1; i < len(g.all); i++ {
			if gap := g.all[i] - g.all[i-1]; gap != spacing {
				t.Fatalf("grants %d and %d are %v apart, want exactly %v", i-1, i, gap, spacing)
			}
		}
		for b, ts := range g.times {
			checkWindows(t, string(b), ts, DefaultLimits()[b], l.Margin())
		}
	})
}

func TestLocalJitter(t *testing.T) {
	t.Parallel()
	const jitter = 300 * time.Millisecond
	run := func(t *testing.T) []time.Duration {
		var got []time.Duration
		synctest.Test(t, func(t *testing.T) {
			l := newLocal(t, Options{Jitter: jitter, Rand: rand.New(rand.NewPCG(1, 2)), Margin: -1})
			g := newGrantLog()
			var extra time.Duration
			for i := range 200 {
				before := time.Since(g.start)
				if err := l.Wait(t.Context(), Other); err != nil {
					t.Fatal(err)
				}
				now := g.add(Other, "")
				// Without jitter the grant would be due at the later of
				// the call and the 3/s window.
				due := before
				if i >= 3 {
					due = max(due, g.times[Other][i-3]+time.Second)
				}
				if now < due || now > due+jitter {
					t.Fatalf("grant %d at %v, want within [%v, %v]", i, now, due, due+jitter)
				}
				extra += now - due
			}
			checkWindows(t, "other", g.times[Other], DefaultLimits()[Other], 0)
			// The draws are spread over the whole range, not stuck at 0.
			if mean := extra / 200; mean < jitter/4 || mean > 3*jitter/4 {
				t.Errorf("mean jitter %v, want about %v", mean, jitter/2)
			}
			got = g.times[Other]
		})
		return got
	}
	a, b := run(t), run(t)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different schedules (-first +second):\n%s", diff)
	}
}

func TestLocalOnWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		type report struct {
			B      Bucket
			Waited time.Duration
		}
		var mu sync.Mutex
		var got []report
		l := newLocal(t, Options{Margin: -1, Limits: Limits{Other: {{2, time.Second}}}, OnWait: func(b Bucket, d time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, report{b, d})
		}})
		exhaust(t, l, Other, 2)
		time.Sleep(300 * time.Millisecond)
		exhaust(t, l, Other, 1)
		want := []report{{Other, 0}, {Other, 0}, {Other, 700 * time.Millisecond}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("OnWait reports mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestLocalRandomSchedules fires seeded random mixes of buckets, priorities,
// arrival times and cancellations at random limits, and checks the invariants:
// no window ever exceeded, MinSpacing kept, every uncancelled caller served,
// and every grant made at a moment something allowed it (an arrival, a
// cancellation, another grant, or an old grant leaving a window), never late.
func TestLocalRandomSchedules(t *testing.T) {
	t.Parallel()
	for seed := range uint64(30) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) { randomSchedule(t, seed) })
		})
	}
}

func randomSchedule(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 42))
	buckets := []Bucket{Orders, Other, EAN}
	limits := Limits{}
	for _, b := range buckets {
		var ws []Window
		for range 1 + r.IntN(3) {
			ws = append(ws, Window{N: 1 + r.IntN(8), Per: time.Duration(1+r.IntN(2000)) * time.Millisecond})
		}
		limits[b] = ws
	}
	margin := time.Duration(r.IntN(3)) * 10 * time.Millisecond
	spacing := time.Duration(0)
	if r.IntN(3) == 0 {
		spacing = time.Duration(r.IntN(100)) * time.Millisecond
	}
	l := newLocal(t, Options{Limits: limits, Margin: cmpOr(margin, -1), MinSpacing: spacing})

	type event struct {
		b        Bucket
		arrive   time.Duration
		cancelAt time.Duration // 0: never
		prio     Priority
	}
	var events []event
	for range 150 + r.IntN(150) {
		e := event{
			b:      buckets[r.IntN(3)],
			arrive: time.Duration(r.IntN(20_000)) * time.Millisecond,
			prio:   Priority(r.IntN(2)),
		}
		if r.IntN(5) == 0 {
			e.cancelAt = e.arrive + time.Duration(r.IntN(3000))*time.Millisecond
		}
		events = append(events, e)
	}

	g := newGrantLog()
	var mu sync.Mutex
	moments := map[time.Duration]bool{} // arrivals and cancellations
	granted, cancelled := 0, 0
	var wg sync.WaitGroup
	for _, e := range events {
		wg.Go(func() {
			time.Sleep(e.arrive)
			ctx := WithPriority(t.Context(), e.prio)
			if e.cancelAt > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, e.cancelAt-e.arrive)
				defer cancel()
			}
			mu.Lock()
			moments[time.Since(g.start)] = true
			mu.Unlock()
			err := l.Wait(ctx, e.b)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				granted++
				g.add(e.b, "")
			case errors.Is(err, context.DeadlineExceeded):
				cancelled++
				moments[time.Since(g.start)] = true
			default:
				t.Errorf("Wait: %v", err)
			}
		})
	}
	wg.Wait()
	if granted+cancelled != len(events) {
		t.Fatalf("%d granted + %d cancelled != %d callers", granted, cancelled, len(events))
	}
	for b, ts := range g.times {
		checkWindows(t, string(b), ts, limits[b], l.Margin())
	}
	for i := 1; i < len(g.all); i++ {
		if gap := g.all[i] - g.all[i-1]; gap < spacing {
			t.Fatalf("grants %d and %d are %v apart, want >= %v", i-1, i, gap, spacing)
		}
	}
	// Grants happen at an arrival, a cancellation, or when a constraint from
	// an earlier grant expires (other grants may follow at that same
	// instant), never in between: a late timer would show here.
	allowed := maps.Clone(moments)
	for b, ts := range g.times {
		for _, d := range ts {
			for _, w := range limits[b] {
				allowed[d+w.Per+l.Margin()] = true
			}
			allowed[d+spacing] = true
		}
	}
	for i, d := range g.all {
		if !allowed[d] {
			t.Errorf("grant %d at %v: nothing allowed a grant at that moment", i, d)
		}
	}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func TestLocalDueWaiterBeatsNewcomerOfAnotherBucket(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		// With MinSpacing the buckets share one pace: a waiter already due
		// must not lose its turn to a caller arriving at that same instant.
		l := newLocal(t, Options{MinSpacing: time.Second, Margin: -1})
		exhaust(t, l, Other, 1)
		g := newGrantLog()
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := l.Wait(t.Context(), Other); err != nil {
				t.Error(err)
			}
			g.add(Other, "queued")
		})
		wg.Go(func() {
			time.Sleep(time.Second)
			if err := l.Wait(t.Context(), Orders); err != nil {
				t.Error(err)
			}
			g.add(Orders, "newcomer")
		})
		wg.Wait()
		want := map[Bucket][]time.Duration{Other: {time.Second}, Orders: {2 * time.Second}}
		if diff := cmp.Diff(want, g.times); diff != "" {
			t.Errorf("grant times mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestLocalFractionalRateFromConfig(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		windows := FromRPS(0, 2.5)[Other]
		l := newLocal(t, Options{Limits: Limits{Other: windows}, Margin: -1})
		grants := hammer(t, l, Other, 10, 16) // 160 grants
		checkWindows(t, "2.5/s", grants, []Window{{3, time.Second}, {5, 2 * time.Second}, {150, time.Minute}}, 0)
		// 2.5 per second sustained: grant 150 opens the second minute.
		if got := grants[150]; got != time.Minute {
			t.Errorf("grant 151 at %v, want 1m", got)
		}
		if got := grants[149]; got != 59*time.Second {
			t.Errorf("grant 150 at %v, want 59s", got)
		}
	})
}

// TestLocalRealClock checks the timer path outside a synctest bubble, on the
// real clock, with windows short enough to keep the test quick.
func TestLocalRealClock(t *testing.T) {
	t.Parallel()
	l := newLocal(t, Options{Limits: Limits{Other: {{2, 10 * time.Millisecond}}}, Margin: -1})
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 2 {
				if err := l.Wait(t.Context(), Other); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// 8 grants at 2 per 10ms: the last is at least 30ms after the first.
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("8 grants took %v, want at least 30ms", d)
	}
}
