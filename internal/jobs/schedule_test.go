package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/magflow/magflow"
)

// TestTickScheduleUnderSynctest drives a scheduler loop the way River's
// leader does (sleep until Next, fire, ask again) on synctest's clock, which
// starts at midnight: no tick falls near a round minute, ticks keep their
// period on average, and jitter makes them uneven.
func TestTickScheduleUnderSynctest(t *testing.T) {
	t.Parallel()
	for _, iv := range []time.Duration{time.Minute, 5 * time.Minute, time.Hour, 20 * time.Second} {
		t.Run(iv.String(), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				if !IsRound(start) {
					t.Fatalf("synctest's epoch %v should be round", start)
				}
				s := TickSchedule{Key: "main/products", Interval: iv, Jitter: min(iv/10, 2*time.Minute)}
				var fired []time.Time
				next := s.Next(time.Now())
				for range 300 {
					time.Sleep(time.Until(next))
					fired = append(fired, time.Now())
					next = s.Next(next)
				}
				gaps := map[time.Duration]bool{}
				for i, f := range fired {
					if IsRound(f) {
						t.Fatalf("tick %d at %s is a round time", i, f.Format("15:04:05.000"))
					}
					if i > 0 {
						gap := f.Sub(fired[i-1])
						if gap <= 0 || gap > 2*iv {
							t.Fatalf("tick %d: %v after the previous one", i, gap)
						}
						gaps[gap] = true
					}
				}
				mean := fired[len(fired)-1].Sub(fired[0]) / time.Duration(len(fired)-1)
				if d := mean - iv; d < -iv/20 || d > iv/20 {
					t.Errorf("mean period %v, want about %v", mean, iv)
				}
				if len(gaps) < 10 {
					t.Errorf("only %d distinct gaps: the ticks are not jittered", len(gaps))
				}
			})
		})
	}
}

// TestTickScheduleSameOnEveryProcess: a leader elected later (asking Next
// from another instant) continues the same ticks, and accounts get
// different phases.
func TestTickScheduleSameOnEveryProcess(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := TickSchedule{Key: "fbe/orders", Interval: 5 * time.Minute, Jitter: 30 * time.Second}
		var ticks []time.Time
		next := s.Next(time.Now())
		for range 50 {
			ticks = append(ticks, next)
			next = s.Next(next)
		}
		for i := 1; i < len(ticks); i++ {
			// A new leader starting anywhere between two ticks picks the next.
			mid := ticks[i-1].Add(ticks[i].Sub(ticks[i-1]) / 2)
			if got := s.Next(mid); !got.Equal(ticks[i]) {
				t.Fatalf("from %v: next %v, want %v", mid, got, ticks[i])
			}
		}
		first := map[time.Time]string{}
		for i := range 20 {
			key := fmt.Sprintf("acct%d/orders", i)
			at := TickSchedule{Key: key, Interval: 5 * time.Minute, Jitter: 30 * time.Second}.Next(time.Now())
			if other, ok := first[at]; ok {
				t.Errorf("%s and %s start together at %v", key, other, at)
			}
			first[at] = key
		}
	})
}

func TestMakePlan(t *testing.T) {
	t.Parallel()
	accts := []string{"main", "fbe"}
	e := func(a string, s magflow.Stream, iv time.Duration) PlanEntry {
		return PlanEntry{Account: a, Stream: s, Interval: iv}
	}
	for _, tc := range []struct {
		name    string
		enabled bool
		streams []magflow.Stream
		want    []PlanEntry
	}{
		{"disabled", false, nil, nil},
		{"all streams", true, nil, []PlanEntry{
			e("main", magflow.StreamProducts, time.Hour), e("main", magflow.StreamOrders, 5*time.Minute),
			e("fbe", magflow.StreamProducts, time.Hour), e("fbe", magflow.StreamOrders, 5*time.Minute)}},
		{"products and offers are one scan", true, []magflow.Stream{magflow.StreamOffers, magflow.StreamProducts}, []PlanEntry{
			e("main", magflow.StreamProducts, time.Hour), e("fbe", magflow.StreamProducts, time.Hour)}},
		{"offers only", true, []magflow.Stream{magflow.StreamOffers}, []PlanEntry{
			e("main", magflow.StreamOffers, time.Hour), e("fbe", magflow.StreamOffers, time.Hour)}},
		{"orders only", true, []magflow.Stream{magflow.StreamOrders}, []PlanEntry{
			e("main", magflow.StreamOrders, 5*time.Minute), e("fbe", magflow.StreamOrders, 5*time.Minute)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := MakePlan(accts, tc.enabled, time.Hour, 5*time.Minute, tc.streams)
			if diff := cmp.Diff(tc.want, got.Entries); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRefresherUnderSynctest: the stored schedule is re-read every period
// and applied only when it changed; a failed read keeps the plan in force.
func TestRefresherUnderSynctest(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var (
			mu      sync.Mutex
			stored  = MakePlan([]string{"main"}, true, time.Hour, 5*time.Minute, nil)
			fail    bool
			loads   int
			applied []Plan
		)
		r := &refresher{
			load: func(context.Context) (Plan, error) {
				mu.Lock()
				defer mu.Unlock()
				loads++
				if fail {
					return Plan{}, fmt.Errorf("database unavailable")
				}
				return stored, nil
			},
			apply: func(p Plan) {
				mu.Lock()
				defer mu.Unlock()
				applied = append(applied, p)
			},
			every:  30 * time.Second,
			logger: slog.New(slog.DiscardHandler),
		}
		ctx, cancel := context.WithCancel(t.Context())
		r.refresh(ctx)
		go r.run(ctx)
		check := func(wantLoads, wantApplied int) {
			t.Helper()
			synctest.Wait()
			mu.Lock()
			defer mu.Unlock()
			if loads != wantLoads || len(applied) != wantApplied {
				t.Fatalf("at %v: %d loads, %d applied; want %d, %d", time.Now().Format("15:04:05"), loads, len(applied), wantLoads, wantApplied)
			}
		}
		check(1, 1)
		time.Sleep(95 * time.Second) // three more reads, nothing changed
		check(4, 1)
		mu.Lock()
		stored = MakePlan([]string{"main"}, true, 10*time.Minute, 5*time.Minute, nil)
		mu.Unlock()
		time.Sleep(30 * time.Second)
		check(5, 2)
		mu.Lock()
		fail = true
		mu.Unlock()
		time.Sleep(30 * time.Second)
		check(6, 2)
		mu.Lock()
		fail, stored = false, Plan{} // disabled through the API
		mu.Unlock()
		time.Sleep(30 * time.Second)
		check(7, 3)
		if len(applied[2].Entries) != 0 || applied[1].Entries[0].Interval != 10*time.Minute {
			t.Errorf("applied %+v", applied)
		}
		cancel()
		synctest.Wait()
	})
}
