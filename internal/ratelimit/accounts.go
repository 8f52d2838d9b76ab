package ratelimit

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/magflow/magflow"
)

// Accounts holds one Waiter per eMAG account, keyed by the account's name:
// eMAG counts each account's requests separately.
type Accounts struct {
	m map[string]Waiter
}

// NewAccounts returns an in-process Local limiter for each account in opts,
// e.g. {"main": {Limits: FromRPS(a.OrdersRPS, a.OtherRPS), MinSpacing: a.Delay}}.
func NewAccounts(opts map[string]Options) (*Accounts, error) {
	a := &Accounts{m: make(map[string]Waiter, len(opts))}
	for _, name := range slices.Sorted(maps.Keys(opts)) {
		l, err := NewLocal(opts[name])
		if err != nil {
			return nil, fmt.Errorf("account %s: %w", name, err)
		}
		a.m[name] = l
	}
	return a, nil
}

// NewSharedAccounts returns a Shared limiter for each account in opts, all
// drawing on store.
func NewSharedAccounts(store Store, opts map[string]Options) (*Accounts, error) {
	a := &Accounts{m: make(map[string]Waiter, len(opts))}
	for _, name := range slices.Sorted(maps.Keys(opts)) {
		s, err := NewShared(name, store, opts[name])
		if err != nil {
			return nil, err
		}
		a.m[name] = s
	}
	return a, nil
}

// For returns the account's Waiter, or false if the account is unknown.
func (a *Accounts) For(account string) (Waiter, bool) {
	w, ok := a.m[account]
	return w, ok
}

// Names returns the accounts' names, sorted.
func (a *Accounts) Names() []string { return slices.Sorted(maps.Keys(a.m)) }

// Wait waits on the account's limiter; an unknown account is an error.
func (a *Accounts) Wait(ctx context.Context, account string, b Bucket) error {
	w, ok := a.m[account]
	if !ok {
		return magflow.Errorf(magflow.ENotFound, "wait for rate limit: unknown account %q", account)
	}
	return w.Wait(ctx, b)
}
