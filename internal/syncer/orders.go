package syncer

import (
	"context"
	"fmt"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/sqldb"
)

// syncOrders reads the orders modified since the cursor, window by window,
// both order types, and advances the cursor once a window is committed.
func (r *runState) syncOrders(ctx context.Context) outcome {
	per := r.e.opts.ItemsPerPage
	cursor := r.resume.Checkpoint.OrderCursor
	windows := OrderWindows(cursor, r.e.opts.Now(), r.e.opts.OrdersBackfill, 0)
	for _, w := range windows {
		for _, typ := range []int{magflow.OrderTypeSeller, magflow.OrderTypeFBE} {
			for page := 1; ; page++ {
				f := emag.OrderFilter{CurrentPage: page, ItemsPerPage: per, ModifiedAfter: w.After, ModifiedBefore: w.Before, Type: &typ}
				eos, err := r.acct.Source.ReadOrders(ctx, f)
				if err != nil {
					if stop, why := fatal(err); stop {
						return r.failed(why, err)
					}
					r.counters.Holes++
					return outcome{status: magflow.RunPartial, err: err, reason: fmt.Sprintf(
						"orders modified %s..%s (type %d, page %d) failed after retries: %v; the cursor stays at %s and the next run reads them again",
						w.After.Format("2006-01-02 15:04:05"), w.Before.Format("2006-01-02 15:04:05"), typ, page, err, w.After.Format("2006-01-02 15:04:05"))}
				}
				orders := make([]magflow.Order, len(eos))
				for i := range eos {
					orders[i] = orderFromEMAG(r.acct.Name, &eos[i])
				}
				if len(orders) > 0 {
					res, err := r.e.opts.Store.ApplyOrders(ctx, r.run.ID, r.acct.Name, orders, sqldb.Checkpoint{OrderCursor: cursor})
					if err != nil {
						return r.failed("store: "+err.Error(), err)
					}
					r.counters.Items += len(orders)
					r.counters.Inserted += res.Inserted
					r.counters.Updated += res.Updated
					r.counters.Unchanged += res.Unchanged
				}
				r.counters.Page++
				r.progressed(ctx)
				if len(orders) < per {
					break
				}
			}
		}
		cursor = w.Before
		if _, err := r.e.opts.Store.ApplyOrders(ctx, r.run.ID, r.acct.Name, nil, sqldb.Checkpoint{OrderCursor: cursor}); err != nil {
			return r.failed("store: "+err.Error(), err)
		}
	}
	return outcome{status: magflow.RunCompleted}
}
