package httpapi_test

import (
	"testing"

	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

func openDB(t testing.TB, d sqldb.Dialect) *sqldb.DB { return sqldbtest.Open(t, d) }

// engines runs fn per database engine as parallel subtests.
func engines(t *testing.T, fn func(t *testing.T, d sqldb.Dialect)) {
	for _, d := range sqldbtest.Engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}
