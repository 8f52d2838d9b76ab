package sqldb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

func ptr[T any](v T) *T { return &v }

// seedOffers stores offers 1..n of account (PN-<id>, price 10, min 1, max
// 1000, stock id%50).
func seedOffers(t *testing.T, db *sqldb.DB, account string, n int) {
	t.Helper()
	run, _ := startRun(t, db, account, magflow.StreamProducts)
	ps, os := page(account, 1, n, "10")
	apply(t, db, run.ID, account, 1, ps, os)
	finish(t, db, run.ID, magflow.RunCompleted)
}

func TestEnqueueOfferChanges(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		seedOffers(t, db, "main", 5)
		var seen []sqldb.OfferTarget
		check := func(i int, c sqldb.OfferChange, tg sqldb.OfferTarget) error {
			seen = append(seen, tg)
			return nil
		}
		ids, err := db.EnqueueOfferChanges(ctx, []sqldb.OfferChange{
			{Account: "main", ProductID: 2, OfferFields: sqldb.OfferFields{Stock: ptr(7)}, Source: "test"},
			{Account: "main", PartNumber: "PN-2", OfferFields: sqldb.OfferFields{SalePrice: ptr(magflow.MustDecimal("12.5"))}},
			{Account: "main", ProductID: 3, OfferFields: sqldb.OfferFields{Status: ptr(0)}},
		}, check)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 3 || !(ids[0] < ids[1] && ids[1] < ids[2]) {
			t.Fatalf("ids = %v, want 3 ascending", ids)
		}
		// The second change (by SKU) sees the first (by id) applied.
		if seen[1].ProductID != 2 || seen[1].Stock != 7 || seen[1].SalePrice != magflow.MustDecimal("10") {
			t.Fatalf("second check saw %+v", seen[1])
		}
		e, err := db.GetOutbox(ctx, ids[1])
		if err != nil {
			t.Fatal(err)
		}
		if e.TargetID != 2 || e.PartNumber != "PN-2" || e.State != sqldb.OutboxPending || e.Kind != sqldb.OutboxOffer || *e.Fields.SalePrice != magflow.MustDecimal("12.5") {
			t.Fatalf("entry = %+v", e)
		}
		// A later request sees the open changes too.
		seen = nil
		if _, err := db.EnqueueOfferChanges(ctx, []sqldb.OfferChange{{Account: "main", ProductID: 2, OfferFields: sqldb.OfferFields{Stock: ptr(8)}}}, check); err != nil {
			t.Fatal(err)
		}
		if seen[0].Stock != 7 || seen[0].SalePrice != magflow.MustDecimal("12.5") {
			t.Fatalf("later check saw %+v", seen[0])
		}

		// Unknown offers and refused checks insert nothing.
		before, _, _ := db.ListOutbox(ctx, sqldb.OutboxFilter{})
		_, err = db.EnqueueOfferChanges(ctx, []sqldb.OfferChange{
			{Account: "main", ProductID: 1, OfferFields: sqldb.OfferFields{Stock: ptr(1)}},
			{Account: "main", PartNumber: "NOPE", OfferFields: sqldb.OfferFields{Stock: ptr(1)}},
		}, nil)
		var me *magflow.Error
		if !errors.As(err, &me) || me.Code != magflow.ENotFound || me.Field != "[1].part_number" {
			t.Fatalf("unknown SKU: err = %v", err)
		}
		_, err = db.EnqueueOfferChanges(ctx, []sqldb.OfferChange{{Account: "fbe", ProductID: 1, OfferFields: sqldb.OfferFields{Stock: ptr(1)}}}, nil)
		if magflow.ErrorCode(err) != magflow.ENotFound {
			t.Fatalf("other account: err = %v", err)
		}
		refuse := errors.New("refused")
		if _, err := db.EnqueueOfferChanges(ctx, []sqldb.OfferChange{{Account: "main", ProductID: 1, OfferFields: sqldb.OfferFields{Stock: ptr(1)}}},
			func(int, sqldb.OfferChange, sqldb.OfferTarget) error { return refuse }); !errors.Is(err, refuse) {
			t.Fatalf("refused check: err = %v", err)
		}
		after, _, _ := db.ListOutbox(ctx, sqldb.OutboxFilter{})
		if len(after) != len(before) {
			t.Fatalf("a refused request inserted %d entries", len(after)-len(before))
		}
	})
}

func TestOutboxLifecycle(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		seedOffers(t, db, "main", 3)
		if _, err := db.RebuildCanonical(ctx, []string{"main"}); err != nil {
			t.Fatal(err)
		}
		ids, err := db.EnqueueOfferChanges(ctx, []sqldb.OfferChange{
			{Account: "main", ProductID: 1, OfferFields: sqldb.OfferFields{Stock: ptr(5)}},
			{Account: "main", ProductID: 1, OfferFields: sqldb.OfferFields{Stock: ptr(6), SalePrice: ptr(magflow.MustDecimal("11"))}},
			{Account: "main", ProductID: 2, OfferFields: sqldb.OfferFields{Stock: ptr(9)}},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		due, err := db.DueOutbox(ctx, "main", sqldb.OutboxOffer, 10)
		if err != nil || len(due) != 3 {
			t.Fatalf("due = %d entries, %v", len(due), err)
		}
		if n, err := db.MarkSending(ctx, ids, "offer/save"); err != nil || n != 3 {
			t.Fatalf("MarkSending = %d, %v", n, err)
		}
		if due, _ := db.DueOutbox(ctx, "main", sqldb.OutboxOffer, 10); len(due) != 0 {
			t.Fatalf("sending entries are not due: %d", len(due))
		}
		sending, err := db.SendingOutbox(ctx, "main", sqldb.OutboxOffer)
		if err != nil || len(sending) != 3 || sending[0].Attempts != 1 || sending[0].Route != "offer/save" || sending[0].SentAt == nil {
			t.Fatalf("sending = %+v, %v", sending, err)
		}
		merged := sending[0].Fields.Overlay(sending[1].Fields)
		retryAt := time.Now().Add(time.Hour)
		err = db.SettleOutbox(ctx, []sqldb.OutboxOutcome{
			{ID: ids[0], State: sqldb.OutboxSuperseded, SupersededBy: ids[1]},
			{ID: ids[1], State: sqldb.OutboxApplied, Message: "Offer 1 updated successfully", Applied: &merged, Account: "main", TargetID: 1},
			{ID: ids[2], State: sqldb.OutboxRetrying, Message: "HTTP 429", NextAt: retryAt},
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := db.GetOutbox(ctx, ids[1])
		if got.State != sqldb.OutboxApplied || got.DoneAt == nil || got.Message != "Offer 1 updated successfully" {
			t.Fatalf("applied entry = %+v", got)
		}
		got, _ = db.GetOutbox(ctx, ids[0])
		if got.State != sqldb.OutboxSuperseded || got.SupersededBy != ids[1] {
			t.Fatalf("superseded entry = %+v", got)
		}
		got, _ = db.GetOutbox(ctx, ids[2])
		if got.State != sqldb.OutboxRetrying || got.DoneAt != nil || !got.NextAt.Equal(retryAt.UTC().Truncate(time.Microsecond)) {
			t.Fatalf("retrying entry = %+v", got)
		}
		if due, _ := db.DueOutbox(ctx, "main", sqldb.OutboxOffer, 10); len(due) != 0 {
			t.Fatalf("a retrying entry is not due before its time: %d", len(due))
		}
		// The stored offer carries what eMAG applied.
		offers, _, err := db.ListOffers(ctx, sqldb.OfferFilter{Account: "main"})
		if err != nil {
			t.Fatal(err)
		}
		var o magflow.Offer
		for _, x := range offers {
			if x.ProductID == 1 {
				o = x
			}
		}
		if o.GeneralStock != 6 || o.SalePrice != magflow.MustDecimal("11") || !cmp.Equal(o.Stock, []magflow.WarehouseValue{{WarehouseID: 1, Value: 6}}) {
			t.Fatalf("stored offer = %+v", o)
		}
		// The next rebuild sees the applied change (no page was written).
		if _, err := db.RebuildCanonical(ctx, []string{"main"}); err != nil {
			t.Fatal(err)
		}
		if got := canonicalRows(t, db); len(got) != 3 || got[0] != "PN-1 from main main=11.0000" {
			t.Fatalf("canonical after the applied change = %v", got)
		}
		sum, err := db.OutboxSummary(ctx, sqldb.OutboxFilter{Account: "main"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[sqldb.OutboxState]int{sqldb.OutboxApplied: 1, sqldb.OutboxSuperseded: 1, sqldb.OutboxRetrying: 1}, sum); diff != "" {
			t.Fatalf("summary (-want +got):\n%s", diff)
		}
		list, total, err := db.ListOutbox(ctx, sqldb.OutboxFilter{Account: "main", State: sqldb.OutboxApplied})
		if err != nil || total != 1 || len(list) != 1 || list[0].ID != ids[1] {
			t.Fatalf("list = %+v, %d, %v", list, total, err)
		}
	})
}

func TestLeases(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		take := func(owner string) bool {
			t.Helper()
			ok, err := db.TakeLease(ctx, "offers:main", owner, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !take("a") || take("b") || !take("a") {
			t.Fatal("a takes and renews, b waits")
		}
		now = now.Add(61 * time.Second)
		if !take("b") || take("a") {
			t.Fatal("b takes an expired lease, a then waits")
		}
		if err := db.ReleaseLease(ctx, "offers:main", "b"); err != nil {
			t.Fatal(err)
		}
		if !take("a") {
			t.Fatal("a takes a released lease")
		}
	})
}

func TestStoreOrdersAcks(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		day := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		orders := []magflow.Order{
			{ID: 5000000001, Type: 3, Status: 1, Date: day, Modified: day, Total: magflow.MustDecimal("10"),
				Lines: []magflow.OrderLine{{ID: 1, ProductID: 1, Quantity: 1, SalePrice: magflow.MustDecimal("10")}}},
			{ID: 5000000002, Type: 2, Status: 1, Date: day, Modified: day},
			{ID: 5000000003, Type: 3, Status: 4, Date: day, Modified: day},
		}
		for range 2 { // a duplicate callback stores and enqueues nothing new
			if _, err := db.StoreOrders(ctx, "main", orders, true); err != nil {
				t.Fatal(err)
			}
		}
		acks, total, err := db.ListOutbox(ctx, sqldb.OutboxFilter{Kind: sqldb.OutboxAck})
		if err != nil || total != 1 || acks[0].TargetID != 5000000001 || acks[0].State != sqldb.OutboxPending {
			t.Fatalf("acks = %+v, %v", acks, err)
		}
		o, err := db.GetOrder(ctx, "main", 5000000001)
		if err != nil || len(o.Lines) != 1 {
			t.Fatalf("stored order = %+v, %v", o, err)
		}
		res, err := db.StoreOrders(ctx, "main", orders, true)
		if err != nil || res != (sqldb.PageResult{Unchanged: 3}) {
			t.Fatalf("third store = %+v, %v", res, err)
		}
		// Orders a sync stored without acknowledgement get one, once.
		other := []magflow.Order{{ID: 5000000004, Type: 3, Status: 1, Date: day, Modified: day}}
		if _, err := db.StoreOrders(ctx, "main", other, false); err != nil {
			t.Fatal(err)
		}
		for want := range []int{1, 0} {
			n, err := db.EnqueueMissingAcks(ctx, "main")
			if err != nil || n != 1-want {
				t.Fatalf("EnqueueMissingAcks = %d, %v; want %d", n, err, 1-want)
			}
		}
		counts, err := db.CountOrdersByStatus(ctx, "main", day.Add(-time.Hour), day.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[int]int{1: 3, 4: 1}, counts); diff != "" {
			t.Fatalf("counts (-want +got):\n%s", diff)
		}
	})
}
