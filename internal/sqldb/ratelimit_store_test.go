package sqldb_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/ratelimit"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

func TestRateStoreSQLiteRefuses(t *testing.T) {
	t.Parallel()
	db := sqldbtest.Open(t, sqldb.SQLite)
	if _, err := db.RateStore(); magflow.ErrorCode(err) != magflow.EInvalid {
		t.Fatalf("RateStore on SQLite: got %v, want EInvalid", err)
	}
}

func TestRateStoreWindows(t *testing.T) {
	t.Parallel()
	_, rs := pgRateStore(t)
	ctx := context.Background()
	ws := []ratelimit.Window{{N: 2, Per: time.Hour}}
	var got []ratelimit.Slot
	for range 3 {
		now := time.Now()
		at, err := rs.Take(ctx, "main/other", ws, now)
		if err != nil {
			t.Fatal(err)
		}
		if at.At.Before(now) {
			t.Errorf("slot %v before the call", at.At.Sub(now))
		}
		got = append(got, at)
	}
	// The ledger's own times are exact; the callers' copies are each later
	// by their answer's return trip.
	if d := got[1].Ledger.Sub(got[0].Ledger); d < 0 || d > time.Second {
		t.Errorf("second grant %v after the first, want at once", d)
	}
	if d := got[2].Ledger.Sub(got[0].Ledger); d != time.Hour {
		t.Errorf("third grant %v after the first, want one hour (2 per hour)", d)
	}
	if d := got[2].At.Sub(got[0].At); d < time.Hour-time.Second || d > time.Hour+time.Second {
		t.Errorf("third grant %v after the first on the caller's clock, want about one hour", d)
	}
	// Another key has its own budget.
	at, err := rs.Take(ctx, "fbe/other", ws, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(at.At); d > time.Second {
		t.Errorf("another key waited %v", d)
	}
	if _, err := rs.Take(ctx, "main/other", nil, time.Now()); err == nil {
		t.Error("Take without windows succeeded")
	}
}

// TestRateStoreConcurrent has many callers (as if in several processes)
// reserve slots of one key at once: no window may ever hold more than its N.
func TestRateStoreConcurrent(t *testing.T) {
	t.Parallel()
	db, rs := pgRateStore(t)
	// The last window is always satisfied; its large N makes the ledger keep
	// every grant, so the test can read the server's own times back.
	ws := []ratelimit.Window{{N: 3, Per: 50 * time.Millisecond}, {N: 10, Per: 250 * time.Millisecond}, {N: 100, Per: time.Microsecond}}
	var (
		mu     sync.Mutex
		grants []time.Time
		wg     sync.WaitGroup
	)
	for range 6 {
		wg.Go(func() {
			for range 8 {
				at, err := rs.Take(context.Background(), "acct/other", ws, time.Now())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				grants = append(grants, at.At)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(grants) != 48 {
		t.Fatalf("%d grants, want 48", len(grants))
	}
	// The grants as the server reserved them (the callers' copies are later
	// by each answer's return trip, which the limiter's margin absorbs).
	var text string
	if err := db.WriteDB().QueryRow("SELECT array_to_string(ARRAY(SELECT extract(epoch FROM g)::text FROM unnest(grants) g), ',') FROM magflow_rate_grants WHERE key = 'acct/other'").Scan(&text); err != nil {
		t.Fatal(err)
	}
	var server []time.Duration
	for _, f := range strings.Split(text, ",") {
		sec, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatal(err)
		}
		server = append(server, time.Duration(sec*1e6)*time.Microsecond)
	}
	if len(server) != 48 || !slices.IsSorted(server) {
		t.Fatalf("server ledger: %d grants, sorted %v", len(server), slices.IsSorted(server))
	}
	for _, w := range ws {
		for i := 0; i+w.N < len(server); i++ {
			if d := server[i+w.N] - server[i]; d < w.Per-time.Microsecond {
				t.Fatalf("window %s: grants %d and %d only %v apart", w, i, i+w.N, d)
			}
		}
	}
}

// TestRateStoreMove: a slot moved by its lateness moves in the server's
// ledger (which stays sorted), so the next grant keeps its window from the
// moment the request left; a slot the ledger no longer holds is left alone.
func TestRateStoreMove(t *testing.T) {
	t.Parallel()
	db, rs := pgRateStore(t)
	ctx := context.Background()
	ws := []ratelimit.Window{{N: 2, Per: time.Hour}}
	first, err := rs.Take(ctx, "main/other", ws, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	second, err := rs.Take(ctx, "main/other", ws, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The first request left 10 minutes late: it is now the later of the two.
	if err := rs.Move(ctx, "main/other", first, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := rs.Move(ctx, "main/other", ratelimit.Slot{Ledger: first.Ledger.Add(-time.Hour)}, time.Minute); err != nil {
		t.Fatalf("moving a slot no longer kept: %v", err)
	}
	var sorted bool
	if err := db.WriteDB().QueryRow("SELECT grants[1] < grants[2] FROM magflow_rate_grants WHERE key = 'main/other'").Scan(&sorted); err != nil || !sorted {
		t.Fatalf("ledger sorted = %v, %v", sorted, err)
	}
	third, err := rs.Take(ctx, "main/other", ws, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Two per hour: the third waits an hour from the earlier of the two
	// (the second), not from the first's reservation.
	if d := third.Ledger.Sub(second.Ledger); d < time.Hour-time.Millisecond || d > time.Hour+time.Millisecond {
		t.Errorf("third slot %v after the second, want one hour", d)
	}
	// Two more: the next one counts from the moved first.
	fourth, err := rs.Take(ctx, "main/other", ws, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d := fourth.Ledger.Sub(first.Ledger); d < time.Hour+10*time.Minute-time.Millisecond || d > time.Hour+10*time.Minute+time.Millisecond {
		t.Errorf("fourth slot %v after the first's reservation, want 1h10m (an hour after it left)", d)
	}
}

func pgRateStore(t *testing.T) (*sqldb.DB, *sqldb.RateStore) {
	t.Helper()
	db := sqldbtest.Open(t, sqldb.Postgres)
	rs, err := db.RateStore()
	if err != nil {
		t.Fatal(err)
	}
	return db, rs
}
