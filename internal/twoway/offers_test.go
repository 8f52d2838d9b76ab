package twoway_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
	"github.com/magflow/magflow/internal/syncer"
	"github.com/magflow/magflow/internal/twoway"
)

// TestBulkStockChanges: 10,000 stock changes reach eMAG in the fewest
// requests 50 per request allows (200), within the account's rate limits,
// and the offers eMAG rejects (an active campaign) carry eMAG's message.
func TestBulkStockChanges(t *testing.T) {
	t.Parallel()
	const n = 10000
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := setup(t, db.Dialect(), setupOptions{products: n, orders: -1, scale: 30})
		e.sync(t, syncer.ModeOffers)
		stored := offers(t, e.db)
		if len(stored) != n {
			t.Fatalf("synced %d offers, want %d", len(stored), n)
		}
		changes := make([]sqldb.OfferChange, n)
		want := map[int64]int{}
		for i, o := range stored {
			v := (o.GeneralStock + 7) % 1000
			want[o.ProductID] = v
			changes[i] = sqldb.OfferChange{Account: "main", ProductID: o.ProductID, OfferFields: sqldb.OfferFields{Stock: ptr(v)}, Source: "test"}
			if i%2 == 1 { // half of them by SKU
				changes[i].ProductID, changes[i].PartNumber = 0, o.PartNumber
			}
		}
		s := e.service(t, twoway.Options{})
		ctx := context.Background()
		ids, err := s.EnqueueOfferChanges(ctx, changes)
		if err != nil || len(ids) != n {
			t.Fatalf("enqueue: %d ids, %v", len(ids), err)
		}
		e.sb.ResetStats()
		e.routes.reset()
		start := time.Now()
		drain(t, s, "main", sqldb.OutboxOffer)
		t.Logf("%s: %d stock changes drained in %v", db.Dialect(), n, time.Since(start).Round(time.Millisecond))

		if diff := cmp.Diff(map[string]int{"offer/save": n / magflow.MaxBulkEntities}, e.routes.snapshot()); diff != "" {
			t.Fatalf("requests (-want +got):\n%s", diff)
		}
		b := e.sb.Stats().Accounts["main"].Buckets["other"]
		if b.Requests != n/magflow.MaxBulkEntities || b.RateLimited != 0 || b.MaxPerSecond > b.LimitPerSecond || b.MaxPerMinute > b.LimitPerMinute {
			t.Fatalf("sandbox saw %+v: want %d requests, no 429, within the limits", b, n/magflow.MaxBulkEntities)
		}
		sum := summary(t, e.db, sqldb.OutboxOffer)
		if sum[sqldb.OutboxApplied]+sum[sqldb.OutboxRejected] != n || sum[sqldb.OutboxRejected] == 0 {
			t.Fatalf("outcomes %v: want %d applied or rejected, some rejected (offers in a campaign)", sum, n)
		}
		rejected, _, err := e.db.ListOutbox(ctx, sqldb.OutboxFilter{State: sqldb.OutboxRejected, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rejected {
			if !strings.Contains(r.Message, "campaign") {
				t.Fatalf("rejected change %d carries %q, want eMAG's campaign message", r.ID, r.Message)
			}
		}
		applied, _, _ := e.db.ListOutbox(ctx, sqldb.OutboxFilter{State: sqldb.OutboxApplied, Limit: 3})
		for _, a := range applied {
			if got := stockOf(e.readOffer(t, a.TargetID)); got != want[a.TargetID] {
				t.Fatalf("offer %d: eMAG stock %d, want %d", a.TargetID, got, want[a.TargetID])
			}
		}
	})
}

// TestCoalescing: several changes of one offer go as one item with each
// field's latest value; the changes made moot are superseded; a lone stock
// change goes as PATCH offer_stock.
func TestCoalescing(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := setup(t, db.Dialect(), setupOptions{products: 100, orders: -1})
		e.sync(t, syncer.ModeOffers)
		s := e.service(t, twoway.Options{})
		ctx := context.Background()
		p := e.ids(t)
		ids, err := s.EnqueueOfferChanges(ctx, []sqldb.OfferChange{
			{Account: "main", ProductID: p[1], OfferFields: sqldb.OfferFields{Stock: ptr(5)}},
			{Account: "main", ProductID: p[2], OfferFields: sqldb.OfferFields{Stock: ptr(3)}},
			{Account: "main", ProductID: p[1], OfferFields: sqldb.OfferFields{Status: ptr(0)}},
			{Account: "main", ProductID: p[2], OfferFields: sqldb.OfferFields{Stock: ptr(4)}},
		})
		if err != nil {
			t.Fatal(err)
		}
		e.routes.reset()
		drain(t, s, "main", sqldb.OutboxOffer)
		if diff := cmp.Diff(map[string]int{"offer/save": 1}, e.routes.snapshot()); diff != "" {
			t.Fatalf("requests (-want +got):\n%s", diff)
		}
		states := map[int64]sqldb.OutboxState{}
		for _, id := range ids {
			en, err := e.db.GetOutbox(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			states[id] = en.State
		}
		want := map[int64]sqldb.OutboxState{ids[0]: sqldb.OutboxApplied, ids[1]: sqldb.OutboxSuperseded, ids[2]: sqldb.OutboxApplied, ids[3]: sqldb.OutboxApplied}
		if diff := cmp.Diff(want, states); diff != "" {
			t.Fatalf("states (-want +got):\n%s", diff)
		}
		if o := e.readOffer(t, p[1]); stockOf(o) != 5 || o.Status != 0 {
			t.Fatalf("offer 1: stock %d status %d, want 5 and 0", stockOf(o), o.Status)
		}
		if o := e.readOffer(t, p[2]); stockOf(o) != 4 {
			t.Fatalf("offer 2: stock %d, want 4", stockOf(o))
		}

		// A lone stock change: PATCH offer_stock.
		if _, err := s.EnqueueOfferChanges(ctx, []sqldb.OfferChange{{Account: "main", PartNumber: e.partNumber(t, p[3]), OfferFields: sqldb.OfferFields{Stock: ptr(11)}}}); err != nil {
			t.Fatal(err)
		}
		e.routes.reset()
		drain(t, s, "main", sqldb.OutboxOffer)
		if diff := cmp.Diff(map[string]int{"offer_stock": 1}, e.routes.snapshot()); diff != "" {
			t.Fatalf("requests (-want +got):\n%s", diff)
		}
		if o := e.readOffer(t, p[3]); stockOf(o) != 11 {
			t.Fatalf("offer 3: stock %d, want 11", stockOf(o))
		}
		// The stored offer shows what eMAG applied before the next sync.
		for _, o := range offers(t, e.db) {
			if o.ProductID == p[3] && o.GeneralStock != 11 {
				t.Fatalf("stored offer 3: stock %d, want 11", o.GeneralStock)
			}
		}
	})
}

// ids returns the stored offer ids of main, ascending.
func (e *env) ids(t *testing.T) []int64 {
	t.Helper()
	var out []int64
	for _, o := range offers(t, e.db) {
		out = append(out, o.ProductID)
	}
	return out
}

func (e *env) partNumber(t *testing.T, id int64) string {
	t.Helper()
	for _, o := range offers(t, e.db) {
		if o.ProductID == id {
			return o.PartNumber
		}
	}
	t.Fatalf("offer %d not stored", id)
	return ""
}

// TestValidation: changes are checked before anything is written, with
// errors naming the change and field.
func TestValidation(t *testing.T) {
	t.Parallel()
	e := setup(t, sqldb.SQLite, setupOptions{products: 20, orders: -1})
	e.sync(t, syncer.ModeOffers)
	s := e.service(t, twoway.Options{})
	o := offers(t, e.db)[0]
	low := o.MinSalePrice.Sub(magflow.MustDecimal("0.01"))
	high := o.MaxSalePrice.Add(magflow.MustDecimal("1"))
	for _, tc := range []struct {
		name   string
		change sqldb.OfferChange
		code   string
		field  string
	}{
		{"no offer", sqldb.OfferChange{Account: "main", OfferFields: sqldb.OfferFields{Stock: ptr(1)}}, magflow.EInvalid, "[0].id"},
		{"id range", sqldb.OfferChange{Account: "main", ProductID: 16777216, OfferFields: sqldb.OfferFields{Stock: ptr(1)}}, magflow.EInvalid, "[0].id"},
		{"unknown offer", sqldb.OfferChange{Account: "main", ProductID: 999999, OfferFields: sqldb.OfferFields{Stock: ptr(1)}}, magflow.ENotFound, "[0].id"},
		{"unknown sku", sqldb.OfferChange{Account: "main", PartNumber: "NOPE", OfferFields: sqldb.OfferFields{Stock: ptr(1)}}, magflow.ENotFound, "[0].part_number"},
		{"unknown account", sqldb.OfferChange{Account: "x", ProductID: o.ProductID, OfferFields: sqldb.OfferFields{Stock: ptr(1)}}, magflow.EInvalid, "[0].account"},
		{"nothing", sqldb.OfferChange{Account: "main", ProductID: o.ProductID}, magflow.EInvalid, "[0].stock"},
		{"stock high", sqldb.OfferChange{Account: "main", ProductID: o.ProductID, OfferFields: sqldb.OfferFields{Stock: ptr(65536)}}, magflow.EInvalid, "[0].stock"},
		{"stock negative", sqldb.OfferChange{Account: "main", ProductID: o.ProductID, OfferFields: sqldb.OfferFields{Stock: ptr(-1)}}, magflow.EInvalid, "[0].stock"},
		{"status", sqldb.OfferChange{Account: "main", ProductID: o.ProductID, OfferFields: sqldb.OfferFields{Status: ptr(3)}}, magflow.EInvalid, "[0].status"},
		{"price zero", sqldb.OfferChange{Account: "main", ProductID: o.ProductID, OfferFields: sqldb.OfferFields{SalePrice: ptr(magflow.Decimal{})}}, magflow.EInvalid, "[0].sale_price"},
		{"below min", sqldb.OfferChange{Account: "main", ProductID: o.ProductID, OfferFields: sqldb.OfferFields{SalePrice: &low}}, magflow.EInvalid, "[0].sale_price"},
		{"above max", sqldb.OfferChange{Account: "main", ProductID: o.ProductID, OfferFields: sqldb.OfferFields{SalePrice: &high}}, magflow.EInvalid, "[0].sale_price"},
		{"max below min", sqldb.OfferChange{Account: "main", ProductID: o.ProductID, OfferFields: sqldb.OfferFields{MaxSalePrice: ptr(o.MinSalePrice)}}, magflow.EInvalid, "[0].max_sale_price"},
		{"recommended", sqldb.OfferChange{Account: "main", ProductID: o.ProductID, OfferFields: sqldb.OfferFields{RecommendedPrice: ptr(o.SalePrice)}}, magflow.EInvalid, "[0].recommended_price"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.EnqueueOfferChanges(context.Background(), []sqldb.OfferChange{tc.change})
			var me *magflow.Error
			if !errors.As(err, &me) || me.Code != tc.code || me.Field != tc.field {
				t.Fatalf("err = %v, want %s on %s", err, tc.code, tc.field)
			}
		})
	}
	// Raising max and price together is fine.
	if _, err := s.EnqueueOfferChanges(context.Background(), []sqldb.OfferChange{
		{Account: "main", ProductID: o.ProductID, OfferFields: sqldb.OfferFields{MaxSalePrice: &high}},
		{Account: "main", ProductID: o.ProductID, OfferFields: sqldb.OfferFields{SalePrice: &high}},
	}); err != nil {
		t.Fatal(err)
	}
	if sum := summary(t, e.db, sqldb.OutboxOffer); sum[sqldb.OutboxPending] != 2 {
		t.Fatalf("outbox %v: only the valid request was written", sum)
	}
}

var errCrash = errors.New("simulated crash")

// TestCrashBetweenSendAndRecord: a drainer that dies after eMAG applied a
// batch, or before the batch left, leaves it sending; the next drainer
// reads the offers back and resends only what eMAG does not show.
func TestCrashBetweenSendAndRecord(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := setup(t, db.Dialect(), setupOptions{products: 100, orders: -1})
		e.sync(t, syncer.ModeOffers)
		ctx := context.Background()
		p := e.ids(t)
		for _, tc := range []struct {
			name   string
			hooks  twoway.Hooks
			sent   bool // eMAG applied the batch before the crash
			routes map[string]int
		}{
			{"after send", twoway.Hooks{AfterSend: func(string, string, []int64) error { return errCrash }}, true,
				map[string]int{"product_offer/read": 3}},
			{"before send", twoway.Hooks{BeforeSend: func(string, string, []int64) error { return errCrash }}, false,
				map[string]int{"product_offer/read": 3, "offer/save": 1}},
		} {
			base := map[string]int{"after send": 10, "before send": 20}[tc.name]
			stock := map[string]int{"after send": 501, "before send": 502}[tc.name]
			var changes []sqldb.OfferChange
			for _, id := range p[base : base+3] {
				changes = append(changes, sqldb.OfferChange{Account: "main", ProductID: id, OfferFields: sqldb.OfferFields{Stock: ptr(stock)}})
			}
			crashing := e.service(t, twoway.Options{Owner: "node-1", Hooks: tc.hooks})
			if _, err := crashing.EnqueueOfferChanges(ctx, changes); err != nil {
				t.Fatal(err)
			}
			if _, err := crashing.Drain(ctx, "main", sqldb.OutboxOffer); !errors.Is(err, errCrash) {
				t.Fatalf("%s: drain = %v, want the crash", tc.name, err)
			}
			if sum := summary(t, e.db, sqldb.OutboxOffer); sum[sqldb.OutboxSending] != 3 {
				t.Fatalf("%s: after the crash %v, want 3 sending", tc.name, sum)
			}
			if got := stockOf(e.readOffer(t, p[base])) == stock; got != tc.sent {
				t.Fatalf("%s: eMAG applied = %v, want %v", tc.name, got, tc.sent)
			}
			// The process restarts (same node name: it takes its lease back).
			e.routes.reset()
			drain(t, e.service(t, twoway.Options{Owner: "node-1"}), "main", sqldb.OutboxOffer)
			if diff := cmp.Diff(tc.routes, e.routes.snapshot()); diff != "" {
				t.Fatalf("%s: requests after the restart (-want +got):\n%s", tc.name, diff)
			}
			for _, id := range p[base : base+3] {
				if got := stockOf(e.readOffer(t, id)); got != stock {
					t.Fatalf("%s: offer %d stock %d, want %d", tc.name, id, got, stock)
				}
			}
			list, _, _ := e.db.ListOutbox(ctx, sqldb.OutboxFilter{State: sqldb.OutboxApplied, MinID: 0})
			n := 0
			for _, en := range list {
				if slices.Contains(p[base:base+3], en.TargetID) {
					n++
					if want := map[bool]int{true: 1, false: 2}[tc.sent]; en.Attempts != want {
						t.Fatalf("%s: change %d sent %d times, want %d", tc.name, en.ID, en.Attempts, want)
					}
				}
			}
			if n != 3 {
				t.Fatalf("%s: %d changes applied, want 3", tc.name, n)
			}
		}
	})
}

// TestAmbiguousAnswers: a truncated answer to offer/save (applied) and a
// 504 to offer_stock (not applied) are settled by reading back, never by
// sending blindly.
func TestAmbiguousAnswers(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		e := setup(t, db.Dialect(), setupOptions{products: 100, orders: -1, faults: sandbox.FaultOptions{Plan: []sandbox.FaultRule{
			{Account: "main", Route: "offer/save", Kind: sandbox.FaultTruncated, Times: 1},
			{Account: "main", Route: "offer_stock", Kind: sandbox.Fault504, Times: 1},
		}}})
		e.sync(t, syncer.ModeOffers)
		ctx := context.Background()
		s := e.service(t, twoway.Options{})
		p := e.ids(t)
		if _, err := s.EnqueueOfferChanges(ctx, []sqldb.OfferChange{
			{Account: "main", ProductID: p[30], OfferFields: sqldb.OfferFields{Stock: ptr(601)}},
			{Account: "main", ProductID: p[31], OfferFields: sqldb.OfferFields{Stock: ptr(602)}},
		}); err != nil {
			t.Fatal(err)
		}
		e.routes.reset()
		drain(t, s, "main", sqldb.OutboxOffer)
		if diff := cmp.Diff(map[string]int{"offer/save": 1, "product_offer/read": 2}, e.routes.snapshot()); diff != "" {
			t.Fatalf("truncated answer: requests (-want +got):\n%s", diff)
		}
		if _, err := s.EnqueueOfferChanges(ctx, []sqldb.OfferChange{{Account: "main", ProductID: p[32], OfferFields: sqldb.OfferFields{Stock: ptr(603)}}}); err != nil {
			t.Fatal(err)
		}
		e.routes.reset()
		drain(t, s, "main", sqldb.OutboxOffer)
		if diff := cmp.Diff(map[string]int{"offer_stock": 2, "product_offer/read": 1}, e.routes.snapshot()); diff != "" {
			t.Fatalf("504: requests (-want +got):\n%s", diff)
		}
		if sum := summary(t, e.db, sqldb.OutboxOffer); sum[sqldb.OutboxApplied] != 3 || len(sum) != 1 {
			t.Fatalf("outcomes %v, want 3 applied", sum)
		}
		for id, want := range map[int64]int{p[30]: 601, p[31]: 602, p[32]: 603} {
			if got := stockOf(e.readOffer(t, id)); got != want {
				t.Fatalf("offer %d: stock %d, want %d", id, got, want)
			}
		}
	})
}
