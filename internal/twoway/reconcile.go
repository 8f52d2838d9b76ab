package twoway

import (
	"context"
	"fmt"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/syncer"
)

// OrderStatuses are eMAG's order statuses: 0 cancelled, 1 new, 2 in
// progress, 3 prepared, 4 finalized, 5 returned.
var OrderStatuses = []int{0, 1, 2, 3, 4, 5}

// ReconcileReport is what one reconciliation of an account found.
type ReconcileReport struct {
	Account string
	// Since and Until bound the orders compared, by creation date.
	Since, Until time.Time
	// Remote and Local count the orders per status at eMAG and stored.
	Remote, Local map[int]int
	// Fetched is how many new orders were read and stored (with their
	// acknowledgement when the account acknowledges automatically).
	Fetched int
	// Mismatched lists the statuses whose counts still differ after that;
	// SyncRequested says an orders sync was asked for.
	Mismatched    []int
	SyncRequested bool
}

// Reconcile compares, per status, eMAG's order count (order/count, both
// types) with the stored orders created in the last ReconcileWindow. New
// orders (status 1) that a lost callback left out are read and stored at
// once; any other difference asks for an orders sync (OnOrdersMismatch).
func (s *Service) Reconcile(ctx context.Context, name string) (ReconcileReport, error) {
	a, err := s.account(name)
	if err != nil {
		return ReconcileReport{}, err
	}
	until := s.opts.Now().UTC().Truncate(time.Second)
	rep := ReconcileReport{Account: name, Since: until.Add(-s.opts.ReconcileWindow), Until: until, Remote: map[int]int{}}
	count := func() error {
		for _, st := range OrderStatuses {
			c, err := a.Client.CountOrders(ctx, emag.OrderFilter{Status: []int{st}, CreatedAfter: rep.Since, CreatedBefore: rep.Until})
			if err != nil {
				return fmt.Errorf("count %s orders in status %d: %w", name, st, err)
			}
			rep.Remote[st] = c.Items
		}
		rep.Local, err = s.db.CountOrdersByStatus(ctx, name, rep.Since, rep.Until)
		return err
	}
	if err := count(); err != nil {
		return rep, err
	}
	if rep.Remote[1] != rep.Local[1] {
		for _, typ := range []int{3, 2} {
			f := emag.OrderFilter{Status: []int{1}, Type: &typ, CreatedAfter: rep.Since, CreatedBefore: rep.Until}
			for page, err := range a.Client.OrderPages(ctx, f, 0) {
				if err != nil {
					return rep, fmt.Errorf("read new %s orders: %w", name, err)
				}
				orders := make([]magflow.Order, len(page.Items))
				for i := range page.Items {
					orders[i] = syncer.OrderFromEMAG(name, &page.Items[i])
				}
				res, err := s.db.StoreOrders(ctx, name, orders, a.AutoAck)
				if err != nil {
					return rep, err
				}
				rep.Fetched += res.Inserted + res.Updated
			}
		}
		if a.AutoAck && rep.Fetched > 0 {
			s.Notify(name, "ack")
		}
		rep.Remote, rep.Local = map[int]int{}, nil
		if err := count(); err != nil {
			return rep, err
		}
	}
	for _, st := range OrderStatuses {
		if rep.Remote[st] != rep.Local[st] {
			rep.Mismatched = append(rep.Mismatched, st)
		}
	}
	if len(rep.Mismatched) > 0 && s.opts.OnOrdersMismatch != nil {
		s.opts.OnOrdersMismatch(ctx, name)
		rep.SyncRequested = true
	}
	s.log.Info("orders reconciled", "account", name, "remote", rep.Remote, "local", rep.Local, "fetched", rep.Fetched,
		"mismatched_statuses", rep.Mismatched, "sync_requested", rep.SyncRequested)
	return rep, nil
}
