package httpapi

import (
	"encoding/json"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
)

// Wire types: what the API sends. Amounts are strings with four decimals
// ("82.6446"), as eMAG sends them; times are RFC 3339 in UTC.

// Opt is an optional query parameter: Set tells whether the client sent it.
type Opt[T any] struct {
	Value T
	Set   bool
}

// Receiver implements huma.ParamWrapper.
func (o *Opt[T]) Receiver() reflect.Value { return reflect.ValueOf(o).Elem().Field(0) }

// OnParamSet implements huma.ParamReactor.
func (o *Opt[T]) OnParamSet(isSet bool, _ any) { o.Set = isSet }

// Schema implements huma.SchemaProvider: the parameter is a T.
func (o Opt[T]) Schema(r huma.Registry) *huma.Schema {
	return huma.SchemaFromType(r, reflect.TypeFor[T]())
}

// Ptr returns a pointer to the value, nil when unset.
func (o Opt[T]) Ptr() *T {
	if !o.Set {
		return nil
	}
	v := o.Value
	return &v
}

// Page is the pagination block of every list.
type Page struct {
	Total  int `json:"total" doc:"Items matching the filters, over every page."`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
	// Next is the offset of the next page, absent on the last one.
	Next *int `json:"next_offset,omitempty"`
}

func pageOf(total, limit, offset, got int) Page {
	p := Page{Total: total, Limit: limit, Offset: offset}
	if offset+got < total && got > 0 {
		n := offset + got
		p.Next = &n
	}
	return p
}

// WarehouseValue is a per-warehouse quantity.
type WarehouseValue struct {
	WarehouseID int `json:"warehouse_id"`
	Value       int `json:"value"`
}

func warehouses(ws []magflow.WarehouseValue) []WarehouseValue {
	out := make([]WarehouseValue, len(ws))
	for i, w := range ws {
		out[i] = WarehouseValue(w)
	}
	return out
}

// Offer is one account's offer for a product.
type Offer struct {
	Account          string           `json:"account"`
	ProductID        int64            `json:"product_id"`
	PartNumber       string           `json:"part_number"`
	OfferID          int64            `json:"offer_id"`
	SalePrice        string           `json:"sale_price" example:"121.8400"`
	RecommendedPrice string           `json:"recommended_price"`
	MinSalePrice     string           `json:"min_sale_price"`
	MaxSalePrice     string           `json:"max_sale_price"`
	BestOfferPrice   string           `json:"best_offer_price"`
	Currency         string           `json:"currency"`
	VatID            int              `json:"vat_id"`
	Status           int              `json:"status"`
	GeneralStock     int              `json:"general_stock"`
	EstimatedStock   int              `json:"estimated_stock"`
	Stock            []WarehouseValue `json:"stock"`
	HandlingTime     []WarehouseValue `json:"handling_time"`
	Availability     []WarehouseValue `json:"availability"`
	BuyButtonRank    int              `json:"buy_button_rank"`
	NumberOfOffers   int              `json:"number_of_offers"`
	LastSeenAt       time.Time        `json:"last_seen_at"`
	GoneAt           *time.Time       `json:"gone_at,omitempty"`
}

func offerOf(o magflow.Offer) Offer {
	return Offer{Account: o.Account, ProductID: o.ProductID, PartNumber: o.PartNumber, OfferID: o.OfferID,
		SalePrice: o.SalePrice.String(), RecommendedPrice: o.RecommendedPrice.String(), MinSalePrice: o.MinSalePrice.String(),
		MaxSalePrice: o.MaxSalePrice.String(), BestOfferPrice: o.BestOfferPrice.String(), Currency: o.Currency, VatID: o.VatID,
		Status: o.Status, GeneralStock: o.GeneralStock, EstimatedStock: o.EstimatedStock, Stock: warehouses(o.Stock),
		HandlingTime: warehouses(o.HandlingTime), Availability: warehouses(o.Availability), BuyButtonRank: o.BuyButtonRank,
		NumberOfOffers: o.NumberOfOffers, LastSeenAt: o.LastSeenAt, GoneAt: o.GoneAt}
}

// Listing is one account's listing of a SKU in the canonical view.
type Listing struct {
	Account      string `json:"account"`
	ProductID    int64  `json:"product_id"`
	SalePrice    string `json:"sale_price"`
	Currency     string `json:"currency"`
	GeneralStock int    `json:"general_stock"`
	Status       int    `json:"status"`
}

// Product is one account's product.
type Product struct {
	Account               string     `json:"account"`
	ID                    int64      `json:"id" doc:"The seller's product id on eMAG (unique per account)."`
	PartNumber            string     `json:"part_number"`
	PartNumberKey         string     `json:"part_number_key" doc:"eMAG's product key (PNK)."`
	Name                  string     `json:"name"`
	Brand                 string     `json:"brand"`
	CategoryID            int64      `json:"category_id"`
	EAN                   []string   `json:"ean"`
	Status                int        `json:"status" doc:"0 inactive, 1 active, 2 end of life."`
	ValidationStatus      int        `json:"validation_status"`
	OfferValidationStatus int        `json:"offer_validation_status"`
	Ownership             bool       `json:"ownership"`
	GreenTax              string     `json:"green_tax"`
	SupplyLeadTime        int        `json:"supply_lead_time"`
	FirstSeenAt           time.Time  `json:"first_seen_at"`
	LastSeenAt            time.Time  `json:"last_seen_at"`
	GoneAt                *time.Time `json:"gone_at,omitempty" doc:"Set when a complete scan no longer found the product."`
	UpdatedAt             time.Time  `json:"updated_at"`
}

func productOf(p sqldb.StoredProduct) Product {
	ean := p.EAN
	if ean == nil {
		ean = []string{}
	}
	return Product{Account: p.Account, ID: p.ID, PartNumber: p.PartNumber, PartNumberKey: p.PartNumberKey, Name: p.Name,
		Brand: p.Brand, CategoryID: p.CategoryID, EAN: ean, Status: p.Status, ValidationStatus: p.ValidationStatus,
		OfferValidationStatus: p.OfferValidationStatus, Ownership: p.Ownership, GreenTax: p.GreenTax.String(),
		SupplyLeadTime: p.SupplyLeadTime, FirstSeenAt: p.FirstSeenAt, LastSeenAt: p.LastSeenAt, GoneAt: p.GoneAt, UpdatedAt: p.UpdatedAt}
}

// ProductItem is one row of the product list.
type ProductItem struct {
	Product
	Offer *Offer `json:"offer" doc:"The account's own offer for the product; null when it has none."`
	// Listings is set in the canonical view: every account's listing of the
	// SKU, the source account first.
	Listings []Listing `json:"listings,omitempty" doc:"Canonical view: every account listing this SKU, the source account first."`
}

// ProductDetail is one product with every account's offer for its SKU.
type ProductDetail struct {
	Product
	Images          json.RawMessage `json:"images,omitempty"`
	Characteristics json.RawMessage `json:"characteristics,omitempty"`
	Raw             json.RawMessage `json:"raw,omitempty" doc:"The last product_offer/read payload of this product, as eMAG sent it."`
	Offers          []Offer         `json:"offers" doc:"Every account's offer for the product's part number, the product's own first."`
}

// OrderLine is one product line of an order.
type OrderLine struct {
	ID            int64  `json:"id"`
	ProductID     int64  `json:"product_id"`
	PartNumber    string `json:"part_number"`
	PartNumberKey string `json:"part_number_key"`
	Name          string `json:"name"`
	Quantity      int    `json:"quantity"`
	SalePrice     string `json:"sale_price"`
	VAT           string `json:"vat"`
	Currency      string `json:"currency"`
	Status        int    `json:"status"`
}

// Order is one customer order.
type Order struct {
	Account       string          `json:"account"`
	ID            int64           `json:"id"`
	Type          int             `json:"type" doc:"2 fulfilled by eMAG (FBE), 3 by the seller."`
	Status        int             `json:"status" doc:"0 canceled, 1 new, 2 in progress, 3 prepared, 4 finalized, 5 returned."`
	PaymentModeID int             `json:"payment_mode_id"`
	PaymentMode   string          `json:"payment_mode"`
	PaymentStatus int             `json:"payment_status"`
	DeliveryMode  string          `json:"delivery_mode"`
	Date          time.Time       `json:"date"`
	Modified      time.Time       `json:"modified"`
	CustomerName  string          `json:"customer_name"`
	CustomerEmail string          `json:"customer_email"`
	CustomerPhone string          `json:"customer_phone"`
	ShippingCity  string          `json:"shipping_city"`
	ShippingTax   string          `json:"shipping_tax"`
	Total         string          `json:"total"`
	Currency      string          `json:"currency"`
	LastSeenAt    time.Time       `json:"last_seen_at"`
	Lines         []OrderLine     `json:"lines,omitempty"`
	Raw           json.RawMessage `json:"raw,omitempty"`
}

func orderOf(o magflow.Order, withRaw bool) Order {
	out := Order{Account: o.Account, ID: o.ID, Type: o.Type, Status: o.Status, PaymentModeID: o.PaymentModeID, PaymentMode: o.PaymentMode,
		PaymentStatus: o.PaymentStatus, DeliveryMode: o.DeliveryMode, Date: o.Date, Modified: o.Modified, CustomerName: o.CustomerName,
		CustomerEmail: o.CustomerEmail, CustomerPhone: o.CustomerPhone, ShippingCity: o.ShippingCity, ShippingTax: o.ShippingTax.String(),
		Total: o.Total.String(), Currency: o.Currency, LastSeenAt: o.LastSeenAt}
	for _, l := range o.Lines {
		out.Lines = append(out.Lines, OrderLine{ID: l.ID, ProductID: l.ProductID, PartNumber: l.PartNumber, PartNumberKey: l.PartNumberKey,
			Name: l.Name, Quantity: l.Quantity, SalePrice: l.SalePrice.String(), VAT: l.VAT.String(), Currency: l.Currency, Status: l.Status})
	}
	if withRaw && len(o.Raw) > 0 {
		out.Raw = o.Raw
	}
	return out
}

// Counters are a run's figures.
type Counters = magflow.RunCounters

// Run is one sync run.
type Run struct {
	ID          int64             `json:"id"`
	Account     string            `json:"account"`
	Stream      magflow.Stream    `json:"stream" enum:"products,offers,orders"`
	Status      magflow.RunStatus `json:"status" enum:"pending,running,completed,partial,failed,cancelled"`
	Trigger     string            `json:"trigger" doc:"cli, api or schedule."`
	StartedAt   time.Time         `json:"started_at"`
	FinishedAt  *time.Time        `json:"finished_at,omitempty"`
	HeartbeatAt time.Time         `json:"heartbeat_at"`
	DurationSec float64           `json:"duration_seconds"`
	Capped      bool              `json:"capped" doc:"Stopped by max_pages_per_account: not a complete scan."`
	Reason      string            `json:"reason,omitempty" doc:"Why the run stopped, when it did not complete."`
	Counters    Counters          `json:"counters"`
}

func runOf(r sqldb.Run, now time.Time) Run {
	end := now
	if r.FinishedAt != nil {
		end = *r.FinishedAt
	}
	return Run{ID: r.ID, Account: r.Account, Stream: r.Stream, Status: r.Status, Trigger: r.Trigger, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, HeartbeatAt: r.HeartbeatAt, DurationSec: end.Sub(r.StartedAt).Seconds(), Capped: r.Capped,
		Reason: r.Reason, Counters: r.Counters}
}

// Hole is a page that failed after every retry.
type Hole struct {
	Page  int    `json:"page"`
	Error string `json:"error"`
	Tries int    `json:"tries"`
}

// Progress is the live state of one run.
type Progress struct {
	RunID      int64             `json:"run_id"`
	Account    string            `json:"account"`
	Stream     magflow.Stream    `json:"stream"`
	Status     magflow.RunStatus `json:"status"`
	Page       int               `json:"page"`
	TotalPages int               `json:"total_pages"`
	Percent    float64           `json:"percent" doc:"Pages done over total pages, 0-100; 0 while the total is unknown."`
	Items      int               `json:"items"`
	Inserted   int               `json:"inserted"`
	Updated    int               `json:"updated"`
	Unchanged  int               `json:"unchanged"`
	Requests   int               `json:"requests"`
	Retries    int               `json:"retries"`
	Throttled  int               `json:"throttled" doc:"429 answers from eMAG."`
	Holes      int               `json:"holes"`
	Rate       float64           `json:"rate" doc:"Items per second."`
	ETASeconds float64           `json:"eta_seconds"`
	StartedAt  time.Time         `json:"started_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

func progressOf(p sqldb.Progress) Progress {
	c := p.Counters
	pct := 0.0
	if c.TotalPages > 0 {
		pct = min(100, float64(c.Page)*100/float64(c.TotalPages))
	}
	if p.Status == magflow.RunCompleted {
		pct = 100
	}
	return Progress{RunID: p.RunID, Account: p.Account, Stream: p.Stream, Status: p.Status, Page: c.Page, TotalPages: c.TotalPages,
		Percent: pct, Items: c.Items, Inserted: c.Inserted, Updated: c.Updated, Unchanged: c.Unchanged, Requests: c.Requests,
		Retries: c.Retries, Throttled: c.Throttled, Holes: c.Holes, Rate: p.Rate, ETASeconds: p.ETA.Seconds(),
		StartedAt: p.StartedAt, UpdatedAt: p.UpdatedAt}
}

// Schedule is the scheduled sync configuration.
type Schedule struct {
	Enabled               bool             `json:"enabled"`
	IntervalMinutes       int              `json:"interval_minutes" doc:"Period of catalogue (products, offers) syncs."`
	OrdersIntervalMinutes int              `json:"orders_interval_minutes" doc:"Period of order syncs."`
	Streams               []magflow.Stream `json:"streams"`
	Source                string           `json:"source" enum:"stored,config" doc:"stored: saved through the API; config: the EMAG_* settings, nothing saved yet."`
	UpdatedAt             *time.Time       `json:"updated_at,omitempty"`
	UpdatedBy             string           `json:"updated_by,omitempty"`
}
