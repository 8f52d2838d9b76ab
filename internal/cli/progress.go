package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/magflow/magflow/internal/syncer"
)

// progressView shows live sync progress; Done flushes it.
type progressView interface {
	syncer.Observer
	Done()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// barView draws one progress bar per account and stream.
type barView struct {
	p    *mpb.Progress
	mu   sync.Mutex
	bars map[string]*runBar
}

type runBar struct {
	bar  *mpb.Bar
	last syncer.Progress
}

func newBarView(ctx context.Context, w io.Writer) *barView {
	return &barView{p: mpb.NewWithContext(ctx, mpb.WithOutput(w), mpb.WithWidth(32), mpb.WithRefreshRate(150*time.Millisecond)), bars: map[string]*runBar{}}
}

func (v *barView) Progress(p syncer.Progress) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := p.Account + "/" + string(p.Stream)
	rb, ok := v.bars[key]
	if !ok {
		rb = &runBar{}
		label := fmt.Sprintf("%-6s %-8s", p.Account, p.Stream)
		rb.bar = v.p.New(0, mpb.BarStyle().Lbound("[").Rbound("]"),
			mpb.PrependDecorators(decor.Name(label, decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				v.mu.Lock()
				defer v.mu.Unlock()
				return describe(rb.last)
			})),
		)
		v.bars[key] = rb
	}
	rb.last = p
	c := p.Counters
	total := int64(c.TotalPages)
	if total < int64(c.Page) || total == 0 {
		total = int64(c.Page) + 1
	}
	if p.Status.Finished() {
		rb.bar.SetTotal(int64(c.Page), true)
		return
	}
	rb.bar.SetTotal(total, false)
	rb.bar.SetCurrent(int64(c.Page))
}

func describe(p syncer.Progress) string {
	c := p.Counters
	// Orders have no page count up front (their windows end when a page
	// comes back short): no "/0" then.
	s := fmt.Sprintf("page %d", c.Page)
	if c.TotalPages > 0 {
		s += fmt.Sprintf("/%d", c.TotalPages)
	}
	s += fmt.Sprintf("  %d items  %.0f/s", c.Items, p.Rate)
	if p.ETA > 0 {
		s += "  eta " + p.ETA.Round(time.Second).String()
	}
	if c.Retries > 0 || c.Throttled > 0 {
		s += fmt.Sprintf("  retries %d  429s %d", c.Retries, c.Throttled)
	}
	if p.Status.Finished() {
		s += "  " + string(p.Status)
	}
	return s
}

func (v *barView) Done() {
	v.mu.Lock()
	for _, rb := range v.bars {
		if !rb.bar.Completed() {
			rb.bar.Abort(false)
		}
	}
	v.mu.Unlock()
	v.p.Wait()
}

// logView writes a progress line per run every few seconds and at the end.
type logView struct {
	log  *slog.Logger
	mu   sync.Mutex
	last map[string]time.Time
}

func newLogView(log *slog.Logger) *logView { return &logView{log: log, last: map[string]time.Time{}} }

func (v *logView) Progress(p syncer.Progress) {
	key := p.Account + "/" + string(p.Stream)
	v.mu.Lock()
	due := time.Since(v.last[key]) >= 5*time.Second
	if due {
		v.last[key] = time.Now()
	}
	v.mu.Unlock()
	if !due || p.Status.Finished() {
		return
	}
	v.log.Info("sync progress", "account", p.Account, "stream", p.Stream, "progress", describe(p))
}

func (v *logView) Done() {}
