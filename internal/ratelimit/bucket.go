// Package ratelimit paces requests to eMAG so that one account never exceeds
// a bucket's published limits, under any schedule of concurrent callers.
//
// It knows nothing of HTTP or storage: the eMAG client asks a Waiter for
// permission before every attempt (retries included, since eMAG counts
// invalid and throttled requests too).
//
// What lives here:
//   - Window and Limits: a bucket obeys one or more sliding windows (3/1s and
//     180/1m); DefaultLimits are eMAG's published ones, FromRPS builds them
//     from an account's configured rates, Scale speeds them up for a sandbox.
//   - Local: the exact in-process limiter of one account (a sliding-window log
//     per window, a safety Margin on every window, optional MinSpacing and
//     Jitter, FIFO order, High priority for writes, an OnWait hook for
//     metrics). One timer per limiter, no goroutine per waiter.
//   - Accounts: one Waiter per account name.
//   - Shared and Store: one budget per account shared by several processes
//     (a Local in front, a ledger behind); MemStore is the in-memory ledger,
//     the PostgreSQL one belongs to the storage layer.
//
// Callers that must not wait behind a catalogue scan (stock and price writes,
// order acknowledgements) mark their context with WithPriority(ctx, High).
package ratelimit

import "context"

// Bucket is one of eMAG's rate-limit scopes within an account.
type Bucket string

// The buckets eMAG counts separately, per account.
const (
	// Orders covers the order routes: 12 requests per second, 720 per minute.
	Orders Bucket = "orders"
	// Other covers every other route, cumulatively: 3 per second, 180 per minute.
	Other Bucket = "other"
	// EAN covers documentation/find_by_eans: 5 per second, 200 per minute, 5000 per day.
	EAN Bucket = "ean"
)

// Waiter grants permission to send one request in a bucket. Wait blocks until
// the request may be sent without exceeding the bucket's limits, or until ctx
// ends (then it returns an error wrapping ctx's error and consumes nothing).
// The caller's priority travels in ctx (see WithPriority). Local, Shared and
// the values of Accounts implement it; a Wait on a bucket without limits is
// an error.
type Waiter interface {
	Wait(ctx context.Context, b Bucket) error
}
