package twoway

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/ratelimit"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/syncer"
)

// CallbackResult is what an order callback did.
type CallbackResult struct {
	Account string
	OrderID int64
	Type    int
	Status  int
	// Stored says whether the order was inserted, updated or unchanged.
	Stored sqldb.PageResult
	// AckQueued is set when the order is new and its acknowledgement is in
	// the outbox (sent by the account's drainer at once).
	AckQueued bool
}

// AccountForToken returns the account whose callback token is token,
// comparing in constant time against every account: EUnauthorized when
// token is empty, EForbidden when it matches none.
func (s *Service) AccountForToken(token string) (string, error) {
	if token == "" {
		return "", magflow.Errorf(magflow.EUnauthorized, "missing token: register the callback URL in eMAG with &token=<EMAG_<NAME>_CALLBACK_TOKEN>")
	}
	found := ""
	for _, a := range s.accounts {
		if a.CallbackToken == "" {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(a.CallbackToken), []byte(token)) == 1 && found == "" {
			found = a.Name
		}
	}
	if found == "" {
		return "", magflow.Errorf(magflow.EForbidden, "the token matches no account's EMAG_<NAME>_CALLBACK_TOKEN")
	}
	return found, nil
}

// Callback answers eMAG's order callback (new order, cancellation, AWB
// change: each names the order): it authenticates token, reads the order
// at once (seller-fulfilled first, then fulfilled by eMAG), stores it and,
// when the order is new and the account acknowledges automatically, puts
// its acknowledgement in the outbox in the same transaction and wakes the
// drainer. Repeated callbacks for one order store it once and acknowledge
// it once.
func (s *Service) Callback(ctx context.Context, token string, orderID int64) (CallbackResult, error) {
	name, err := s.AccountForToken(token)
	if err != nil {
		return CallbackResult{}, err
	}
	if orderID < 1 {
		return CallbackResult{}, &magflow.Error{Code: magflow.EInvalid, Field: "query.order_id", Message: "order_id must be a positive eMAG order id"}
	}
	a := s.byName[name]
	o, err := s.readOrder(ctx, a, orderID)
	if err != nil {
		return CallbackResult{}, err
	}
	res := CallbackResult{Account: name, OrderID: orderID, Type: o.Type, Status: o.Status}
	res.Stored, err = s.db.StoreOrders(ctx, name, []magflow.Order{o}, a.AutoAck)
	if err != nil {
		return res, err
	}
	if a.AutoAck && o.Status == 1 && o.Type == 3 {
		res.AckQueued = true
		s.Notify(name, sqldb.OutboxAck)
	}
	return res, nil
}

// readOrder reads one order of either type, at high priority.
func (s *Service) readOrder(ctx context.Context, a *account, id int64) (magflow.Order, error) {
	ctx = ratelimit.WithPriority(ctx, ratelimit.High)
	for _, typ := range []int{3, 2} {
		orders, err := a.Client.ReadOrders(ctx, emag.OrderFilter{ID: id, Type: &typ, ItemsPerPage: 1, CurrentPage: 1})
		if err != nil {
			return magflow.Order{}, fmt.Errorf("read order %d of account %s: %w", id, a.Name, err)
		}
		for i := range orders {
			if orders[i].ID == id {
				return syncer.OrderFromEMAG(a.Name, &orders[i]), nil
			}
		}
	}
	return magflow.Order{}, magflow.Errorf(magflow.ENotFound, "eMAG has no order %d in account %s", id, a.Name)
}

// drainAcks adds the acknowledgements of stored new orders that have none
// (auto-ack accounts), settles those left sending, then sends the due ones.
func (s *Service) drainAcks(ctx context.Context, a *account) (bool, error) {
	if a.AutoAck {
		if _, err := s.db.EnqueueMissingAcks(ctx, a.Name); err != nil {
			return false, err
		}
	}
	sending, err := s.db.SendingOutbox(ctx, a.Name, sqldb.OutboxAck)
	if err != nil {
		return false, err
	}
	for _, e := range sending {
		if err := s.readBackAck(ctx, a, e); err != nil {
			return true, err
		}
	}
	due, err := s.db.DueOutbox(ctx, a.Name, sqldb.OutboxAck, 50)
	if err != nil {
		return false, err
	}
	for _, e := range due {
		if err := s.sendAck(ctx, a, e); err != nil {
			return true, err
		}
	}
	return len(sending)+len(due) > 0, nil
}

func (s *Service) sendAck(ctx context.Context, a *account, e sqldb.OutboxEntry) error {
	route := "order/acknowledge/" + strconv.FormatInt(e.TargetID, 10)
	if _, err := s.db.MarkSending(ctx, []int64{e.ID}, route); err != nil {
		return err
	}
	e.Attempts++
	if h := s.opts.Hooks.BeforeSend; h != nil {
		if err := h(a.Name, route, []int64{e.ID}); err != nil {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(ratelimit.WithPriority(ctx, ratelimit.High), s.opts.SendTimeout)
	err := a.Client.AcknowledgeOrder(sctx, e.TargetID)
	cancel()
	if h := s.opts.Hooks.AfterSend; h != nil {
		if herr := h(a.Name, route, []int64{e.ID}); herr != nil {
			return herr
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil {
		if err := s.db.SettleOutbox(ctx, []sqldb.OutboxOutcome{{ID: e.ID, State: sqldb.OutboxApplied, Message: "acknowledged: the order is in progress (status 2)"}}); err != nil {
			return err
		}
		s.refreshOrder(ctx, a, e.TargetID)
		return nil
	}
	var ee *emag.Error
	if errors.As(err, &ee) && !ee.MaybeApplied() && (ee.Kind == emag.KindRateLimited || ee.Kind == emag.KindUnavailable) {
		return s.db.SettleOutbox(ctx, s.retryAck(e, ee.Error()))
	}
	// eMAG refused it, or the answer does not tell: the order's status
	// decides.
	return s.readBackAck(ctx, a, e)
}

func (s *Service) retryAck(e sqldb.OutboxEntry, why string) []sqldb.OutboxOutcome {
	if e.Attempts >= s.opts.MaxAttempts {
		return []sqldb.OutboxOutcome{{ID: e.ID, State: sqldb.OutboxFailed, Message: fmt.Sprintf("not acknowledged after %d attempts: %s", e.Attempts, why)}}
	}
	return []sqldb.OutboxOutcome{{ID: e.ID, State: sqldb.OutboxRetrying, Message: why, NextAt: time.Now().Add(s.backoff(e.Attempts))}}
}

// readBackAck settles an acknowledgement by the order's status: still new
// (1) means not applied (due again); in progress or later means applied;
// cancelled or gone means there is nothing to acknowledge.
func (s *Service) readBackAck(ctx context.Context, a *account, e sqldb.OutboxEntry) error {
	o, err := s.readOrder(ctx, a, e.TargetID)
	var out sqldb.OutboxOutcome
	switch {
	case magflow.ErrorCode(err) == magflow.ENotFound:
		out = sqldb.OutboxOutcome{ID: e.ID, State: sqldb.OutboxRejected, Message: fmt.Sprintf("read back: eMAG has no order %d", e.TargetID)}
	case err != nil:
		return err
	case o.Status == 1:
		if e.Attempts >= s.opts.MaxAttempts {
			out = sqldb.OutboxOutcome{ID: e.ID, State: sqldb.OutboxFailed, Message: fmt.Sprintf("read back: still new after %d attempts", e.Attempts)}
		} else {
			out = sqldb.OutboxOutcome{ID: e.ID, State: sqldb.OutboxRetrying, Message: "read back: the order is still new; acknowledging again", NextAt: time.Now()}
		}
	case o.Status == 0:
		out = sqldb.OutboxOutcome{ID: e.ID, State: sqldb.OutboxRejected, Message: "read back: the order was cancelled before it was acknowledged"}
	default:
		out = sqldb.OutboxOutcome{ID: e.ID, State: sqldb.OutboxApplied, Message: fmt.Sprintf("read back: the order is in status %d", o.Status)}
	}
	if err := s.db.SettleOutbox(ctx, []sqldb.OutboxOutcome{out}); err != nil {
		return err
	}
	if err == nil {
		if _, err := s.db.StoreOrders(ctx, a.Name, []magflow.Order{o}, false); err != nil {
			return err
		}
	}
	return nil
}

// refreshOrder stores the order as eMAG shows it after the
// acknowledgement (eMAG staff may edit an order until then); a failure
// only leaves the stored copy older until the next orders sync.
func (s *Service) refreshOrder(ctx context.Context, a *account, id int64) {
	o, err := s.readOrder(ctx, a, id)
	if err == nil {
		_, err = s.db.StoreOrders(ctx, a.Name, []magflow.Order{o}, false)
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("re-read an acknowledged order", "account", a.Name, "order_id", id, "err", err)
	}
}
