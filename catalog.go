package magflow

import (
	"encoding/json"
	"time"
)

// WarehouseValue is a per-warehouse quantity: stock units or handling days.
type WarehouseValue struct {
	WarehouseID int `json:"warehouse_id"`
	Value       int `json:"value"`
}

// Product is one seller product as one account lists it on eMAG (the
// documentation half of a product_offer row). The same part number may be
// listed by several accounts; CanonicalProduct resolves them.
type Product struct {
	Account       string
	ID            int64 // the seller's internal product id (eMAG "id")
	PartNumber    string
	PartNumberKey string // PNK, eMAG's product key
	Name          string
	Brand         string
	CategoryID    int64
	EAN           []string
	Status        int // 0 inactive, 1 active, 2 end of life
	// ValidationStatus is the first documentation validation status value
	// (9 approved, 8 rejected, ...); OfferValidationStatus 1 saleable, 2 invalid price.
	ValidationStatus      int
	OfferValidationStatus int
	Ownership             bool
	GreenTax              Decimal
	SupplyLeadTime        int
	SafetyInformation     string
	// Raw is the last product_offer/read payload of this record, so no field is lost.
	Raw         json.RawMessage
	ContentHash string
	FirstSeenAt time.Time
	LastSeenAt  time.Time
	// GoneAt is set when a complete scan no longer found the product.
	GoneAt *time.Time
}

// Offer is the commercial half of a product_offer row: price, stock, status.
type Offer struct {
	Account          string
	ProductID        int64
	PartNumber       string
	OfferID          int64 // offer_details.id, eMAG's own offer id
	SalePrice        Decimal
	RecommendedPrice Decimal
	MinSalePrice     Decimal
	MaxSalePrice     Decimal
	BestOfferPrice   Decimal
	Currency         string
	VatID            int
	Status           int
	GeneralStock     int
	EstimatedStock   int
	Stock            []WarehouseValue
	HandlingTime     []WarehouseValue
	Availability     []WarehouseValue
	BuyButtonRank    int
	NumberOfOffers   int
	ContentHash      string
	LastSeenAt       time.Time
	GoneAt           *time.Time
}

// Listing is one account's offer for a SKU, as the canonical view shows it.
type Listing struct {
	Account      string
	ProductID    int64
	SalePrice    Decimal
	Currency     string
	GeneralStock int
	Status       int
}

// CanonicalProduct is the de-duplicated view of one SKU (part number) across
// accounts: the record of the first account in precedence order that lists
// it, and every other account's listing beside it.
type CanonicalProduct struct {
	PartNumber    string
	SourceAccount string
	Product       Product
	Listings      []Listing // every account, in precedence order, the source first
}
