package sandbox

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/magflow/magflow"
)

type statusVal struct {
	Value       int    `json:"value"`
	Description string `json:"description"`
	Errors      any    `json:"errors"`
}

type valueOnly struct {
	Value int `json:"value"`
}

type offerDetails struct {
	ID             int64 `json:"id"`
	WarrantyType   int   `json:"warranty_type"`
	SupplyLeadTime int   `json:"supply_lead_time"`
	EmagClub       int   `json:"emag_club"`
}

// productJSON is a product_offer/read row in eMAG's field order and shapes.
type productJSON struct {
	ID                          int64            `json:"id"`
	PartNumberKey               string           `json:"part_number_key"`
	PartNumber                  string           `json:"part_number"`
	Name                        string           `json:"name"`
	Brand                       string           `json:"brand"`
	BrandName                   string           `json:"brand_name"`
	Description                 string           `json:"description"`
	URL                         string           `json:"url"`
	CategoryID                  int              `json:"category_id"`
	VendorCategoryID            *int             `json:"vendor_category_id"`
	SalePrice                   magflow.Decimal  `json:"sale_price"`
	RecommendedPrice            *magflow.Decimal `json:"recommended_price"`
	MinSalePrice                magflow.Decimal  `json:"min_sale_price"`
	MaxSalePrice                magflow.Decimal  `json:"max_sale_price"`
	BestOfferSalePrice          magflow.Decimal  `json:"best_offer_sale_price"`
	BestOfferRecommendedPrice   magflow.Decimal  `json:"best_offer_recommended_price"`
	Currency                    string           `json:"currency"`
	VatID                       int              `json:"vat_id"`
	Warranty                    int              `json:"warranty"`
	EAN                         []string         `json:"ean"`
	Status                      int              `json:"status"`
	GeneralStock                int              `json:"general_stock"`
	EstimatedStock              int              `json:"estimated_stock"`
	Stock                       []wv             `json:"stock"`
	HandlingTime                []wv             `json:"handling_time"`
	Availability                []valueOnly      `json:"availability"`
	SupplyLeadTime              int              `json:"supply_lead_time"`
	OfferDetails                offerDetails     `json:"offer_details"`
	Images                      []image          `json:"images"`
	Attachments                 []any            `json:"attachments"`
	Characteristics             []charVal        `json:"characteristics"`
	Family                      *family          `json:"family"`
	ValidationStatus            []statusVal      `json:"validation_status"`
	TranslationValidationStatus []statusVal      `json:"translation_validation_status"`
	OfferValidationStatus       statusVal        `json:"offer_validation_status"`
	DocErrors                   any              `json:"doc_errors"`
	Ownership                   bool             `json:"ownership"`
	NumberOfOffers              int              `json:"number_of_offers"`
	BuyButtonRank               *int             `json:"buy_button_rank"`
	GeniusEligibility           int              `json:"genius_eligibility"`
	GeniusEligibilityType       int              `json:"genius_eligibility_type"`
	GeniusComputed              int              `json:"genius_computed"`
	SafetyInformation           string           `json:"safety_information"`
	Manufacturer                any              `json:"manufacturer"`
	EURepresentative            any              `json:"eu_representative"`
	GreenTax                    magflow.Decimal  `json:"green_tax"`
	AutoTranslated              int              `json:"auto_translated"`
	RecycleWarranties           int              `json:"recyclewarranties"`
	ReversibleVATCharging       bool             `json:"reversible_vat_charging"`
	Commission                  any              `json:"commission"`
	Weight                      string           `json:"weight"`
}

// json renders the product as product_offer/read shows it. Filtered by id,
// the GPSR manufacturer and eu_representative are the lists; unfiltered they
// are booleans that say whether a list exists. Callers hold the account's
// read lock.
func (p *product) json(filteredByID bool) []byte {
	if !filteredByID {
		if b := p.cache.Load(); b != nil {
			return *b
		}
	}
	offers := 1
	if p.entry != nil {
		offers = max(1, int(p.entry.offers.Load()))
	}
	best := p.SalePrice
	if p.BuyButtonRank == nil || *p.BuyButtonRank != 1 {
		best = p.SalePrice.Sub(magflow.NewDecimal(p.SalePrice.Units() / 20 / 100 * 100))
	}
	bestRec := best
	if p.RecommendedPrice != nil {
		bestRec = *p.RecommendedPrice
	}
	vs := statusVal{Value: p.Validation, Description: validationDescriptions[p.Validation], Errors: p.ValidationErrors}
	ov := statusVal{Value: p.OfferValidation, Description: "Saleable"}
	if p.OfferValidation == 2 {
		ov.Description = "Invalid price"
	}
	availability := 3
	if p.generalStock() == 0 {
		availability = 5
	}
	var docErrors any
	if p.Validation == 8 {
		docErrors = []map[string]any{{"code": "Invalid images", "message": "user_message: Photo Gallery Validation - No valid images have been found."}}
	}
	geniusComputed := 0
	if p.Genius == 1 && p.Status == 1 {
		geniusComputed = p.GeniusType
	}
	j := productJSON{
		ID: p.ID, PartNumberKey: p.PNK, PartNumber: p.PartNumber, Name: p.Name, Brand: p.Brand, BrandName: p.Brand,
		Description: p.Description, URL: p.URL, CategoryID: p.CategoryID,
		SalePrice: p.SalePrice, RecommendedPrice: p.RecommendedPrice, MinSalePrice: p.MinSalePrice, MaxSalePrice: p.MaxSalePrice,
		BestOfferSalePrice: best, BestOfferRecommendedPrice: bestRec,
		Currency: p.Currency, VatID: p.VatID, Warranty: p.Warranty, EAN: nonNil(p.EAN), Status: p.Status,
		GeneralStock: p.generalStock(), EstimatedStock: p.estimatedStock(), Stock: nonNil(p.Stock), HandlingTime: nonNil(p.HandlingTime),
		Availability:   []valueOnly{{Value: availability}},
		SupplyLeadTime: p.SupplyLeadTime,
		OfferDetails:   offerDetails{ID: p.OfferID, WarrantyType: 1, SupplyLeadTime: p.SupplyLeadTime, EmagClub: p.EmagClub},
		Images:         nonNil(p.Images), Attachments: []any{}, Characteristics: nonNil(p.Characteristics), Family: p.Family,
		ValidationStatus: []statusVal{vs}, TranslationValidationStatus: []statusVal{vs}, OfferValidationStatus: ov,
		DocErrors: docErrors, Ownership: p.Ownership, NumberOfOffers: offers, BuyButtonRank: p.BuyButtonRank,
		GeniusEligibility: p.Genius, GeniusEligibilityType: p.GeniusType, GeniusComputed: geniusComputed,
		SafetyInformation: p.SafetyInfo, GreenTax: p.GreenTax, Weight: "0.000000",
	}
	if filteredByID {
		j.Manufacturer = nonNil(p.Manufacturer)
		j.EURepresentative = nonNil(p.EURepresentative)
	} else {
		j.Manufacturer = len(p.Manufacturer) > 0
		j.EURepresentative = len(p.EURepresentative) > 0
	}
	b, err := marshal(j)
	if err != nil {
		panic(err) // only plain values: cannot fail
	}
	if !filteredByID {
		p.cache.Store(&b)
	}
	return b
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// marshal encodes without escaping HTML, as PHP's json_encode does with
// JSON_UNESCAPED_SLASHES (eMAG's descriptions keep their tags readable).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuf(b *bytes.Buffer) {
	if b.Cap() > 4<<20 {
		return // let outsized buffers go
	}
	bufPool.Put(b)
}
