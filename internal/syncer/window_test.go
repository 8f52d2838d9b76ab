package syncer

import (
	"testing"
	"time"
)

func TestOrderWindows(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 29, 12, 4, 42, 0, time.UTC)
	t.Run("first run backfills in windows of at most a month", func(t *testing.T) {
		ws := OrderWindows(time.Time{}, now, 90*24*time.Hour, 0)
		if len(ws) != 3 {
			t.Fatalf("got %d windows, want 3: %v", len(ws), ws)
		}
		if !ws[0].After.Equal(now.Add(-90*24*time.Hour)) || !ws[len(ws)-1].Before.Equal(now) {
			t.Errorf("windows do not span the backfill: %v", ws)
		}
		for i, w := range ws {
			if w.Before.Sub(w.After) > MaxOrderWindow {
				t.Errorf("window %d is %v wide", i, w.Before.Sub(w.After))
			}
			if i > 0 && !w.After.Equal(ws[i-1].Before) {
				t.Errorf("gap between windows %d and %d", i-1, i)
			}
		}
	})
	t.Run("later runs overlap the cursor", func(t *testing.T) {
		cursor := now.Add(-time.Hour)
		ws := OrderWindows(cursor, now, 90*24*time.Hour, 0)
		if len(ws) != 1 || !ws[0].After.Equal(cursor.Add(-OrderOverlap)) || !ws[0].Before.Equal(now) {
			t.Errorf("windows = %v", ws)
		}
	})
	t.Run("cursor at now still reads the overlap", func(t *testing.T) {
		ws := OrderWindows(now.Add(OrderOverlap), now, time.Hour, 0)
		if len(ws) != 1 || ws[0].Before != now {
			t.Errorf("windows = %v", ws)
		}
	})
}
