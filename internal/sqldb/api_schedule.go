package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/magflow/magflow"
)

// ScheduleKey is the settings key under which the scheduled sync
// configuration (POST /api/v1/emag/enhanced/sync/scheduled) is stored.
const ScheduleKey = "sync.schedule"

// Schedule is the scheduled sync configuration: whether periodic syncs run,
// how often, and which streams. The scheduler reads it; the API writes it.
type Schedule struct {
	Enabled bool `json:"enabled"`
	// IntervalMinutes is the period of catalogue (products, offers) syncs.
	IntervalMinutes int `json:"interval_minutes"`
	// OrdersIntervalMinutes is the period of order syncs.
	OrdersIntervalMinutes int              `json:"orders_interval_minutes"`
	Streams               []magflow.Stream `json:"streams"`
	UpdatedAt             time.Time        `json:"updated_at"`
	UpdatedBy             string           `json:"updated_by"`
}

// Validate checks s: intervals between 1 minute and 7 days, known streams,
// no duplicates.
func (s Schedule) Validate() error {
	const maxMinutes = 7 * 24 * 60
	if s.IntervalMinutes < 1 || s.IntervalMinutes > maxMinutes {
		return &magflow.Error{Code: magflow.EInvalid, Field: "interval_minutes",
			Message: fmt.Sprintf("interval %d is out of range: use 1 to %d minutes", s.IntervalMinutes, maxMinutes)}
	}
	if s.OrdersIntervalMinutes < 1 || s.OrdersIntervalMinutes > maxMinutes {
		return &magflow.Error{Code: magflow.EInvalid, Field: "orders_interval_minutes",
			Message: fmt.Sprintf("orders interval %d is out of range: use 1 to %d minutes", s.OrdersIntervalMinutes, maxMinutes)}
	}
	for i, st := range s.Streams {
		if _, err := magflow.ParseStream(string(st)); err != nil {
			return &magflow.Error{Code: magflow.EInvalid, Field: "streams", Message: fmt.Sprintf("unknown stream %q: use products, offers or orders", st)}
		}
		if slices.Contains(s.Streams[:i], st) {
			return &magflow.Error{Code: magflow.EInvalid, Field: "streams", Message: fmt.Sprintf("stream %q is listed twice", st)}
		}
	}
	return nil
}

// GetSchedule returns the stored schedule; ENotFound when none was saved
// (the configuration's EMAG_ENABLE_SCHEDULED_SYNC and intervals apply).
func (db *DB) GetSchedule(ctx context.Context) (Schedule, error) {
	v, err := db.GetSetting(ctx, ScheduleKey)
	if err != nil {
		return Schedule{}, err
	}
	var s Schedule
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return Schedule{}, fmt.Errorf("decode the stored schedule: %w", err)
	}
	return s, nil
}

// PutSchedule validates and stores s, stamping UpdatedAt.
func (db *DB) PutSchedule(ctx context.Context, s Schedule) (Schedule, error) {
	if err := s.Validate(); err != nil {
		return Schedule{}, err
	}
	s.UpdatedAt = db.now()
	b, err := json.Marshal(s)
	if err != nil {
		return Schedule{}, fmt.Errorf("encode schedule: %w", err)
	}
	if err := db.PutSetting(ctx, ScheduleKey, string(b)); err != nil {
		return Schedule{}, err
	}
	return s, nil
}
