package sqldb

import (
	"database/sql/driver"
	"strings"
	"time"

	"modernc.org/sqlite"
)

// SQLite keeps times as text in SQLite's own format, in UTC
// ("2026-11-29 10:12:23.525665+00:00"), the one its date and time functions
// read: an ERP may write date(modified) or datetime(last_seen_at, 'localtime').
// Every connection sets the driver's _time_format to it (sqliteModes), so a
// bound time.Time is written so; DATABASE_URL may not change it, nor the
// zone (_timezone) or integer times (_time_integer_format), since the store
// compares and sorts times as text. Migration 00017 converted the text the
// driver wrote before (time.Time.String: "... +0000 UTC", which those
// functions read as NULL).
const sqliteTimeLayout = "2006-01-02 15:04:05.999999999-07:00"

// goTimeLayout is time.Time.String's layout (without its monotonic clock
// reading): how the driver wrote times before migration 00017.
const goTimeLayout = "2006-01-02 15:04:05.999999999 -0700 MST"

// convertTime rewrites the text of a time written in one of the layouts
// from as layout to, in UTC; text in any other form (without a zone, whose
// instant cannot be known) is returned as it is.
func convertTime(v driver.Value, from []string, to string) driver.Value {
	s, ok := v.(string)
	if !ok {
		return v
	}
	if i := strings.Index(s, " m="); i > 0 {
		s = s[:i]
	}
	for _, layout := range from {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(to)
		}
	}
	return v
}

// zonedLayouts are the texts with a zone the driver may have written
// before migration 00017: its default, and SQLite's own format with any
// offset (a DATABASE_URL could ask for it with another _timezone).
var zonedLayouts = []string{goTimeLayout, sqliteTimeLayout, "2006-01-02T15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999Z07:00"}

func init() {
	// magflow_sqlite_time and magflow_go_time convert stored times for
	// migration 00017 (up and down).
	sqlite.MustRegisterDeterministicScalarFunction("magflow_sqlite_time", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		return convertTime(args[0], zonedLayouts, sqliteTimeLayout), nil
	})
	sqlite.MustRegisterDeterministicScalarFunction("magflow_go_time", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		return convertTime(args[0], []string{sqliteTimeLayout}, goTimeLayout), nil
	})
}
