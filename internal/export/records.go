package export

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
)

// record is one exported record: its JSON form (eMAG's field names plus the
// account) and its CSV row.
type record struct {
	json []byte
	row  []string
}

var csvHeaders = map[Kind][]string{
	Products:  {"account", "id", "part_number", "part_number_key", "name", "brand", "category_id", "ean", "status", "validation_status", "offer_validation_status", "ownership", "green_tax", "supply_lead_time", "first_seen_at", "last_seen_at", "gone_at"},
	Offers:    {"account", "id", "part_number", "offer_id", "sale_price", "recommended_price", "min_sale_price", "max_sale_price", "best_offer_sale_price", "currency", "vat_id", "status", "general_stock", "estimated_stock", "buy_button_rank", "number_of_offers", "gone_at"},
	Orders:    {"account", "id", "type", "status", "payment_mode_id", "payment_mode", "payment_status", "delivery_mode", "date", "modified", "customer_name", "shipping_city", "shipping_tax", "total", "currency", "lines"},
	Canonical: {"part_number", "source_account", "product_id", "name", "brand", "accounts", "listings"},
}

// withFields prefixes a raw eMAG object with extra fields: {"account":..., <raw fields>}.
func withFields(raw json.RawMessage, fields ...any) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i+1 < len(fields); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(fields[i])
		v, err := json.Marshal(fields[i+1])
		if err != nil {
			v = []byte("null")
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) > 2 && raw[0] == '{' {
		inner := bytes.TrimSpace(raw[1 : len(raw)-1])
		if len(inner) > 0 {
			b.WriteByte(',')
			b.Write(inner)
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339)
}

func timeText(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func productRecord(p sqldb.StoredProduct) record {
	var js []byte
	if len(p.Raw) > 2 {
		// The raw payload already carries eMAG's fields; add where it came
		// from and when MagFlow saw it.
		js = withFields(p.Raw, "account", p.Account, "first_seen_at", p.FirstSeenAt.UTC().Format(time.RFC3339),
			"last_seen_at", p.LastSeenAt.UTC().Format(time.RFC3339), "gone_at", timeOrNil(p.GoneAt))
	} else {
		js, _ = json.Marshal(map[string]any{"account": p.Account, "id": p.ID, "part_number": p.PartNumber,
			"part_number_key": p.PartNumberKey, "name": p.Name, "brand": p.Brand, "category_id": p.CategoryID, "ean": p.EAN,
			"status": p.Status, "gone_at": timeOrNil(p.GoneAt)})
	}
	return record{json: js, row: []string{p.Account, itoa(p.ID), p.PartNumber, p.PartNumberKey, p.Name, p.Brand, itoa(p.CategoryID),
		strings.Join(p.EAN, ";"), strconv.Itoa(p.Status), strconv.Itoa(p.ValidationStatus), strconv.Itoa(p.OfferValidationStatus),
		strconv.FormatBool(p.Ownership), p.GreenTax.String(), strconv.Itoa(p.SupplyLeadTime),
		timeText(&p.FirstSeenAt), timeText(&p.LastSeenAt), timeText(p.GoneAt)}}
}

// offerJSON uses eMAG's product_offer field names.
type offerJSON struct {
	Account            string                   `json:"account"`
	ID                 int64                    `json:"id"`
	PartNumber         string                   `json:"part_number"`
	OfferDetailsJSON   map[string]int64         `json:"offer_details"`
	SalePrice          magflow.Decimal          `json:"sale_price"`
	RecommendedPrice   magflow.Decimal          `json:"recommended_price"`
	MinSalePrice       magflow.Decimal          `json:"min_sale_price"`
	MaxSalePrice       magflow.Decimal          `json:"max_sale_price"`
	BestOfferSalePrice magflow.Decimal          `json:"best_offer_sale_price"`
	Currency           string                   `json:"currency"`
	VatID              int                      `json:"vat_id"`
	Status             int                      `json:"status"`
	GeneralStock       int                      `json:"general_stock"`
	EstimatedStock     int                      `json:"estimated_stock"`
	Stock              []magflow.WarehouseValue `json:"stock"`
	HandlingTime       []magflow.WarehouseValue `json:"handling_time"`
	Availability       []magflow.WarehouseValue `json:"availability"`
	BuyButtonRank      int                      `json:"buy_button_rank"`
	NumberOfOffers     int                      `json:"number_of_offers"`
	LastSeenAt         any                      `json:"last_seen_at"`
	GoneAt             any                      `json:"gone_at"`
}

func offerRecord(o magflow.Offer) record {
	js, _ := json.Marshal(offerJSON{Account: o.Account, ID: o.ProductID, PartNumber: o.PartNumber,
		OfferDetailsJSON: map[string]int64{"id": o.OfferID}, SalePrice: o.SalePrice, RecommendedPrice: o.RecommendedPrice,
		MinSalePrice: o.MinSalePrice, MaxSalePrice: o.MaxSalePrice, BestOfferSalePrice: o.BestOfferPrice, Currency: o.Currency,
		VatID: o.VatID, Status: o.Status, GeneralStock: o.GeneralStock, EstimatedStock: o.EstimatedStock, Stock: o.Stock,
		HandlingTime: o.HandlingTime, Availability: o.Availability, BuyButtonRank: o.BuyButtonRank, NumberOfOffers: o.NumberOfOffers,
		LastSeenAt: timeOrNil(&o.LastSeenAt), GoneAt: timeOrNil(o.GoneAt)})
	return record{json: js, row: []string{o.Account, itoa(o.ProductID), o.PartNumber, itoa(o.OfferID), o.SalePrice.String(),
		o.RecommendedPrice.String(), o.MinSalePrice.String(), o.MaxSalePrice.String(), o.BestOfferPrice.String(), o.Currency,
		strconv.Itoa(o.VatID), strconv.Itoa(o.Status), strconv.Itoa(o.GeneralStock), strconv.Itoa(o.EstimatedStock),
		strconv.Itoa(o.BuyButtonRank), strconv.Itoa(o.NumberOfOffers), timeText(o.GoneAt)}}
}

func orderRecord(o magflow.Order) record {
	var js []byte
	if len(o.Raw) > 2 {
		js = withFields(o.Raw, "account", o.Account)
	} else {
		js, _ = json.Marshal(map[string]any{"account": o.Account, "id": o.ID, "type": o.Type, "status": o.Status,
			"payment_mode_id": o.PaymentModeID, "date": o.Date.Format("2006-01-02 15:04:05"), "modified": o.Modified.Format("2006-01-02 15:04:05")})
	}
	return record{json: js, row: []string{o.Account, itoa(o.ID), strconv.Itoa(o.Type), strconv.Itoa(o.Status), strconv.Itoa(o.PaymentModeID),
		o.PaymentMode, strconv.Itoa(o.PaymentStatus), o.DeliveryMode, o.Date.Format("2006-01-02 15:04:05"), o.Modified.Format("2006-01-02 15:04:05"),
		o.CustomerName, o.ShippingCity, o.ShippingTax.String(), o.Total.String(), o.Currency, strconv.Itoa(len(o.Lines))}}
}

type listingJSON struct {
	Account      string          `json:"account"`
	ID           int64           `json:"id"`
	SalePrice    magflow.Decimal `json:"sale_price"`
	Currency     string          `json:"currency"`
	GeneralStock int             `json:"general_stock"`
	Status       int             `json:"status"`
}

func canonicalRecord(c magflow.CanonicalProduct) record {
	listings := make([]listingJSON, len(c.Listings))
	accounts := make([]string, len(c.Listings))
	var cells []string
	for i, l := range c.Listings {
		listings[i] = listingJSON{Account: l.Account, ID: l.ProductID, SalePrice: l.SalePrice, Currency: l.Currency, GeneralStock: l.GeneralStock, Status: l.Status}
		accounts[i] = l.Account
		cells = append(cells, l.Account+":"+itoa(l.ProductID)+":"+l.SalePrice.String()+" "+l.Currency+":stock "+strconv.Itoa(l.GeneralStock))
	}
	js, _ := json.Marshal(map[string]any{"part_number": c.PartNumber, "source_account": c.SourceAccount, "id": c.Product.ID,
		"part_number_key": c.Product.PartNumberKey, "name": c.Product.Name, "brand": c.Product.Brand, "accounts": accounts, "listings": listings})
	return record{json: js, row: []string{c.PartNumber, c.SourceAccount, itoa(c.Product.ID), c.Product.Name, c.Product.Brand,
		strings.Join(accounts, ";"), strings.Join(cells, " | ")}}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
