package emag

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/magflow/magflow"
)

// ProductOfferSave is one entity of product_offer/save (§4.1.4): a new
// product with its offer, an offer update (id, status, sale_price, vat_id,
// handling_time, stock), or an offer attached to an existing product
// (part_number_key or one EAN). Only set fields are sent: zero strings,
// zero ints, nil pointers and nil slices are omitted; Status is always sent.
type ProductOfferSave struct {
	ID                  int64 // required, 1..16777215
	CategoryID          int64
	VendorCategoryID    int64
	PartNumberKey       string
	SourceLanguage      string
	Name                string
	PartNumber          string
	Description         string
	Brand               string
	URL                 string
	ForceImagesDownload *int
	Images              []Image
	ImagesOverwrite     *int
	Characteristics     []Characteristic
	Family              *Family // ID 0 removes the product from its family
	Warranty            *int
	EAN                 []string
	Attachments         []SaveAttachment
	Status              int // 0 inactive, 1 active, 2 end of life
	SalePrice           *magflow.Decimal
	RecommendedPrice    *magflow.Decimal
	MinSalePrice        *magflow.Decimal
	MaxSalePrice        *magflow.Decimal
	CurrencyType        string // EUR or PLN, only when not the platform currency
	Stock               []WarehouseValue
	HandlingTime        []WarehouseValue
	SupplyLeadTime      int    // 2, 3, 5, 7, 14, 30, 60, 90 or 120
	StartDate           string // YYYY-MM-DD
	VatID               int
	EmagClub            *int
	SafetyInformation   string
	Manufacturer        []GPSREntity
	EURepresentative    []GPSREntity
	GreenTax            *magflow.Decimal // includes VAT; eMAG RO only
}

// SaveAttachment is a product document to attach (≤ 10 MB).
type SaveAttachment struct {
	ID  int64  `json:"id,omitempty"`
	URL string `json:"url"`
}

// MarshalJSON writes only the keys that are set.
func (p ProductOfferSave) MarshalJSON() ([]byte, error) {
	w := newObj()
	w.int("id", p.ID)
	w.intNZ("category_id", p.CategoryID)
	w.intNZ("vendor_category_id", p.VendorCategoryID)
	w.strNZ("part_number_key", p.PartNumberKey)
	w.strNZ("source_language", p.SourceLanguage)
	w.strNZ("name", p.Name)
	w.strNZ("part_number", p.PartNumber)
	w.strNZ("description", p.Description)
	w.strNZ("brand", p.Brand)
	w.strNZ("url", p.URL)
	w.intPtr("force_images_download", p.ForceImagesDownload)
	if p.Images != nil {
		imgs := make([]map[string]any, len(p.Images))
		for i, im := range p.Images {
			imgs[i] = map[string]any{"display_type": im.DisplayType, "url": im.URL}
		}
		w.any("images", imgs)
	}
	w.intPtr("images_overwrite", p.ImagesOverwrite)
	if p.Characteristics != nil {
		chs := make([]map[string]any, len(p.Characteristics))
		for i, ch := range p.Characteristics {
			m := map[string]any{"id": ch.ID, "value": ch.Value}
			if ch.Tag != "" {
				m["tag"] = ch.Tag
			}
			chs[i] = m
		}
		w.any("characteristics", chs)
	}
	if p.Family != nil {
		w.any("family", map[string]any{"id": p.Family.ID, "name": p.Family.Name, "family_type_id": p.Family.FamilyTypeID})
	}
	w.intPtr("warranty", p.Warranty)
	if p.EAN != nil {
		w.any("ean", p.EAN)
	}
	if p.Attachments != nil {
		w.any("attachments", p.Attachments)
	}
	w.int("status", int64(p.Status))
	w.decPtr("sale_price", p.SalePrice)
	w.decPtr("recommended_price", p.RecommendedPrice)
	w.decPtr("min_sale_price", p.MinSalePrice)
	w.decPtr("max_sale_price", p.MaxSalePrice)
	w.strNZ("currency_type", p.CurrencyType)
	if p.Stock != nil {
		w.any("stock", p.Stock)
	}
	if p.HandlingTime != nil {
		w.any("handling_time", p.HandlingTime)
	}
	w.intNZ("supply_lead_time", int64(p.SupplyLeadTime))
	w.strNZ("start_date", p.StartDate)
	w.intNZ("vat_id", int64(p.VatID))
	w.intPtr("emag_club", p.EmagClub)
	w.strNZ("safety_information", p.SafetyInformation)
	if p.Manufacturer != nil {
		w.any("manufacturer", p.Manufacturer)
	}
	if p.EURepresentative != nil {
		w.any("eu_representative", p.EURepresentative)
	}
	w.decPtr("green_tax", p.GreenTax)
	return w.bytes()
}

var supplyLeadTimes = []int{2, 3, 5, 7, 14, 30, 60, 90, 120}

func (p ProductOfferSave) validate(i int) *Error {
	if e := validateSaveID(i, p.ID); e != nil {
		return e
	}
	f := func(name string) string { return fmt.Sprintf("[%d].%s", i, name) }
	if n := utf8.RuneCountInString(p.Name); n > 255 {
		return invalid(f("name"), "shorten the name to at most 255 characters", "name has %d characters", n)
	}
	if pn := stripPartNumber(p.PartNumber); len(pn) > 25 {
		return invalid(f("part_number"), "use a part number of at most 25 characters (spaces, commas and semicolons are stripped)", "part_number %q is too long", pn)
	}
	if p.Status < 0 || p.Status > 2 {
		return invalid(f("status"), "use status 0 (inactive), 1 (active) or 2 (end of life)", "status %d", p.Status)
	}
	if p.Warranty != nil && (*p.Warranty < 0 || *p.Warranty > 255) {
		return invalid(f("warranty"), "use a warranty between 0 and 255 months", "warranty %d", *p.Warranty)
	}
	if p.CategoryID < 0 || p.CategoryID > 65535 {
		return invalid(f("category_id"), "use a category id between 1 and 65535", "category_id %d", p.CategoryID)
	}
	if e := validateStock(i, "stock", p.Stock); e != nil {
		return e
	}
	for j, h := range p.HandlingTime {
		if h.Value < 0 || h.Value > 255 {
			return invalid(fmt.Sprintf("[%d].handling_time[%d].value", i, j), "use a handling time between 0 and 255 days", "handling_time %d", h.Value)
		}
	}
	if p.SupplyLeadTime != 0 && !slices.Contains(supplyLeadTimes, p.SupplyLeadTime) {
		return invalid(f("supply_lead_time"), "use one of 2, 3, 5, 7, 14, 30, 60, 90, 120 days", "supply_lead_time %d", p.SupplyLeadTime)
	}
	for _, ean := range p.EAN {
		if len(ean) < 6 || len(ean) > 14 || strings.Trim(ean, "0123456789") != "" {
			return invalid(f("ean"), "use EANs of 6 to 14 digits", "ean %q", ean)
		}
	}
	if len(p.Manufacturer) > 10 || len(p.EURepresentative) > 10 {
		return invalid(f("manufacturer"), "send at most 10 GPSR entities per field", "too many GPSR entities")
	}
	if p.GreenTax != nil && p.GreenTax.Cmp(magflow.Decimal{}) < 0 {
		return invalid(f("green_tax"), "use a green tax of 0 or more", "green_tax %s", p.GreenTax)
	}
	if p.RecommendedPrice != nil && p.SalePrice != nil && p.RecommendedPrice.Cmp(*p.SalePrice) <= 0 {
		return invalid(f("recommended_price"), "make recommended_price greater than sale_price, or omit it", "recommended_price %s is not above sale_price %s", p.RecommendedPrice, p.SalePrice)
	}
	return validatePrices(i, p.SalePrice, p.MinSalePrice, p.MaxSalePrice)
}

// stripPartNumber removes what eMAG strips from part numbers.
func stripPartNumber(s string) string {
	return strings.NewReplacer(" ", "", ",", "", ";", "").Replace(s)
}

// SaveResult is the answer of a save that eMAG accepted.
type SaveResult struct {
	Messages []string
	// Results is eMAG's results value verbatim (undocumented for most saves).
	Results json.RawMessage
}

func (c *Client) save(ctx context.Context, route string, payload any) (SaveResult, error) {
	env, err := c.rpc(ctx, route, payload, true)
	if err != nil {
		return SaveResult{}, err
	}
	return SaveResult{Messages: env.Messages, Results: cloneRaw(env.Results)}, nil
}

// SaveProductOffers creates or updates up to 50 products and offers
// (product_offer/save). eMAG may answer isError:true yet save the offer
// (documentation errors): the *Error then reports MaybeApplied.
func (c *Client) SaveProductOffers(ctx context.Context, items []ProductOfferSave) (SaveResult, error) {
	const route = "product_offer/save"
	if e := validateBulk(len(items)); e != nil {
		return SaveResult{}, c.validated(route, e)
	}
	for i, p := range items {
		if e := p.validate(i); e != nil {
			return SaveResult{}, c.validated(route, e)
		}
	}
	return c.save(ctx, route, items)
}

// OfferUpdate is one entity of the light offer API (offer/save): only the
// fields set are sent; the offer must exist.
type OfferUpdate struct {
	ID               int64
	SalePrice        *magflow.Decimal
	RecommendedPrice *magflow.Decimal
	MinSalePrice     *magflow.Decimal
	MaxSalePrice     *magflow.Decimal
	CurrencyType     string
	Stock            []WarehouseValue
	HandlingTime     []WarehouseValue
	VatID            *int
	Status           *int
}

// MarshalJSON writes only the keys that are set.
func (u OfferUpdate) MarshalJSON() ([]byte, error) {
	w := newObj()
	w.int("id", u.ID)
	w.decPtr("sale_price", u.SalePrice)
	w.decPtr("recommended_price", u.RecommendedPrice)
	w.decPtr("min_sale_price", u.MinSalePrice)
	w.decPtr("max_sale_price", u.MaxSalePrice)
	w.strNZ("currency_type", u.CurrencyType)
	if u.Stock != nil {
		w.any("stock", u.Stock)
	}
	if u.HandlingTime != nil {
		w.any("handling_time", u.HandlingTime)
	}
	w.intPtr("vat_id", u.VatID)
	w.intPtr("status", u.Status)
	return w.bytes()
}

// OfferItemResult is eMAG's verdict on one offer of a light save.
type OfferItemResult struct {
	IsError  bool
	Messages []string
}

// OfferSaveResult is the answer of offer/save: one result per offer id.
type OfferSaveResult struct {
	Messages []string
	Items    map[int64]OfferItemResult
}

// Failed lists the offers eMAG rejected, by id.
func (r OfferSaveResult) Failed() []ItemError {
	var out []ItemError
	for id, it := range r.Items {
		if it.IsError {
			out = append(out, ItemError{ID: id, Index: -1, Messages: it.Messages})
		}
	}
	slices.SortFunc(out, func(a, b ItemError) int { return cmpInt64(a.ID, b.ID) })
	return out
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func decodeOfferSaveResults(b []byte) (map[int64]OfferItemResult, error) {
	out := map[int64]OfferItemResult{}
	if ok, err := emptyResults(b); ok || err != nil {
		return out, err
	}
	decodeItem := func(e []byte) (int64, OfferItemResult, error) {
		var id int64
		var it OfferItemResult
		err := eachField(e, func(k, v []byte) error {
			var err error
			switch string(k) {
			case "isError":
				it.IsError, err = parseBool(v)
			case "messages", "message":
				var m []string
				m, err = parseStrings(v)
				it.Messages = append(it.Messages, m...)
			case "id":
				id, err = parseInt64(v)
			}
			return wrapField(k, err)
		})
		return id, it, err
	}
	if kind(b) == '[' {
		// A list of {"id": ..., "isError": ...} entries.
		err := eachElem(b, func(e []byte) error {
			id, it, err := decodeItem(e)
			if err == nil {
				out[id] = it
			}
			return err
		})
		return out, err
	}
	err := eachField(b, func(k, v []byte) error {
		id, err := strconv.ParseInt(string(k), 10, 64)
		if err != nil {
			return fmt.Errorf("result key %q is not an offer id", truncate(string(k), 40))
		}
		_, it, err := decodeItem(v)
		if err != nil {
			return wrapField(k, err)
		}
		out[id] = it
		return nil
	})
	return out, err
}

// SaveOffers updates up to 50 existing offers through the light offer API
// (offer/save). When some offers fail, it returns the full result and a
// *Error of KindPartial whose Items name them.
func (c *Client) SaveOffers(ctx context.Context, updates []OfferUpdate) (OfferSaveResult, error) {
	const route = "offer/save"
	if e := validateBulk(len(updates)); e != nil {
		return OfferSaveResult{}, c.validated(route, e)
	}
	for i, u := range updates {
		if e := validateSaveID(i, u.ID); e != nil {
			return OfferSaveResult{}, c.validated(route, e)
		}
		if e := validateStock(i, "stock", u.Stock); e != nil {
			return OfferSaveResult{}, c.validated(route, e)
		}
		if e := validatePrices(i, u.SalePrice, u.MinSalePrice, u.MaxSalePrice); e != nil {
			return OfferSaveResult{}, c.validated(route, e)
		}
	}
	env, err := c.rpc(ctx, route, updates, true)
	if err != nil {
		return OfferSaveResult{}, err
	}
	items, err := decodeOfferSaveResults(env.Results)
	if err != nil {
		return OfferSaveResult{}, c.decodeErr(route, err)
	}
	for id, it := range items {
		for j, m := range it.Messages {
			it.Messages[j] = c.redact(m)
		}
		items[id] = it
	}
	res := OfferSaveResult{Messages: env.Messages, Items: items}
	if failed := res.Failed(); len(failed) > 0 {
		return res, &Error{Kind: KindPartial, Account: c.opts.Account, Route: route, Status: http.StatusOK, Attempts: 1, Items: failed}
	}
	return res, nil
}

// UpdateOfferStock sets the stock of one offer (PATCH offer_stock/{id}).
// eMAG answers 204; a 400 (invalid value, or an active campaign blocking
// the change) is KindAPI with the field in Items, a 404 KindNotFound.
func (c *Client) UpdateOfferStock(ctx context.Context, id int64, stock int) error {
	route := "offer_stock/" + strconv.FormatInt(id, 10)
	if e := validateSaveID(0, id); e != nil {
		e.Field = "id"
		return c.validated(route, e)
	}
	if stock < 0 || stock > maxStock {
		return c.validated(route, invalid("stock", "use a stock between 0 and 65535", "stock %d out of range", stock))
	}
	body := []byte(`{"stock":` + strconv.Itoa(stock) + `}`)
	cl := &call{method: http.MethodPatch, route: route, url: c.base + "/" + route, body: body, write: true}
	cl.check = func(r *response) error {
		if len(trim(r.body)) == 0 {
			return nil // 204 No Content
		}
		var env envelope
		return c.checkEnvelope(r, true, &env)
	}
	_, err := c.do(ctx, cl)
	return err
}

// Measurement is one product's dimensions (millimetres) and weight (grams),
// each 0..999999 with at most two decimals.
type Measurement struct {
	ID     int64
	Length magflow.Decimal
	Width  magflow.Decimal
	Height magflow.Decimal
	Weight magflow.Decimal
}

// MarshalJSON writes the five keys eMAG requires.
func (m Measurement) MarshalJSON() ([]byte, error) {
	w := newObj()
	w.int("id", m.ID)
	w.dec("length", m.Length)
	w.dec("width", m.Width)
	w.dec("height", m.Height)
	w.dec("weight", m.Weight)
	return w.bytes()
}

// SaveMeasurements saves up to 50 products' dimensions (measurements/save).
func (c *Client) SaveMeasurements(ctx context.Context, ms []Measurement) (SaveResult, error) {
	const route = "measurements/save"
	if e := validateBulk(len(ms)); e != nil {
		return SaveResult{}, c.validated(route, e)
	}
	limit := magflow.DecimalFromInt(999999)
	for i, m := range ms {
		if e := validateSaveID(i, m.ID); e != nil {
			return SaveResult{}, c.validated(route, e)
		}
		for _, v := range []struct {
			name string
			d    magflow.Decimal
		}{{"length", m.Length}, {"width", m.Width}, {"height", m.Height}, {"weight", m.Weight}} {
			if v.d.Cmp(magflow.Decimal{}) < 0 || v.d.Cmp(limit) > 0 || v.d.Units()%100 != 0 {
				return SaveResult{}, c.validated(route, invalid(fmt.Sprintf("[%d].%s", i, v.name),
					"use 0 to 999999 (mm or g) with at most two decimals", "%s %s", v.name, v.d))
			}
		}
	}
	return c.save(ctx, route, ms)
}
