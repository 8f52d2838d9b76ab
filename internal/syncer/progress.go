package syncer

import (
	"sync/atomic"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/ratelimit"
)

// Progress is a live view of one run.
type Progress struct {
	RunID    int64
	Account  string
	Stream   magflow.Stream
	Status   magflow.RunStatus
	Counters magflow.RunCounters
	Rate     float64 // items per second
	ETA      time.Duration
}

// Observer receives live progress, at least once per page and once at the
// end of each run. Calls come from several goroutines.
type Observer interface {
	Progress(Progress)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Progress)

// Progress calls f.
func (f ObserverFunc) Progress(p Progress) { f(p) }

type nopObserver struct{}

func (nopObserver) Progress(Progress) {}

// RequestStats counts one account's eMAG requests per bucket. The eMAG
// client's hooks feed it; runs report the difference over their lifetime.
type RequestStats struct {
	orders, other, ean bucketStats
}

type bucketStats struct {
	requests, retries, throttled atomic.Int64
}

func (s *RequestStats) bucket(b ratelimit.Bucket) *bucketStats {
	switch b {
	case ratelimit.Orders:
		return &s.orders
	case ratelimit.EAN:
		return &s.ean
	}
	return &s.other
}

// Hooks returns eMAG client hooks that feed s.
func (s *RequestStats) Hooks() emag.Hooks {
	return emag.Hooks{
		Request: func(ev emag.RequestEvent) { s.Request(ev.Bucket, ev.Status) },
		Retry:   func(ev emag.RetryEvent) { s.Retry(ev.Bucket) },
	}
}

// Request counts one HTTP attempt in bucket b; status 429 counts as throttled.
func (s *RequestStats) Request(b ratelimit.Bucket, status int) {
	bs := s.bucket(b)
	bs.requests.Add(1)
	if status == 429 {
		bs.throttled.Add(1)
	}
}

// Retry counts one retry in bucket b.
func (s *RequestStats) Retry(b ratelimit.Bucket) { s.bucket(b).retries.Add(1) }

// BucketCounts are the counters of one bucket at one moment.
type BucketCounts struct{ Requests, Retries, Throttled int64 }

// Sub returns c-o.
func (c BucketCounts) Sub(o BucketCounts) BucketCounts {
	return BucketCounts{c.Requests - o.Requests, c.Retries - o.Retries, c.Throttled - o.Throttled}
}

// StatsSnapshot is every bucket's counters at one moment.
type StatsSnapshot struct{ Orders, Other, EAN BucketCounts }

// Snapshot reads the counters.
func (s *RequestStats) Snapshot() StatsSnapshot {
	read := func(b *bucketStats) BucketCounts {
		return BucketCounts{b.requests.Load(), b.retries.Load(), b.throttled.Load()}
	}
	return StatsSnapshot{Orders: read(&s.orders), Other: read(&s.other), EAN: read(&s.ean)}
}
