package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/magflow/magflow"
)

// OrderHash returns o.ContentHash when set, else a SHA-256 of its fields,
// lines and raw payload.
func OrderHash(o *magflow.Order) string {
	if o.ContentHash != "" {
		return o.ContentHash
	}
	h := sha256.New()
	_ = json.NewEncoder(h).Encode([]any{o.Type, o.Status, o.PaymentModeID, o.PaymentMode, o.PaymentStatus, o.DeliveryMode,
		o.Date.UTC(), o.Modified.UTC(), o.CustomerName, o.CustomerEmail, o.CustomerPhone, o.ShippingCity, o.ShippingTax.Units(),
		o.Total.Units(), o.Currency, o.Lines})
	h.Write(o.Raw)
	return hex.EncodeToString(h.Sum(nil))
}

func (db *DB) orderCols() []string {
	cols := []string{"account", "id", "type", "status", "payment_mode_id", "payment_mode", "payment_status", "delivery_mode",
		"date", "modified", "customer_name", "customer_email", "customer_phone", "shipping_city", "shipping_tax", "total",
		"currency", "raw", "content_hash", "first_seen_at", "last_seen_at", "updated_at"}
	if db.dialect == SQLite {
		cols = append(cols, "shipping_tax_units", "total_units")
	}
	return cols
}

func (db *DB) lineCols() []string {
	cols := []string{"account", "order_id", "id", "product_id", "part_number", "part_number_key", "name", "quantity",
		"sale_price", "vat", "currency", "status"}
	if db.dialect == SQLite {
		cols = append(cols, "sale_price_units")
	}
	return cols
}

// ApplyOrders upserts one page of orders and their lines by content hash,
// and saves cursor as the orders checkpoint, in one transaction. A changed
// order's lines are replaced.
func (db *DB) ApplyOrders(ctx context.Context, runID int64, account string, orders []magflow.Order, cursor Checkpoint) (PageResult, error) {
	var res PageResult
	err := db.inTx(ctx, fmt.Sprintf("apply %s orders", account), func(tx *sql.Tx) error {
		ri, err := db.liveRun(ctx, tx, runID, account)
		if err != nil {
			return err
		}
		res, err = db.storeOrders(ctx, tx, account, orders)
		if err != nil {
			return err
		}
		now := db.now()
		if err := db.saveCheckpoint(ctx, tx, ri, runID, cursor, true, now); err != nil {
			return err
		}
		return db.advanceProgress(ctx, tx, runID, max(cursor.NextPage-1, 0), cursor.TotalPages, len(orders), res, now)
	})
	if err != nil {
		return PageResult{}, err
	}
	return res, nil
}

// OrderFilter selects orders. Zero fields do not filter.
type OrderFilter struct {
	Account string
	Status  *int
	Type    *int
	// Since and Until bound the order date (cart submission): [Since, Until).
	Since, Until time.Time
	// ModifiedSince bounds the last modification.
	ModifiedSince time.Time
	Search        string // customer name or email substring, or an order id
	Sort          string // "date" (default, newest first), "modified", "id", "total"; "-" for descending, "+" for ascending
	Limit         int    // default 100, at most 1000
	Offset        int
}

const orderSelect = `o.account, o.id, o.type, o.status, o.payment_mode_id, o.payment_mode, o.payment_status, o.delivery_mode,
o.date, o.modified, o.customer_name, o.customer_email, o.customer_phone, o.shipping_city, o.shipping_tax, o.total, o.currency,
o.content_hash, o.last_seen_at`

func scanOrder(sc scanner, o *magflow.Order, raw *sql.NullString) error {
	var date, mod sql.NullTime
	dest := []any{&o.Account, &o.ID, &o.Type, &o.Status, &o.PaymentModeID, &o.PaymentMode, &o.PaymentStatus, &o.DeliveryMode,
		&date, &mod, &o.CustomerName, &o.CustomerEmail, &o.CustomerPhone, &o.ShippingCity, &o.ShippingTax, &o.Total, &o.Currency,
		&o.ContentHash, &o.LastSeenAt}
	if raw != nil {
		dest = append(dest, raw)
	}
	if err := sc.Scan(dest...); err != nil {
		return err
	}
	o.Date, o.Modified, o.LastSeenAt = date.Time.UTC(), mod.Time.UTC(), o.LastSeenAt.UTC()
	if !date.Valid {
		o.Date = time.Time{}
	}
	if !mod.Valid {
		o.Modified = time.Time{}
	}
	if raw != nil && raw.Valid {
		o.Raw = json.RawMessage(raw.String)
	}
	return nil
}

// ListOrders returns one page of orders (without lines) and the total count.
func (db *DB) ListOrders(ctx context.Context, f OrderFilter) ([]magflow.Order, int, error) {
	var where []string
	var args []any
	add := func(cond string, v ...any) { where = append(where, cond); args = append(args, v...) }
	if f.Account != "" {
		add("o.account = ?", f.Account)
	}
	if f.Status != nil {
		add("o.status = ?", *f.Status)
	}
	if f.Type != nil {
		add("o.type = ?", *f.Type)
	}
	if !f.Since.IsZero() {
		add("o.date >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		add("o.date < ?", f.Until.UTC())
	}
	if !f.ModifiedSince.IsZero() {
		add("o.modified >= ?", f.ModifiedSince.UTC())
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		like := "%" + escapeLike(strings.ToLower(s)) + "%"
		var id int64
		if _, err := fmt.Sscanf(s, "%d", &id); err == nil && fmt.Sprint(id) == s {
			add(`(o.id = ? OR LOWER(o.customer_name) LIKE ? ESCAPE '\' OR LOWER(o.customer_email) LIKE ? ESCAPE '\')`, id, like, like)
		} else {
			add(`(LOWER(o.customer_name) LIKE ? ESCAPE '\' OR LOWER(o.customer_email) LIKE ? ESCAPE '\')`, like, like)
		}
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	key, dir := strings.TrimLeft(f.Sort, "+-"), " DESC"
	if strings.HasPrefix(f.Sort, "+") {
		dir = ""
	}
	var col string
	switch key {
	case "", "date":
		col = "o.date"
	case "modified":
		col = "o.modified"
	case "id":
		col = ""
	case "total":
		col = db.moneyCol("o.total")
	default:
		return nil, 0, &magflow.Error{Code: magflow.EInvalid, Field: "sort", Message: fmt.Sprintf("unknown sort %q: use date, modified, id or total (+ for ascending)", f.Sort)}
	}
	order := " ORDER BY "
	if col != "" {
		order += col + dir + ", "
	}
	order += "o.account" + dir + ", o.id" + dir
	var total int
	if err := db.read.QueryRowContext(ctx, db.q("SELECT COUNT(*) FROM emag_orders o"+w), args...).Scan(&total); err != nil {
		return nil, 0, db.wrap("count orders", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.read.QueryContext(ctx, db.q("SELECT "+orderSelect+" FROM emag_orders o"+w+order+" LIMIT ? OFFSET ?"), append(args, min(limit, 1000), max(0, f.Offset))...)
	if err != nil {
		return nil, 0, db.wrap("list orders", err)
	}
	defer rows.Close()
	var out []magflow.Order
	for rows.Next() {
		var o magflow.Order
		if err := scanOrder(rows, &o, nil); err != nil {
			return nil, 0, db.wrap("list orders", err)
		}
		out = append(out, o)
	}
	return out, total, db.wrap("list orders", rows.Err())
}

const lineSelect = `l.id, l.product_id, l.part_number, l.part_number_key, l.name, l.quantity, l.sale_price, l.vat, l.currency, l.status`

func scanLine(sc scanner, l *magflow.OrderLine, extra ...any) error {
	return sc.Scan(append([]any{&l.ID, &l.ProductID, &l.PartNumber, &l.PartNumberKey, &l.Name, &l.Quantity, &l.SalePrice, &l.VAT, &l.Currency, &l.Status}, extra...)...)
}

// GetOrder returns one order with its lines and raw payload.
func (db *DB) GetOrder(ctx context.Context, account string, id int64) (magflow.Order, error) {
	var o magflow.Order
	var raw sql.NullString
	err := scanOrder(db.read.QueryRowContext(ctx, db.q("SELECT "+orderSelect+", o.raw FROM emag_orders o WHERE o.account = ? AND o.id = ?"), account, id), &o, &raw)
	if err == sql.ErrNoRows {
		return o, magflow.Errorf(magflow.ENotFound, "order %d of account %s not found", id, account)
	}
	if err != nil {
		return o, db.wrap("get order", err)
	}
	rows, err := db.read.QueryContext(ctx, db.q("SELECT "+lineSelect+" FROM emag_order_lines l WHERE l.account = ? AND l.order_id = ? ORDER BY l.id"), account, id)
	if err != nil {
		return o, db.wrap("get order lines", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l magflow.OrderLine
		if err := scanLine(rows, &l); err != nil {
			return o, db.wrap("get order lines", err)
		}
		o.Lines = append(o.Lines, l)
	}
	return o, db.wrap("get order lines", rows.Err())
}

// ExportOrders streams every order (of account, or all when empty) with its
// lines and raw payload, by account and id, in constant memory.
func (db *DB) ExportOrders(ctx context.Context, account string) iter.Seq2[magflow.Order, error] {
	return func(yield func(magflow.Order, error) bool) {
		q := "SELECT " + orderSelect + ", o.raw, " + lineSelect + " FROM emag_orders o LEFT JOIN emag_order_lines l ON l.account = o.account AND l.order_id = o.id"
		var args []any
		if account != "" {
			q += " WHERE o.account = ?"
			args = append(args, account)
		}
		rows, err := db.read.QueryContext(ctx, db.q(q+" ORDER BY o.account, o.id, l.id"), args...)
		if err != nil {
			yield(magflow.Order{}, db.wrap("export orders", err))
			return
		}
		defer rows.Close()
		var cur magflow.Order
		have := false
		for rows.Next() {
			var o magflow.Order
			var raw sql.NullString
			var lid, pid, qty, st sql.NullInt64
			var pn, pnk, name, cur2 sql.NullString
			var price, vat magflow.Decimal
			err := scanOrder(multiScan{rows, []any{&lid, &pid, &pn, &pnk, &name, &qty, &price, &vat, &cur2, &st}}, &o, &raw)
			if err != nil {
				yield(magflow.Order{}, db.wrap("export orders", err))
				return
			}
			if have && (o.Account != cur.Account || o.ID != cur.ID) {
				if !yield(cur, nil) {
					return
				}
				have = false
			}
			if !have {
				cur, have = o, true
			}
			if lid.Valid {
				cur.Lines = append(cur.Lines, magflow.OrderLine{ID: lid.Int64, ProductID: pid.Int64, PartNumber: pn.String, PartNumberKey: pnk.String,
					Name: name.String, Quantity: int(qty.Int64), SalePrice: price, VAT: vat, Currency: cur2.String, Status: int(st.Int64)})
			}
		}
		if err := rows.Err(); err != nil {
			yield(magflow.Order{}, db.wrap("export orders", err))
			return
		}
		if have {
			yield(cur, nil)
		}
	}
}

// multiScan appends extra destinations to every Scan.
type multiScan struct {
	sc    scanner
	extra []any
}

func (m multiScan) Scan(dest ...any) error { return m.sc.Scan(append(dest, m.extra...)...) }
