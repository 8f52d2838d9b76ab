package emag

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"

	"github.com/magflow/magflow"
)

// ProductOffer is one row of product_offer/read: the seller's product
// documentation and its offer. Every documented and observed field is typed
// leniently (§4.1.2); null numbers decode as 0. Raw holds the item's exact
// bytes as received and Extra every field this type does not know.
type ProductOffer struct {
	ID             int64 // the seller's internal product id
	PartNumberKey  string
	PartNumber     string
	Name           string
	Brand          string
	BrandName      string
	Description    string
	URL            string
	SourceLanguage string

	CategoryID       int64
	VendorCategoryID int64

	SalePrice                 magflow.Decimal // without VAT
	RecommendedPrice          magflow.Decimal
	MinSalePrice              magflow.Decimal
	MaxSalePrice              magflow.Decimal
	BestOfferSalePrice        magflow.Decimal
	BestOfferRecommendedPrice magflow.Decimal
	GreenTax                  magflow.Decimal // includes VAT; eMAG RO only
	Currency                  string
	CurrencyType              string
	VatID                     int
	Warranty                  int
	EAN                       []string

	Status         int // 0 inactive, 1 active, 2 end of life
	GeneralStock   int
	EstimatedStock int
	Stock          []WarehouseValue
	HandlingTime   []WarehouseValue
	Availability   []WarehouseValue
	SupplyLeadTime int // top-level on save; on read usually in OfferDetails
	EmagClub       int
	StartDate      string
	OfferDetails   OfferDetails

	Images          []Image
	Attachments     []json.RawMessage
	Characteristics []Characteristic
	Family          *Family // nil when null or []

	NumberOfOffers int
	BuyButtonRank  int // 1 owns the buy button; 0 when null
	// Ownership is true when the seller may edit the documentation
	// (ownership 1 or true); false for 2 or false.
	Ownership bool

	ValidationStatus            []ValidationStatus
	TranslationValidationStatus []ValidationStatus
	// OfferValidationStatus is documented as a list and sent as an object;
	// both decode here (an object becomes one element).
	OfferValidationStatus []ValidationStatus

	GeniusEligibility     int
	GeniusEligibilityType int
	GeniusComputed        int

	// GPSR: flags when read unfiltered, lists when reading one product.
	Manufacturer      GPSR
	EURepresentative  GPSR
	SafetyInformation string

	AutoTranslated        int
	RecycleWarranties     int
	ReversibleVATCharging bool
	Commission            json.RawMessage // null or an object
	Weight                magflow.Decimal // removed in 4.4.7, kept for old data
	DocErrors             json.RawMessage

	// Raw is the item exactly as eMAG sent it.
	Raw json.RawMessage
	// Extra holds fields this type does not know yet, verbatim.
	Extra map[string]json.RawMessage
}

// WarehouseValue is a per-warehouse stock or handling time. It converts to
// magflow.WarehouseValue.
type WarehouseValue struct {
	WarehouseID int `json:"warehouse_id"`
	Value       int `json:"value"`
}

// UnmarshalJSON decodes leniently.
func (w *WarehouseValue) UnmarshalJSON(b []byte) error {
	*w = WarehouseValue{}
	if kind(b) != '{' {
		// A bare number: one warehouse.
		n, err := parseInt(b)
		w.Value = n
		return err
	}
	return eachField(b, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "warehouse_id":
			w.WarehouseID, err = parseInt(v)
		case "value":
			w.Value, err = parseInt(v)
		}
		return wrapField(k, err)
	})
}

func decodeWarehouseValues(v []byte) ([]WarehouseValue, error) {
	var out []WarehouseValue
	err := eachObjectOrList(v, func(e []byte) error {
		var w WarehouseValue
		if err := w.UnmarshalJSON(e); err != nil {
			return err
		}
		out = append(out, w)
		return nil
	})
	return out, err
}

// OfferDetails is eMAG's own offer record inside a product_offer row.
type OfferDetails struct {
	ID             int64 // eMAG's offer id
	WarrantyType   int
	SupplyLeadTime int
	EmagClub       int
	Extra          map[string]json.RawMessage
}

// UnmarshalJSON decodes leniently; null and [] leave it zero.
func (d *OfferDetails) UnmarshalJSON(b []byte) error {
	*d = OfferDetails{}
	ok, err := objectOrEmpty(b)
	if err != nil || !ok {
		return err
	}
	return eachField(b, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "id":
			d.ID, err = parseInt64(v)
		case "warranty_type":
			d.WarrantyType, err = parseInt(v)
		case "supply_lead_time":
			d.SupplyLeadTime, err = parseInt(v)
		case "emag_club":
			d.EmagClub, err = parseInt(v)
		default:
			putExtra(&d.Extra, k, v)
		}
		return wrapField(k, err)
	})
}

// Image is a product image: display_type 1 main, 2 secondary, 0 other.
type Image struct {
	URL         string
	DisplayType int
}

// UnmarshalJSON decodes leniently.
func (im *Image) UnmarshalJSON(b []byte) error {
	*im = Image{}
	if kind(b) == '"' {
		s, err := parseString(b)
		im.URL = s
		return err
	}
	return eachField(b, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "url":
			im.URL, err = parseString(v)
		case "display_type":
			im.DisplayType, err = parseInt(v)
		}
		return wrapField(k, err)
	})
}

// Characteristic is one characteristic value; multi-value characteristics
// repeat the id, tagged ones carry Tag.
type Characteristic struct {
	ID    int64
	Value string
	Tag   string
}

// UnmarshalJSON decodes leniently.
func (ch *Characteristic) UnmarshalJSON(b []byte) error {
	*ch = Characteristic{}
	return eachField(b, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "id":
			ch.ID, err = parseInt64(v)
		case "value":
			ch.Value, err = parseString(v)
		case "tag":
			ch.Tag, err = parseString(v)
		}
		return wrapField(k, err)
	})
}

// Family groups product variants.
type Family struct {
	ID           int64
	Name         string
	FamilyTypeID int
}

// ValidationStatus is one validation state: {"value": 9, "description":
// "Approved documentation", "errors": null}. Errors is kept verbatim: eMAG
// sends null, [], a list of strings or an object.
type ValidationStatus struct {
	Value       int
	Description string
	Errors      json.RawMessage
}

// UnmarshalJSON decodes leniently; a bare number is a value alone.
func (s *ValidationStatus) UnmarshalJSON(b []byte) error {
	*s = ValidationStatus{}
	if kind(b) != '{' {
		n, err := parseInt(b)
		s.Value = n
		return err
	}
	return eachField(b, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "value":
			s.Value, err = parseInt(v)
		case "description":
			s.Description, err = parseString(v)
		case "errors":
			if !isNull(v) {
				s.Errors = cloneRaw(v)
			}
		}
		return wrapField(k, err)
	})
}

// ErrorMessages flattens Errors into strings: a list of strings, the
// values of an object, or nothing for null and [].
func (s ValidationStatus) ErrorMessages() []string {
	if len(s.Errors) == 0 {
		return nil
	}
	var out []string
	var walk func(v []byte)
	walk = func(v []byte) {
		switch kind(v) {
		case '[':
			_ = eachElem(v, func(e []byte) error { walk(e); return nil })
		case '{':
			_ = eachField(v, func(_, e []byte) error { walk(e); return nil })
		case '"', '0':
			if str, err := parseString(v); err == nil && str != "" {
				out = append(out, str)
			}
		}
	}
	walk(s.Errors)
	return out
}

func decodeValidationStatuses(v []byte) ([]ValidationStatus, error) {
	var out []ValidationStatus
	err := eachObjectOrList(v, func(e []byte) error {
		var s ValidationStatus
		if err := s.UnmarshalJSON(e); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	if err != nil && kind(v) == '0' {
		// A bare number (older shape).
		n, nerr := parseInt(v)
		if nerr == nil {
			return []ValidationStatus{{Value: n}}, nil
		}
	}
	return out, err
}

// GPSR is a GPSR field (manufacturer, eu_representative): a flag when
// products are read unfiltered, the list of entities when one product is
// read. Set reports the flag, or a non-empty list.
type GPSR struct {
	Set      bool
	Entities []GPSREntity
}

// GPSREntity is a manufacturer or EU representative.
type GPSREntity struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Email   string `json:"email"`
}

// UnmarshalJSON accepts a boolean (or 0/1) or a list (or one object).
func (g *GPSR) UnmarshalJSON(b []byte) error {
	*g = GPSR{}
	switch kind(b) {
	case '[', '{':
		err := eachObjectOrList(b, func(e []byte) error {
			var en GPSREntity
			err := eachField(e, func(k, v []byte) error {
				var err error
				switch string(k) {
				case "name":
					en.Name, err = parseString(v)
				case "address":
					en.Address, err = parseString(v)
				case "email":
					en.Email, err = parseString(v)
				}
				return wrapField(k, err)
			})
			g.Entities = append(g.Entities, en)
			return err
		})
		g.Set = len(g.Entities) > 0
		return err
	}
	set, err := parseBool(b)
	g.Set = set
	return err
}

// UnmarshalJSON decodes a product_offer item; it keeps b as Raw.
func (o *ProductOffer) UnmarshalJSON(b []byte) error {
	return o.decode(b)
}

// ValidationValue returns the first validation_status value, or -1.
func (o *ProductOffer) ValidationValue() int {
	if len(o.ValidationStatus) == 0 {
		return -1
	}
	return o.ValidationStatus[0].Value
}

// OfferValidationValue returns the offer_validation_status value (1
// saleable, 2 invalid price), or -1.
func (o *ProductOffer) OfferValidationValue() int {
	if len(o.OfferValidationStatus) == 0 {
		return -1
	}
	return o.OfferValidationStatus[0].Value
}

// Saleable applies eMAG's rule (§4.1.3): stock above zero, status 1, offer
// validation 1 and documentation validation 3, 9, 11 or 12.
func (o *ProductOffer) Saleable() bool {
	if o.GeneralStock <= 0 || o.Status != 1 || o.OfferValidationValue() != 1 {
		return false
	}
	switch o.ValidationValue() {
	case 3, 9, 11, 12:
		return true
	}
	return false
}

func (o *ProductOffer) decode(b []byte) error {
	*o = ProductOffer{}
	b = trim(b)
	if kind(b) != '{' {
		return fmt.Errorf("product offer: want an object, got %s", describe(b))
	}
	o.Raw = cloneRaw(b)
	return eachField(o.Raw, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "id":
			o.ID, err = parseInt64(v)
		case "part_number_key":
			o.PartNumberKey, err = parseString(v)
		case "part_number":
			o.PartNumber, err = parseString(v)
		case "name":
			o.Name, err = parseString(v)
		case "brand":
			o.Brand, err = parseString(v)
		case "brand_name":
			o.BrandName, err = parseString(v)
		case "description":
			o.Description, err = parseString(v)
		case "url":
			o.URL, err = parseString(v)
		case "source_language":
			o.SourceLanguage, err = parseString(v)
		case "category_id":
			o.CategoryID, err = parseInt64(v)
		case "vendor_category_id":
			o.VendorCategoryID, err = parseInt64(v)
		case "sale_price":
			o.SalePrice, err = parseDecimal(v)
		case "recommended_price":
			o.RecommendedPrice, err = parseDecimal(v)
		case "min_sale_price":
			o.MinSalePrice, err = parseDecimal(v)
		case "max_sale_price":
			o.MaxSalePrice, err = parseDecimal(v)
		case "best_offer_sale_price":
			o.BestOfferSalePrice, err = parseDecimal(v)
		case "best_offer_recommended_price":
			o.BestOfferRecommendedPrice, err = parseDecimal(v)
		case "green_tax":
			o.GreenTax, err = parseDecimal(v)
		case "currency":
			o.Currency, err = parseString(v)
		case "currency_type":
			o.CurrencyType, err = parseString(v)
		case "vat_id":
			o.VatID, err = parseInt(v)
		case "warranty":
			o.Warranty, err = parseInt(v)
		case "ean":
			o.EAN, err = parseStrings(v)
		case "status":
			o.Status, err = parseInt(v)
		case "general_stock":
			o.GeneralStock, err = parseInt(v)
		case "estimated_stock":
			o.EstimatedStock, err = parseInt(v)
		case "stock":
			o.Stock, err = decodeWarehouseValues(v)
		case "handling_time":
			o.HandlingTime, err = decodeWarehouseValues(v)
		case "availability":
			o.Availability, err = decodeWarehouseValues(v)
		case "supply_lead_time":
			o.SupplyLeadTime, err = parseInt(v)
		case "emag_club":
			o.EmagClub, err = parseInt(v)
		case "start_date":
			o.StartDate, err = parseString(v)
		case "offer_details":
			err = o.OfferDetails.UnmarshalJSON(v)
			if err == nil && o.SupplyLeadTime == 0 {
				o.SupplyLeadTime = o.OfferDetails.SupplyLeadTime
			}
		case "images":
			err = appendEach(&o.Images, v, (*Image).UnmarshalJSON)
		case "attachments":
			err = eachListItem(v, func(e []byte) error {
				o.Attachments = append(o.Attachments, cloneRaw(e))
				return nil
			})
		case "characteristics":
			err = appendEach(&o.Characteristics, v, (*Characteristic).UnmarshalJSON)
		case "family":
			var ok bool
			ok, err = objectOrEmpty(v)
			if ok {
				f := &Family{}
				err = eachField(v, func(k, v []byte) error {
					var err error
					switch string(k) {
					case "id":
						f.ID, err = parseInt64(v)
					case "name":
						f.Name, err = parseString(v)
					case "family_type_id":
						f.FamilyTypeID, err = parseInt(v)
					}
					return wrapField(k, err)
				})
				o.Family = f
			}
		case "number_of_offers":
			o.NumberOfOffers, err = parseInt(v)
		case "buy_button_rank":
			o.BuyButtonRank, err = parseInt(v)
		case "ownership":
			var n int64
			n, err = parseInt64(v)
			o.Ownership = n == 1
		case "validation_status":
			o.ValidationStatus, err = decodeValidationStatuses(v)
		case "translation_validation_status":
			o.TranslationValidationStatus, err = decodeValidationStatuses(v)
		case "offer_validation_status":
			o.OfferValidationStatus, err = decodeValidationStatuses(v)
		case "genius_eligibility":
			o.GeniusEligibility, err = parseInt(v)
		case "genius_eligibility_type":
			o.GeniusEligibilityType, err = parseInt(v)
		case "genius_computed":
			o.GeniusComputed, err = parseInt(v)
		case "manufacturer":
			err = o.Manufacturer.UnmarshalJSON(v)
		case "eu_representative":
			err = o.EURepresentative.UnmarshalJSON(v)
		case "safety_information":
			o.SafetyInformation, err = parseString(v)
		case "auto_translated":
			o.AutoTranslated, err = parseInt(v)
		case "recyclewarranties":
			o.RecycleWarranties, err = parseInt(v)
		case "reversible_vat_charging":
			o.ReversibleVATCharging, err = parseBool(v)
		case "commission":
			if !isNull(v) {
				o.Commission = v // already a copy: Raw is ours
			}
		case "weight":
			o.Weight, err = parseDecimal(v)
		case "doc_errors":
			if !isNull(v) {
				o.DocErrors = v
			}
		default:
			if o.Extra == nil {
				o.Extra = make(map[string]json.RawMessage, 2)
			}
			o.Extra[string(k)] = v // sub-slice of Raw, which this item owns
		}
		return wrapField(k, err)
	})
}

// decodeProductOffers decodes a product_offer/read results list.
func decodeProductOffers(results []byte) ([]ProductOffer, error) {
	if ok, err := emptyResults(results); ok || err != nil {
		return nil, err
	}
	// Items run 1-3 KB; size the slice from the body instead of a counting pass.
	out := make([]ProductOffer, 0, min(len(results)/1024+1, magflow.MaxItemsPerPage))
	err := eachListItem(results, func(e []byte) error {
		out = append(out, ProductOffer{})
		if err := out[len(out)-1].decode(e); err != nil {
			return fmt.Errorf("product offer #%d: %w", len(out)-1, err)
		}
		return nil
	})
	return out, err
}

// emptyResults reports whether results is absent, null, [] or {}.
func emptyResults(results []byte) (bool, error) {
	switch kind(results) {
	case 0, 'n':
		return true, nil
	case '[':
		return len(trim(results)) >= 2 && skipWS(trim(results), 1) == len(trim(results))-1, nil
	case '{':
		empty := true
		err := eachField(results, func(_, _ []byte) error { empty = false; return nil })
		return empty, err
	case '"':
		return string(trim(results)) == `""`, nil
	}
	return false, fmt.Errorf("results: want a list, got %s", describe(results))
}

// ProductOfferFilter selects product_offer rows. Zero values are omitted;
// pointers distinguish "filter on 0" from "no filter".
type ProductOfferFilter struct {
	CurrentPage                 int    `json:"currentPage,omitempty"`
	ItemsPerPage                int    `json:"itemsPerPage,omitempty"`
	ID                          int64  `json:"id,omitempty"`
	Status                      *int   `json:"status,omitempty"`
	PartNumber                  string `json:"part_number,omitempty"`
	PartNumberKey               string `json:"part_number_key,omitempty"`
	GeneralStock                *int   `json:"general_stock,omitempty"`
	EstimatedStock              *int   `json:"estimated_stock,omitempty"`
	OfferValidationStatus       *int   `json:"offer_validation_status,omitempty"`
	ValidationStatus            *int   `json:"validation_status,omitempty"`
	TranslationValidationStatus *int   `json:"translation_validation_status,omitempty"`
}

func (f ProductOfferFilter) validate() *Error {
	if e := validatePaging(f.CurrentPage, f.ItemsPerPage); e != nil {
		return e
	}
	if f.ID < 0 || f.ID > 4294967295 {
		return invalid("id", "use a seller product id between 1 and 4294967295", "id %d out of range", f.ID)
	}
	return nil
}

// ReadProductOffers reads one page of product offers (product_offer/read).
func (c *Client) ReadProductOffers(ctx context.Context, f ProductOfferFilter) ([]ProductOffer, error) {
	const route = "product_offer/read"
	if e := f.validate(); e != nil {
		return nil, c.validated(route, e)
	}
	return readWith(ctx, c, route, f, decodeProductOffers)
}

// CountProductOffers counts the offers f selects (product_offer/count).
func (c *Client) CountProductOffers(ctx context.Context, f ProductOfferFilter) (Count, error) {
	const route = "product_offer/count"
	f.CurrentPage = 0
	if e := f.validate(); e != nil {
		return Count{}, c.validated(route, e)
	}
	return c.count(ctx, route, f)
}

// ProductOfferPages walks every page of f (CurrentPage is the start page;
// ItemsPerPage defaults to 100), with the total from product_offer/count on
// every page. maxPages 0 means no cap.
func (c *Client) ProductOfferPages(ctx context.Context, f ProductOfferFilter, maxPages int) iter.Seq2[Page[ProductOffer], error] {
	if f.ItemsPerPage == 0 {
		f.ItemsPerPage = magflow.MaxItemsPerPage
	}
	return Pager[ProductOffer]{
		Start:    f.CurrentPage,
		MaxPages: maxPages,
		Count: func(ctx context.Context) (Count, error) {
			return c.CountProductOffers(ctx, f)
		},
		Fetch: func(ctx context.Context, page int) ([]ProductOffer, error) {
			g := f
			g.CurrentPage = page
			return c.ReadProductOffers(ctx, g)
		},
	}.All(ctx)
}
