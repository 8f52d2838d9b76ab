package syncer_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/syncer"
)

// stallSource serves pages of 100 products; page stall blocks until release
// is closed. It records the highest page asked for.
type stallSource struct {
	pages   int
	stall   int
	release chan struct{}

	mu      sync.Mutex
	highest int
}

func (s *stallSource) ReadProductOffers(ctx context.Context, f emag.ProductOfferFilter) ([]emag.ProductOffer, error) {
	s.mu.Lock()
	s.highest = max(s.highest, f.CurrentPage)
	s.mu.Unlock()
	if f.CurrentPage == s.stall {
		select {
		case <-s.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.CurrentPage > s.pages {
		return nil, nil
	}
	items := make([]emag.ProductOffer, f.ItemsPerPage)
	for i := range items {
		items[i].ID = int64((f.CurrentPage-1)*f.ItemsPerPage + i + 1)
	}
	return items, nil
}

func (s *stallSource) CountProductOffers(_ context.Context, f emag.ProductOfferFilter) (emag.Count, error) {
	return emag.Count{Items: s.pages * f.ItemsPerPage, Pages: s.pages, ItemsPerPage: f.ItemsPerPage}, nil
}

func (s *stallSource) ReadOrders(context.Context, emag.OrderFilter) ([]emag.Order, error) {
	return nil, nil
}

// TestScanBoundsPagesAheadOfAStalledPage: while one page hangs (a slow
// answer, retries), the scan fetches at most twice its concurrency past it
// and then waits, so the pages held in memory do not grow with the
// catalogue; once the page arrives the scan completes with every product.
func TestScanBoundsPagesAheadOfAStalledPage(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		src := &stallSource{pages: 40, stall: 2, release: make(chan struct{})}
		e, err := syncer.New(syncer.Options{Store: discardStore{}, Accounts: []syncer.Account{
			{Name: "main", Source: src, Stats: &syncer.RequestStats{}, Concurrency: 4}}})
		if err != nil {
			t.Fatal(err)
		}
		var rep syncer.Report
		done := make(chan error, 1)
		go func() {
			var err error
			rep, err = e.Sync(context.Background(), syncer.Request{Mode: syncer.ModeProducts, MaxPages: new(int)})
			done <- err
		}()
		synctest.Wait()
		src.mu.Lock()
		highest := src.highest
		src.mu.Unlock()
		// Page 1 committed; page 2 stalls: pages 2 to 2 + 2x4 - 1 may be out.
		if want := 2 + 2*4 - 1; highest != want {
			t.Errorf("while page 2 stalled, the scan asked for pages up to %d, want %d", highest, want)
		}
		close(src.release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if rep.Status() != magflow.RunCompleted {
			t.Fatalf("status %s: %+v", rep.Status(), rep.Runs)
		}
		if n := rep.Runs[0].Counters.Items; n != 4000 {
			t.Errorf("items = %d, want 4000", n)
		}
	})
}

// groupStore is a discardStore whose page commits take a while; it records
// the pages of each commit and its checkpoint.
type groupStore struct {
	discardStore
	mu      sync.Mutex
	commits [][]int
	nexts   []int
}

func (s *groupStore) ApplyProductPages(ctx context.Context, runID int64, account string, pages []sqldb.ScanPage, next sqldb.Checkpoint) ([]sqldb.PageResult, error) {
	time.Sleep(50 * time.Millisecond)
	s.mu.Lock()
	var nums []int
	for _, p := range pages {
		nums = append(nums, p.Page)
	}
	s.commits = append(s.commits, nums)
	s.nexts = append(s.nexts, next.NextPage)
	s.mu.Unlock()
	return s.discardStore.ApplyProductPages(ctx, runID, account, pages, next)
}

// TestScanGroupsPagesWhileTheStoreIsBusy: pages that arrive while a commit
// runs are committed together in the next one, in page order, each group
// with the checkpoint after its last page, and the scan gets every product.
func TestScanGroupsPagesWhileTheStoreIsBusy(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := &groupStore{}
		rep := scanOnce(t, st, &stallSource{pages: 40})
		if rep.Status() != magflow.RunCompleted || rep.Runs[0].Counters.Items != 4000 || rep.Runs[0].Counters.Page != 40 {
			t.Fatalf("status %s, counters %+v", rep.Status(), rep.Runs[0].Counters)
		}
		want, grouped := 1, false
		for i, c := range st.commits {
			for _, p := range c {
				if p != want {
					t.Fatalf("commit %d has pages %v, want page %d next", i, c, want)
				}
				want++
			}
			if st.nexts[i] != c[len(c)-1]+1 {
				t.Errorf("commit of pages %v checkpoints page %d, want %d", c, st.nexts[i], c[len(c)-1]+1)
			}
			grouped = grouped || len(c) > 1
		}
		if want != 41 {
			t.Errorf("committed pages 1-%d, want 1-40", want-1)
		}
		// Four pages are in flight at a time: each commit takes the four
		// that arrived during the one before it.
		if !grouped || len(st.commits) > 40/4+2 {
			t.Errorf("commits %v: pages that arrived during a commit were not grouped", st.commits)
		}
	})
}

// holeSource is a stallSource whose page bad always fails (eMAG unavailable).
type holeSource struct {
	stallSource
	bad int
}

func (s *holeSource) ReadProductOffers(ctx context.Context, f emag.ProductOfferFilter) ([]emag.ProductOffer, error) {
	if f.CurrentPage == s.bad {
		return nil, &emag.Error{Kind: emag.KindUnavailable, Route: "product_offer/read", Status: 503}
	}
	return s.stallSource.ReadProductOffers(ctx, f)
}

// ledgerDownStore is a groupStore whose hole ledger cannot be written.
type ledgerDownStore struct{ groupStore }

func (*ledgerDownStore) RecordHole(context.Context, magflow.Hole) error {
	return errors.New("database is locked")
}

// TestScanStopsWhenAHoleCannotBeRecorded: a page that failed after retries
// must reach the hole ledger before the scan checkpoints past it; when the
// ledger cannot be written the run fails there, with every page before the
// hole committed and none after it.
func TestScanStopsWhenAHoleCannotBeRecorded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := &ledgerDownStore{}
		rep := scanOnce(t, st, &holeSource{stallSource: stallSource{pages: 20}, bad: 7})
		run := rep.Runs[0]
		if run.Status != magflow.RunFailed || !strings.Contains(run.Reason, "record page 7 as a hole") {
			t.Fatalf("status %s, reason %q; want failed recording page 7", run.Status, run.Reason)
		}
		last := 0
		for _, c := range st.commits {
			last = c[len(c)-1]
		}
		if last != 6 || st.nexts[len(st.nexts)-1] != 7 {
			t.Errorf("committed up to page %d with checkpoint %d; want pages 1-6, checkpoint 7", last, st.nexts[len(st.nexts)-1])
		}
	})
}

// scanOnce runs one products sync of account main from src into st, four
// pages in flight.
func scanOnce(t *testing.T, st syncer.Store, src syncer.Source) syncer.Report {
	t.Helper()
	e, err := syncer.New(syncer.Options{Store: st, Accounts: []syncer.Account{
		{Name: "main", Source: src, Stats: &syncer.RequestStats{}, Concurrency: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.Sync(context.Background(), syncer.Request{Mode: syncer.ModeProducts, MaxPages: new(int)})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestETANeverPromisesFasterThanTheRateLimit: a scan's first pages arrive
// in a burst (here at once); with the account's page rate known, the ETA
// after page 1 counts the pages left at that rate, not at the burst's.
func TestETANeverPromisesFasterThanTheRateLimit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		obs, progressAfter := firstProgressAfter(0)
		e, err := syncer.New(syncer.Options{Store: discardStore{}, Observer: obs, Accounts: []syncer.Account{
			{Name: "main", Source: &stallSource{pages: 50}, Stats: &syncer.RequestStats{}, Concurrency: 1, PagesPerSecond: 3}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Sync(context.Background(), syncer.Request{Mode: syncer.ModeProducts, MaxPages: new(int)}); err != nil {
			t.Fatal(err)
		}
		left, pps := 49.0, 3.0
		want := time.Duration(left / pps * float64(time.Second))
		first := progressAfter()
		if first.Counters.Page != 1 || first.ETA != want {
			t.Errorf("after page %d the ETA is %v, want %v (49 pages at 3 a second)", first.Counters.Page, first.ETA, want)
		}
	})
}

// resumeStore is a discardStore whose runs resume an open scan at page 41
// of 50.
type resumeStore struct{ discardStore }

func (resumeStore) StartRun(_ context.Context, account string, stream magflow.Stream, _ string) (magflow.SyncRun, sqldb.Resume, error) {
	return magflow.SyncRun{ID: 2, Account: account, Stream: stream},
		sqldb.Resume{Resumed: true, ScanID: 1, Checkpoint: sqldb.Checkpoint{NextPage: 41, TotalPages: 50}}, nil
}

// slowSource is a stallSource whose every page takes a second.
type slowSource struct{ stallSource }

func (s *slowSource) ReadProductOffers(ctx context.Context, f emag.ProductOfferFilter) ([]emag.ProductOffer, error) {
	time.Sleep(time.Second)
	return s.stallSource.ReadProductOffers(ctx, f)
}

// TestETAOfAResumedScan: a scan resumed at page 41 of 50 estimates from
// the pace of its own pages, not from the 40 an earlier run did.
func TestETAOfAResumedScan(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		obs, progressAfter := firstProgressAfter(40)
		e, err := syncer.New(syncer.Options{Store: resumeStore{}, Observer: obs, Accounts: []syncer.Account{
			{Name: "main", Source: &slowSource{stallSource{pages: 50}}, Stats: &syncer.RequestStats{}, Concurrency: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Sync(context.Background(), syncer.Request{Mode: syncer.ModeProducts, MaxPages: new(int)}); err != nil {
			t.Fatal(err)
		}
		// Page 41 took a second: 9 pages left at this run's pace (counting
		// the 40 pages before would promise 0.2 s).
		first := progressAfter()
		if first.Counters.Page != 41 || first.ETA != 9*time.Second {
			t.Errorf("after page %d the ETA is %v, want 9s (9 pages at this run's second a page)", first.Counters.Page, first.ETA)
		}
	})
}

// firstProgressAfter returns an observer and what it saw first past page.
func firstProgressAfter(page int) (syncer.Observer, func() syncer.Progress) {
	var mu sync.Mutex
	var first syncer.Progress
	seen := false
	obs := syncer.ObserverFunc(func(p syncer.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if !seen && p.Counters.Page > page {
			first, seen = p, true
		}
	})
	return obs, func() syncer.Progress {
		mu.Lock()
		defer mu.Unlock()
		return first
	}
}
