package jobs_test

import (
	"testing"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/app"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/jobs"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

// TestReconcileJob: the reconciliation stores the new orders a lost
// callback left out (with their acknowledgement queued) and, as other
// statuses still differ, enqueues an orders sync of the account.
func TestReconcileJob(t *testing.T) {
	t.Parallel()
	for _, d := range sqldbtest.Engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			sb, err := sandbox.Start(t.Context(), sandbox.Options{Seed: 7, NoRateLimit: true, Accounts: []sandbox.AccountOptions{
				{Name: "main", Products: 10, Orders: 400}}})
			if err != nil {
				t.Fatal(err)
			}
			defer sb.Close()
			a := newApp(t, d, sb)
			svc, err := app.NewJobs(a, app.JobsOptions{Options: jobs.Options{NoSchedule: true}})
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if err := svc.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := svc.Reconcile(ctx); err != nil {
				t.Fatal(err)
			}
			acks, err := a.DB.OutboxSummary(ctx, sqldb.OutboxFilter{Account: "main", Kind: sqldb.OutboxAck})
			if err != nil || acks[sqldb.OutboxPending] == 0 {
				t.Fatalf("acknowledgements queued: %v, %v", acks, err)
			}
			if inserted, err := svc.EnqueueSync(ctx, "main", magflow.StreamOrders, "test"); err != nil || inserted {
				t.Fatalf("an orders sync should be queued already: inserted=%v, %v", inserted, err)
			}
		})
	}
}
