package ratelimit

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/magflow/magflow"
)

func TestDefaultLimits(t *testing.T) {
	t.Parallel()
	want := Limits{
		Orders: {{12, time.Second}, {720, time.Minute}},
		Other:  {{3, time.Second}, {180, time.Minute}},
		EAN:    {{5, time.Second}, {200, time.Minute}, {5000, 24 * time.Hour}},
	}
	if diff := cmp.Diff(want, DefaultLimits()); diff != "" {
		t.Errorf("DefaultLimits() mismatch (-want +got):\n%s", diff)
	}
	if err := DefaultLimits().Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}

func TestFromRPS(t *testing.T) {
	t.Parallel()
	ean := DefaultLimits()[EAN]
	tests := []struct {
		name          string
		orders, other float64
		want          Limits
	}{
		{"defaults", 0, 0, DefaultLimits()},
		{"published", 12, 3, DefaultLimits()},
		{"slower", 6, 1, Limits{
			Orders: {{6, time.Second}, {360, time.Minute}},
			Other:  {{1, time.Second}, {60, time.Minute}},
			EAN:    ean,
		}},
		{"above published is capped per minute", 50, 10, Limits{
			Orders: {{50, time.Second}, {magflow.OrdersPerMinute, time.Minute}},
			Other:  {{10, time.Second}, {magflow.OtherPerMinute, time.Minute}},
			EAN:    ean,
		}},
		{"negative means default", -1, -5, DefaultLimits()},
		{"fractional", 2.5, 0.5, Limits{
			Orders: {{3, time.Second}, {5, 2 * time.Second}, {150, time.Minute}},
			Other:  {{1, time.Second}, {1, 2 * time.Second}, {30, time.Minute}},
			EAN:    ean,
		}},
		{"fractional without a short whole multiple", 2.9999, 0.01, Limits{
			Orders: {{3, time.Second}, {179, time.Minute}},
			Other:  {{1, time.Second}, {1, 100 * time.Second}, {1, time.Minute}},
			EAN:    ean,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, FromRPS(tt.orders, tt.other)); diff != "" {
				t.Errorf("FromRPS(%g, %g) mismatch (-want +got):\n%s", tt.orders, tt.other, diff)
			}
		})
	}
}

func TestLimitsScaleAndClone(t *testing.T) {
	t.Parallel()
	base := DefaultLimits()
	scaled := base.Scale(60)
	want := Limits{
		Orders: {{12, time.Second / 60}, {720, time.Second}},
		Other:  {{3, time.Second / 60}, {180, time.Second}},
		EAN:    {{5, time.Second / 60}, {200, time.Second}, {5000, 24 * time.Minute}},
	}
	if diff := cmp.Diff(want, scaled); diff != "" {
		t.Errorf("Scale(60) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(DefaultLimits(), base); diff != "" {
		t.Errorf("Scale modified its receiver (-want +got):\n%s", diff)
	}
}

func TestLimitsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		l    Limits
		ok   bool
	}{
		{"default", DefaultLimits(), true},
		{"empty map", Limits{}, true},
		{"no window", Limits{Other: nil}, false},
		{"zero count", Limits{Other: {{0, time.Second}}}, false},
		{"zero period", Limits{Other: {{3, 0}}}, false},
		{"negative period", Limits{Orders: {{3, time.Second}, {1, -time.Second}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.l.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && magflow.ErrorCode(err) != magflow.EInvalid {
				t.Errorf("ErrorCode = %q, want %q", magflow.ErrorCode(err), magflow.EInvalid)
			}
			if _, nerr := NewLocal(Options{Limits: tt.l}); (nerr == nil) != tt.ok {
				t.Errorf("NewLocal error = %v, want ok=%v", nerr, tt.ok)
			}
		})
	}
}
