package magflow

import (
	"fmt"
	"time"
)

// Stream is one kind of data a sync run copies. Products and offers come from
// one product_offer/read scan.
type Stream string

// Streams.
const (
	StreamProducts Stream = "products"
	StreamOffers   Stream = "offers"
	StreamOrders   Stream = "orders"
)

// ParseStream validates s.
func ParseStream(s string) (Stream, error) {
	switch Stream(s) {
	case StreamProducts, StreamOffers, StreamOrders:
		return Stream(s), nil
	}
	return "", &Error{Code: EInvalid, Field: "stream", Message: fmt.Sprintf("unknown stream %q: use products, offers or orders", s)}
}

// RunStatus is where a sync run stands.
type RunStatus string

// Run statuses. Only completed means every page arrived; partial means some
// pages are recorded as holes that the next run fetches first.
const (
	RunPending   RunStatus = "pending"
	RunRunning   RunStatus = "running"
	RunCompleted RunStatus = "completed"
	RunPartial   RunStatus = "partial"
	RunFailed    RunStatus = "failed"
	RunCancelled RunStatus = "cancelled"
)

// Finished reports whether the status is terminal.
func (s RunStatus) Finished() bool {
	switch s {
	case RunCompleted, RunPartial, RunFailed, RunCancelled:
		return true
	}
	return false
}

// SyncRun is one run of one stream for one account.
type SyncRun struct {
	ID         int64
	Account    string
	Stream     Stream
	Status     RunStatus
	Trigger    string // cli, api, schedule
	StartedAt  time.Time
	FinishedAt *time.Time
	Capped     bool // stopped by max pages, so not a complete scan
	Counters   RunCounters
	Reason     string // why it stopped, when not completed
}

// RunCounters are the figures a run reports, live and at the end.
type RunCounters struct {
	Page       int `json:"page"`        // pages done
	TotalPages int `json:"total_pages"` // from count; 0 when unknown
	Items      int `json:"items"`
	Inserted   int `json:"inserted"`
	Updated    int `json:"updated"`
	Unchanged  int `json:"unchanged"`
	Gone       int `json:"gone"`
	Duplicates int `json:"duplicates"`
	Requests   int `json:"requests"`
	Retries    int `json:"retries"`
	Throttled  int `json:"throttled"` // 429 answers
	Holes      int `json:"holes"`     // pages that failed after retries
}

// Hole is a page that failed after every retry; the next run fetches it first.
type Hole struct {
	Account string
	Stream  Stream
	Page    int
	RunID   int64
	Error   string
	Tries   int
}
