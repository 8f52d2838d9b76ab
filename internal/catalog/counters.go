package catalog

import (
	"context"
	"sync"
	"time"
)

// counters reads the SQLite change counters for many concurrent requests
// at once, without ever answering one with a read that began before it
// asked: a caller joins a read in flight only if that read started after
// the caller arrived, else it waits for the next one (which it may start).
// Under load one read (about 20 us) answers every request that arrived
// while the previous one ran.
type counters struct {
	read func(context.Context) (catalog, users int64, err error)

	mu       sync.Mutex
	inflight *countersRead
	last     *countersRead // the latest finished read
}

type countersRead struct {
	start          time.Time
	done           chan struct{}
	catalog, users int64
	err            error
}

func (c *counters) get(ctx context.Context) (int64, int64, error) {
	arrived := time.Now()
	for {
		c.mu.Lock()
		if l := c.last; l != nil && !l.start.Before(arrived) {
			c.mu.Unlock()
			return l.catalog, l.users, l.err
		}
		if r := c.inflight; r != nil {
			c.mu.Unlock()
			select {
			case <-r.done:
			case <-ctx.Done():
				return 0, 0, ctx.Err()
			}
			if !r.start.Before(arrived) {
				return r.catalog, r.users, r.err
			}
			continue // it began before we came: wait for (or start) the next
		}
		r := &countersRead{start: time.Now(), done: make(chan struct{})}
		c.inflight = r
		c.mu.Unlock()
		r.catalog, r.users, r.err = c.read(context.WithoutCancel(ctx))
		c.mu.Lock()
		c.inflight, c.last = nil, r
		c.mu.Unlock()
		close(r.done)
		return r.catalog, r.users, r.err
	}
}
