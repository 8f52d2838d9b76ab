package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/magflow/magflow"
)

// The outbox (emag_outbox) holds MagFlow's writes to eMAG until eMAG has
// answered them: offer changes (stock, prices, status) and order
// acknowledgements. A change is inserted in the transaction of the request
// that asks for it, so an accepted change is never lost; the account's
// drainer (internal/twoway) sends it and records eMAG's verdict on it.

// Outbox kinds.
const (
	// OutboxOffer is a change of one offer's stock, prices or status.
	OutboxOffer = "offer"
	// OutboxAck is the acknowledgement of one new order.
	OutboxAck = "ack"
)

// OutboxState is where an outbox entry stands.
type OutboxState string

// The states of an outbox entry. Pending, retrying and sending are open;
// the others are final.
const (
	// OutboxPending: accepted, not sent yet.
	OutboxPending OutboxState = "pending"
	// OutboxSending: handed to eMAG, outcome not recorded yet (in flight,
	// or an answer that did not say, or a crash): settled by reading the
	// offer or order back, never by sending it blindly again.
	OutboxSending OutboxState = "sending"
	// OutboxRetrying: sent and certainly not applied (throttled, eMAG
	// down before it read the request); due again at NextAt.
	OutboxRetrying OutboxState = "retrying"
	// OutboxApplied: eMAG applied it.
	OutboxApplied OutboxState = "applied"
	// OutboxRejected: eMAG refused it; Message is eMAG's reason.
	OutboxRejected OutboxState = "rejected"
	// OutboxSuperseded: a later change of the same offer set every field
	// this one set, and was sent in its place (SupersededBy).
	OutboxSuperseded OutboxState = "superseded"
	// OutboxFailed: given up after too many attempts that were certainly
	// not applied; Message says the last reason.
	OutboxFailed OutboxState = "failed"
)

// Final reports whether s is a final state.
func (s OutboxState) Final() bool {
	switch s {
	case OutboxPending, OutboxSending, OutboxRetrying:
		return false
	}
	return true
}

// OutboxStates lists every state, open ones first.
var OutboxStates = []OutboxState{OutboxPending, OutboxSending, OutboxRetrying, OutboxApplied, OutboxRejected, OutboxSuperseded, OutboxFailed}

// OfferFields are the offer fields a change sets; nil fields are left as
// they are.
type OfferFields struct {
	// Stock is the stock of warehouse WarehouseID (1 when 0), 0..65535.
	Stock            *int             `json:"stock,omitempty"`
	WarehouseID      int              `json:"warehouse_id,omitempty"`
	SalePrice        *magflow.Decimal `json:"sale_price,omitempty"`
	MinSalePrice     *magflow.Decimal `json:"min_sale_price,omitempty"`
	MaxSalePrice     *magflow.Decimal `json:"max_sale_price,omitempty"`
	RecommendedPrice *magflow.Decimal `json:"recommended_price,omitempty"`
	// Status is 0 inactive, 1 active, 2 end of life.
	Status *int `json:"status,omitempty"`
}

// Empty reports whether f sets nothing.
func (f OfferFields) Empty() bool {
	return f.Stock == nil && f.SalePrice == nil && f.MinSalePrice == nil && f.MaxSalePrice == nil && f.RecommendedPrice == nil && f.Status == nil
}

// StockOnly reports whether f sets the stock and nothing else.
func (f OfferFields) StockOnly() bool {
	g := f
	g.Stock = nil
	return f.Stock != nil && g.Empty()
}

// Warehouse is the warehouse of the stock (1 unless set).
func (f OfferFields) Warehouse() int { return max(f.WarehouseID, 1) }

// Overlay returns f with every field g sets taken from g.
func (f OfferFields) Overlay(g OfferFields) OfferFields {
	if g.Stock != nil {
		f.Stock, f.WarehouseID = g.Stock, g.WarehouseID
	}
	if g.SalePrice != nil {
		f.SalePrice = g.SalePrice
	}
	if g.MinSalePrice != nil {
		f.MinSalePrice = g.MinSalePrice
	}
	if g.MaxSalePrice != nil {
		f.MaxSalePrice = g.MaxSalePrice
	}
	if g.RecommendedPrice != nil {
		f.RecommendedPrice = g.RecommendedPrice
	}
	if g.Status != nil {
		f.Status = g.Status
	}
	return f
}

// Covers reports whether f sets every field g sets (so sending f makes g
// moot).
func (f OfferFields) Covers(g OfferFields) bool {
	return (g.Stock == nil || f.Stock != nil && f.Warehouse() == g.Warehouse()) &&
		(g.SalePrice == nil || f.SalePrice != nil) &&
		(g.MinSalePrice == nil || f.MinSalePrice != nil) &&
		(g.MaxSalePrice == nil || f.MaxSalePrice != nil) &&
		(g.RecommendedPrice == nil || f.RecommendedPrice != nil) &&
		(g.Status == nil || f.Status != nil)
}

// OfferChange asks to change one offer, named by its seller product id or,
// when ProductID is 0, by its part number (SKU).
type OfferChange struct {
	Account    string
	ProductID  int64
	PartNumber string
	OfferFields
	// Source says who asked (the API user, "cli"), for the record.
	Source string
}

// OfferTarget is an offer as a change will find it once the changes before
// it are applied: the stored offer overlaid with every open change of it.
type OfferTarget struct {
	Account          string
	ProductID        int64
	PartNumber       string
	SalePrice        magflow.Decimal
	MinSalePrice     magflow.Decimal
	MaxSalePrice     magflow.Decimal
	RecommendedPrice magflow.Decimal
	Status           int
	Stock            int
	// Gone is set when the last complete scan no longer saw the offer.
	Gone bool
}

func (t OfferTarget) with(f OfferFields) OfferTarget {
	if f.Stock != nil {
		t.Stock = *f.Stock
	}
	if f.SalePrice != nil {
		t.SalePrice = *f.SalePrice
	}
	if f.MinSalePrice != nil {
		t.MinSalePrice = *f.MinSalePrice
	}
	if f.MaxSalePrice != nil {
		t.MaxSalePrice = *f.MaxSalePrice
	}
	if f.RecommendedPrice != nil {
		t.RecommendedPrice = *f.RecommendedPrice
	}
	if f.Status != nil {
		t.Status = *f.Status
	}
	return t
}

// OutboxEntry is one row of the outbox.
type OutboxEntry struct {
	ID         int64
	Account    string
	Kind       string
	TargetID   int64 // the seller product id, or the order id
	PartNumber string
	Fields     OfferFields // offers only
	State      OutboxState
	Attempts   int
	// Route is the eMAG route of the last attempt (offer/save,
	// offer_stock/{id}, order/acknowledge/{id}).
	Route        string
	Message      string
	Source       string
	SupersededBy int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
	NextAt       time.Time
	SentAt       *time.Time
	DoneAt       *time.Time
}

const outboxSelect = `id, account, kind, target_id, part_number, fields, state, attempts, route, message, source, superseded_by,
created_at, updated_at, next_at, sent_at, done_at`

func scanOutbox(sc scanner, e *OutboxEntry) error {
	var fields string
	var sent, done sql.NullTime
	if err := sc.Scan(&e.ID, &e.Account, &e.Kind, &e.TargetID, &e.PartNumber, &fields, &e.State, &e.Attempts, &e.Route,
		&e.Message, &e.Source, &e.SupersededBy, &e.CreatedAt, &e.UpdatedAt, &e.NextAt, &sent, &done); err != nil {
		return err
	}
	e.CreatedAt, e.UpdatedAt, e.NextAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC(), e.NextAt.UTC()
	e.SentAt, e.DoneAt = timePtr(sent), timePtr(done)
	if fields != "" && fields != "{}" {
		if err := json.Unmarshal([]byte(fields), &e.Fields); err != nil {
			return fmt.Errorf("outbox entry %d: fields: %w", e.ID, err)
		}
	}
	return nil
}

// outboxCols are the columns an insert sets.
var outboxCols = []string{"account", "kind", "target_id", "part_number", "fields", "state", "source", "created_at", "updated_at", "next_at"}

// CheckOfferChange validates change number i against the offer it targets;
// an error (a *magflow.Error naming the field) refuses the whole request.
type CheckOfferChange func(i int, c OfferChange, target OfferTarget) error

// EnqueueOfferChanges resolves each change to a stored offer (by product id
// or part number), checks it with check against the offer as the changes
// before it leave it, and inserts them all into the outbox in one
// transaction; it returns their ids in order. Nothing is inserted when any
// change fails: an unknown offer is ENotFound naming the change
// ("[3].part_number"), check's error is returned as is.
func (db *DB) EnqueueOfferChanges(ctx context.Context, changes []OfferChange, check CheckOfferChange) ([]int64, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	var ids []int64
	err := db.inTx(ctx, "enqueue offer changes", func(tx *sql.Tx) error {
		targets, err := db.offerTargets(ctx, tx, changes)
		if err != nil {
			return err
		}
		now := db.now()
		rows := make([][]any, 0, len(changes))
		for i := range changes {
			c := &changes[i]
			key, field, what := targetKey{c.Account, c.ProductID, ""}, fmt.Sprintf("[%d].id", i), fmt.Sprintf("offer %d", c.ProductID)
			if c.ProductID == 0 {
				key, field, what = targetKey{c.Account, 0, c.PartNumber}, fmt.Sprintf("[%d].part_number", i), fmt.Sprintf("offer with part number %q", c.PartNumber)
			}
			t, ok := targets[key]
			if !ok {
				return &magflow.Error{Code: magflow.ENotFound, Field: field,
					Message: fmt.Sprintf("%s is not known in account %s: sync the account's offers first, or check the id", what, c.Account)}
			}
			if check != nil {
				if err := check(i, *c, *t); err != nil {
					return err
				}
			}
			*t = t.with(c.OfferFields)
			c.ProductID, c.PartNumber = t.ProductID, t.PartNumber
			// Later changes by the other key see this one too.
			targets[targetKey{c.Account, t.ProductID, ""}], targets[targetKey{c.Account, 0, t.PartNumber}] = t, t
			fields, err := json.Marshal(c.OfferFields)
			if err != nil {
				return err
			}
			rows = append(rows, []any{c.Account, OutboxOffer, t.ProductID, t.PartNumber, string(fields), string(OutboxPending), c.Source, now, now, now})
		}
		ids, err = db.insertOutbox(ctx, tx, rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// insertOutbox inserts rows (outboxCols) and returns their ids in order:
// within one statement, ids are drawn in the order of the rows.
func (db *DB) insertOutbox(ctx context.Context, tx execer, rows [][]any) ([]int64, error) {
	ids := make([]int64, 0, len(rows))
	const per = 500
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(len(rows), start+per)]
		var b strings.Builder
		b.WriteString("INSERT INTO emag_outbox (" + strings.Join(outboxCols, ", ") + ") VALUES ")
		ph := placeholders(len(outboxCols))
		args := make([]any, 0, len(chunk)*len(outboxCols))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(ph)
			args = append(args, r...)
		}
		b.WriteString(" RETURNING id")
		rs, err := tx.QueryContext(ctx, db.q(b.String()), args...)
		if err != nil {
			return nil, fmt.Errorf("insert outbox entries: %w", err)
		}
		var got []int64
		for rs.Next() {
			var id int64
			if err := rs.Scan(&id); err != nil {
				rs.Close()
				return nil, err
			}
			got = append(got, id)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, err
		}
		slices.Sort(got)
		ids = append(ids, got...)
	}
	return ids, nil
}

type targetKey struct {
	account    string
	productID  int64
	partNumber string
}

// offerTargets loads the stored offers the changes name, overlaid with the
// open changes of each.
func (db *DB) offerTargets(ctx context.Context, tx execer, changes []OfferChange) (map[targetKey]*OfferTarget, error) {
	byAccount := map[string]*struct {
		ids []int64
		pns []string
	}{}
	for _, c := range changes {
		a := byAccount[c.Account]
		if a == nil {
			a = &struct {
				ids []int64
				pns []string
			}{}
			byAccount[c.Account] = a
		}
		if c.ProductID != 0 {
			a.ids = append(a.ids, c.ProductID)
		} else {
			a.pns = append(a.pns, c.PartNumber)
		}
	}
	out := map[targetKey]*OfferTarget{}
	const sel = "SELECT product_id, part_number, sale_price, min_sale_price, max_sale_price, recommended_price, status, general_stock, gone_at IS NOT NULL FROM emag_product_offers WHERE account = ? AND "
	for account, a := range byAccount {
		var found []int64
		load := func(col string, vals []any) error {
			slices.SortFunc(vals, func(x, y any) int { return strings.Compare(fmt.Sprint(x), fmt.Sprint(y)) })
			vals = slices.CompactFunc(vals, func(x, y any) bool { return x == y })
			for start := 0; start < len(vals); start += 500 {
				chunk := vals[start:min(len(vals), start+500)]
				rows, err := tx.QueryContext(ctx, db.q(sel+col+" IN "+placeholders(len(chunk))+" ORDER BY product_id"), append([]any{account}, chunk...)...)
				if err != nil {
					return fmt.Errorf("read offers: %w", err)
				}
				for rows.Next() {
					t := &OfferTarget{Account: account}
					if err := rows.Scan(&t.ProductID, &t.PartNumber, &t.SalePrice, &t.MinSalePrice, &t.MaxSalePrice, &t.RecommendedPrice, &t.Status, &t.Stock, &t.Gone); err != nil {
						rows.Close()
						return err
					}
					if prev, ok := out[targetKey{account, t.ProductID, ""}]; ok {
						t = prev
					} else {
						out[targetKey{account, t.ProductID, ""}] = t
						found = append(found, t.ProductID)
					}
					if _, ok := out[targetKey{account, 0, t.PartNumber}]; !ok && t.PartNumber != "" {
						out[targetKey{account, 0, t.PartNumber}] = t
					}
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
			}
			return nil
		}
		ids := make([]any, len(a.ids))
		for i, id := range a.ids {
			ids[i] = id
		}
		pns := make([]any, len(a.pns))
		for i, pn := range a.pns {
			pns[i] = pn
		}
		if err := load("product_id", ids); err != nil {
			return nil, err
		}
		if err := load("part_number", pns); err != nil {
			return nil, err
		}
		// Overlay the changes not settled yet, oldest first.
		for start := 0; start < len(found); start += 500 {
			ph, args := inList(found[start:min(len(found), start+500)])
			rows, err := tx.QueryContext(ctx, db.q("SELECT target_id, fields FROM emag_outbox WHERE account = ? AND kind = 'offer' AND state IN ('pending', 'retrying', 'sending') AND target_id IN "+ph+" ORDER BY id"), append([]any{account}, args...)...)
			if err != nil {
				return nil, fmt.Errorf("read open changes: %w", err)
			}
			for rows.Next() {
				var id int64
				var fields string
				if err := rows.Scan(&id, &fields); err != nil {
					rows.Close()
					return nil, err
				}
				var f OfferFields
				if err := json.Unmarshal([]byte(fields), &f); err != nil {
					rows.Close()
					return nil, fmt.Errorf("open change of offer %d: %w", id, err)
				}
				t := out[targetKey{account, id, ""}]
				*t = t.with(f)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// DueOutbox returns up to limit open entries of account and kind that are
// due now (pending, or retrying with NextAt passed), oldest first.
func (db *DB) DueOutbox(ctx context.Context, account, kind string, limit int) ([]OutboxEntry, error) {
	return db.outboxWhere(ctx, "due outbox entries", "account = ? AND kind = ? AND state IN ('pending', 'retrying') AND next_at <= ? ORDER BY id LIMIT ?",
		account, kind, db.now(), max(limit, 1))
}

// OpenOutbox returns up to limit entries of account and kind waiting to be
// sent (pending, or retrying whether due or not), oldest first: a drainer
// holds an offer's later changes back while an earlier one waits for its
// retry.
func (db *DB) OpenOutbox(ctx context.Context, account, kind string, limit int) ([]OutboxEntry, error) {
	return db.outboxWhere(ctx, "open outbox entries", "account = ? AND kind = ? AND state IN ('pending', 'retrying') ORDER BY id LIMIT ?",
		account, kind, max(limit, 1))
}

// OutboxWork reports, from the read pool, whether account has entries of
// kind to send or settle now, or, with missingAcks, stored new orders
// without an acknowledgement: idle drainers ask it before taking their
// lease, so that polling costs no write.
func (db *DB) OutboxWork(ctx context.Context, account, kind string, missingAcks bool) (bool, error) {
	q := `SELECT EXISTS (SELECT 1 FROM emag_outbox WHERE account = ? AND kind = ? AND state IN ('pending', 'retrying', 'sending') AND (state = 'sending' OR next_at <= ?))`
	args := []any{account, kind, db.now()}
	if missingAcks {
		q += ` OR EXISTS (SELECT 1 FROM emag_orders o WHERE o.account = ? AND o.status = 1 AND o.type = 3
AND NOT EXISTS (SELECT 1 FROM emag_outbox x WHERE x.account = o.account AND x.kind = 'ack' AND x.target_id = o.id))`
		args = append(args, account)
	}
	var has bool
	if err := db.read.QueryRowContext(ctx, db.q(q), args...).Scan(&has); err != nil {
		return false, db.wrap("look for outbox work", err)
	}
	return has, nil
}

// SendingOutbox returns every entry of account and kind in state sending:
// sent without a recorded outcome.
func (db *DB) SendingOutbox(ctx context.Context, account, kind string) ([]OutboxEntry, error) {
	return db.outboxWhere(ctx, "sending outbox entries", "account = ? AND kind = ? AND state = 'sending' ORDER BY id", account, kind)
}

func (db *DB) outboxWhere(ctx context.Context, what, where string, args ...any) ([]OutboxEntry, error) {
	rows, err := db.write.QueryContext(ctx, db.q("SELECT "+outboxSelect+" FROM emag_outbox WHERE "+where), args...)
	if err != nil {
		return nil, db.wrap(what, err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e OutboxEntry
		if err := scanOutbox(rows, &e); err != nil {
			return nil, db.wrap(what, err)
		}
		out = append(out, e)
	}
	return out, db.wrap(what, rows.Err())
}

// MarkSending records that ids are being handed to eMAG over route: their
// state becomes sending and their attempts grow by one. It is committed
// before the request leaves, so a crash after it leaves the entries to be
// settled by reading back. Only open entries are marked; the count of
// marked entries is returned.
func (db *DB) MarkSending(ctx context.Context, ids []int64, route string) (int, error) {
	var n int64
	err := db.inTx(ctx, "mark outbox entries sending", func(tx *sql.Tx) error {
		now := db.now()
		for start := 0; start < len(ids); start += 500 {
			ph, args := inList(ids[start:min(len(ids), start+500)])
			res, err := tx.ExecContext(ctx, db.q("UPDATE emag_outbox SET state = 'sending', attempts = attempts + 1, route = ?, sent_at = ?, updated_at = ? WHERE state IN ('pending', 'retrying', 'sending') AND id IN "+ph),
				append([]any{route, now, now}, args...)...)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	return int(n), err
}

// OutboxOutcome is the verdict on one entry.
type OutboxOutcome struct {
	ID      int64
	State   OutboxState
	Message string
	// NextAt is when a retrying entry is due again.
	NextAt time.Time
	// SupersededBy is the entry sent in a superseded one's place.
	SupersededBy int64
	// Applied, on an applied offer change, is what to write into the stored
	// offer (the merged fields that eMAG applied) so that reads and later
	// checks see it before the next sync.
	Applied *OfferFields
	// Account and TargetID name the offer Applied is written to.
	Account  string
	TargetID int64
}

// SettleOutbox records outcomes in one transaction: final states get their
// done time; applied offer changes update the stored offer.
func (db *DB) SettleOutbox(ctx context.Context, outcomes []OutboxOutcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	return db.inTx(ctx, "settle outbox entries", func(tx *sql.Tx) error {
		now := db.now()
		for _, o := range outcomes {
			var done any
			if o.State.Final() {
				done = now
			}
			next := o.NextAt
			if next.IsZero() {
				next = now
			}
			if _, err := tx.ExecContext(ctx, db.q("UPDATE emag_outbox SET state = ?, message = ?, superseded_by = ?, next_at = ?, updated_at = ?, done_at = ? WHERE id = ?"),
				string(o.State), truncateRunes(o.Message, 2000), o.SupersededBy, next.UTC().Truncate(time.Microsecond), now, done, o.ID); err != nil {
				return fmt.Errorf("settle outbox entry %d: %w", o.ID, err)
			}
			if o.Applied != nil && o.State == OutboxApplied {
				if err := db.applyToOffer(ctx, tx, o.Account, o.TargetID, *o.Applied, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// applyToOffer writes the fields eMAG applied into the stored offer. Its
// content hash is cleared so that the next sync rewrites the row from
// eMAG's own answer.
func (db *DB) applyToOffer(ctx context.Context, tx execer, account string, productID int64, f OfferFields, now time.Time) error {
	var set []string
	var args []any
	money := func(col string, d *magflow.Decimal) {
		if d == nil {
			return
		}
		set = append(set, col+" = ?")
		args = append(args, d.String())
		if db.dialect == SQLite {
			set = append(set, col+"_units = ?")
			args = append(args, d.Units())
		}
	}
	money("sale_price", f.SalePrice)
	money("min_sale_price", f.MinSalePrice)
	money("max_sale_price", f.MaxSalePrice)
	money("recommended_price", f.RecommendedPrice)
	if f.Status != nil {
		set = append(set, "status = ?")
		args = append(args, *f.Status)
	}
	if f.Stock != nil {
		stock := "?"
		if db.dialect == Postgres {
			stock = "CAST(? AS jsonb)"
		}
		set = append(set, "stock = "+stock, "general_stock = ?")
		args = append(args, jsonText([]magflow.WarehouseValue{{WarehouseID: f.Warehouse(), Value: *f.Stock}}), *f.Stock)
	}
	if len(set) == 0 {
		return nil
	}
	set = append(set, "content_hash = ''", "updated_at = ?")
	args = append(args, now, account, productID)
	if _, err := tx.ExecContext(ctx, db.q("UPDATE emag_product_offers SET "+strings.Join(set, ", ")+" WHERE account = ? AND product_id = ?"), args...); err != nil {
		return fmt.Errorf("apply change to offer %d: %w", productID, err)
	}
	return db.catalogChanged(ctx, tx, true)
}

func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// GetOutbox returns one outbox entry.
func (db *DB) GetOutbox(ctx context.Context, id int64) (OutboxEntry, error) {
	var e OutboxEntry
	err := scanOutbox(db.read.QueryRowContext(ctx, db.q("SELECT "+outboxSelect+" FROM emag_outbox WHERE id = ?"), id), &e)
	if err == sql.ErrNoRows {
		return e, magflow.Errorf(magflow.ENotFound, "change %d not found", id)
	}
	if err != nil {
		return e, db.wrap("get outbox entry", err)
	}
	return e, nil
}

// OutboxFilter selects outbox entries. Zero fields do not filter.
type OutboxFilter struct {
	Account  string
	Kind     string
	State    OutboxState
	TargetID int64
	// MinID and MaxID bound the ids (inclusive).
	MinID, MaxID int64
	Limit        int // default 100, at most 1000
	Offset       int
}

func (f OutboxFilter) where() (string, []any) {
	var where []string
	var args []any
	add := func(c string, v any) { where = append(where, c); args = append(args, v) }
	if f.Account != "" {
		add("account = ?", f.Account)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.State != "" {
		add("state = ?", string(f.State))
	}
	if f.TargetID != 0 {
		add("target_id = ?", f.TargetID)
	}
	if f.MinID != 0 {
		add("id >= ?", f.MinID)
	}
	if f.MaxID != 0 {
		add("id <= ?", f.MaxID)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// ListOutbox returns one page of entries, newest first, and the total.
func (db *DB) ListOutbox(ctx context.Context, f OutboxFilter) ([]OutboxEntry, int, error) {
	w, args := f.where()
	var total int
	if err := db.read.QueryRowContext(ctx, db.q("SELECT COUNT(*) FROM emag_outbox"+w), args...).Scan(&total); err != nil {
		return nil, 0, db.wrap("count outbox entries", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.read.QueryContext(ctx, db.q("SELECT "+outboxSelect+" FROM emag_outbox"+w+" ORDER BY id DESC LIMIT ? OFFSET ?"), append(args, min(limit, 1000), max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, db.wrap("list outbox entries", err)
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		var e OutboxEntry
		if err := scanOutbox(rows, &e); err != nil {
			return nil, 0, db.wrap("list outbox entries", err)
		}
		out = append(out, e)
	}
	return out, total, db.wrap("list outbox entries", rows.Err())
}

// OutboxSummary counts the entries f selects per state (Limit and Offset
// are ignored).
func (db *DB) OutboxSummary(ctx context.Context, f OutboxFilter) (map[OutboxState]int, error) {
	w, args := f.where()
	rows, err := db.read.QueryContext(ctx, db.q("SELECT state, COUNT(*) FROM emag_outbox"+w+" GROUP BY state"), args...)
	if err != nil {
		return nil, db.wrap("summarise outbox", err)
	}
	defer rows.Close()
	out := map[OutboxState]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, db.wrap("summarise outbox", err)
		}
		out[OutboxState(s)] = n
	}
	return out, db.wrap("summarise outbox", rows.Err())
}

// TakeLease takes the lease name for owner until ttl from now, or renews
// it when owner holds it; false when another owner holds it unexpired.
func (db *DB) TakeLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	var ok bool
	err := db.inTx(ctx, "take lease "+name, func(tx *sql.Tx) error {
		now := db.now()
		res, err := tx.ExecContext(ctx, db.q(`INSERT INTO emag_outbox_leases (name, owner, expires_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
WHERE emag_outbox_leases.owner = excluded.owner OR emag_outbox_leases.expires_at < ?`), name, owner, now.Add(ttl), now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n > 0
		return err
	})
	return ok, err
}

// ReleaseLease gives the lease name up if owner holds it.
func (db *DB) ReleaseLease(ctx context.Context, name, owner string) error {
	_, err := db.write.ExecContext(ctx, db.q("DELETE FROM emag_outbox_leases WHERE name = ? AND owner = ?"), name, owner)
	return db.wrap("release lease "+name, err)
}
