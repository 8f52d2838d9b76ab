package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/ratelimit"
)

// RateStore is the PostgreSQL ledger of rate-limit grants that every MagFlow
// process on the database shares (ratelimit.Store): with it, N workers
// together keep one eMAG account within its limits.
//
// Each key ("account/bucket") is one row of magflow_rate_grants holding the
// times of its latest grants. Take calls magflow_rate_take, which locks the
// row, computes the earliest slot that keeps every window (exactly as
// ratelimit.MemStore does), appends it and trims the log, all in one
// statement: one round trip per eMAG request. The slot is computed on the
// server's clock, so the processes' clocks need not agree; it is returned on
// the caller's clock as of the answer's arrival (never earlier than the
// server meant, at the cost of one return trip).
type RateStore struct {
	db *DB
}

// RateStore implements ratelimit.Store.
var _ ratelimit.Store = (*RateStore)(nil)

// RateStore returns the shared rate-limit ledger of db. Only PostgreSQL has
// one: SQLite serves a single process, where ratelimit.Local is exact.
func (db *DB) RateStore() (*RateStore, error) {
	if db.dialect != Postgres {
		return nil, &magflow.Error{Code: magflow.EInvalid, Field: "DATABASE_URL",
			Message: "a shared rate-limit budget needs PostgreSQL: SQLite serves one process, whose own limiter is exact"}
	}
	return &RateStore{db: db}, nil
}

// Take implements ratelimit.Store.
func (s *RateStore) Take(ctx context.Context, key string, windows []ratelimit.Window, now time.Time) (ratelimit.Slot, error) {
	if len(windows) == 0 {
		return ratelimit.Slot{}, fmt.Errorf("take rate slot %s: no windows", key)
	}
	ns := make([]int64, len(windows))
	pers := make([]int64, len(windows))
	for i, w := range windows {
		if w.N < 1 || w.Per <= 0 {
			return ratelimit.Slot{}, fmt.Errorf("take rate slot %s: malformed window %s", key, w)
		}
		ns[i] = int64(w.N)
		// Round the window up to the database's microsecond so it is never
		// shortened.
		pers[i] = int64((w.Per + time.Microsecond - 1) / time.Microsecond)
	}
	start := time.Now()
	var at, serverNow time.Time
	err := s.db.write.QueryRowContext(ctx, "SELECT grant_at, server_now FROM magflow_rate_take($1, $2, $3)",
		key, ns, pers).Scan(&at, &serverNow)
	if err != nil {
		return ratelimit.Slot{}, s.db.wrap("take rate slot "+key, err)
	}
	// The slot is serverNow+d on the server's clock. Map it from the moment
	// the answer arrived, not from now: the call may have waited for the
	// row's lock, and a slot mapped from before that wait would be early.
	return ratelimit.Slot{At: now.Add(time.Since(start)).Add(at.Sub(serverNow)), Ledger: at}, nil
}

// Move implements ratelimit.Store: magflow_rate_move (migration 00017)
// moves the slot, named by its time on the server's clock, under the row's
// lock and keeps the row's grants sorted; one round trip.
func (s *RateStore) Move(ctx context.Context, key string, slot ratelimit.Slot, late time.Duration) error {
	us := int64(late / time.Microsecond)
	if us <= 0 {
		return nil
	}
	var moved bool
	if err := s.db.write.QueryRowContext(ctx, "SELECT magflow_rate_move($1, $2, $3)", key, slot.Ledger, us).Scan(&moved); err != nil {
		return s.db.wrap("move rate slot "+key, err)
	}
	return nil
}
