package ratelimit

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestSentMovesTheGrant: three requests granted at once, one of them
// written 40 ms late (as eMAG would count it): of the next three, the one
// that would complete three requests within a window of the late one waits
// for it to leave that window; the other two go at 1.025 s as before.
func TestSentMovesTheGrant(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l, err := NewLocal(Options{})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		start := time.Now()
		var grants []Grant
		for range 3 {
			g, err := l.WaitGrant(ctx, Other)
			if err != nil {
				t.Fatal(err)
			}
			grants = append(grants, g)
		}
		time.Sleep(40 * time.Millisecond)
		grants[1].Sent(time.Now())
		grants[0].Sent(start) // on time: nothing moves
		var mu sync.Mutex
		var got []time.Duration
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if err := l.Wait(ctx, Other); err != nil {
					t.Error(err)
				}
				mu.Lock()
				got = append(got, time.Since(start))
				mu.Unlock()
			})
		}
		wg.Wait()
		slices.Sort(got)
		per := time.Second + DefaultMargin
		want := []time.Duration{per, per, 40*time.Millisecond + per}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("grant times (-want +got):\n%s", d)
		}
	})
}

// TestTimeLogDelay: an entry moved later keeps the log ordered.
func TestTimeLogDelay(t *testing.T) {
	t.Parallel()
	var q timeLog
	for _, v := range []time.Duration{1, 2, 2, 5, 9} {
		q.push(v)
	}
	q.popFront()
	if !q.delay(2, 7) {
		t.Fatal("entry 2 not found")
	}
	if q.delay(3, 4) {
		t.Fatal("found an entry that is not there")
	}
	var got []time.Duration
	for i := range q.len() {
		got = append(got, q.at(i))
	}
	if d := cmp.Diff([]time.Duration{2, 5, 7, 9}, got); d != "" {
		t.Errorf("log (-want +got):\n%s", d)
	}
}
