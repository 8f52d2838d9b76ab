package sqldb

import (
	"testing"
)

// TestConvertTime: migration 00017's conversion moves every text with a
// zone to UTC in SQLite's format, leaves zone-less text and non-text as
// they are, and its down conversion is the inverse for UTC text.
func TestConvertTime(t *testing.T) {
	t.Parallel()
	up := func(v any) any { return convertTime(v, zonedLayouts, sqliteTimeLayout) }
	for in, want := range map[any]any{
		"2026-11-29 10:12:23.525665 +0000 UTC":   "2026-11-29 10:12:23.525665+00:00",
		"2026-11-29 10:12:23 +0000 UTC m=+0.001": "2026-11-29 10:12:23+00:00",
		"2026-11-29 12:12:23.5 +0200 EET":        "2026-11-29 10:12:23.5+00:00",
		"2026-11-29 12:00:00.5+02:00":            "2026-11-29 10:00:00.5+00:00",
		"2026-11-29T12:00:00+02:00":              "2026-11-29 10:00:00+00:00",
		"2026-11-29T10:00:00Z":                   "2026-11-29 10:00:00+00:00",
		"2026-11-29 10:12:23.525665+00:00":       "2026-11-29 10:12:23.525665+00:00",
		"2026-11-29 10:12:23":                    "2026-11-29 10:12:23",
		"not a time":                             "not a time",
		int64(1764411143):                        int64(1764411143),
	} {
		if got := up(in); got != want {
			t.Errorf("up(%v) = %v, want %v", in, got, want)
		}
	}
	if got := convertTime("2026-11-29 10:12:23.525665+00:00", []string{sqliteTimeLayout}, goTimeLayout); got != "2026-11-29 10:12:23.525665 +0000 UTC" {
		t.Errorf("down = %v", got)
	}
	if got := up(nil); got != nil {
		t.Errorf("up(nil) = %v", got)
	}
}
