package twoway_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
	"github.com/magflow/magflow/internal/syncer"
	"github.com/magflow/magflow/internal/twoway"
)

// fakeClock is the sandbox's clock, moved by the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newOrders reads eMAG's new seller-fulfilled orders.
func (e *env) newOrders(t *testing.T) []emag.Order {
	t.Helper()
	typ := 3
	var out []emag.Order
	for page, err := range e.clients["main"].OrderPages(context.Background(), emag.OrderFilter{Status: []int{1}, Type: &typ}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
	}
	return out
}

// TestAcksAndReconcile: orders a sync stored are acknowledged once; orders
// whose callbacks were lost are found by the reconciliation, stored and
// acknowledged.
func TestAcksAndReconcile(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		clk := &fakeClock{t: time.Now()}
		e := setup(t, db.Dialect(), setupOptions{products: 10, orders: 300, clock: clk, rate: 6})
		e.sync(t, syncer.ModeOrders)
		ctx := context.Background()
		before := e.newOrders(t)
		if len(before) == 0 {
			t.Fatal("the sandbox has no new order to acknowledge")
		}
		mismatches := 0
		s := e.service(t, twoway.Options{Now: clk.Now, OnOrdersMismatch: func(context.Context, string) { mismatches++ }})
		drain(t, s, "main", sqldb.OutboxAck)
		if left := e.newOrders(t); len(left) != 0 {
			t.Fatalf("%d new orders left unacknowledged", len(left))
		}
		sum := summary(t, e.db, sqldb.OutboxAck)
		if sum[sqldb.OutboxApplied] != len(before) || len(sum) != 1 {
			t.Fatalf("acks %v, want %d applied", sum, len(before))
		}
		// A second pass finds nothing to add.
		drain(t, s, "main", sqldb.OutboxAck)
		if sum2 := summary(t, e.db, sqldb.OutboxAck); sum2[sqldb.OutboxApplied] != len(before) {
			t.Fatalf("acks after a second pass %v", sum2)
		}

		// Ten minutes of orders whose callbacks never came.
		clk.advance(10 * time.Minute)
		missed := e.newOrders(t)
		if len(missed) == 0 {
			t.Fatal("no new orders arrived")
		}
		rep, err := s.Reconcile(ctx, "main")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Fetched < len(missed) || rep.Remote[1] != rep.Local[1] {
			t.Fatalf("reconcile: %+v, want at least %d fetched and status 1 in step", rep, len(missed))
		}
		if rep.SyncRequested != (len(rep.Mismatched) > 0) || mismatches != len(rep.Mismatched)/max(len(rep.Mismatched), 1) {
			t.Fatalf("reconcile: %+v, %d sync requests", rep, mismatches)
		}
		drain(t, s, "main", sqldb.OutboxAck)
		if left := e.newOrders(t); len(left) != 0 {
			t.Fatalf("%d new orders left unacknowledged after the reconciliation", len(left))
		}
		for _, o := range missed {
			got, err := e.db.GetOrder(ctx, "main", o.ID)
			if err != nil || got.Status != 2 {
				t.Fatalf("order %d: stored status %d, %v", o.ID, got.Status, err)
			}
		}
	})
}

// TestCallbackService: the service side of a callback: the token picks
// the account, a repeated callback neither stores nor acknowledges twice,
// an order of eMAG's own fulfilment is stored without acknowledgement.
func TestCallbackService(t *testing.T) {
	t.Parallel()
	e := setup(t, sqldb.SQLite, setupOptions{products: 10, orders: 1000})
	s := e.service(t, twoway.Options{})
	ctx := context.Background()
	news := e.newOrders(t)
	if len(news) == 0 {
		t.Fatal("no new order")
	}
	for i, want := range []sqldb.PageResult{{Inserted: 1}, {Unchanged: 1}} {
		res, err := s.Callback(ctx, token, news[0].ID)
		if err != nil || res.Account != "main" || res.Stored != want || !res.AckQueued {
			t.Fatalf("callback %d: %+v, %v", i, res, err)
		}
	}
	typ := 2
	fbe, err := e.clients["main"].ReadOrders(ctx, emag.OrderFilter{Type: &typ, ItemsPerPage: 1, CurrentPage: 1})
	if err != nil || len(fbe) == 0 {
		t.Fatalf("an FBE order: %v", err)
	}
	res, err := s.Callback(ctx, token, fbe[0].ID)
	if err != nil || res.Type != 2 || res.AckQueued {
		t.Fatalf("FBE callback: %+v, %v", res, err)
	}
	for _, tc := range []struct {
		token string
		id    int64
		code  string
	}{{"", news[0].ID, magflow.EUnauthorized}, {"wrong", news[0].ID, magflow.EForbidden}, {token, 0, magflow.EInvalid}, {token, 1, magflow.ENotFound}} {
		if _, err := s.Callback(ctx, tc.token, tc.id); magflow.ErrorCode(err) != tc.code {
			t.Fatalf("callback(%q, %d) = %v, want %s", tc.token, tc.id, err, tc.code)
		}
	}
	if _, total, _ := e.db.ListOutbox(ctx, sqldb.OutboxFilter{Kind: sqldb.OutboxAck}); total != 1 {
		t.Fatalf("%d acknowledgements queued, want 1", total)
	}
}

// TestDrainersRun: started drainers send a change as soon as it is
// enqueued, and stop cleanly.
func TestDrainersRun(t *testing.T) {
	t.Parallel()
	e := setup(t, sqldb.SQLite, setupOptions{products: 20, orders: -1})
	e.sync(t, syncer.ModeOffers)
	done := make(chan struct{})
	s := e.service(t, twoway.Options{Poll: time.Hour, Hooks: twoway.Hooks{AfterSend: func(string, string, []int64) error {
		close(done)
		return nil
	}}})
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ids, err := s.EnqueueOfferChanges(ctx, []sqldb.OfferChange{{Account: "main", ProductID: e.ids(t)[0], OfferFields: sqldb.OfferFields{Stock: ptr(9)}}})
	if err != nil {
		t.Fatal(err)
	}
	<-done // woken by the enqueue, not by the hour-long poll
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// Stopped right after the send: recorded, or left sending and settled
	// by the next drainer's read-back, never sent twice.
	drain(t, e.service(t, twoway.Options{}), "main", sqldb.OutboxOffer)
	got, err := e.db.GetOutbox(ctx, ids[0])
	if err != nil || got.State != sqldb.OutboxApplied || got.Attempts != 1 {
		t.Fatalf("change after stop: %+v, %v", got, err)
	}
}
