package app

import (
	"testing"
	"time"

	"github.com/magflow/magflow/internal/config"
)

// TestPagesPerSecond: the page rate an account's ETA counts with is its
// other bucket's slowest window, scaled as its limiter is, and no faster
// than its minimum spacing allows.
func TestPagesPerSecond(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ac    config.Account
		scale float64
		want  float64
	}{
		{config.Account{OtherRPS: 3}, 0, 3},
		{config.Account{OtherRPS: 3}, 1, 3},
		{config.Account{OtherRPS: 3}, 10, 30},
		{config.Account{OtherRPS: 10}, 0, 3}, // 10 a second, but eMAG's 180 a minute
		{config.Account{OtherRPS: 0.5}, 0, 0.5},
		{config.Account{OtherRPS: 3, Delay: time.Second}, 0, 1},
		{config.Account{OtherRPS: 2, Delay: 100 * time.Millisecond}, 0, 2},
	} {
		if got := pagesPerSecond(tc.ac, tc.scale); got != tc.want {
			t.Errorf("pagesPerSecond(%g rps, delay %v, scale %g) = %g, want %g", tc.ac.OtherRPS, tc.ac.Delay, tc.scale, got, tc.want)
		}
	}
}
