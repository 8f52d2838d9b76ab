package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/magflow/magflow"
)

// StoreOrders upserts orders and their lines outside a sync run (an order
// callback, a reconciliation, the re-read after an acknowledgement), by
// content hash like ApplyOrders but without a run or a checkpoint. When ack
// is set, every new seller-fulfilled order (status 1, type 3) gets an
// acknowledgement in the outbox in the same transaction, so that none is
// ever sent for an order not stored, and none is lost; an order never gets
// two.
func (db *DB) StoreOrders(ctx context.Context, account string, orders []magflow.Order, ack bool) (PageResult, error) {
	var res PageResult
	err := db.inTx(ctx, fmt.Sprintf("store %s orders", account), func(tx *sql.Tx) error {
		var err error
		res, err = db.storeOrders(ctx, tx, account, orders)
		if err != nil || !ack {
			return err
		}
		now := db.now()
		var rows [][]any
		for _, o := range orders {
			if o.Status == 1 && o.Type == 3 {
				rows = append(rows, []any{account, OutboxAck, o.ID, "", "{}", string(OutboxPending), "stored", now, now, now})
			}
		}
		return db.insertAcks(ctx, tx, rows)
	})
	if err != nil {
		return PageResult{}, err
	}
	return res, nil
}

// insertAcks inserts acknowledgement rows, skipping orders that have one.
func (db *DB) insertAcks(ctx context.Context, tx execer, rows [][]any) error {
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, db.q("INSERT INTO emag_outbox ("+strings.Join(outboxCols, ", ")+") VALUES "+placeholders(len(outboxCols))+" ON CONFLICT DO NOTHING"), r...); err != nil {
			return fmt.Errorf("enqueue acknowledgement of order %v: %w", r[2], err)
		}
	}
	return nil
}

// storeOrders upserts orders and their lines by content hash inside tx:
// unchanged orders are not rewritten. Sync runs (ApplyOrders) and callbacks
// (StoreOrders) both store orders through it.
func (db *DB) storeOrders(ctx context.Context, tx *sql.Tx, account string, orders []magflow.Order) (PageResult, error) {
	var res PageResult
	if len(orders) == 0 {
		return res, nil
	}
	now := db.now()
	ids := make([]int64, len(orders))
	for i := range orders {
		ids[i] = orders[i].ID
	}
	have := map[int64]string{}
	ph, args := inList(ids)
	rows, err := tx.QueryContext(ctx, db.q("SELECT id, content_hash FROM emag_orders WHERE account = ? AND id IN "+ph), append([]any{account}, args...)...)
	if err != nil {
		return res, fmt.Errorf("read order hashes: %w", err)
	}
	for rows.Next() {
		var id int64
		var h string
		if err := rows.Scan(&id, &h); err != nil {
			rows.Close()
			return res, err
		}
		have[id] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}
	var orows, lrows [][]any
	var changed []int64
	for i := range orders {
		o := &orders[i]
		if o.Account != "" && o.Account != account {
			return res, magflow.Errorf(magflow.EInvalid, "order %d is of account %s, not %s", o.ID, o.Account, account)
		}
		h := OrderHash(o)
		old, ok := have[o.ID]
		switch {
		case ok && old == h:
			res.Unchanged++
			continue
		case ok:
			res.Updated++
		default:
			res.Inserted++
		}
		have[o.ID] = h
		changed = append(changed, o.ID)
		var raw any
		if len(o.Raw) > 0 {
			raw = string(o.Raw)
		}
		r := []any{account, o.ID, o.Type, o.Status, o.PaymentModeID, o.PaymentMode, o.PaymentStatus, o.DeliveryMode,
			nonNull(o.Date), nonNull(o.Modified), o.CustomerName, o.CustomerEmail, o.CustomerPhone, o.ShippingCity,
			o.ShippingTax.String(), o.Total.String(), o.Currency, raw, h, now, now, now}
		if db.dialect == SQLite {
			r = append(r, o.ShippingTax.Units(), o.Total.Units())
		}
		orows = append(orows, r)
		for _, l := range o.Lines {
			lr := []any{account, o.ID, l.ID, l.ProductID, l.PartNumber, l.PartNumberKey, l.Name, l.Quantity,
				l.SalePrice.String(), l.VAT.String(), l.Currency, l.Status}
			if db.dialect == SQLite {
				lr = append(lr, l.SalePrice.Units())
			}
			lrows = append(lrows, lr)
		}
	}
	if err := db.upsert(ctx, tx, "emag_orders", db.orderCols(), []string{"account", "id"}, []string{"first_seen_at"}, "", orows); err != nil {
		return res, err
	}
	for start := 0; start < len(changed); start += 500 {
		ph, args := inList(changed[start:min(len(changed), start+500)])
		if _, err := tx.ExecContext(ctx, db.q("DELETE FROM emag_order_lines WHERE account = ? AND order_id IN "+ph), append([]any{account}, args...)...); err != nil {
			return res, fmt.Errorf("replace order lines: %w", err)
		}
	}
	if err := db.upsert(ctx, tx, "emag_order_lines", db.lineCols(), []string{"account", "order_id", "id"}, nil, "", lrows); err != nil {
		return res, err
	}
	return res, nil
}

// EnqueueMissingAcks puts into the outbox an acknowledgement for every
// stored order of account that is new (status 1) and seller-fulfilled
// (type 3) and has none yet: orders a sync run stored. It returns how many
// it added.
func (db *DB) EnqueueMissingAcks(ctx context.Context, account string) (int, error) {
	var n int64
	err := db.inTx(ctx, "enqueue missing acknowledgements", func(tx *sql.Tx) error {
		now := db.now()
		res, err := tx.ExecContext(ctx, db.q(`INSERT INTO emag_outbox (`+strings.Join(outboxCols, ", ")+`)
SELECT o.account, 'ack', o.id, '', '{}', 'pending', 'stored', ?, ?, ? FROM emag_orders o
WHERE o.account = ? AND o.status = 1 AND o.type = 3
AND NOT EXISTS (SELECT 1 FROM emag_outbox x WHERE x.account = o.account AND x.kind = 'ack' AND x.target_id = o.id)
ON CONFLICT DO NOTHING`), now, now, now, account)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// CountOrdersByStatus counts the stored orders of account (both types)
// whose order date lies in [since, until] (both ends included, as eMAG's
// createdAfter and createdBefore), per status.
func (db *DB) CountOrdersByStatus(ctx context.Context, account string, since, until time.Time) (map[int]int, error) {
	rows, err := db.read.QueryContext(ctx, db.q("SELECT status, COUNT(*) FROM emag_orders WHERE account = ? AND date >= ? AND date <= ? GROUP BY status"),
		account, since.UTC(), until.UTC())
	if err != nil {
		return nil, db.wrap("count orders by status", err)
	}
	defer rows.Close()
	out := map[int]int{}
	for rows.Next() {
		var s, n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, db.wrap("count orders by status", err)
		}
		out[s] = n
	}
	return out, db.wrap("count orders by status", rows.Err())
}
