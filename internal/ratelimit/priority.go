package ratelimit

import "context"

// Priority orders the callers waiting in one bucket.
type Priority int

const (
	// Normal is the default: bulk reads, catalogue scans.
	Normal Priority = iota
	// High callers (stock and price writes, order acknowledgements) are
	// granted before every Normal caller waiting in the same bucket, so a
	// catalogue scan never holds a write back by more than the bucket's
	// own pacing.
	High
)

// String names p.
func (p Priority) String() string {
	if p == High {
		return "high"
	}
	return "normal"
}

type priorityKey struct{}

// WithPriority returns a context whose Waits run at priority p.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityFrom returns the priority set on ctx by WithPriority, Normal if none.
func PriorityFrom(ctx context.Context) Priority {
	if p, ok := ctx.Value(priorityKey{}).(Priority); ok && p == High {
		return High
	}
	return Normal
}
