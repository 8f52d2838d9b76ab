package ratelimit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/magflow/magflow"
)

// TestSharedProcessesNeverExceedTogether runs three "processes", each with
// its own Shared limiter (and so its own Local in front) for one account, on
// one store: together they keep the account's limits, and reach them.
func TestSharedProcessesNeverExceedTogether(t *testing.T) {
	t.Parallel()
	for _, b := range []Bucket{Other, Orders} {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				store := NewMemStore()
				g := newGrantLog()
				var wg sync.WaitGroup
				for p := range 3 {
					s, err := NewShared("main", store, Options{})
					if err != nil {
						t.Fatal(err)
					}
					for c := range 10 {
						wg.Go(func() {
							for range 20 {
								if err := s.Wait(t.Context(), b); err != nil {
									t.Errorf("process %d caller %d: %v", p, c, err)
									return
								}
								g.add(b, "")
							}
						})
					}
				}
				wg.Wait()
				grants := g.times[b]
				if len(grants) != 600 {
					t.Fatalf("%d grants, want 600", len(grants))
				}
				windows := DefaultLimits()[b]
				checkWindows(t, string(b), grants, windows, DefaultMargin)
				ideal := greedy(600, windows, DefaultMargin)[599]
				if last := grants[599]; float64(last) > 1.01*float64(ideal) {
					t.Errorf("600 grants took %v, more than 1%% over the ideal %v", last, ideal)
				}
			})
		})
	}
}

func TestSharedAccountsAreSeparateKeys(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		a, err := NewSharedAccounts(NewMemStore(), map[string]Options{
			"main": {Limits: Limits{Other: {{1, time.Second}}}, Margin: -1},
			"fbe":  {Limits: Limits{Other: {{1, time.Second}}}, Margin: -1},
		})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for _, name := range []string{"main", "fbe", "main", "fbe"} {
			if err := a.Wait(t.Context(), name, Other); err != nil {
				t.Fatal(err)
			}
		}
		if got := time.Since(start); got != time.Second {
			t.Errorf("two grants per account took %v, want 1s", got)
		}
	})
}

func TestSharedCancelWhileReserved(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p1, p2 := twoProcesses(t)
		if err := p1.Wait(t.Context(), Other); err != nil {
			t.Fatal(err)
		}
		// p2's local limiter grants at once; the store reserves 1s.
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		if err := p2.Wait(ctx, Other); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want DeadlineExceeded", err)
		}
		// The abandoned slot stays taken: the next one is at 2s.
		start := time.Now()
		if err := p1.Wait(t.Context(), Other); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 1700*time.Millisecond {
			t.Errorf("next grant after %v, want 1.7s", got)
		}
	})
}

type failingStore struct{}

func (failingStore) Take(context.Context, string, []Window, time.Time) (Slot, error) {
	return Slot{}, errors.New("connection refused")
}

func (failingStore) Move(context.Context, string, Slot, time.Duration) error {
	return errors.New("connection refused")
}

func TestSharedStoreFailure(t *testing.T) {
	t.Parallel()
	s, err := NewShared("main", failingStore{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Wait(t.Context(), Other)
	if err == nil || err.Error() != "reserve shared rate limit slot main/other: connection refused" {
		t.Errorf("Wait = %v, want the store's error wrapped", err)
	}
}

func TestSharedOnWaitReportsWholeWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := NewMemStore()
		var got []time.Duration
		p1, _ := NewShared("main", store, Options{Limits: Limits{Other: {{1, time.Second}}}, Margin: -1})
		p2, _ := NewShared("main", store, Options{Limits: Limits{Other: {{1, time.Second}}}, Margin: -1,
			OnWait: func(_ Bucket, d time.Duration) { got = append(got, d) }})
		for _, s := range []*Shared{p1, p2} {
			if err := s.Wait(t.Context(), Other); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff([]time.Duration{time.Second}, got); diff != "" {
			t.Errorf("OnWait mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestMemStoreTake(t *testing.T) {
	t.Parallel()
	base := time.Date(2025, 1, 1, 12, 4, 42, 0, time.UTC)
	ms := func(n int) time.Time { return base.Add(time.Duration(n) * time.Millisecond) }
	windows := []Window{{2, time.Second}, {3, 10 * time.Second}}
	s := NewMemStore()
	steps := []struct {
		now, want time.Time
	}{
		{ms(0), ms(0)},
		{ms(0), ms(0)},
		{ms(10), ms(1000)},  // 2/s
		{ms(20), ms(10000)}, // 3/10s after the second 0
		{ms(20), ms(10000)}, // still 2 in [10s, 11s) and 3 in [1s, 11s)
		{ms(30), ms(11000)}, // 2/s after 10000, 3/10s after 1000
		{ms(30000), ms(30000)},
	}
	for i, st := range steps {
		got, err := s.Take(t.Context(), "k", windows, st.now)
		if err != nil {
			t.Fatal(err)
		}
		if !got.At.Equal(st.want) || !got.Ledger.Equal(st.want) {
			t.Errorf("take %d at %v = %v, want %v", i, st.now.Sub(base), got.At.Sub(base), st.want.Sub(base))
		}
	}
	// Another key has its own ledger.
	if got, _ := s.Take(t.Context(), "other", windows, ms(5)); !got.At.Equal(ms(5)) {
		t.Errorf("fresh key reserved %v, want 5ms", got.At.Sub(base))
	}
	// The log stays bounded.
	for i := range 1000 {
		if _, err := s.Take(t.Context(), "k", windows, ms(40000+i*10000)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.logs["k"].times); n >= 6 {
		t.Errorf("ledger holds %d entries, want fewer than 2*3", n)
	}
	if _, err := s.Take(t.Context(), "k", nil, base); err == nil {
		t.Error("Take without windows succeeded")
	}
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		a, err := NewAccounts(map[string]Options{
			"main": {Limits: FromRPS(12, 3), Margin: -1},
			"fbe":  {Limits: FromRPS(12, 1), Margin: -1},
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"fbe", "main"}, a.Names()); diff != "" {
			t.Errorf("Names mismatch (-want +got):\n%s", diff)
		}
		if _, ok := a.For("main"); !ok {
			t.Error("For(main) not found")
		}
		start := time.Now()
		for range 3 {
			for _, name := range []string{"main", "fbe"} {
				if err := a.Wait(t.Context(), name, Other); err != nil {
					t.Fatal(err)
				}
			}
		}
		// main fits its 3 at once; fbe, at 1/s, needs 2s for its 3.
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("took %v, want 2s", got)
		}
		err = a.Wait(t.Context(), "nope", Other)
		if magflow.ErrorCode(err) != magflow.ENotFound {
			t.Errorf("unknown account: %v, want code %s", err, magflow.ENotFound)
		}
	})
	_, err := NewAccounts(map[string]Options{"bad": {Limits: Limits{Other: {{0, time.Second}}}}})
	if err == nil || magflow.ErrorCode(err) != magflow.EInvalid {
		t.Errorf("NewAccounts with a bad limit = %v, want an invalid error", err)
	}
}

// TestSharedSentMovesTheSlot: two processes share one account's budget of
// one request a second. The first one's request leaves 300 ms after its
// slot: the slot moves in the shared ledger, so the other process's next
// request waits a second from when the first actually left, not from its
// slot.
func TestSharedSentMovesTheSlot(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p1, p2 := twoProcesses(t)
		start := time.Now()
		g, err := p1.WaitGrant(t.Context(), Other)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		g.Sent(time.Now())
		synctest.Wait() // the move runs beside the request
		if err := p2.Wait(t.Context(), Other); err != nil {
			t.Fatal(err)
		}
		if got, want := time.Since(start), 1300*time.Millisecond; got != want {
			t.Errorf("the other process's request went at %v, want %v (a second after the first one left)", got, want)
		}
		// A request sent on time (or less than minMove late) moves nothing.
		g2, err := p2.WaitGrant(t.Context(), Other)
		if err != nil {
			t.Fatal(err)
		}
		g2.Sent(time.Now().Add(minMove / 2))
		synctest.Wait()
		if err := p1.Wait(t.Context(), Other); err != nil {
			t.Fatal(err)
		}
		if got, want := time.Since(start), 3300*time.Millisecond; got != want {
			t.Errorf("third request at %v, want %v", got, want)
		}
	})
}

// TestMemStoreMove: a moved slot keeps the ledger sorted; an unknown one
// changes nothing.
func TestMemStoreMove(t *testing.T) {
	t.Parallel()
	base := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	s := NewMemStore()
	ws := []Window{{3, time.Second}}
	var slots []Slot
	for range 3 {
		sl, err := s.Take(t.Context(), "k", ws, base)
		if err != nil {
			t.Fatal(err)
		}
		slots = append(slots, sl)
	}
	if err := s.Move(t.Context(), "k", slots[0], 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := s.Move(t.Context(), "k", Slot{Ledger: base.Add(time.Hour)}, time.Second); err != nil {
		t.Fatal(err)
	}
	want := []time.Time{base, base, base.Add(500 * time.Millisecond)}
	if d := cmp.Diff(want, s.logs["k"].times); d != "" {
		t.Errorf("ledger (-want +got):\n%s", d)
	}
	// The next slot keeps three a second from the moved one's new time.
	sl, err := s.Take(t.Context(), "k", ws, base)
	if err != nil {
		t.Fatal(err)
	}
	if want := base.Add(time.Second); !sl.At.Equal(want) {
		t.Errorf("next slot %v, want %v", sl.At.Sub(base), want.Sub(base))
	}
}

// twoProcesses returns two limiters of account main sharing one ledger, as
// two processes would: one request a second, no margin.
func twoProcesses(t *testing.T) (*Shared, *Shared) {
	t.Helper()
	store := NewMemStore()
	opts := Options{Limits: Limits{Other: {{1, time.Second}}}, Margin: -1}
	p1, err := NewShared("main", store, opts)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := NewShared("main", store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p1, p2
}
