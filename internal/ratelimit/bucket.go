// Package ratelimit paces requests to eMAG so that one account never exceeds
// a bucket's published limits, under any schedule of concurrent callers.
//
// It knows nothing of HTTP or storage: the eMAG client asks a Waiter for
// permission before every attempt.
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
// ends (then it returns ctx's error and consumes nothing).
type Waiter interface {
	Wait(ctx context.Context, b Bucket) error
}
