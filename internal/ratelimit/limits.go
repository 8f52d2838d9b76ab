package ratelimit

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/magflow/magflow"
)

// Window is one sliding-window limit: at most N grants in any interval of
// length Per.
type Window struct {
	N   int
	Per time.Duration
}

// String renders w as "3/1s".
func (w Window) String() string { return fmt.Sprintf("%d/%s", w.N, w.Per) }

// Limits holds the windows of each bucket. A bucket obeys all of its windows
// at once (eMAG's "3 per second and 180 per minute"). A bucket absent from
// Limits cannot be waited on.
type Limits map[Bucket][]Window

// DefaultLimits returns eMAG's published limits (API v4.4.7+): orders 12/s and
// 720/min, every other route together 3/s and 180/min, the EAN search 5/s,
// 200/min and 5000/day.
func DefaultLimits() Limits {
	return Limits{
		Orders: {{N: magflow.OrdersRPS, Per: time.Second}, {N: magflow.OrdersPerMinute, Per: time.Minute}},
		Other:  {{N: magflow.OtherRPS, Per: time.Second}, {N: magflow.OtherPerMinute, Per: time.Minute}},
		EAN: {
			{N: magflow.EANRPS, Per: time.Second},
			{N: magflow.EANPerMinute, Per: time.Minute},
			{N: magflow.EANPerDay, Per: 24 * time.Hour},
		},
	}
}

// FromRPS returns the limits for an account configured with the given
// requests per second (config.Account's OrdersRPS and OtherRPS, from
// EMAG_<NAME>_ORDERS_RPS and EMAG_<NAME>_OTHER_RPS). A rate of 0 or less means
// eMAG's published one. The EAN bucket keeps its published limits.
//
// A bucket of rate r gets at most ceil(r) grants in any second; if r is not a
// whole number, also round(r*k) per k seconds for the least k up to 60 that
// makes it whole (2.5/s gives 3/1s and 5/2s), or one per 1/r seconds if r < 1,
// so the sustained rate is r; and
// 60*r per minute (rounded down), capped at eMAG's published per-minute
// figure, so even a rate above eMAG's (allowed by the configuration only for
// a sandbox or proxy) never sustains more than eMAG's minute budget.
func FromRPS(ordersRPS, otherRPS float64) Limits {
	l := DefaultLimits()
	l[Orders] = rpsWindows(ordersRPS, magflow.OrdersRPS, magflow.OrdersPerMinute)
	l[Other] = rpsWindows(otherRPS, magflow.OtherRPS, magflow.OtherPerMinute)
	return l
}

func rpsWindows(rps float64, defRPS, perMinuteCap int) []Window {
	if rps <= 0 || math.IsNaN(rps) || math.IsInf(rps, 0) {
		rps = float64(defRPS)
	}
	ws := []Window{{N: int(math.Ceil(rps)), Per: time.Second}}
	if rps < 1 {
		// One grant per 1/r seconds, rounded up to stay under r.
		return append(ws, Window{N: 1, Per: time.Duration(math.Ceil(float64(time.Second) / rps))},
			Window{N: max(min(int(math.Floor(60*rps+1e-9)), perMinuteCap), 1), Per: time.Minute})
	}
	for k := 1; k <= 60; k++ {
		n := rps * float64(k)
		if math.Abs(n-math.Round(n)) < 1e-9 {
			if k > 1 {
				ws = append(ws, Window{N: int(math.Round(n)), Per: time.Duration(k) * time.Second})
			}
			break
		}
	}
	perMinute := min(int(math.Floor(60*rps+1e-9)), perMinuteCap)
	return append(ws, Window{N: perMinute, Per: time.Minute})
}

// Clone returns a deep copy of l.
func (l Limits) Clone() Limits {
	c := make(Limits, len(l))
	for b, ws := range l {
		c[b] = slices.Clone(ws)
	}
	return c
}

// Scale returns a copy of l running factor times faster: every window's
// length is divided by factor, its count kept, so the shape of the limits
// (bursts, per-minute caps) is preserved. It serves a sandbox run with
// --rate-scale; factor must be positive.
func (l Limits) Scale(factor float64) Limits {
	c := l.Clone()
	for _, ws := range c {
		for i := range ws {
			ws[i].Per = max(time.Duration(float64(ws[i].Per)/factor), 1)
		}
	}
	return c
}

// Validate reports the first malformed window: every bucket needs at least
// one window, each with N >= 1 and Per > 0.
func (l Limits) Validate() error {
	for _, b := range slices.Sorted(maps.Keys(l)) {
		ws := l[b]
		if len(ws) == 0 {
			return magflow.Errorf(magflow.EInvalid, "rate limit of bucket %s has no window", b)
		}
		for _, w := range ws {
			if w.N < 1 || w.Per <= 0 {
				return magflow.Errorf(magflow.EInvalid, "rate limit %s of bucket %s: need a count >= 1 and a positive period", w, b)
			}
		}
	}
	return nil
}
