package emag

import (
	"context"
	"fmt"
	"iter"
)

// Count is the answer of a count action. eMAG sends the values as strings
// ({"noOfItems": "797", "noOfPages": "8", "itemsPerPage": "100"}).
type Count struct {
	Items        int
	Pages        int
	ItemsPerPage int
}

func decodeCount(b []byte) (Count, error) {
	var c Count
	if kind(b) != '{' {
		if ok, err := objectOrEmpty(b); err != nil || !ok {
			return c, fmt.Errorf("count results: want an object, got %s", describe(b))
		}
	}
	err := eachField(b, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "noOfItems":
			c.Items, err = parseInt(v)
		case "noOfPages":
			c.Pages, err = parseInt(v)
		case "itemsPerPage":
			c.ItemsPerPage, err = parseInt(v)
		}
		return wrapField(k, err)
	})
	return c, err
}

// count runs a count action with payload.
func (c *Client) count(ctx context.Context, route string, payload any) (Count, error) {
	env, err := c.rpc(ctx, route, payload, false)
	if err != nil {
		return Count{}, err
	}
	n, err := decodeCount(env.Results)
	if err != nil {
		return Count{}, c.decodeErr(route, err)
	}
	return n, nil
}

// Page is one page of a paginated read.
type Page[T any] struct {
	Number int // 1-based
	Items  []T
	// Total is the count fetched before the first page, when the Pager
	// had a Count function; zero otherwise.
	Total Count
}

// Pager walks a paginated read. The zero Start is 1 and the zero MaxPages
// means no cap (eMAG's own limit of 65535 pages still applies).
type Pager[T any] struct {
	// Fetch reads one page.
	Fetch func(ctx context.Context, page int) ([]T, error)
	// Count, when set, is called once before the first page; its result
	// rides on every Page as Total. A count failure is yielded as an error.
	Count func(ctx context.Context) (Count, error)
	// Start is the first page to fetch (resume from a checkpoint).
	Start int
	// MaxPages stops after this many pages (EMAG_<NAME>_MAX_PAGES).
	MaxPages int
}

// maxPage is the highest currentPage eMAG accepts.
const maxPage = 65535

// All yields pages in order and stops after the first empty page (which is
// not yielded), after MaxPages, on the first error (yielded with the page
// number that failed) or when the consumer stops.
func (p Pager[T]) All(ctx context.Context) iter.Seq2[Page[T], error] {
	return func(yield func(Page[T], error) bool) {
		var total Count
		if p.Count != nil {
			n, err := p.Count(ctx)
			if err != nil {
				yield(Page[T]{}, fmt.Errorf("count: %w", err))
				return
			}
			total = n
		}
		start := max(p.Start, 1)
		for page := start; page <= maxPage; page++ {
			if p.MaxPages > 0 && page-start >= p.MaxPages {
				return
			}
			if err := ctx.Err(); err != nil {
				yield(Page[T]{Number: page, Total: total}, err)
				return
			}
			items, err := p.Fetch(ctx, page)
			if err != nil {
				yield(Page[T]{Number: page, Total: total}, fmt.Errorf("page %d: %w", page, err))
				return
			}
			if len(items) == 0 {
				return
			}
			if !yield(Page[T]{Number: page, Items: items, Total: total}, nil) {
				return
			}
		}
	}
}

// Pages yields the pages fetch returns, from page 1 until the first empty
// page or error. See Pager for counts, resuming and caps.
func Pages[T any](ctx context.Context, fetch func(ctx context.Context, page int) ([]T, error)) iter.Seq2[Page[T], error] {
	return Pager[T]{Fetch: fetch}.All(ctx)
}
