package emag

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/magflow/magflow"
)

func dec(s string) magflow.Decimal { return magflow.MustDecimal(s) }

func TestReadProductOffersQuirks(t *testing.T) {
	t.Parallel()
	body := fixture(t, "product_offer_read_quirks.json")
	c, f := newFake(t, map[string]http.HandlerFunc{"/api-3/product_offer/read": jsonAnswer(200, body)})
	one := 1
	got, err := c.ReadProductOffers(bg, ProductOfferFilter{CurrentPage: 2, ItemsPerPage: 100, Status: &one, PartNumberKey: "D7XQ2KMBM"})
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].ContentType != "application/json" {
		t.Fatalf("requests: %+v", reqs)
	}
	if diff := cmp.Diff(map[string]any{"currentPage": 2.0, "itemsPerPage": 100.0, "status": 1.0, "part_number_key": "D7XQ2KMBM"}, bodyMap(t, reqs[0].Body)); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
	if len(got) != 3 {
		t.Fatalf("got %d offers", len(got))
	}
	want := []ProductOffer{
		{
			ID: 1001, PartNumberKey: "D7XQ2KMBM", PartNumber: "ABC-1001", Name: "Lampa birou LED, 10 W, negru",
			Brand: "Acme", BrandName: "Acme", Description: "<p>Lampa și abajur</p>", URL: "https://example.invalid/p/1001",
			CategoryID: 3514, SalePrice: dec("99"), MinSalePrice: dec("50"), MaxSalePrice: dec("200"), Currency: "RON",
			VatID: 1, Warranty: 24, EAN: []string{"5941234567890"}, Status: 1, GeneralStock: 12, EstimatedStock: 11,
			Stock: []WarehouseValue{{1, 12}}, HandlingTime: []WarehouseValue{{1, 1}}, Availability: []WarehouseValue{{0, 3}},
			SupplyLeadTime: 14, OfferDetails: OfferDetails{ID: 42840001, WarrantyType: 1, SupplyLeadTime: 14, EmagClub: 1},
			Images:                      []Image{{URL: "https://example.invalid/1.jpg", DisplayType: 1}},
			Characteristics:             []Characteristic{{ID: 5213, Value: "Negru"}, {ID: 6506, Value: "M", Tag: "original"}},
			ValidationStatus:            []ValidationStatus{{Value: 9, Description: "Approved documentation"}},
			TranslationValidationStatus: []ValidationStatus{{Value: 9, Description: "Approved documentation"}},
			OfferValidationStatus:       []ValidationStatus{{Value: 1, Description: "Saleable"}},
			Ownership:                   true, NumberOfOffers: 2, BuyButtonRank: 1, BestOfferSalePrice: dec("99"), BestOfferRecommendedPrice: dec("99"),
			GeniusEligibility: 1, GeniusEligibilityType: 1, GeniusComputed: 1, Manufacturer: GPSR{Set: true},
		},
		{
			ID: 1002, PartNumberKey: "DLR95JBBM", PartNumber: "ABC-1002", Name: "Telefon X", Brand: "Acme", CategoryID: 578,
			SalePrice: dec("40.5"), RecommendedPrice: dec("55"), MinSalePrice: dec("30"), MaxSalePrice: dec("80"), Currency: "RON",
			VatID: 1, Warranty: 12, EAN: []string{"5941234567891"}, Status: 1, GeneralStock: 3,
			Stock: []WarehouseValue{{0, 139}}, HandlingTime: []WarehouseValue{{1, 0}},
			ValidationStatus: []ValidationStatus{{Value: 8, Description: "Rejected documentation",
				Errors: json.RawMessage(`{"errors": ["value of characteristic with id 5213 is empty", "Mktp Family: invalid name,"]}`)}},
			OfferValidationStatus: []ValidationStatus{{Value: 2, Description: "Invalid price", Errors: json.RawMessage(`[]`)}},
			NumberOfOffers:        5, BestOfferSalePrice: dec("38.1"),
			Manufacturer:      GPSR{Set: true, Entities: []GPSREntity{{Name: "Acme SRL", Address: "Str. X 1, Bucuresti, RO", Email: "gpsr@acme.invalid"}}},
			SafetyInformation: "Nu lasati la indemana copiilor.", GreenTax: dec("0.5"),
			DocErrors:  json.RawMessage(`[{"code": "Invalid characteristics"}]`),
			Commission: json.RawMessage(`{"value": "12.5"}`),
			Extra:      map[string]json.RawMessage{"new_field_2026": json.RawMessage(`{"anything": [1, 2, 3]}`)},
		},
		{
			ID: 1003, PartNumber: "ABC-1003", Name: "Cablu", Brand: "Acme", SalePrice: dec("10.07"), Status: 2,
			Family:                &Family{ID: 295, Name: "Cabluri USB", FamilyTypeID: 219},
			ValidationStatus:      []ValidationStatus{{Value: 0, Description: "Draft", Errors: json.RawMessage(`[]`)}},
			OfferValidationStatus: []ValidationStatus{{Value: 1, Description: "Saleable"}},
			Ownership:             true, EURepresentative: GPSR{Set: true},
		},
	}
	opts := []cmp.Option{cmpopts.IgnoreFields(ProductOffer{}, "Raw"), cmpopts.EquateEmpty(), cmp.Comparer(func(a, b magflow.Decimal) bool { return a == b })}
	if diff := cmp.Diff(want, got, opts...); diff != "" {
		t.Errorf("offers (-want +got):\n%s", diff)
	}
	// Raw holds each item's exact bytes.
	if !strings.HasPrefix(string(got[1].Raw), `{`+"\n"+`      "id": "1002"`) || !json.Valid(got[1].Raw) {
		t.Errorf("raw of #2 = %.60s", got[1].Raw)
	}
	if !strings.Contains(string(fixture(t, "product_offer_read_quirks.json")), string(got[2].Raw)) {
		t.Error("raw is not a verbatim excerpt of the body")
	}
	if msgs := got[1].ValidationStatus[0].ErrorMessages(); len(msgs) != 2 {
		t.Errorf("validation errors = %q", msgs)
	}
	if !got[0].Saleable() || got[1].Saleable() || got[2].Saleable() {
		t.Errorf("saleable = %v %v %v", got[0].Saleable(), got[1].Saleable(), got[2].Saleable())
	}
}

func TestProductOfferValidationBeforeSending(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, nil)
	big := int64(16777216)
	for _, tc := range []struct {
		name  string
		run   func() error
		field string
	}{
		{"items per page above 100", func() error { _, err := c.ReadProductOffers(bg, ProductOfferFilter{ItemsPerPage: 101}); return err }, "itemsPerPage"},
		{"items per page below 1", func() error { _, err := c.ReadProductOffers(bg, ProductOfferFilter{ItemsPerPage: -1}); return err }, "itemsPerPage"},
		{"page above 65535", func() error { _, err := c.ReadProductOffers(bg, ProductOfferFilter{CurrentPage: 65536}); return err }, "currentPage"},
		{"51 entities", func() error { _, err := c.SaveProductOffers(bg, make([]ProductOfferSave, 51)); return err }, "entities"},
		{"save id above 24 bits", func() error {
			_, err := c.SaveProductOffers(bg, []ProductOfferSave{{ID: big, Status: 1}})
			return err
		}, "[0].id"},
		{"save id zero", func() error { _, err := c.SaveOffers(bg, []OfferUpdate{{ID: 0}}); return err }, "[0].id"},
		{"stock above 65535", func() error {
			_, err := c.SaveOffers(bg, []OfferUpdate{{ID: 1, Stock: []WarehouseValue{{1, 70000}}}})
			return err
		}, "[0].stock[0].value"},
		{"sale price outside min/max", func() error {
			sale, lo, hi := dec("250"), dec("50"), dec("200")
			_, err := c.SaveProductOffers(bg, []ProductOfferSave{{ID: 1, Status: 1, SalePrice: &sale, MinSalePrice: &lo, MaxSalePrice: &hi}})
			return err
		}, "[0].sale_price"},
		{"offer stock negative", func() error { return c.UpdateOfferStock(bg, 1001, -1) }, "stock"},
		{"offer stock id", func() error { return c.UpdateOfferStock(bg, big, 1) }, "id"},
		{"measurements three decimals", func() error {
			_, err := c.SaveMeasurements(bg, []Measurement{{ID: 1, Length: dec("1.005")}})
			return err
		}, "[0].length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindValidation || !errors.Is(err, ErrValidation) {
				t.Fatalf("err = %v, want a validation error", err)
			}
			if e.Field != tc.field || e.Fix == "" || e.Remedy() == "" || e.Account != "main" {
				t.Errorf("field %q fix %q account %q; want field %q", e.Field, e.Fix, e.Account, tc.field)
			}
			if magflow.ErrorCode(err) != magflow.EInvalid {
				t.Errorf("code = %q", magflow.ErrorCode(err))
			}
		})
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent; validation must happen before sending", n)
	}
}
