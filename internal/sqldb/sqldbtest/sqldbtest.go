// Package sqldbtest opens fresh, migrated MagFlow databases for tests, on
// SQLite always and on PostgreSQL when MAGFLOW_TEST_POSTGRES_URL is set, so
// that every store test (and the engine's and API's) runs on both engines.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/magflow/magflow/internal/sqldb"
)

// EnvPostgresURL names the variable holding an admin URL of a PostgreSQL
// database the tests may create schemas in.
const EnvPostgresURL = "MAGFLOW_TEST_POSTGRES_URL"

// EnvRequirePostgres, when "1" (CI sets it), turns every PostgreSQL skip
// into a failure, so a CI run cannot pass without PostgreSQL.
const EnvRequirePostgres = "MAGFLOW_REQUIRE_POSTGRES"

// SkipPostgres skips t with SkipMessage, or fails it when
// MAGFLOW_REQUIRE_POSTGRES=1. Every PostgreSQL test skips through it.
func SkipPostgres(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvRequirePostgres) == "1" {
		t.Fatalf("PostgreSQL tests are required (%s=1) but %s is not set", EnvRequirePostgres, EnvPostgresURL)
	}
	t.Skip(SkipMessage)
}

// SkipMessage is why PostgreSQL tests are skipped when EnvPostgresURL is unset.
const SkipMessage = "set " + EnvPostgresURL + "=postgres://user:password@127.0.0.1:5432/dbname?sslmode=disable to run PostgreSQL tests"

// Engines are the engine names Run uses as subtest names.
var Engines = []sqldb.Dialect{sqldb.SQLite, sqldb.Postgres}

// Run runs fn as a parallel subtest per engine ("sqlite", "postgres"), each
// with its own fresh, migrated database, closed when the subtest ends.
// The PostgreSQL subtest is skipped (with SkipMessage) when
// MAGFLOW_TEST_POSTGRES_URL is unset.
func Run(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	for _, d := range Engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh, migrated database of dialect d for t, closed by
// t.Cleanup. It skips t for PostgreSQL when MAGFLOW_TEST_POSTGRES_URL is
// unset.
func Open(t testing.TB, d sqldb.Dialect) *sqldb.DB {
	t.Helper()
	db := OpenUnmigrated(t, d)
	if err := db.Migrate(context.Background(), "up"); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// OpenUnmigrated is Open without the migrations.
func OpenUnmigrated(t testing.TB, d sqldb.Dialect) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), URL(t, d), nil)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// URL returns the DATABASE_URL of a fresh, empty database of dialect d: a
// file in t.TempDir() for SQLite; for PostgreSQL a URL whose search_path is a
// new schema, dropped when t ends. Subprocess tests pass it on.
func URL(t testing.TB, d sqldb.Dialect) string {
	t.Helper()
	switch d {
	case sqldb.SQLite:
		return filepath.Join(t.TempDir(), "magflow.db")
	case sqldb.Postgres:
		return postgresSchema(t)
	}
	t.Fatalf("unknown dialect %q", d)
	return ""
}

var trgmOnce sync.Once

func postgresSchema(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvPostgresURL)
	if admin == "" {
		SkipPostgres(t)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s is not a URL", EnvPostgresURL)
	}
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("open %s: %v", EnvPostgresURL, err)
	}
	defer adb.Close()
	ctx := context.Background()
	// pg_trgm lives in public, once per database, so that schemas made and
	// dropped in parallel all find its operator classes.
	trgmOnce.Do(func() { _, _ = adb.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public") })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "magflow_test_" + hex.EncodeToString(b)
	if _, err := adb.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema (is %s reachable?): %v", EnvPostgresURL, err)
	}
	t.Cleanup(func() {
		c, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

// RunningID returns the running run's id carried by a StartRun conflict.
func RunningID(err error) (int64, bool) { return sqldb.RunningRunID(err) }
