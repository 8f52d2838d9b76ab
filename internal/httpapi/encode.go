package httpapi

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
)

// A hand-written encoder of product list items: the read model encodes
// every product of the catalogue (twice for canonical ones) at each load,
// and encoding/json's reflection was most of a load. The output is byte
// for byte encoding/json's for ProductItem without HTML escaping (what
// huma writes); encode_test.go checks it against encoding/json.

// appendProductItem appends the JSON of it's wire form (productItemOf).
func appendProductItem(b []byte, it *sqldb.ProductItem) []byte {
	p := &it.Product
	b = append(b, `{"account":`...)
	b = appendJSONString(b, p.Account)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, p.ID, 10)
	b = append(b, `,"part_number":`...)
	b = appendJSONString(b, p.PartNumber)
	b = append(b, `,"part_number_key":`...)
	b = appendJSONString(b, p.PartNumberKey)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, p.Name)
	b = append(b, `,"brand":`...)
	b = appendJSONString(b, p.Brand)
	b = append(b, `,"category_id":`...)
	b = strconv.AppendInt(b, p.CategoryID, 10)
	b = append(b, `,"ean":[`...)
	for i, e := range p.EAN {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, e)
	}
	b = append(b, `],"status":`...)
	b = strconv.AppendInt(b, int64(p.Status), 10)
	b = append(b, `,"validation_status":`...)
	b = strconv.AppendInt(b, int64(p.ValidationStatus), 10)
	b = append(b, `,"offer_validation_status":`...)
	b = strconv.AppendInt(b, int64(p.OfferValidationStatus), 10)
	b = append(b, `,"ownership":`...)
	b = strconv.AppendBool(b, p.Ownership)
	b = append(b, `,"green_tax":`...)
	b = appendDecimal(b, p.GreenTax)
	b = append(b, `,"supply_lead_time":`...)
	b = strconv.AppendInt(b, int64(p.SupplyLeadTime), 10)
	b = append(b, `,"first_seen_at":`...)
	b = appendJSONTime(b, p.FirstSeenAt)
	b = append(b, `,"last_seen_at":`...)
	b = appendJSONTime(b, p.LastSeenAt)
	if p.GoneAt != nil {
		b = append(b, `,"gone_at":`...)
		b = appendJSONTime(b, *p.GoneAt)
	}
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, p.UpdatedAt)
	b = append(b, `,"offer":`...)
	if it.HasOffer {
		b = appendOffer(b, &it.Offer)
	} else {
		b = append(b, "null"...)
	}
	if len(it.Listings) > 0 {
		b = append(b, `,"listings":[`...)
		for i, l := range it.Listings {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"account":`...)
			b = appendJSONString(b, l.Account)
			b = append(b, `,"product_id":`...)
			b = strconv.AppendInt(b, l.ProductID, 10)
			b = append(b, `,"sale_price":`...)
			b = appendDecimal(b, l.SalePrice)
			b = append(b, `,"currency":`...)
			b = appendJSONString(b, l.Currency)
			b = append(b, `,"general_stock":`...)
			b = strconv.AppendInt(b, int64(l.GeneralStock), 10)
			b = append(b, `,"status":`...)
			b = strconv.AppendInt(b, int64(l.Status), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendOffer(b []byte, o *magflow.Offer) []byte {
	b = append(b, `{"account":`...)
	b = appendJSONString(b, o.Account)
	b = append(b, `,"product_id":`...)
	b = strconv.AppendInt(b, o.ProductID, 10)
	b = append(b, `,"part_number":`...)
	b = appendJSONString(b, o.PartNumber)
	b = append(b, `,"offer_id":`...)
	b = strconv.AppendInt(b, o.OfferID, 10)
	for _, m := range []struct {
		k string
		v magflow.Decimal
	}{{`,"sale_price":`, o.SalePrice}, {`,"recommended_price":`, o.RecommendedPrice}, {`,"min_sale_price":`, o.MinSalePrice},
		{`,"max_sale_price":`, o.MaxSalePrice}, {`,"best_offer_price":`, o.BestOfferPrice}} {
		b = append(b, m.k...)
		b = appendDecimal(b, m.v)
	}
	b = append(b, `,"currency":`...)
	b = appendJSONString(b, o.Currency)
	b = append(b, `,"vat_id":`...)
	b = strconv.AppendInt(b, int64(o.VatID), 10)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(o.Status), 10)
	b = append(b, `,"general_stock":`...)
	b = strconv.AppendInt(b, int64(o.GeneralStock), 10)
	b = append(b, `,"estimated_stock":`...)
	b = strconv.AppendInt(b, int64(o.EstimatedStock), 10)
	b = append(b, `,"stock":`...)
	b = appendWarehouses(b, o.Stock)
	b = append(b, `,"handling_time":`...)
	b = appendWarehouses(b, o.HandlingTime)
	b = append(b, `,"availability":`...)
	b = appendWarehouses(b, o.Availability)
	b = append(b, `,"buy_button_rank":`...)
	b = strconv.AppendInt(b, int64(o.BuyButtonRank), 10)
	b = append(b, `,"number_of_offers":`...)
	b = strconv.AppendInt(b, int64(o.NumberOfOffers), 10)
	b = append(b, `,"last_seen_at":`...)
	b = appendJSONTime(b, o.LastSeenAt)
	if o.GoneAt != nil {
		b = append(b, `,"gone_at":`...)
		b = appendJSONTime(b, *o.GoneAt)
	}
	return append(b, '}')
}

// appendWarehouses appends ws as warehouses(ws) encodes (never null).
func appendWarehouses(b []byte, ws []magflow.WarehouseValue) []byte {
	b = append(b, '[')
	for i, w := range ws {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"warehouse_id":`...)
		b = strconv.AppendInt(b, int64(w.WarehouseID), 10)
		b = append(b, `,"value":`...)
		b = strconv.AppendInt(b, int64(w.Value), 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendDecimal appends d quoted as its String method writes it
// ("-12.3400"), without fmt.
func appendDecimal(b []byte, d magflow.Decimal) []byte {
	u := d.Units()
	if u == math.MinInt64 {
		return appendJSONString(b, d.String())
	}
	b = append(b, '"')
	if u < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendInt(b, u/10000, 10)
	f := u % 10000
	b = append(b, '.', byte('0'+f/1000), byte('0'+f/100%10), byte('0'+f/10%10), byte('0'+f%10))
	return append(b, '"')
}

// appendJSONTime appends t as time.Time's MarshalJSON does.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json does without HTML
// escaping: \" \\ \b \f \n \r \t, other control characters as \u00XX,
// invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
