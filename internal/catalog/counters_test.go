package catalog

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestCountersNeverStale: whatever the concurrency, a caller gets the
// result of a read that began after it arrived, and concurrent callers
// share reads.
func TestCountersNeverStale(t *testing.T) {
	t.Parallel()
	var version atomic.Int64 // bumped by "commits"
	var reads atomic.Int64
	c := &counters{read: func(context.Context) (int64, int64, error) {
		reads.Add(1)
		v := version.Load()
		for range 50 { // a read takes a while: let other callers arrive
			runtime.Gosched()
		}
		return v, v, nil
	}}
	var wg sync.WaitGroup
	const callers, calls = 16, 200
	for range callers {
		wg.Go(func() {
			for range calls {
				// A commit, then a read: it must see the commit.
				v := version.Add(1)
				got, _, err := c.get(context.Background())
				if err != nil || got < v {
					t.Errorf("got version %d after commit %d (%v)", got, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := reads.Load(); n >= callers*calls {
		t.Errorf("%d reads for %d calls: none shared", n, callers*calls)
	}
}
