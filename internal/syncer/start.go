package syncer

import (
	"context"
	"sync"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/sqldb"
)

// StartEvent reports one run the engine tried to start (Request.OnStart):
// Run is set when it started, Err (EConflict with sqldb.RunningRunID for
// single flight) when it did not.
type StartEvent struct {
	Account string
	Stream  magflow.Stream
	Run     magflow.SyncRun
	Resume  sqldb.Resume
	Err     error
}

type delayKey struct{}

// spacer holds calls of one sync request at least delay apart.
type spacer struct {
	delay time.Duration
	mu    sync.Mutex
	next  time.Time
}

func (s *spacer) wait(ctx context.Context) error {
	s.mu.Lock()
	now := time.Now()
	at := s.next
	if at.Before(now) {
		at = now
	}
	s.next = at.Add(s.delay)
	s.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// WithRequestDelay returns a context under which every eMAG read a Source
// wrapped by SpaceRequests makes is at least d after the previous one of the
// same context (the API's delay_between_requests). The account's rate
// limiter still applies on top. d <= 0 returns ctx unchanged.
func WithRequestDelay(ctx context.Context, d time.Duration) context.Context {
	if d <= 0 {
		return ctx
	}
	return context.WithValue(ctx, delayKey{}, &spacer{delay: d})
}

// SpaceRequests wraps src so that its reads honour WithRequestDelay.
func SpaceRequests(src Source) Source { return spacedSource{src} }

type spacedSource struct{ Source }

func spaceOf(ctx context.Context) error {
	if s, ok := ctx.Value(delayKey{}).(*spacer); ok {
		return s.wait(ctx)
	}
	return nil
}

func (s spacedSource) ReadProductOffers(ctx context.Context, f emag.ProductOfferFilter) ([]emag.ProductOffer, error) {
	if err := spaceOf(ctx); err != nil {
		return nil, err
	}
	return s.Source.ReadProductOffers(ctx, f)
}

func (s spacedSource) CountProductOffers(ctx context.Context, f emag.ProductOfferFilter) (emag.Count, error) {
	if err := spaceOf(ctx); err != nil {
		return emag.Count{}, err
	}
	return s.Source.CountProductOffers(ctx, f)
}

func (s spacedSource) ReadOrders(ctx context.Context, f emag.OrderFilter) ([]emag.Order, error) {
	if err := spaceOf(ctx); err != nil {
		return nil, err
	}
	return s.Source.ReadOrders(ctx, f)
}
