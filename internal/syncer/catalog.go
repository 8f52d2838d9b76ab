package syncer

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/sqldb"
)

// pageFetch is one fetched catalogue page.
type pageFetch struct {
	page  int
	items []emag.ProductOffer
	err   error
}

// scanCatalog reads product_offer pages and commits them in page order:
// holes of earlier runs first, then the scan from the checkpoint on.
func (r *runState) scanCatalog(ctx context.Context) outcome {
	st := r.e.opts.Store
	per := r.e.opts.ItemsPerPage
	start := 1
	if r.resume.Resumed && r.resume.Checkpoint.NextPage > 1 {
		start = r.resume.Checkpoint.NextPage
		r.counters.Page = start - 1
		r.pagesBefore = start - 1
	}
	var holePages []int

	// Holes first: pages that failed in earlier runs.
	holes, err := st.Holes(ctx, r.acct.Name, r.stream)
	if err != nil {
		return outcome{status: magflow.RunFailed, reason: "read the hole ledger: " + err.Error(), err: err}
	}
	for _, h := range holes {
		items, err := r.fetchPage(ctx, h.Page)
		if err != nil {
			if stop, why := fatal(err); stop {
				return r.failed(why, err)
			}
			holePages = append(holePages, h.Page)
			if err := r.recordHole(ctx, h.Page, err); err != nil {
				return r.failed("store: "+err.Error(), err)
			}
			continue
		}
		if err := r.applyPages(ctx, []pageFetch{{page: h.Page, items: items}}, sqldb.Checkpoint{NextPage: start, TotalPages: r.counters.TotalPages}, true); err != nil {
			return r.failed("store: "+err.Error(), err)
		}
		if err := st.ResolveHole(ctx, r.acct.Name, r.stream, h.Page, r.run.ID); err != nil {
			return r.failed("store: "+err.Error(), err)
		}
		r.log.Info("filled a hole of an earlier run", "page", h.Page)
	}

	// Totals for progress and for how many pages may be fetched at once.
	total := 0
	if c, err := r.acct.Source.CountProductOffers(ctx, emag.ProductOfferFilter{ItemsPerPage: per}); err != nil {
		if stop, why := fatal(err); stop {
			return r.failed(why, err)
		}
		r.log.Warn("count products failed; scanning without a total", "err", err)
	} else {
		total = c.Pages
		if c.ItemsPerPage > 0 && c.ItemsPerPage != per && c.Items > 0 {
			total = (c.Items + per - 1) / per
		}
	}
	capPage := r.maxPages // pages are numbered from 1; 0 means no cap
	r.counters.TotalPages = total
	if capPage > 0 && (total == 0 || total > capPage) {
		r.counters.TotalPages = capPage
	}

	scanCtx, cancelScan := context.WithCancel(ctx)
	defer cancelScan()
	results := make(chan pageFetch)
	inflight := 0
	next := start
	commitNext := start
	endPage := 0 // the first page that came back short or empty
	pending := map[int]pageFetch{}
	var stopped *outcome
	capped := false

	canDispatch := func() bool {
		switch {
		case stopped != nil || scanCtx.Err() != nil:
			return false
		case endPage > 0 && next > endPage:
			return false
		case capPage > 0 && next > capPage:
			return false
		case next-commitNext >= aheadPages(r.acct.Concurrency):
			// Pages fetched ahead wait in memory for the ones before them
			// to commit: a page stuck in retries must not let the rest of
			// the catalogue pile up behind it.
			return false
		case total > 0 && next <= total:
			return inflight < r.acct.Concurrency
		}
		// Past the announced total (the catalogue grew) or without one: probe
		// one page at a time, once everything before it is committed.
		return inflight == 0 && commitNext == next
	}

	dispatch := func() {
		for canDispatch() {
			page := next
			next++
			inflight++
			go func() {
				items, err := r.fetchPage(scanCtx, page)
				results <- pageFetch{page: page, items: items, err: err}
			}()
		}
	}
	// Pages ready to commit, in order, are committed together (a group
	// commit, see sqldb.ApplyProductPages): at eMAG's rate limit a page
	// arrives while the previous one is long committed and goes alone; when
	// the database is the slower side, the pages that arrived during a
	// commit go in the next one. Fetches are dispatched before the commit,
	// so they go on meanwhile.
	var batch []pageFetch
	flush := func() {
		if len(batch) == 0 || stopped != nil {
			return
		}
		dispatch()
		cp := sqldb.Checkpoint{NextPage: batch[len(batch)-1].page + 1, TotalPages: total}
		if err := r.applyPages(ctx, batch, cp, false); err != nil {
			o := r.failed("store: "+err.Error(), err)
			stopped = &o
			cancelScan()
		}
		batch = batch[:0]
	}

	received := func(f pageFetch) {
		inflight--
		if f.err == nil && len(f.items) < per && (endPage == 0 || f.page < endPage) {
			endPage = f.page
		}
		pending[f.page] = f
	}

	for {
		dispatch()
		if inflight == 0 {
			break
		}
		// Take every fetch that has finished (those that finished during
		// the last commit wait in results), so they commit together.
		received(<-results)
	drain:
		for inflight > 0 {
			select {
			case f := <-results:
				received(f)
			default:
				break drain
			}
		}
		for stopped == nil {
			f, ok := pending[commitNext]
			if !ok {
				break
			}
			delete(pending, commitNext)
			commitNext++
			if endPage > 0 && f.page > endPage {
				continue // past the end of the catalogue
			}
			if f.err != nil {
				flush() // the pages before it commit first
				if stopped != nil {
					break
				}
				if stop, why := fatal(f.err); stop {
					o := r.failed(why, f.err)
					stopped = &o
					cancelScan()
					break
				}
				holePages = append(holePages, f.page)
				if err := r.recordHole(ctx, f.page, f.err); err != nil {
					o := r.failed("store: "+err.Error(), err)
					stopped = &o
					cancelScan()
					break
				}
				if f.page > total {
					// A failed probe past the total: we cannot know what follows.
					endPage = f.page
				}
				continue
			}
			if len(f.items) == 0 {
				continue // the empty page past the end
			}
			batch = append(batch, f)
		}
		flush()
	}
	if stopped != nil {
		return *stopped
	}
	if ctx.Err() != nil {
		return outcome{status: magflow.RunCancelled, reason: "cancelled at page " + fmt.Sprint(commitNext)}
	}
	if capPage > 0 && endPage == 0 {
		capped = true
	}

	complete := !capped && len(holePages) == 0
	if complete {
		gone, err := st.MarkGone(ctx, r.acct.Name, r.run.ID)
		if err != nil {
			return r.failed("store: mark products missing from the scan: "+err.Error(), err)
		}
		r.counters.Gone = gone
	}
	r.counters.Holes = len(holePages)
	switch {
	case len(holePages) > 0:
		slices.Sort(holePages)
		return outcome{status: magflow.RunPartial, capped: capped,
			reason: fmt.Sprintf("%d page(s) failed after retries (%s); they are recorded as holes and the next run fetches them first",
				len(holePages), joinInts(holePages))}
	case capped:
		return outcome{status: magflow.RunCompleted, capped: true,
			reason: fmt.Sprintf("capped at %d pages (max pages); products beyond them were not read and none was marked gone", capPage)}
	}
	return outcome{status: magflow.RunCompleted}
}

// aheadPages is how far past the next page to commit a scan with the given
// fetch concurrency may dispatch: twice the pages in flight, so fetches go
// on while a page commits, and memory stays bounded by the window rather
// than by the catalogue when one page is slow.
func aheadPages(concurrency int) int { return 2 * max(1, concurrency) }

func (r *runState) fetchPage(ctx context.Context, page int) ([]emag.ProductOffer, error) {
	return r.acct.Source.ReadProductOffers(ctx, emag.ProductOfferFilter{CurrentPage: page, ItemsPerPage: r.e.opts.ItemsPerPage})
}

// applyPages commits consecutive fetched pages in one transaction with the
// checkpoint next, and publishes progress page by page. Hole pages of
// earlier runs (hole) leave the scan's current page as it is.
func (r *runState) applyPages(ctx context.Context, fetched []pageFetch, next sqldb.Checkpoint, hole bool) error {
	pages := make([]sqldb.ScanPage, len(fetched))
	for i, f := range fetched {
		p := sqldb.ScanPage{Page: f.page, Products: make([]magflow.Product, len(f.items)), Offers: make([]magflow.Offer, len(f.items))}
		for j := range f.items {
			p.Products[j], p.Offers[j] = productFromEMAG(r.acct.Name, &f.items[j])
		}
		pages[i] = p
	}
	res, err := r.e.opts.Store.ApplyProductPages(ctx, r.run.ID, r.acct.Name, pages, next)
	if err != nil {
		if len(pages) > 1 {
			return fmt.Errorf("commit pages %d-%d: %w", pages[0].Page, pages[len(pages)-1].Page, err)
		}
		return fmt.Errorf("commit page %d: %w", pages[0].Page, err)
	}
	for i, p := range pages {
		if !hole {
			r.counters.Page = p.Page
		}
		r.counters.Items += len(p.Products)
		r.counters.Inserted += res[i].Inserted
		r.counters.Updated += res[i].Updated
		r.counters.Unchanged += res[i].Unchanged
		r.progressed(ctx)
	}
	return nil
}

// recordHole records in the ledger a page that failed after retries. A
// hole that cannot be recorded stops the run: the scan would go on to
// checkpoint past the page, and a resumed run that knew nothing of it would
// complete the scan without it (and mark its products gone).
func (r *runState) recordHole(ctx context.Context, page int, cause error) error {
	r.log.Warn("page failed after retries; recorded as a hole", "page", page, "err", cause)
	r.counters.Holes++
	h := magflow.Hole{Account: r.acct.Name, Stream: r.stream, Page: page, RunID: r.run.ID, Error: cause.Error()}
	if err := r.e.opts.Store.RecordHole(ctx, h); err != nil {
		return fmt.Errorf("record page %d as a hole: %w", page, err)
	}
	r.progressed(ctx)
	return nil
}

func (r *runState) failed(reason string, err error) outcome {
	r.log.Error("sync run stopped", "reason", reason)
	return outcome{status: magflow.RunFailed, reason: reason, err: err}
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
