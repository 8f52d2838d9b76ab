package cli

import (
	"testing"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/syncer"
)

// TestDescribeProgress: the plain progress line names the page of the total
// when there is one (products), and only the page when there is none
// (orders); retries and 429s show once there are any.
func TestDescribeProgress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		p    syncer.Progress
		want string
	}{
		{syncer.Progress{Status: magflow.RunRunning, Counters: magflow.RunCounters{Page: 14, TotalPages: 50, Items: 1400}, Rate: 271.4, ETA: 13200 * time.Millisecond},
			"page 14/50  1400 items  271/s  eta 13s"},
		{syncer.Progress{Status: magflow.RunRunning, Counters: magflow.RunCounters{Page: 1, Items: 27}, Rate: 3309},
			"page 1  27 items  3309/s"},
		{syncer.Progress{Status: magflow.RunCompleted, Counters: magflow.RunCounters{Page: 3, TotalPages: 3, Items: 300, Retries: 2, Throttled: 1}, Rate: 50},
			"page 3/3  300 items  50/s  retries 2  429s 1  completed"},
	} {
		if got := describe(tc.p); got != tc.want {
			t.Errorf("describe = %q, want %q", got, tc.want)
		}
	}
}
