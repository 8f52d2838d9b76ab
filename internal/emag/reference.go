package emag

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/magflow/magflow"
)

// The reference resources are small and read rarely, so their types use
// the Flex* field types and encoding/json rather than hand decoders.

// decodeList decodes a results list (or a single object, {} keyed list,
// null or []) into []T with encoding/json.
func decodeList[T any](results []byte) ([]T, error) {
	if ok, err := emptyResults(results); err != nil || ok {
		return nil, err
	}
	each := eachObjectOrList
	if kind(results) == '[' || looksKeyed(results) {
		each = eachListItem
	}
	var out []T
	err := each(results, func(e []byte) error {
		var v T
		if err := json.Unmarshal(e, &v); err != nil {
			return fmt.Errorf("item #%d: %w", len(out), err)
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// looksKeyed reports whether an object's keys are all numeric (a PHP list).
func looksKeyed(obj []byte) bool {
	if kind(obj) != '{' {
		return false
	}
	keyed := true
	_ = eachField(obj, func(k, _ []byte) error {
		for _, ch := range k {
			if ch < '0' || ch > '9' {
				keyed = false
			}
		}
		return nil
	})
	return keyed
}

func readList[T any](ctx context.Context, c *Client, route string, payload any) ([]T, error) {
	return readWith(ctx, c, route, payload, decodeList[T])
}

// readWith reads route and decodes its results with decode.
func readWith[T any](ctx context.Context, c *Client, route string, payload any, decode func([]byte) ([]T, error)) ([]T, error) {
	env, err := c.rpc(ctx, route, payload, false)
	if err != nil {
		return nil, err
	}
	out, err := decode(env.Results)
	if err != nil {
		return nil, c.decodeErr(route, err)
	}
	return out, nil
}

// VAT is one VAT rate the account may use (vat/read); VatRate is a fraction.
type VAT struct {
	VatID     FlexInt         `json:"vat_id"`
	VatRate   magflow.Decimal `json:"vat_rate"`
	IsDefault FlexBool        `json:"is_default"`
}

// ReadVAT lists the VAT rates (vat/read).
func (c *Client) ReadVAT(ctx context.Context) ([]VAT, error) {
	return readList[VAT](ctx, c, "vat/read", nil)
}

// HandlingTime is one handling time value (days) the account may use.
type HandlingTime struct {
	ID    FlexInt `json:"id"`
	Value FlexInt `json:"value,omitempty"`
}

// ReadHandlingTimes lists the allowed handling times (handling_time/read).
func (c *Client) ReadHandlingTimes(ctx context.Context) ([]HandlingTime, error) {
	return readList[HandlingTime](ctx, c, "handling_time/read", nil)
}

// Category is an eMAG category with, when read by id, its characteristics
// and family types.
type Category struct {
	ID                  FlexInt                  `json:"id"`
	Name                FlexString               `json:"name"`
	IsAllowed           FlexInt                  `json:"is_allowed"`
	ParentID            FlexInt                  `json:"parent_id"`
	IsEANMandatory      FlexInt                  `json:"is_ean_mandatory"`
	IsWarrantyMandatory FlexInt                  `json:"is_warranty_mandatory"`
	Characteristics     []CategoryCharacteristic `json:"characteristics"`
	FamilyTypes         []FamilyType             `json:"family_types"`
}

// CategoryCharacteristic describes one characteristic of a category.
// TypeID: 1 numeric, 60 size, 20 boolean; 2 numeric+unit, 11 text, 30
// resolution, 40 volume (multi-value).
type CategoryCharacteristic struct {
	ID            FlexInt         `json:"id"`
	Name          FlexString      `json:"name"`
	TypeID        FlexInt         `json:"type_id"`
	DisplayOrder  FlexInt         `json:"display_order"`
	IsMandatory   FlexInt         `json:"is_mandatory"`
	IsFilter      FlexInt         `json:"is_filter"`
	AllowNewValue FlexInt         `json:"allow_new_value"`
	Values        json.RawMessage `json:"values,omitempty"`
	Tags          FlexStrings     `json:"tags"`
}

// FamilyType is a variant family type of a category.
type FamilyType struct {
	ID              FlexInt                    `json:"id"`
	Name            FlexString                 `json:"name"`
	Characteristics []FamilyTypeCharacteristic `json:"characteristics"`
}

// FamilyTypeCharacteristic is one characteristic of a family type
// (CharacteristicFamilyTypeID: 1 thumbnails, 2 combobox, 3 graphic).
type FamilyTypeCharacteristic struct {
	CharacteristicID           FlexInt `json:"characteristic_id"`
	CharacteristicFamilyTypeID FlexInt `json:"characteristic_family_type_id"`
	IsFoldable                 FlexInt `json:"is_foldable"`
	DisplayOrder               FlexInt `json:"display_order"`
}

// CategoryFilter selects categories. Language (en, ro, hu, bg, pl, gr, de)
// goes in the query string, as eMAG wants.
type CategoryFilter struct {
	ID                int    `json:"id,omitempty"`
	CurrentPage       int    `json:"currentPage,omitempty"`
	ItemsPerPage      int    `json:"itemsPerPage,omitempty"`
	ValuesCurrentPage int    `json:"valuesCurrentPage,omitempty"`
	ValuesPerPage     int    `json:"valuesPerPage,omitempty"`
	Language          string `json:"-"`
}

func (c *Client) categoryRoute(action string, f CategoryFilter) string {
	r := "category/" + action
	if f.Language != "" {
		r += "?language=" + url.QueryEscape(f.Language)
	}
	return r
}

// ReadCategories reads one page of categories (category/read).
func (c *Client) ReadCategories(ctx context.Context, f CategoryFilter) ([]Category, error) {
	route := c.categoryRoute("read", f)
	if e := validatePaging(f.CurrentPage, f.ItemsPerPage); e != nil {
		return nil, c.validated(route, e)
	}
	return readList[Category](ctx, c, route, f)
}

// CountCategories counts categories (category/count).
func (c *Client) CountCategories(ctx context.Context, f CategoryFilter) (Count, error) {
	f.CurrentPage = 0
	return c.count(ctx, c.categoryRoute("count", f), f)
}

// Locality is a delivery locality.
type Locality struct {
	EmagID       FlexInt    `json:"emag_id"`
	Name         FlexString `json:"name"`
	NameLatin    FlexString `json:"name_latin"`
	Region1      FlexString `json:"region1"`
	Region2      FlexString `json:"region2"`
	Region3      FlexString `json:"region3"`
	Region4      FlexString `json:"region4"`
	Region1Latin FlexString `json:"region1_latin"`
	Region2Latin FlexString `json:"region2_latin"`
	Region3Latin FlexString `json:"region3_latin"`
	Region4Latin FlexString `json:"region4_latin"`
	GeoID        FlexInt    `json:"geoid"`
	Modified     FlexString `json:"modified"`
	Zipcode      FlexString `json:"zipcode"`
	CountryCode  FlexString `json:"country_code"`
	ISO2         FlexString `json:"iso2"`
}

// LocalityFilter selects localities; without CountryCode eMAG returns only
// the platform's country.
type LocalityFilter struct {
	EmagID       int64
	Name         string
	Region2      string // county
	CountryCode  string // RO, BG, HU, PL, EL, DE
	Modified     time.Time
	CurrentPage  int
	ItemsPerPage int
}

func (f LocalityFilter) payload(loc *time.Location) json.RawMessage {
	w := newObj()
	w.intNZ("emag_id", f.EmagID)
	w.strNZ("name", f.Name)
	w.strNZ("region2", f.Region2)
	w.strNZ("country_code", f.CountryCode)
	w.timeNZ("modified", f.Modified, loc)
	w.intNZ("currentPage", int64(f.CurrentPage))
	w.intNZ("itemsPerPage", int64(f.ItemsPerPage))
	b, _ := w.bytes()
	return b
}

// ReadLocalities reads one page of localities (locality/read).
func (c *Client) ReadLocalities(ctx context.Context, f LocalityFilter) ([]Locality, error) {
	const route = "locality/read"
	if e := validatePaging(f.CurrentPage, f.ItemsPerPage); e != nil {
		return nil, c.validated(route, e)
	}
	return readList[Locality](ctx, c, route, f.payload(c.loc))
}

// CountLocalities counts localities (locality/count).
func (c *Client) CountLocalities(ctx context.Context, f LocalityFilter) (Count, error) {
	f.CurrentPage = 0
	return c.count(ctx, "locality/count", f.payload(c.loc))
}

// CourierAccount is one courier account of the seller. Type: 1 RMA, 2
// order, 3 both, 4 non-marketplace. Properties: 0 regular home delivery, 2
// lockers, 6 offices, 8 cross-border, 9 BPO.
type CourierAccount struct {
	AccountID                FlexInt    `json:"account_id"`
	AccountDisplayName       FlexString `json:"account_display_name"`
	CourierAccountType       FlexInt    `json:"courier_account_type"`
	CourierName              FlexString `json:"courier_name"`
	CourierAccountProperties []FlexInt  `json:"courier_account_properties"`
	Created                  FlexString `json:"created"`
	Status                   FlexInt    `json:"status"`
	PickupCountryCode        FlexString `json:"pickup_country_code"`
}

// ReadCourierAccounts lists the seller's courier accounts (courier_accounts/read).
func (c *Client) ReadCourierAccounts(ctx context.Context) ([]CourierAccount, error) {
	return readList[CourierAccount](ctx, c, "courier_accounts/read", nil)
}

// Address is one seller address. Type: 1 return, 2 pickup, 3 invoice/HQ,
// 4 delivery estimates.
type Address struct {
	AddressID     FlexString `json:"address_id"`
	CountryID     FlexInt    `json:"country_id"`
	CountryCode   FlexString `json:"country_code"`
	AddressTypeID FlexInt    `json:"address_type_id"`
	LocalityID    FlexInt    `json:"locality_id"`
	Suburb        FlexString `json:"suburb"`
	City          FlexString `json:"city"`
	Address       FlexString `json:"address"`
	Zipcode       FlexString `json:"zipcode"`
	Quarter       FlexString `json:"quarter"`
	Floor         FlexString `json:"floor"`
	IsDefault     FlexBool   `json:"is_default"`
}

// ReadAddresses lists the seller's addresses (addresses/read).
func (c *Client) ReadAddresses(ctx context.Context) ([]Address, error) {
	return readList[Address](ctx, c, "addresses/read", nil)
}

// EANProduct is one catalogue product an EAN search found.
type EANProduct struct {
	EAN               string
	PartNumberKey     string
	ProductName       string
	BrandName         string
	DocCategoryID     int64
	CategoryName      string
	SiteURL           string // absent on Fashion Days
	AllowedToAddOffer bool   // allowed_to_add_offer or allow_to_add_offer
	VendorHasOffer    bool
	Hotness           string // COLD, SUPER COLD, ...; may be empty
	ProductImage      string
	Extra             map[string]json.RawMessage
}

// UnmarshalJSON accepts both spellings eMAG documents.
func (p *EANProduct) UnmarshalJSON(b []byte) error {
	*p = EANProduct{}
	return eachField(b, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "ean", "eans":
			var s []string
			s, err = parseStrings(v)
			if len(s) > 0 {
				p.EAN = s[0]
			}
		case "part_number_key":
			p.PartNumberKey, err = parseString(v)
		case "product_name":
			p.ProductName, err = parseString(v)
		case "brand_name":
			p.BrandName, err = parseString(v)
		case "doc_category_id":
			p.DocCategoryID, err = parseInt64(v)
		case "category_name":
			p.CategoryName, err = parseString(v)
		case "site_url":
			p.SiteURL, err = parseString(v)
		case "allowed_to_add_offer", "allow_to_add_offer":
			p.AllowedToAddOffer, err = parseBool(v)
		case "vendor_has_offer":
			p.VendorHasOffer, err = parseBool(v)
		case "hotness":
			p.Hotness, err = parseString(v)
		case "product_image":
			p.ProductImage, err = parseString(v)
		default:
			putExtra(&p.Extra, k, v)
		}
		return wrapField(k, err)
	})
}

// FindByEANs looks up to 100 EANs in eMAG's catalogue
// (GET documentation/find_by_eans). The map has an entry per EAN eMAG
// answered for; unknown EANs map to an empty list.
func (c *Client) FindByEANs(ctx context.Context, eans []string) (map[string][]EANProduct, error) {
	const route = "documentation/find_by_eans"
	if len(eans) == 0 {
		return nil, c.validated(route, invalid("eans", "pass at least one EAN", "no EANs"))
	}
	if len(eans) > maxEANsPerQuery {
		return nil, c.validated(route, invalid("eans", "split the search into batches of at most 100 EANs", "%d EANs in one request", len(eans)))
	}
	env, err := c.get(ctx, route, url.Values{"eans[]": eans})
	if err != nil {
		return nil, err
	}
	out := map[string][]EANProduct{}
	if ok, err := emptyResults(env.Results); ok || err != nil {
		if err != nil {
			return nil, c.decodeErr(route, err)
		}
		return out, nil
	}
	err = eachField(env.Results, func(k, v []byte) error {
		list := []EANProduct{}
		walk := func(arr []byte) error {
			return eachListItem(arr, func(e []byte) error {
				var p EANProduct
				if err := p.UnmarshalJSON(e); err != nil {
					return err
				}
				list = append(list, p)
				return nil
			})
		}
		var err error
		if kind(v) == '{' {
			err = eachField(v, func(k2, v2 []byte) error {
				if string(k2) == "products" {
					return walk(v2)
				}
				return nil
			})
		} else {
			err = walk(v)
		}
		out[string(k)] = list
		return wrapField(k, err)
	})
	if err != nil {
		return nil, c.decodeErr(route, err)
	}
	return out, nil
}
