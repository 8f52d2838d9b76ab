package ratelimit

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Store is a ledger of grants shared by every process that calls eMAG for the
// same accounts: the budget of issue 6, where N workers together must never
// exceed one account's limits.
//
// Take reserves the earliest slot at or after now that keeps the key's grants
// (one key per account and bucket) within every window, records it, and
// returns its time. The caller then waits until that time before sending.
// Reservations of one key are handed out in non-decreasing time order, so the
// ledger is a sorted log and the check "the grant N places back is at least
// Per before this one" is exact, as in Local. A reservation is never returned:
// a caller that gives up after Take wastes its slot, which errs on the safe
// side.
//
// now is the caller's clock. A store whose ledger lives on a server may order
// reservations by the server's clock (so that process clocks need not agree)
// but must answer on the caller's: now + (reserved - serverNow).
//
// The PostgreSQL store (sqldb.RateStore) keeps one row per key with the
// last max(N) grant times; Take locks the row, computes the slot with
// clock_timestamp() exactly as MemStore does, appends it and trims the
// array, in one round trip.
type Store interface {
	Take(ctx context.Context, key string, windows []Window, now time.Time) (Slot, error)
	// Move moves a slot Take reserved to late after its time: its request
	// left that late (see Grant), and eMAG counts arrivals. The ledger stays
	// sorted; a slot no longer kept (past every window) is left alone.
	Move(ctx context.Context, key string, s Slot, late time.Duration) error
}

// Slot is a reservation of a Store: At on the caller's clock, Ledger as the
// store recorded it (on its own clock), which Move names it by.
type Slot struct {
	At     time.Time
	Ledger time.Time
}

// moveTimeout bounds a ledger move (it runs beside the request, after it
// was sent).
const moveTimeout = 5 * time.Second

// minMove is the least lateness worth a ledger move: every window already
// has the limiter's margin (DefaultMargin) for jitter below it.
const minMove = 2 * time.Millisecond

// Shared is a Waiter whose budget is shared with other processes through a
// Store. A Local limiter with the same limits stands in front of the store:
// it keeps one process's callers in FIFO and priority order, applies
// MinSpacing and jitter, and makes sure one process never asks the store for
// more than the account's budget, so the store sees at most one process's
// fair share of contention. The store then makes the global decision.
//
// Priority holds within a process; across processes reservations are first
// come, first served.
type Shared struct {
	local   *Local
	store   Store
	account string
	windows map[Bucket][]Window // lengthened by the margin
	onWait  func(Bucket, time.Duration)
}

// Shared implements Waiter.
var _ Waiter = (*Shared)(nil)

// NewShared returns the shared limiter of one account. opts configures the
// local limiter in front; opts.OnWait receives the whole wait, local and
// shared.
func NewShared(account string, store Store, opts Options) (*Shared, error) {
	onWait := opts.OnWait
	opts.OnWait = nil
	local, err := NewLocal(opts)
	if err != nil {
		return nil, fmt.Errorf("new shared rate limiter for account %s: %w", account, err)
	}
	limits := opts.Limits
	if limits == nil {
		limits = DefaultLimits()
	}
	s := &Shared{local: local, store: store, account: account, windows: map[Bucket][]Window{}, onWait: onWait}
	for b, ws := range limits {
		lw := slices.Clone(ws)
		for i := range lw {
			lw[i].Per += local.margin
		}
		s.windows[b] = lw
	}
	return s, nil
}

// Key returns the store key of bucket b of the account: "account/bucket".
func (s *Shared) Key(b Bucket) string { return s.account + "/" + string(b) }

// Wait blocks until a request in bucket b may be sent without this account
// exceeding b's limits across every process sharing the store. If ctx ends
// before the local grant, nothing is consumed; if it ends after the store's
// reservation, that slot is wasted. Either way Wait returns an error wrapping
// ctx.Err(). A store failure is returned wrapped; the caller should not send.
func (s *Shared) Wait(ctx context.Context, b Bucket) error {
	_, err := s.WaitGrant(ctx, b)
	return err
}

// WaitGrant is Wait, returning the grant for its request to report when it
// was sent: a request that left late moves its grant in the local limiter
// and its slot in the shared ledger (in the background, and only when
// later than minMove), so that no process's next grant comes within a
// window of the moment eMAG counted it. A failed move is not reported: the
// slot stays where it was, as without the move.
func (s *Shared) WaitGrant(ctx context.Context, b Bucket) (Grant, error) {
	start := time.Now()
	g, err := s.local.WaitGrant(ctx, b)
	if err != nil {
		return Grant{}, err
	}
	key := s.Key(b)
	slot, err := s.store.Take(ctx, key, s.windows[b], time.Now())
	if err != nil {
		return Grant{}, fmt.Errorf("reserve shared rate limit slot %s: %w", key, err)
	}
	if d := time.Until(slot.At); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return Grant{}, fmt.Errorf("wait for shared rate limit slot %s: %w", key, ctx.Err())
		}
	}
	if s.onWait != nil {
		s.onWait(b, time.Since(start))
	}
	g.shared = func(t time.Time) {
		late := t.Sub(slot.At)
		if late < minMove {
			return
		}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), moveTimeout)
			defer cancel()
			_ = s.store.Move(ctx, key, slot, late)
		}()
	}
	return g, nil
}

// MemStore is an in-memory Store: exact, for tests and for several limiters
// in one process. It is safe for concurrent use.
type MemStore struct {
	mu   sync.Mutex
	logs map[string]*memLog
}

type memLog struct {
	times []time.Time // sorted; the last keep entries matter
	keep  int
}

// NewMemStore returns an empty in-memory ledger.
func NewMemStore() *MemStore { return &MemStore{logs: map[string]*memLog{}} }

// Take implements Store.
func (m *MemStore) Take(ctx context.Context, key string, windows []Window, now time.Time) (Slot, error) {
	if err := ctx.Err(); err != nil {
		return Slot{}, fmt.Errorf("take slot %s: %w", key, err)
	}
	if len(windows) == 0 {
		return Slot{}, fmt.Errorf("take slot %s: no windows", key)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	lg := m.logs[key]
	if lg == nil {
		lg = &memLog{}
		m.logs[key] = lg
	}
	at := now
	if n := len(lg.times); n > 0 && lg.times[n-1].After(at) {
		at = lg.times[n-1]
	}
	for _, w := range windows {
		lg.keep = max(lg.keep, w.N)
		if n := len(lg.times); n >= w.N {
			if t := lg.times[n-w.N].Add(w.Per); t.After(at) {
				at = t
			}
		}
	}
	lg.times = append(lg.times, at)
	if len(lg.times) >= 2*lg.keep {
		lg.times = append(lg.times[:0], lg.times[len(lg.times)-lg.keep:]...)
	}
	return Slot{At: at, Ledger: at}, nil
}

// Move implements Store.
func (m *MemStore) Move(ctx context.Context, key string, s Slot, late time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("move slot %s: %w", key, err)
	}
	if late <= 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	lg := m.logs[key]
	if lg == nil {
		return nil
	}
	i := slices.IndexFunc(lg.times, func(t time.Time) bool { return t.Equal(s.Ledger) })
	if i < 0 {
		return nil
	}
	lg.times[i] = s.Ledger.Add(late)
	slices.SortFunc(lg.times, time.Time.Compare)
	return nil
}
