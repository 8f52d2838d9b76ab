package sqldb

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/magflow/magflow"
)

// Dialect names the database engine behind a DB.
type Dialect string

// The supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DefaultSQLitePath is the file used when DATABASE_URL is empty.
const DefaultSQLitePath = "magflow.db"

// DefaultLease is how long a running run's heartbeat keeps it owned; a run
// whose heartbeat is older is taken to be dead and may be taken over.
const DefaultLease = 2 * time.Minute

//go:embed migrations
var migrations embed.FS

// DB is a MagFlow database: SQLite or PostgreSQL. It is safe for concurrent
// use.
type DB struct {
	dialect Dialect
	write   *sql.DB // SQLite: one connection; PostgreSQL: the pool
	read    *sql.DB // SQLite: read-only pool; PostgreSQL: same as write
	logger  *slog.Logger
	where   string // the redacted URL, for messages

	// Now returns the current time. Tests may replace it before first use.
	Now func() time.Time
	// Lease is how long a heartbeat keeps a running run owned (DefaultLease).
	Lease time.Duration

	// owner names this process on the runs it starts (see processOwner).
	owner string

	// Prepared statements of the writer connection and the read pool
	// (SQLite only; see stmtCache).
	wstmts, rstmts stmtCache

	// stopCheckpoints ends the SQLite WAL checkpointer (see checkpoints).
	stopCheckpoints func()

	// lists admits list requests, first come first served, as many at a
	// time as the read pool has connections (see admit).
	lists chan struct{}

	// driveMax overrides searchDriveMax when positive (tests).
	driveMax int
}

// Open opens the database that rawURL names: "" (DefaultSQLitePath), a file
// path, "sqlite:PATH" or "file:PATH?..." for SQLite; "postgres://" or
// "postgresql://" for PostgreSQL. It checks that the database answers but does
// not migrate it (see Migrate).
func Open(ctx context.Context, rawURL string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rawURL = strings.TrimSpace(rawURL)
	db := &DB{logger: logger, Lease: DefaultLease, owner: processOwner()}
	lower := strings.ToLower(rawURL)
	var err error
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		err = db.openPostgres(ctx, rawURL)
	case strings.Contains(rawURL, "://") && !strings.HasPrefix(lower, "sqlite://") && !strings.HasPrefix(lower, "file:"):
		scheme, _, _ := strings.Cut(rawURL, "://")
		return nil, &magflow.Error{Code: magflow.EInvalid, Field: "DATABASE_URL",
			Message: fmt.Sprintf("unsupported database scheme %q: use postgres://user:password@host:5432/dbname, or a SQLite file path (or leave DATABASE_URL unset for %s)", scheme, DefaultSQLitePath)}
	default:
		err = db.openSQLite(ctx, rawURL)
	}
	if err != nil {
		return nil, err
	}
	db.logger.Debug("database opened", "dialect", db.dialect, "url", db.where)
	return db, nil
}

// sqlitePragmas are applied to every SQLite connection. The driver runs
// the _pragma list sorted by name, so the journal mode and synchronous
// level go through its own keys (sqliteModes), which it applies after the
// list: a journal_mode(WAL) in the list runs before page_size, and a new
// database's page size is then fixed at the default whatever the list says
// (an earlier page_size(16384) here never took effect).
//
// The page size is SQLite's default, 4096, on purpose: every page a
// transaction touches goes to the WAL whole, and a page of 100 products
// inserts its part numbers at random places of three indexes. With 16 KB
// pages a 2 x 20,000-product sync wrote 7.0 GB (842,000 write calls)
// against 0.8 GB (334,000) with 4 KB pages (BenchmarkStoreWrites in
// internal/syncer), and was no faster.
var sqlitePragmas = []string{"page_size(4096)", "busy_timeout(5000)", "foreign_keys(1)"}

// sqliteModes are the driver's own keys for every SQLite connection (see
// sqlitePragmas).
var sqliteModes = []string{"_journal_mode=WAL", "_synchronous=NORMAL", "_time_format=sqlite"}

func (db *DB) openSQLite(ctx context.Context, rawURL string) error {
	db.dialect = SQLite
	path, query, _ := strings.Cut(rawURL, "?")
	switch {
	case strings.HasPrefix(strings.ToLower(path), "sqlite://"):
		path = path[len("sqlite://"):]
	case strings.HasPrefix(strings.ToLower(path), "sqlite:"):
		path = path[len("sqlite:"):]
	case strings.HasPrefix(strings.ToLower(path), "file:"):
		path = path[len("file:"):]
	}
	if path == "" {
		path = DefaultSQLitePath
	}
	db.where = "sqlite:" + path
	params, err := url.ParseQuery(query)
	if err != nil {
		return &magflow.Error{Code: magflow.EInvalid, Field: "DATABASE_URL",
			Message: fmt.Sprintf("malformed SQLite options in %q: %v; use a plain file path such as %s", db.where, err, DefaultSQLitePath)}
	}
	for _, k := range []string{"_time_integer_format", "_timezone"} {
		if params.Has(k) {
			return &magflow.Error{Code: magflow.EInvalid, Field: "DATABASE_URL",
				Message: fmt.Sprintf("the SQLite option %s in %q is not supported: MagFlow keeps times as UTC text in SQLite's own format; remove it", k, db.where)}
		}
	}
	dsn := func(extra ...string) string {
		q := url.Values{}
		for k, v := range params {
			q[k] = append([]string(nil), v...)
		}
		for _, p := range sqlitePragmas {
			q.Add("_pragma", p)
		}
		for _, m := range sqliteModes {
			k, v, _ := strings.Cut(m, "=")
			q.Set(k, v)
		}
		for _, p := range extra {
			k, v, _ := strings.Cut(p, "=")
			q.Add(k, v)
		}
		return "file:" + path + "?" + q.Encode()
	}
	// The writer does not checkpoint the WAL itself (but as a backstop past
	// 256 MB): a checkpoint fsyncs, and the writer would wait for it inside a
	// page commit. The checkpointer does it beside it instead. During a first
	// sync it seldom catches up with the writer, so the WAL does reach the
	// backstop; at 64 MB the writer's own checkpoints took about an eighth
	// of its time at 2 x 50,000 products (7,600-7,800 products/s against
	// 6,250-6,280 with 256 MB, on a quiet box). The WAL file keeps its
	// largest size on disk.
	w, err := sql.Open("sqlite", dsn("_txlock=immediate", "_pragma=wal_autocheckpoint(16384)"))
	if err != nil {
		return db.openError(err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return db.openError(err)
	}
	r, err := sql.Open("sqlite", dsn("_pragma=query_only(1)"))
	if err != nil {
		w.Close()
		return db.openError(err)
	}
	n := max(4, runtime.NumCPU()*2)
	r.SetMaxOpenConns(n)
	db.lists = make(chan struct{}, n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	db.write, db.read = w, r
	db.checkpoints(dsn())
	return nil
}

// checkpointEvery is how often the SQLite checkpointer runs.
const checkpointEvery = 250 * time.Millisecond

// checkpoints runs a passive WAL checkpoint every checkpointEvery on a
// connection of its own until Close: it copies committed pages into the
// database file and fsyncs without blocking the writer or the readers, and
// lets the WAL restart from its beginning once it has caught up.
func (db *DB) checkpoints(dsn string) {
	c, err := sql.Open("sqlite", dsn)
	if err != nil {
		db.stopCheckpoints = func() {}
		return
	}
	c.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := c.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil && ctx.Err() == nil {
					db.logger.Debug("wal checkpoint", "err", err)
				}
			}
		}
	}()
	db.stopCheckpoints = func() {
		cancel()
		<-done
		c.Close()
	}
}

func (db *DB) openPostgres(ctx context.Context, rawURL string) error {
	db.dialect = Postgres
	u, err := url.Parse(rawURL)
	if err != nil {
		db.where = "postgres://(malformed)"
		return &magflow.Error{Code: magflow.EInvalid, Field: "DATABASE_URL",
			Message: "malformed PostgreSQL URL: use postgres://user:password@host:5432/dbname?sslmode=disable (percent-encode special characters in the password)"}
	}
	db.where = Redact(rawURL)
	p, err := sql.Open("pgx", rawURL)
	if err != nil {
		return db.openError(err)
	}
	p.SetMaxOpenConns(max(8, runtime.NumCPU()*4))
	db.lists = make(chan struct{}, max(4, runtime.NumCPU()*2)) // leaves connections to the writers
	p.SetMaxIdleConns(max(8, runtime.NumCPU()*4))
	p.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.PingContext(pctx); err != nil {
		p.Close()
		pw, _ := u.User.Password()
		return db.openError(scrub(err, pw))
	}
	db.write, db.read = p, p
	return nil
}

func (db *DB) openError(err error) error {
	fix := "unset DATABASE_URL to use ./" + DefaultSQLitePath + ", or point it at a writable file path"
	what := "cannot open SQLite database"
	if db.dialect == Postgres {
		what = "cannot reach PostgreSQL"
		fix = "check that the server runs and that DATABASE_URL (postgres://user:password@host:5432/dbname?sslmode=disable) names a reachable host, a valid user and an existing database"
	}
	return &magflow.Error{Code: magflow.EUnavailable, Field: "DATABASE_URL",
		Message: fmt.Sprintf("%s at %s: %s", what, db.where, fix), Err: err}
}

// scrub hides secret inside err's text.
func scrub(err error, secret string) error {
	if secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "xxxxx"))
}

// Redact returns rawURL with any password replaced by "xxxxx", for logs.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		// Drop everything between "://" and "@" rather than risk a secret.
		if i := strings.Index(rawURL, "://"); i >= 0 {
			if j := strings.LastIndex(rawURL, "@"); j > i {
				return rawURL[:i+3] + "xxxxx" + rawURL[j:]
			}
		}
		return rawURL
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Dialect reports the engine behind db.
func (db *DB) Dialect() Dialect { return db.dialect }

// String returns the redacted location of db, safe for logs.
func (db *DB) String() string { return db.where }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return db.wrap("ping", err)
	}
	if db.read != db.write {
		if err := db.read.PingContext(ctx); err != nil {
			return db.wrap("ping", err)
		}
	}
	return nil
}

// Close closes every connection.
func (db *DB) Close() error {
	if db.stopCheckpoints != nil {
		db.stopCheckpoints()
		db.stopCheckpoints = nil
	}
	err := errors.Join(db.wstmts.close(), db.rstmts.close())
	err = errors.Join(err, db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// admit waits for a turn to run a list request and returns the function
// that ends it. Requests beyond the pool's size would otherwise wait inside
// database/sql, which hands a freed connection to a random waiter: under
// load some requests wait many turns (a long latency tail). A channel
// serves its waiters in order.
func (db *DB) admit(ctx context.Context) (func(), error) {
	select {
	case db.lists <- struct{}{}:
		return func() { <-db.lists }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ReadDB and WriteDB expose the underlying pools to packages that need a raw
// *sql.DB on the same database (River). On PostgreSQL both are one pool.
func (db *DB) WriteDB() *sql.DB { return db.write }

// ReadDB returns the read pool (SQLite: read-only connections).
func (db *DB) ReadDB() *sql.DB { return db.read }

func (db *DB) now() time.Time {
	if db.Now != nil {
		return db.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (db *DB) lease() time.Duration {
	if db.Lease > 0 {
		return db.Lease
	}
	return DefaultLease
}

// MigrationState is one migration and whether it is applied.
type MigrationState struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

func (db *DB) provider(ctx context.Context) (*goose.Provider, error) {
	dir := "migrations/sqlite"
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if db.dialect == Postgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
		// One lock per schema: processes migrating the same schema wait for
		// each other; other schemas (parallel tests) do not.
		var schema string
		if err := db.write.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return nil, db.wrap("migration locker", err)
		}
		h := fnv.New64a()
		h.Write([]byte("magflow-migrate:" + schema))
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 600))
		if err != nil {
			return nil, fmt.Errorf("migration locker: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, db.write, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// Migrate applies every pending migration ("up") or rolls back the latest
// one ("down").
func (db *DB) Migrate(ctx context.Context, direction string) error {
	p, err := db.provider(ctx)
	if err != nil {
		return err
	}
	switch direction {
	case "up":
		res, err := p.Up(ctx)
		if err != nil {
			return db.wrap("migrate up", err)
		}
		for _, r := range res {
			db.logger.Info("migration applied", "version", r.Source.Version, "duration", r.Duration)
		}
	case "down":
		r, err := p.Down(ctx)
		if err != nil {
			return db.wrap("migrate down", err)
		}
		db.logger.Info("migration rolled back", "version", r.Source.Version)
	default:
		return &magflow.Error{Code: magflow.EInvalid, Field: "direction", Message: fmt.Sprintf("unknown migration direction %q: use up or down", direction)}
	}
	return nil
}

// MigrationStatus lists every known migration and whether it is applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	p, err := db.provider(ctx)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, db.wrap("migration status", err)
	}
	out := make([]MigrationState, 0, len(st))
	for _, s := range st {
		name := s.Source.Path
		if i := strings.LastIndex(name, "/"); i >= 0 {
			name = name[i+1:]
		}
		out = append(out, MigrationState{Version: s.Source.Version, Name: name, Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt})
	}
	return out, nil
}

// wrap adds context to a database error and classifies the failures that
// callers act on: a closed, read-only or unreachable database is
// EUnavailable; a uniqueness violation is EConflict.
func (db *DB) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	var me *magflow.Error
	if errors.As(err, &me) {
		return fmt.Errorf("%s: %w", what, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	msg := err.Error()
	var se *sqlite.Error
	var pe *pgconn.PgError
	switch {
	case errors.Is(err, sql.ErrConnDone) || strings.Contains(msg, "sql: database is closed"):
		return &magflow.Error{Code: magflow.EUnavailable, Message: what + ": the database is closed", Err: err}
	case errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_READONLY:
		return &magflow.Error{Code: magflow.EUnavailable, Message: what + ": the SQLite database " + db.where + " is read-only: make the file and its directory writable", Err: err}
	case errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED):
		return &magflow.Error{Code: magflow.EUnavailable, Message: what + ": the SQLite database is locked by another process", Err: err}
	case errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT:
		return &magflow.Error{Code: magflow.EConflict, Message: what + ": conflicts with an existing record", Err: err}
	case errors.As(err, &pe) && pe.Code == "25006":
		return &magflow.Error{Code: magflow.EUnavailable, Message: what + ": the PostgreSQL database is read-only", Err: err}
	case errors.As(err, &pe) && pe.Code == "23505":
		return &magflow.Error{Code: magflow.EConflict, Message: what + ": conflicts with an existing record", Err: err}
	case errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")):
		return &magflow.Error{Code: magflow.EUnavailable, Message: what + ": PostgreSQL is unavailable", Err: err}
	case strings.Contains(msg, "connection refused") || strings.Contains(msg, "failed to connect") || strings.Contains(msg, "broken pipe") || strings.Contains(msg, "unexpected EOF"):
		return &magflow.Error{Code: magflow.EUnavailable, Message: what + ": the database is unreachable", Err: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// inTx runs fn in one write transaction, committing when fn returns nil.
func (db *DB) inTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	if db.wstmts.hasPending() {
		db.wstmts.preparePending(ctx, db.write)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return db.wrap(what, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return db.wrap(what, err)
	}
	if err := tx.Commit(); err != nil {
		return db.wrap(what, err)
	}
	return nil
}

// q rewrites "?" placeholders as $1, $2, ... for PostgreSQL. Queries written
// for it never carry a literal "?".
func (db *DB) q(query string) string {
	if db.dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// money returns the column that compares an amount numerically, and the
// argument to compare it with.
func (db *DB) money(col string, d magflow.Decimal) (string, any) {
	if db.dialect == SQLite {
		return col + "_units", d.Units()
	}
	return col, d.String()
}

// moneyCol is money without the argument (for ORDER BY).
func (db *DB) moneyCol(col string) string {
	c, _ := db.money(col, magflow.Decimal{})
	return c
}
