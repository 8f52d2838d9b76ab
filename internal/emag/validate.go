package emag

import (
	"fmt"
	"time"

	"github.com/magflow/magflow"
)

// Limits checked before a request is sent.
const (
	maxStock        = 65535
	maxBulk         = magflow.MaxBulkEntities
	maxSaveID       = magflow.MaxSellerProductID
	maxEANsPerQuery = 100
)

// validatePaging checks currentPage and itemsPerPage when given (0 = omit).
func validatePaging(page, perPage int) *Error {
	if page != 0 && (page < 1 || page > maxPage) {
		return invalid("currentPage", "use a page between 1 and 65535", "currentPage %d out of range", page)
	}
	if perPage != 0 && (perPage < 1 || perPage > magflow.MaxItemsPerPage) {
		return invalid("itemsPerPage", "use between 1 and 100 items per page (eMAG's maximum is 100)", "itemsPerPage %d out of range", perPage)
	}
	return nil
}

// validateBulk checks the entity count of a save.
func validateBulk(n int) *Error {
	if n == 0 {
		return invalid("entities", "send at least one entity", "nothing to save")
	}
	if n > maxBulk {
		return invalid("entities", "split the save into batches of at most 50 entities", "%d entities in one request; eMAG accepts at most 50", n)
	}
	return nil
}

// validateSaveID checks a seller product id on save (24 bits).
func validateSaveID(i int, id int64) *Error {
	if id < 1 || id > maxSaveID {
		e := invalid(fmt.Sprintf("[%d].id", i), "use a seller product id between 1 and 16777215 (eMAG stores 24 bits)", "id %d out of range", id)
		e.Items = []ItemError{{ID: id, Index: i, Field: "id", Messages: e.Messages}}
		return e
	}
	return nil
}

// validateStock checks per-warehouse stock values.
func validateStock(i int, field string, ws []WarehouseValue) *Error {
	for j, w := range ws {
		if w.Value < 0 || w.Value > maxStock {
			return invalid(fmt.Sprintf("[%d].%s[%d].value", i, field, j), "use a stock between 0 and 65535", "stock %d out of range", w.Value)
		}
	}
	return nil
}

// validatePrices checks min < max and min <= sale <= max when given.
func validatePrices(i int, sale, lo, hi *magflow.Decimal) *Error {
	if sale != nil && sale.Cmp(magflow.Decimal{}) <= 0 {
		return invalid(fmt.Sprintf("[%d].sale_price", i), "use a sale price above 0 (without VAT)", "sale_price %s is not positive", sale)
	}
	if lo == nil || hi == nil {
		return nil
	}
	if lo.Cmp(*hi) >= 0 {
		return invalid(fmt.Sprintf("[%d].max_sale_price", i), "make max_sale_price greater than min_sale_price", "max_sale_price %s is not above min_sale_price %s", hi, lo)
	}
	if sale != nil && (sale.Cmp(*lo) < 0 || sale.Cmp(*hi) > 0) {
		return invalid(fmt.Sprintf("[%d].sale_price", i), "keep sale_price within [min_sale_price, max_sale_price] or widen the range", "sale_price %s outside [%s, %s]", sale, lo, hi)
	}
	return nil
}

// validateWindow checks an after/before date filter pair: before needs
// after, the window is at most one month, and after <= before. When both is
// true (count routes) after also needs before.
func validateWindow(name string, after, before time.Time, both bool) *Error {
	a, b := name+"After", name+"Before"
	switch {
	case after.IsZero() && before.IsZero():
		return nil
	case after.IsZero():
		return invalid(a, "set "+a+" too: eMAG accepts "+b+" only together with "+a, "%s without %s", b, a)
	case before.IsZero():
		if both {
			return invalid(b, "set "+b+" too: count accepts "+a+" only together with "+b+", at most one month apart", "%s without %s", a, b)
		}
		return nil
	case before.Before(after):
		return invalid(b, "put "+b+" after "+a, "%s is before %s", b, a)
	case before.After(after.AddDate(0, 1, 0)):
		return invalid(b, "split the window into ranges of at most one month", "%s..%s spans more than one month", after.Format(time.DateOnly), before.Format(time.DateOnly))
	}
	return nil
}
