// Package twoway writes to eMAG: it drains the outbox (internal/sqldb) of
// offer changes (stock, prices, status) and order acknowledgements, answers
// eMAG's order callbacks, and reconciles the stored orders with eMAG's
// counts.
//
// The guarantees (docs/two-way.md):
//   - A change is accepted only once it is in the outbox, in the
//     transaction of the request; it is never lost.
//   - One drainer per account and kind at a time, across processes (a
//     lease in the database), sends in the order the changes came.
//     Several open changes of one offer are coalesced: the offer is sent
//     once, with each field's latest value, and the older changes it makes
//     moot are marked superseded.
//   - Offers go 50 per light offer/save request (a lone stock change goes
//     as a PATCH offer_stock), at high priority in the account's rate
//     budget, so a catalogue scan never holds a write back for long.
//   - Each change is marked sending, and committed, before its request
//     leaves. Its outcome is recorded from eMAG's per-item answer: applied,
//     rejected (with eMAG's message), or retrying when the request
//     certainly was not applied (throttled, unreachable). When the answer
//     does not say (a timeout, a 5xx on a write, a crash between the send
//     and the record), the offer or order is read back and its state
//     decides; nothing is ever sent again blindly.
//   - An order is acknowledged only once stored (its acknowledgement is
//     inserted in the transaction that stores it, or afterwards from the
//     stored orders), and at most once.
//
// What does not live here: the eMAG client (internal/emag), the tables
// (internal/sqldb), HTTP (internal/httpapi), River (internal/jobs).
package twoway

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/sqldb"
)

// Account is one eMAG account the service writes to.
type Account struct {
	Name   string
	Client *emag.Client
	// AutoAck acknowledges new orders automatically once stored
	// (EMAG_<NAME>_AUTO_ACK, default true).
	AutoAck bool
	// CallbackToken authenticates eMAG's order callbacks for this account
	// (EMAG_<NAME>_CALLBACK_TOKEN); empty refuses them.
	CallbackToken string
}

// Hooks are crash points for tests: an error returned stops the drain pass
// right there, as a crash would, leaving the entries as they are.
type Hooks struct {
	// BeforeSend runs after the entries are marked sending, before the
	// request leaves.
	BeforeSend func(account, route string, ids []int64) error
	// AfterSend runs after eMAG answered, before the outcome is recorded.
	AfterSend func(account, route string, ids []int64) error
}

// Options configure a Service. Zero durations get the defaults named.
type Options struct {
	DB       *sqldb.DB
	Accounts []Account
	Logger   *slog.Logger
	// Owner names this process on the drainer leases (default
	// host:pid:random).
	Owner string
	// Poll is how often an idle drainer looks for work other processes
	// enqueued, for retries that fell due and for orders a sync stored
	// that need acknowledging (5s). Work enqueued through this Service (an
	// API change, a callback) wakes its drainer at once.
	Poll time.Duration
	// Lease is how long a drainer's lease lasts without renewal (2m); a
	// drainer that died is replaced after it. SendTimeout (1m) bounds one
	// request and must stay under it.
	Lease       time.Duration
	SendTimeout time.Duration
	// MaxAttempts is how many sends of a change that certainly were not
	// applied are made before it is marked failed (8).
	MaxAttempts int
	// RetryBase and RetryMax bound the backoff between such sends (5s,
	// doubling, at most 5m).
	RetryBase, RetryMax time.Duration
	// BatchWindow is how many open changes a drain pass looks at to fill a
	// request of 50 offers (5000).
	BatchWindow int
	// ReconcileWindow is how far back the reconciliation compares order
	// counts by creation date (29 days: eMAG counts windows of a month at
	// most).
	ReconcileWindow time.Duration
	// OnOrdersMismatch is called by Reconcile when counts still differ after
	// fetching the new orders: the caller syncs the account's orders.
	OnOrdersMismatch func(ctx context.Context, account string)
	// Hooks are crash points for tests.
	Hooks Hooks
	// Now tells the reconciliation what time it is (time.Now).
	Now func() time.Time
}

// Service drains the outbox of every account and answers callbacks. It is
// safe for concurrent use.
type Service struct {
	opts     Options
	db       *sqldb.DB
	log      *slog.Logger
	accounts []*account
	byName   map[string]*account

	mu     sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type account struct {
	Account
	wake map[string]chan struct{} // per kind
}

// New validates opts and returns a stopped Service.
func New(opts Options) (*Service, error) {
	if opts.DB == nil {
		return nil, errors.New("twoway: DB is required")
	}
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	if opts.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		opts.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	opts.Poll = cmp.Or(opts.Poll, 5*time.Second)
	opts.Lease = cmp.Or(opts.Lease, 2*time.Minute)
	opts.SendTimeout = cmp.Or(opts.SendTimeout, time.Minute)
	if opts.SendTimeout >= opts.Lease {
		return nil, fmt.Errorf("twoway: SendTimeout %v must be shorter than Lease %v", opts.SendTimeout, opts.Lease)
	}
	opts.MaxAttempts = cmp.Or(opts.MaxAttempts, 8)
	opts.RetryBase = cmp.Or(opts.RetryBase, 5*time.Second)
	opts.RetryMax = cmp.Or(opts.RetryMax, 5*time.Minute)
	opts.BatchWindow = cmp.Or(opts.BatchWindow, 5000)
	opts.ReconcileWindow = cmp.Or(opts.ReconcileWindow, 29*24*time.Hour)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{opts: opts, db: opts.DB, log: opts.Logger.With("component", "twoway"), byName: map[string]*account{}}
	for _, a := range opts.Accounts {
		if a.Name == "" || a.Client == nil {
			return nil, errors.New("twoway: every account needs a name and a client")
		}
		if s.byName[a.Name] != nil {
			return nil, fmt.Errorf("twoway: account %s listed twice", a.Name)
		}
		ac := &account{Account: a, wake: map[string]chan struct{}{
			sqldb.OutboxOffer: make(chan struct{}, 1), sqldb.OutboxAck: make(chan struct{}, 1)}}
		s.accounts = append(s.accounts, ac)
		s.byName[a.Name] = ac
	}
	return s, nil
}

// AccountNames lists the accounts in configuration order.
func (s *Service) AccountNames() []string {
	out := make([]string, len(s.accounts))
	for i, a := range s.accounts {
		out[i] = a.Name
	}
	return out
}

// Start runs one offer drainer and one acknowledgement drainer per account
// until Stop.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return errors.New("twoway: already started")
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	for _, a := range s.accounts {
		for _, kind := range []string{sqldb.OutboxOffer, sqldb.OutboxAck} {
			s.wg.Go(func() { s.loop(rctx, a, kind) })
		}
	}
	s.log.Info("outbox drainers started", "accounts", len(s.accounts), "owner", s.opts.Owner)
	return nil
}

// Stop stops the drainers (a request in flight is cut; its entries stay
// sending and are read back by the next drainer) and releases their
// leases, or returns when ctx ends.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	cancel := s.cancel
	s.cancel = nil
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("stop the outbox drainers: %w", ctx.Err())
	}
	var errs []error
	for _, a := range s.accounts {
		for _, kind := range []string{sqldb.OutboxOffer, sqldb.OutboxAck} {
			errs = append(errs, s.db.ReleaseLease(ctx, leaseName(kind, a.Name), s.opts.Owner))
		}
	}
	return errors.Join(errs...)
}

// Notify wakes account's drainers of kind ("" for both).
func (s *Service) Notify(account, kind string) {
	a := s.byName[account]
	if a == nil {
		return
	}
	for k, ch := range a.wake {
		if kind == "" || kind == k {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

func leaseName(kind, account string) string { return kind + ":" + account }

// loop is one drainer: while it holds the lease it drains, and sleeps
// until notified or Poll when there is nothing to do.
func (s *Service) loop(ctx context.Context, a *account, kind string) {
	log := s.log.With("account", a.Name, "kind", kind)
	failures := 0
	held := false
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		// Idle polls only read; the lease (a write) is taken for work and
		// given back once done, so another process can take over at once.
		has, err := s.db.OutboxWork(ctx, a.Name, kind, kind == sqldb.OutboxAck && a.AutoAck)
		worked := false
		if err == nil && has {
			held, err = s.db.TakeLease(ctx, leaseName(kind, a.Name), s.opts.Owner, s.opts.Lease)
			if err == nil && held {
				worked, err = s.drainOnce(ctx, a, kind)
			}
		}
		if err == nil && !worked && held {
			err = s.db.ReleaseLease(ctx, leaseName(kind, a.Name), s.opts.Owner)
			held = false
		}
		if ctx.Err() != nil {
			return
		}
		wait := s.opts.Poll
		if err != nil {
			failures++
			wait = s.backoff(failures)
			log.Warn("outbox drain failed", "err", err, "retry_in", wait)
		} else {
			failures = 0
			if worked {
				continue
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-a.wake[kind]:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-timer.C:
		}
	}
}

func (s *Service) drainOnce(ctx context.Context, a *account, kind string) (bool, error) {
	if kind == sqldb.OutboxAck {
		return s.drainAcks(ctx, a)
	}
	return s.drainOffers(ctx, a)
}

// Drain sends account's open entries of kind until none is due, in this
// process, holding the drainer lease (the CLI's offers commands use it when
// no server runs). It returns false when another process holds the lease.
func (s *Service) Drain(ctx context.Context, account, kind string) (bool, error) {
	a := s.byName[account]
	if a == nil {
		return false, fmt.Errorf("twoway: unknown account %q", account)
	}
	for {
		ok, err := s.db.TakeLease(ctx, leaseName(kind, a.Name), s.opts.Owner, s.opts.Lease)
		if err != nil || !ok {
			return ok, err
		}
		worked, err := s.drainOnce(ctx, a, kind)
		if err != nil {
			return true, err
		}
		if !worked {
			return true, s.db.ReleaseLease(ctx, leaseName(kind, a.Name), s.opts.Owner)
		}
	}
}

// backoff is the wait before attempt n+1 of something that failed n times.
func (s *Service) backoff(n int) time.Duration {
	d := s.opts.RetryBase
	for i := 1; i < n && d < s.opts.RetryMax; i++ {
		d *= 2
	}
	return min(d, s.opts.RetryMax)
}

func (s *Service) account(name string) (*account, error) {
	a := s.byName[name]
	if a == nil {
		return nil, unknownAccount(name, s.AccountNames())
	}
	return a, nil
}
