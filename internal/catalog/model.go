// Package catalog is an in-memory read model of the product list for
// magflow serve: every product of the database, both views (per account and
// canonical), with each item's JSON encoded once when loaded, a word index,
// part number indexes and every sort order, so that a page of
// GET .../products/all is a few bitset operations and a concatenation of
// byte slices instead of a query.
//
// Consistency. A Model answers only when it is current, that is when no
// product, offer, canonical row or last complete scan changed since the
// snapshot it was loaded from; otherwise List says so and the caller asks
// the store (unchanged behaviour), and a rebuild is scheduled in the
// background: once the catalogue has been quiet for Options.Quiet, and at
// least every Options.MaxDelay while a sync keeps writing, but no sooner
// than twice the last load's duration after it (a load of 100,000 products
// costs seconds of CPU). A load reads the
// rows and their version in one read transaction (REPEATABLE READ on
// PostgreSQL), on the read pool: it neither holds the SQLite writer nor
// blocks requests.
//
// Changes are seen through triggers (migration 00016), so writers in any
// process count. SQLite: they move a counter row, which each request reads
// (one single-row read, shared by the requests that arrived while it ran
// and, through WithMemo, by the checks of one request) and compares with
// the loaded snapshot's. PostgreSQL:
// they send a notification at commit; a LISTEN connection counts them, and
// the model is current while the count is the one read before its snapshot
// was taken (a notification from before the snapshot only costs a rebuild).
// On PostgreSQL a commit is seen once its notification arrives (well under
// a millisecond on one host); Sync waits for every notification committed
// before it. While the LISTEN connection is down the model never answers.
//
// The same triggers count changes of users, for the API's user cache
// (UsersVersion).
package catalog

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/magflow/magflow/internal/sqldb"
)

// Options configure a Model.
type Options struct {
	// Encode appends the JSON of one item of the product list, exactly as
	// the API sends it, to dst (required).
	Encode func(dst []byte, it *sqldb.ProductItem) ([]byte, error)
	Logger *slog.Logger
	// Quiet is how long the catalogue must go unchanged before a rebuild
	// (default 500ms); MaxDelay bounds the wait while changes keep coming
	// (default 10s): a sync writing for minutes gets a fresh model that
	// often, and the store answers in between.
	Quiet    time.Duration
	MaxDelay time.Duration
	// Poll is how often the SQLite counters are read when no request reads
	// them (default 250ms).
	Poll time.Duration
}

// Page is one page of the product list served by a Model.
type Page struct {
	// Items are the items' JSON, in order.
	Items [][]byte
	// Total is the exact number of matching products.
	Total int
}

// Model is the read model. Create it with New, Start it, Close it.
type Model struct {
	db   *sqldb.DB
	opts Options
	log  *slog.Logger
	pg   bool

	cur     atomic.Pointer[snapshot]
	changed chan struct{}
	counts  counters // SQLite

	// PostgreSQL: notifications counted, and whether LISTEN is active.
	schema    string
	catGen    atomic.Int64
	usersGen  atomic.Int64
	listening atomic.Bool
	pid       atomic.Uint32 // the LISTEN connection's backend (tests)
	fenceMu   sync.Mutex
	fences    map[string]chan struct{}

	loadMu sync.Mutex // one load at a time
	loads  atomic.Int64
	// loaded is closed (and replaced) after each load.
	loadedMu sync.Mutex
	loaded   chan struct{}

	stop context.CancelFunc
	done sync.WaitGroup
}

// New returns a Model over db; it answers nothing until Start has loaded it.
func New(db *sqldb.DB, opts Options) (*Model, error) {
	if opts.Encode == nil {
		return nil, errors.New("catalog: Options.Encode is required")
	}
	opts.Quiet = cmp.Or(opts.Quiet, 500*time.Millisecond)
	opts.MaxDelay = cmp.Or(opts.MaxDelay, 10*time.Second)
	opts.Poll = cmp.Or(opts.Poll, 250*time.Millisecond)
	return &Model{db: db, opts: opts, log: cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)), pg: db.Dialect() == sqldb.Postgres,
		changed: make(chan struct{}, 1), fences: map[string]chan struct{}{}, loaded: make(chan struct{}),
		counts: counters{read: db.ChangeCounters}}, nil
}

// Start begins listening for changes (PostgreSQL) and loading the model in
// the background, until Close or ctx ends.
func (m *Model) Start(ctx context.Context) error {
	ctx, m.stop = context.WithCancel(ctx)
	if m.pg {
		s, err := m.db.CurrentSchema(ctx)
		if err != nil {
			m.stop()
			return err
		}
		m.schema = s
		m.done.Add(1)
		go m.listen(ctx)
	} else {
		m.done.Add(1)
		go m.poll(ctx)
	}
	m.done.Add(1)
	go m.rebuilds(ctx)
	m.signal()
	return nil
}

// Close stops the model, waits for its goroutines and drops the loaded
// snapshot.
func (m *Model) Close() {
	if m.stop != nil {
		m.stop()
	}
	m.done.Wait()
	m.cur.Store(nil) // the memory goes, and nothing is answered any more
}

func (m *Model) signal() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// Loads returns how many snapshots the model has loaded.
func (m *Model) Loads() int64 { return m.loads.Load() }

// memoKey carries a request's memo (see WithMemo).
type memoKey struct{}

// memo keeps the change counters read for one request.
type memo struct {
	done           bool
	catalog, users int64
	err            error
}

// WithMemo returns ctx carrying a memo of the change counters: the first
// check made with it (by List, Current or UsersVersion) reads them, later
// ones reuse that read, which began after the request arrived. One per
// request (the API's authentication and the list share a read).
func WithMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{})
}

// counters returns the SQLite change counters for ctx's request.
func (m *Model) counters(ctx context.Context) (int64, int64, error) {
	mm, _ := ctx.Value(memoKey{}).(*memo)
	if mm != nil && mm.done {
		return mm.catalog, mm.users, mm.err
	}
	c, u, err := m.counts.get(ctx)
	if mm != nil {
		mm.done, mm.catalog, mm.users, mm.err = true, c, u, err
	}
	return c, u, err
}

// current returns the snapshot when it is current, else nil (and
// schedules a rebuild).
func (m *Model) current(ctx context.Context) (*snapshot, error) {
	sn := m.cur.Load()
	var v int64
	if m.pg {
		if !m.listening.Load() {
			return nil, nil
		}
		v = m.catGen.Load()
	} else {
		var err error
		if v, _, err = m.counters(ctx); err != nil {
			return nil, err
		}
	}
	if sn == nil || sn.version != v {
		m.signal()
		return nil, nil
	}
	return sn, nil
}

// Current reports whether the model would answer a list now.
func (m *Model) Current(ctx context.Context) bool {
	sn, err := m.current(ctx)
	return err == nil && sn != nil
}

// WaitCurrent waits until the model is current (Start loads it in the
// background) or ctx ends.
func (m *Model) WaitCurrent(ctx context.Context) error {
	for {
		m.loadedMu.Lock()
		ch := m.loaded
		m.loadedMu.Unlock()
		if m.Current(ctx) {
			return nil
		}
		m.signal()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("catalog: wait for the model: %w", ctx.Err())
		}
	}
}

// UsersVersion returns a number that changes whenever a user row changes
// (in any process), and false when changes cannot be followed right now
// (PostgreSQL without its LISTEN connection): then nothing may be cached.
func (m *Model) UsersVersion(ctx context.Context) (int64, bool) {
	if m.pg {
		if !m.listening.Load() {
			return 0, false
		}
		return m.usersGen.Load(), true
	}
	_, u, err := m.counters(ctx)
	return u, err == nil
}

// List answers f from the model when it is current; ok is false when the
// caller must ask the store (the model is stale or not loaded yet, or f
// asks for something the model does not serve: extras, an unknown sort).
func (m *Model) List(ctx context.Context, f sqldb.ProductFilter) (p Page, ok bool) {
	if f.Extras {
		return Page{}, false
	}
	desc := strings.HasPrefix(f.Sort, "-")
	k := slices.Index(sortKeys, cmp.Or(strings.TrimPrefix(f.Sort, "-"), "id"))
	if k < 0 {
		return Page{}, false
	}
	sn, err := m.current(ctx)
	if err != nil || sn == nil {
		return Page{}, false
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q := query{f: f, search: strings.TrimSpace(f.Search), sort: k, desc: desc, limit: min(limit, 1000), offset: max(0, f.Offset)}
	q.key = m.db.SearchKey(q.search)
	p.Items, p.Total = sn.list(q)
	return p, true
}

// Refresh loads a snapshot now (tests, benchmarks, start-up).
func (m *Model) Refresh(ctx context.Context) error {
	m.loadMu.Lock()
	defer m.loadMu.Unlock()
	var gen int64
	if m.pg {
		if !m.listening.Load() {
			return errors.New("catalog: not listening for changes yet")
		}
		// Read before the snapshot is taken: a commit after it notifies
		// after this read.
		gen = m.catGen.Load()
	}
	start := time.Now()
	s, err := m.db.LoadCatalog(ctx)
	if err != nil {
		return err
	}
	if m.pg {
		s.Version = gen
	}
	sn, err := build(s, m.opts.Encode)
	if err != nil {
		return err
	}
	m.cur.Store(sn)
	m.loads.Add(1)
	m.loadedMu.Lock()
	close(m.loaded)
	m.loaded = make(chan struct{})
	m.loadedMu.Unlock()
	m.log.Debug("product list model loaded", "products", sn.n, "version", sn.version, "took", time.Since(start))
	return nil
}

// stale reports whether the loaded snapshot is missing changes.
func (m *Model) stale(ctx context.Context) bool {
	sn, err := m.current(ctx)
	return err != nil || sn == nil
}

// rebuilds reloads the model after changes: once they have been quiet for
// Quiet, or MaxDelay after the first, whichever comes first, and no sooner
// than twice the last load's duration after it.
func (m *Model) rebuilds(ctx context.Context) {
	defer m.done.Done()
	var lastEnd time.Time
	var lastTook time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.changed:
		}
		if m.pg && !m.listening.Load() || !m.stale(ctx) {
			continue // the listener signals once it listens
		}
		deadline := time.NewTimer(m.opts.MaxDelay)
		quiet := time.NewTimer(m.opts.Quiet)
	debounce:
		for {
			select {
			case <-ctx.Done():
				deadline.Stop()
				quiet.Stop()
				return
			case <-m.changed:
				quiet.Reset(m.opts.Quiet)
			case <-quiet.C:
				break debounce
			case <-deadline.C:
				break debounce
			}
		}
		deadline.Stop()
		quiet.Stop()
		// A load costs seconds of CPU at 100,000 products: the model takes
		// at most a third of a core, however busy the writers.
		if wait := time.Until(lastEnd.Add(2 * lastTook)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		start := time.Now()
		err := m.Refresh(ctx)
		lastEnd, lastTook = time.Now(), time.Since(start)
		if err != nil && ctx.Err() == nil {
			m.log.Warn("product list model: load failed; the store answers meanwhile", "err", err)
			m.signal()
		}
	}
}

// poll reads the SQLite counters every Poll and signals the rebuild loop
// when the catalogue moved (so that it sees activity, and quiet).
func (m *Model) poll(ctx context.Context) {
	defer m.done.Done()
	t := time.NewTicker(m.opts.Poll)
	defer t.Stop()
	last := int64(-1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, _, err := m.db.ChangeCounters(ctx)
		if err != nil || v == last {
			continue
		}
		last = v
		if sn := m.cur.Load(); sn == nil || sn.version != v {
			m.signal()
		}
	}
}

// listen keeps a LISTEN connection (PostgreSQL) and counts notifications,
// reconnecting after a failure.
func (m *Model) listen(ctx context.Context) {
	defer m.done.Done()
	for ctx.Err() == nil {
		err := m.listenOnce(ctx)
		m.listening.Store(false)
		// Fences waiting for a notification that will not come return:
		// the model does not answer until it listens and reloads.
		m.fenceMu.Lock()
		for tok, ch := range m.fences {
			close(ch)
			delete(m.fences, tok)
		}
		m.fenceMu.Unlock()
		if ctx.Err() != nil {
			return
		}
		m.log.Warn("product list model: change notifications lost; the store answers until they resume", "err", err)
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (m *Model) listenOnce(ctx context.Context) error {
	conn, err := m.db.ReadDB().Conn(ctx)
	if err != nil {
		return fmt.Errorf("listen for changes: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("listen for changes: unexpected driver connection %T", dc)
		}
		c := sc.Conn()
		m.pid.Store(c.PgConn().PID())
		if _, err := c.Exec(ctx, "LISTEN "+sqldb.ChangeChannel); err != nil {
			return driver.ErrBadConn
		}
		// Anything may have changed while nobody listened.
		m.catGen.Add(1)
		m.usersGen.Add(1)
		m.listening.Store(true)
		m.signal()
		for {
			n, err := c.WaitForNotification(ctx)
			if err != nil {
				// The connection listens: it must not go back to the pool.
				return driver.ErrBadConn
			}
			kind, rest, _ := strings.Cut(n.Payload, ":")
			switch {
			case kind == "fence":
				m.fenceMu.Lock()
				if ch := m.fences[rest]; ch != nil {
					close(ch)
					delete(m.fences, rest)
				}
				m.fenceMu.Unlock()
			case rest != m.schema:
			case kind == "catalog":
				m.catGen.Add(1)
				m.signal()
			case kind == "users":
				m.usersGen.Add(1)
			}
		}
	})
}

// Sync returns once every change committed before it was called is
// reflected in Current and UsersVersion: at once on SQLite; on PostgreSQL
// after a notification of its own has come back (notifications arrive in
// commit order).
func (m *Model) Sync(ctx context.Context) error {
	if !m.pg || !m.listening.Load() {
		return nil // SQLite reads the counters per request; without LISTEN the model does not answer
	}
	var b [8]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	ch := make(chan struct{})
	m.fenceMu.Lock()
	m.fences[tok] = ch
	m.fenceMu.Unlock()
	defer func() {
		m.fenceMu.Lock()
		delete(m.fences, tok)
		m.fenceMu.Unlock()
	}()
	if _, err := m.db.ReadDB().ExecContext(ctx, "SELECT pg_notify($1, $2)", sqldb.ChangeChannel, "fence:"+tok); err != nil {
		return fmt.Errorf("catalog: sync: %w", err)
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
