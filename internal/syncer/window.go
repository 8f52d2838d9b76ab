package syncer

import "time"

// MaxOrderWindow is the widest modifiedAfter..modifiedBefore window eMAG
// accepts ("max 1 month apart"); 30 days stays inside every month length.
const MaxOrderWindow = 30 * 24 * time.Hour

// OrderOverlap is how far each order window reaches back before the cursor,
// so an order modified while the previous window was being read is not
// missed. Re-reading it is harmless: unchanged orders are not rewritten.
const OrderOverlap = 5 * time.Minute

// Window is one modifiedAfter..modifiedBefore range of an incremental order
// sync.
type Window struct {
	After, Before time.Time
}

// OrderWindows splits [cursor-overlap, now] into windows of at most width,
// oldest first. The last window ends at now. A zero cursor means a first run:
// it starts at now-backfill.
func OrderWindows(cursor, now time.Time, backfill, width time.Duration) []Window {
	if width <= 0 || width > MaxOrderWindow {
		width = MaxOrderWindow
	}
	start := cursor.Add(-OrderOverlap)
	if cursor.IsZero() {
		start = now.Add(-backfill)
	}
	now = now.Truncate(time.Second)
	start = start.Truncate(time.Second)
	var ws []Window
	for start.Before(now) {
		end := start.Add(width)
		if end.After(now) {
			end = now
		}
		ws = append(ws, Window{After: start, Before: end})
		start = end
	}
	if len(ws) == 0 {
		ws = append(ws, Window{After: now.Add(-OrderOverlap), Before: now})
	}
	return ws
}
