package twoway

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/ratelimit"
	"github.com/magflow/magflow/internal/sqldb"
)

// MaxStock is the largest stock eMAG accepts.
const MaxStock = 65535

// EnqueueOfferChanges validates changes (shape first, then each against
// its offer as the changes before it leave it), writes them all to the
// outbox in one transaction and wakes the drainers. It returns the change
// ids in order. Errors are *magflow.Error naming the change and field as
// "[i].field": EInvalid for a bad value, ENotFound for an unknown offer;
// nothing is written then.
func (s *Service) EnqueueOfferChanges(ctx context.Context, changes []sqldb.OfferChange) ([]int64, error) {
	if len(changes) == 0 {
		return nil, &magflow.Error{Code: magflow.EInvalid, Field: "[]", Message: "no changes: send at least one"}
	}
	for i := range changes {
		c := &changes[i]
		c.Account = strings.ToLower(strings.TrimSpace(c.Account))
		c.PartNumber = strings.TrimSpace(c.PartNumber)
		if _, err := s.account(c.Account); err != nil {
			return nil, fieldErr(magflow.EInvalid, i, "account", err.Error())
		}
		if err := CheckShape(i, *c); err != nil {
			return nil, err
		}
	}
	ids, err := s.db.EnqueueOfferChanges(ctx, changes, CheckChange)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, c := range changes {
		if !seen[c.Account] {
			seen[c.Account] = true
			s.Notify(c.Account, sqldb.OutboxOffer)
		}
	}
	return ids, nil
}

func fieldErr(code string, i int, field, msg string) *magflow.Error {
	return &magflow.Error{Code: code, Field: fmt.Sprintf("[%d].%s", i, field), Message: msg}
}

func unknownAccount(name string, names []string) error {
	return magflow.Errorf(magflow.EInvalid, "unknown account %q: use one of %s", name, strings.Join(names, ", "))
}

// CheckShape checks what a change says on its own: an offer named by id
// (1..16777215) or part number, at least one field, values in range.
func CheckShape(i int, c sqldb.OfferChange) error {
	switch {
	case c.ProductID < 0 || c.ProductID > magflow.MaxSellerProductID:
		return fieldErr(magflow.EInvalid, i, "id", fmt.Sprintf("offer id %d is out of range: eMAG seller product ids are 1 to %d", c.ProductID, magflow.MaxSellerProductID))
	case c.ProductID == 0 && c.PartNumber == "":
		return fieldErr(magflow.EInvalid, i, "id", "name the offer by its seller product id (id) or its part number (part_number)")
	case c.Empty():
		return fieldErr(magflow.EInvalid, i, "stock", "nothing to change: set stock, sale_price, min_sale_price, max_sale_price, recommended_price or status")
	case c.Stock != nil && (*c.Stock < 0 || *c.Stock > MaxStock):
		return fieldErr(magflow.EInvalid, i, "stock", fmt.Sprintf("stock %d is out of range: use 0 to %d", *c.Stock, MaxStock))
	case c.WarehouseID < 0 || c.WarehouseID > 65535:
		return fieldErr(magflow.EInvalid, i, "warehouse_id", fmt.Sprintf("warehouse id %d is out of range: use 1 (the default) or your eMAG warehouse id", c.WarehouseID))
	case c.Stock == nil && c.WarehouseID != 0:
		return fieldErr(magflow.EInvalid, i, "warehouse_id", "warehouse_id goes with stock: set stock too, or drop warehouse_id")
	case c.Status != nil && (*c.Status < 0 || *c.Status > 2):
		return fieldErr(magflow.EInvalid, i, "status", fmt.Sprintf("status %d is not valid: use 0 (inactive), 1 (active) or 2 (end of life)", *c.Status))
	}
	for _, p := range []struct {
		name string
		v    *magflow.Decimal
	}{{"sale_price", c.SalePrice}, {"min_sale_price", c.MinSalePrice}, {"max_sale_price", c.MaxSalePrice}, {"recommended_price", c.RecommendedPrice}} {
		if p.v != nil && p.v.Units() <= 0 {
			return fieldErr(magflow.EInvalid, i, p.name, fmt.Sprintf("%s %s must be greater than 0 (without VAT, at most 4 decimals)", p.name, p.v))
		}
	}
	return nil
}

// CheckChange checks change i against its offer as the changes before it
// leave it: the offer still listed, and when prices change, min below max,
// the sale price within them and the recommended price above it (eMAG
// rejects the offer otherwise).
func CheckChange(i int, c sqldb.OfferChange, t sqldb.OfferTarget) error {
	if t.Gone {
		return fieldErr(magflow.EInvalid, i, idField(c), fmt.Sprintf("offer %d (%s) was missing from the last complete scan of account %s: it is no longer on eMAG", t.ProductID, t.PartNumber, t.Account))
	}
	if c.SalePrice == nil && c.MinSalePrice == nil && c.MaxSalePrice == nil && c.RecommendedPrice == nil {
		return nil
	}
	after := t
	if c.SalePrice != nil {
		after.SalePrice = *c.SalePrice
	}
	if c.MinSalePrice != nil {
		after.MinSalePrice = *c.MinSalePrice
	}
	if c.MaxSalePrice != nil {
		after.MaxSalePrice = *c.MaxSalePrice
	}
	if c.RecommendedPrice != nil {
		after.RecommendedPrice = *c.RecommendedPrice
	}
	// The field blamed is the one this change sets; unknown bounds (0) are
	// not checked.
	blame := func(names ...string) string {
		for _, n := range names {
			switch {
			case n == "sale_price" && c.SalePrice != nil, n == "min_sale_price" && c.MinSalePrice != nil,
				n == "max_sale_price" && c.MaxSalePrice != nil, n == "recommended_price" && c.RecommendedPrice != nil:
				return n
			}
		}
		return names[0]
	}
	known := func(d magflow.Decimal) bool { return !d.IsZero() }
	if known(after.MinSalePrice) && known(after.MaxSalePrice) && after.MaxSalePrice.Cmp(after.MinSalePrice) <= 0 {
		return fieldErr(magflow.EInvalid, i, blame("max_sale_price", "min_sale_price"),
			fmt.Sprintf("max_sale_price %s must be greater than min_sale_price %s", after.MaxSalePrice, after.MinSalePrice))
	}
	if known(after.MinSalePrice) && after.SalePrice.Cmp(after.MinSalePrice) < 0 {
		return fieldErr(magflow.EInvalid, i, blame("sale_price", "min_sale_price"),
			fmt.Sprintf("sale_price %s is below min_sale_price %s: lower min_sale_price in the same change, or raise the price", after.SalePrice, after.MinSalePrice))
	}
	if known(after.MaxSalePrice) && after.SalePrice.Cmp(after.MaxSalePrice) > 0 {
		return fieldErr(magflow.EInvalid, i, blame("sale_price", "max_sale_price"),
			fmt.Sprintf("sale_price %s is above max_sale_price %s: raise max_sale_price in the same change, or lower the price", after.SalePrice, after.MaxSalePrice))
	}
	if c.RecommendedPrice != nil && after.RecommendedPrice.Cmp(after.SalePrice) <= 0 {
		return fieldErr(magflow.EInvalid, i, "recommended_price",
			fmt.Sprintf("recommended_price %s must be greater than sale_price %s", after.RecommendedPrice, after.SalePrice))
	}
	return nil
}

func idField(c sqldb.OfferChange) string {
	if c.ProductID == 0 {
		return "part_number"
	}
	return "id"
}

// group is the open changes of one offer, oldest first, and what sending
// them means: every field at its latest value.
type group struct {
	target int64
	rows   []sqldb.OutboxEntry
	fields sqldb.OfferFields
}

func groupEntries(entries []sqldb.OutboxEntry) []*group {
	var out []*group
	by := map[int64]*group{}
	for _, e := range entries {
		g := by[e.TargetID]
		if g == nil {
			g = &group{target: e.TargetID}
			by[e.TargetID] = g
			out = append(out, g)
		}
		g.rows = append(g.rows, e)
		g.fields = g.fields.Overlay(e.Fields)
	}
	return out
}

func (g *group) ids() []int64 {
	out := make([]int64, len(g.rows))
	for i, r := range g.rows {
		out[i] = r.ID
	}
	return out
}

func (g *group) attempts() int {
	n := 0
	for _, r := range g.rows {
		n = max(n, r.Attempts)
	}
	return n
}

// outcomes gives every change of g the state, except the older ones that
// the later ones make moot (superseded by the latest).
func (g *group) outcomes(account string, state sqldb.OutboxState, msg string, next time.Time) []sqldb.OutboxOutcome {
	lead := g.rows[len(g.rows)-1].ID
	out := make([]sqldb.OutboxOutcome, 0, len(g.rows))
	for i, r := range g.rows {
		var later sqldb.OfferFields
		for _, l := range g.rows[i+1:] {
			later = later.Overlay(l.Fields)
		}
		if i < len(g.rows)-1 && later.Covers(r.Fields) {
			out = append(out, sqldb.OutboxOutcome{ID: r.ID, State: sqldb.OutboxSuperseded, SupersededBy: lead,
				Message: fmt.Sprintf("change %d set the same fields later and was sent instead", lead)})
			continue
		}
		o := sqldb.OutboxOutcome{ID: r.ID, State: state, Message: msg, NextAt: next}
		if r.ID == lead && state == sqldb.OutboxApplied {
			f := g.fields
			o.Applied, o.Account, o.TargetID = &f, account, g.target
		}
		out = append(out, o)
	}
	return out
}

// retry gives g's changes retrying (due after a backoff), or failed once
// they were sent MaxAttempts times.
func (s *Service) retry(account string, g *group, why string) []sqldb.OutboxOutcome {
	n := g.attempts()
	if n >= s.opts.MaxAttempts {
		return g.outcomes(account, sqldb.OutboxFailed, fmt.Sprintf("not applied after %d attempts: %s", n, why), time.Time{})
	}
	return g.outcomes(account, sqldb.OutboxRetrying, why, time.Now().Add(s.backoff(n)))
}

// drainOffers settles the changes left sending, then sends one request of
// up to 50 offers. It reports whether it did anything.
func (s *Service) drainOffers(ctx context.Context, a *account) (bool, error) {
	sending, err := s.db.SendingOutbox(ctx, a.Name, sqldb.OutboxOffer)
	if err != nil {
		return false, err
	}
	if len(sending) > 0 {
		return true, s.readBackOffers(ctx, a, groupEntries(sending))
	}
	open, err := s.db.OpenOutbox(ctx, a.Name, sqldb.OutboxOffer, s.opts.BatchWindow)
	if err != nil {
		return false, err
	}
	now := time.Now()
	var batch []*group
	sent := false
	for _, g := range groupEntries(open) {
		due := true
		for _, r := range g.rows {
			// A change waiting for its retry holds the offer's later
			// changes back, so that it never overwrites them afterwards.
			if r.NextAt.After(now) {
				due = false
			}
		}
		if !due {
			continue
		}
		batch = append(batch, g)
		if len(batch) == magflow.MaxBulkEntities {
			// The window's next batches go on under the same lease.
			if sent {
				if err := s.renew(ctx, sqldb.OutboxOffer, a.Name); err != nil {
					return true, err
				}
			}
			if err := s.sendOffers(ctx, a, batch); err != nil {
				return true, err
			}
			batch, sent = nil, true
		}
	}
	if len(batch) > 0 {
		if sent {
			if err := s.renew(ctx, sqldb.OutboxOffer, a.Name); err != nil {
				return true, err
			}
		}
		return true, s.sendOffers(ctx, a, batch)
	}
	return sent, nil
}

// renew renews the drainer's lease between two requests of one pass.
func (s *Service) renew(ctx context.Context, kind, account string) error {
	ok, err := s.db.TakeLease(ctx, leaseName(kind, account), s.opts.Owner, s.opts.Lease)
	if err == nil && !ok {
		err = fmt.Errorf("the %s lease of account %s was taken over", kind, account)
	}
	return err
}

func (s *Service) sendOffers(ctx context.Context, a *account, batch []*group) error {
	var ids []int64
	for _, g := range batch {
		ids = append(ids, g.ids()...)
	}
	route := "offer/save"
	patch := len(batch) == 1 && batch[0].fields.StockOnly() && batch[0].fields.Warehouse() == 1
	if patch {
		route = "offer_stock/" + strconv.FormatInt(batch[0].target, 10)
	}
	if _, err := s.db.MarkSending(ctx, ids, route); err != nil {
		return err
	}
	if h := s.opts.Hooks.BeforeSend; h != nil {
		if err := h(a.Name, route, ids); err != nil {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(ratelimit.WithPriority(ctx, ratelimit.High), s.opts.SendTimeout)
	defer cancel()
	var outcomes []sqldb.OutboxOutcome
	var ambiguous []*group
	if patch {
		g := batch[0]
		err := a.Client.UpdateOfferStock(sctx, g.target, *g.fields.Stock)
		if h := s.opts.Hooks.AfterSend; h != nil {
			if herr := h(a.Name, route, ids); herr != nil {
				return herr
			}
		}
		if ctx.Err() != nil {
			return ctx.Err() // stays sending: read back next time
		}
		switch v := s.verdict(err); v.state {
		case "":
			ambiguous = append(ambiguous, g)
		case sqldb.OutboxRetrying:
			outcomes = append(outcomes, s.retry(a.Name, g, v.msg)...)
		default:
			outcomes = append(outcomes, g.outcomes(a.Name, v.state, v.msg, time.Time{})...)
		}
	} else {
		updates := make([]emag.OfferUpdate, len(batch))
		for i, g := range batch {
			f := g.fields
			u := emag.OfferUpdate{ID: g.target, SalePrice: f.SalePrice, MinSalePrice: f.MinSalePrice, MaxSalePrice: f.MaxSalePrice,
				RecommendedPrice: f.RecommendedPrice, Status: f.Status}
			if f.Stock != nil {
				u.Stock = []emag.WarehouseValue{{WarehouseID: f.Warehouse(), Value: *f.Stock}}
			}
			updates[i] = u
		}
		res, err := a.Client.SaveOffers(sctx, updates)
		if h := s.opts.Hooks.AfterSend; h != nil {
			if herr := h(a.Name, route, ids); herr != nil {
				return herr
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ee *emag.Error
		if err == nil || errors.As(err, &ee) && ee.Kind == emag.KindPartial {
			for _, g := range batch {
				it, ok := res.Items[g.target]
				switch {
				case !ok:
					ambiguous = append(ambiguous, g) // eMAG did not say: read it back
				case it.IsError:
					outcomes = append(outcomes, g.outcomes(a.Name, sqldb.OutboxRejected, emagMessage(it.Messages, "eMAG refused the offer without a message"), time.Time{})...)
				default:
					outcomes = append(outcomes, g.outcomes(a.Name, sqldb.OutboxApplied, emagMessage(it.Messages, ""), time.Time{})...)
				}
			}
		} else {
			v := s.verdict(err)
			for _, g := range batch {
				switch v.state {
				case "":
					ambiguous = append(ambiguous, g)
				case sqldb.OutboxRetrying:
					outcomes = append(outcomes, s.retry(a.Name, g, v.msg)...)
				default:
					outcomes = append(outcomes, g.outcomes(a.Name, v.state, v.msg, time.Time{})...)
				}
			}
		}
	}
	if err := s.db.SettleOutbox(ctx, outcomes); err != nil {
		return err
	}
	if len(ambiguous) > 0 {
		s.log.Info("outbox: answer did not say whether eMAG applied the changes; reading the offers back", "account", a.Name, "route", route, "offers", len(ambiguous))
		return s.readBackOffers(ctx, a, ambiguous)
	}
	return nil
}

// verdict classifies a failed (or successful) single write: state "" means
// the answer does not tell whether eMAG applied it.
type verdict struct {
	state sqldb.OutboxState
	msg   string
}

func (s *Service) verdict(err error) verdict {
	if err == nil {
		return verdict{sqldb.OutboxApplied, ""}
	}
	var ee *emag.Error
	if !errors.As(err, &ee) {
		// The request did not leave (the limiter's wait ended): nothing
		// was sent, but read back rather than guess.
		return verdict{"", err.Error()}
	}
	if ee.MaybeApplied() {
		return verdict{"", ee.Error()}
	}
	switch ee.Kind {
	case emag.KindValidation, emag.KindNotFound:
		return verdict{sqldb.OutboxRejected, emagMessage(itemMessages(ee), ee.Error())}
	case emag.KindAPI:
		if ee.Status >= 400 && ee.Status < 500 {
			// offer_stock's 400s: the value or a campaign blocked it.
			return verdict{sqldb.OutboxRejected, emagMessage(itemMessages(ee), ee.Error())}
		}
	}
	// Throttled, unreachable, refused as a whole (isError), an HTML page,
	// credentials: certainly not applied; send again later.
	return verdict{sqldb.OutboxRetrying, ee.Error()}
}

func itemMessages(ee *emag.Error) []string {
	msgs := append([]string(nil), ee.Messages...)
	for _, it := range ee.Items {
		msgs = append(msgs, it.Messages...)
	}
	return msgs
}

func emagMessage(msgs []string, def string) string {
	var keep []string
	for _, m := range msgs {
		if m = strings.TrimSpace(m); m != "" {
			keep = append(keep, m)
		}
	}
	if len(keep) == 0 {
		return def
	}
	return strings.Join(keep, "; ")
}

// readBackOffers settles changes whose outcome is unknown by reading each
// offer: when it shows every field at the value sent, the change was
// applied; otherwise it was not, and it is due again at once. An offer eMAG
// no longer lists rejects them. A failed read leaves them sending.
func (s *Service) readBackOffers(ctx context.Context, a *account, groups []*group) error {
	rctx := ratelimit.WithPriority(ctx, ratelimit.High)
	for _, g := range groups {
		offers, err := a.Client.ReadProductOffers(rctx, emag.ProductOfferFilter{ID: g.target, ItemsPerPage: 1, CurrentPage: 1})
		if err != nil {
			return fmt.Errorf("read back offer %d: %w", g.target, err)
		}
		var outcomes []sqldb.OutboxOutcome
		switch {
		case len(offers) == 0:
			outcomes = g.outcomes(a.Name, sqldb.OutboxRejected, fmt.Sprintf("read back: eMAG no longer lists offer %d", g.target), time.Time{})
		case shows(offers[0], g.fields):
			outcomes = g.outcomes(a.Name, sqldb.OutboxApplied, "read back: eMAG shows the change applied", time.Time{})
		default:
			n := g.attempts()
			if n >= s.opts.MaxAttempts {
				outcomes = g.outcomes(a.Name, sqldb.OutboxFailed, fmt.Sprintf("read back: not applied after %d attempts", n), time.Time{})
			} else {
				outcomes = g.outcomes(a.Name, sqldb.OutboxRetrying, "read back: eMAG does not show the change; sending it again", time.Now())
			}
		}
		if err := s.db.SettleOutbox(ctx, outcomes); err != nil {
			return err
		}
	}
	return nil
}

// shows reports whether o carries every field f sets.
func shows(o emag.ProductOffer, f sqldb.OfferFields) bool {
	eq := func(want *magflow.Decimal, got magflow.Decimal) bool { return want == nil || want.Cmp(got) == 0 }
	if !eq(f.SalePrice, o.SalePrice) || !eq(f.MinSalePrice, o.MinSalePrice) || !eq(f.MaxSalePrice, o.MaxSalePrice) || !eq(f.RecommendedPrice, o.RecommendedPrice) {
		return false
	}
	if f.Status != nil && *f.Status != o.Status {
		return false
	}
	if f.Stock != nil {
		for _, w := range o.Stock {
			if w.WarehouseID == f.Warehouse() {
				return w.Value == *f.Stock
			}
		}
		return false
	}
	return true
}
