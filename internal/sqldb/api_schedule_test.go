package sqldb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

func TestSchedule(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		if _, err := db.GetSchedule(ctx); magflow.ErrorCode(err) != magflow.ENotFound {
			t.Fatalf("GetSchedule on an empty database = %v, want ENotFound", err)
		}
		in := sqldb.Schedule{Enabled: true, IntervalMinutes: 30, OrdersIntervalMinutes: 5,
			Streams: []magflow.Stream{magflow.StreamProducts, magflow.StreamOrders}, UpdatedBy: "ana"}
		saved, err := db.PutSchedule(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.GetSchedule(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(saved, got); diff != "" || got.UpdatedAt.IsZero() {
			t.Fatalf("schedule round trip (-saved +got):\n%s", diff)
		}
		for name, bad := range map[string]sqldb.Schedule{
			"interval_minutes":        {IntervalMinutes: 0, OrdersIntervalMinutes: 5},
			"orders_interval_minutes": {IntervalMinutes: 60, OrdersIntervalMinutes: 7*24*60 + 1},
			"streams":                 {IntervalMinutes: 60, OrdersIntervalMinutes: 5, Streams: []magflow.Stream{"prices"}},
		} {
			_, err := db.PutSchedule(ctx, bad)
			var me *magflow.Error
			if magflow.ErrorCode(err) != magflow.EInvalid || !errors.As(err, &me) || me.Field != name {
				t.Errorf("PutSchedule(bad %s) = %v", name, err)
			}
		}
	})
}
