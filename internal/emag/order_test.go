package emag

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/magflow/magflow"
)

func TestReadOrdersBigID(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, map[string]http.HandlerFunc{"/api-3/order/read": jsonAnswer(200, fixture(t, "order_read_big_id.json"))})
	loc := c.Location()
	after := time.Date(2025, 10, 1, 0, 0, 0, 0, loc)
	three := 3
	got, err := c.ReadOrders(bg, OrderFilter{CurrentPage: 1, ItemsPerPage: 100, Status: []int{1, 2}, Type: &three,
		ModifiedAfter: after, ModifiedBefore: after.AddDate(0, 1, 0).Add(-time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	wantBody := map[string]any{"currentPage": 1.0, "itemsPerPage": 100.0, "status": []any{1.0, 2.0}, "type": 3.0,
		"modifiedAfter": "2025-10-01 00:00:00", "modifiedBefore": "2025-10-31 23:59:59"}
	if diff := cmp.Diff(wantBody, bodyMap(t, f.requests()[0].Body)); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	if len(got) != 1 {
		t.Fatalf("%d orders", len(got))
	}
	o := got[0]
	if o.ID != 3115229985 || o.Status != 1 || o.Type != 3 || o.PaymentModeID != 1 || o.DeliveryMode != "pickup" {
		t.Errorf("order header = %+v", o)
	}
	if want := time.Date(2025, 10, 13, 10, 1, 2, 0, loc); !o.Date.Equal(want) || o.Date.Location() != loc {
		t.Errorf("date = %v, want %v", o.Date, want)
	}
	if o.Details.LockerID == "" || o.Details.LockerDeliveryEligible != 1 || o.Details.CourierExternalOfficeID != "" {
		t.Errorf("details = %+v", o.Details)
	}
	if o.Customer.ShippingLocalityID != 41 || o.Customer.BillingLocalityID != 41 || o.Customer.ShippingStreet != "Str. Exemplu 2 [EasyBox #9194]" {
		t.Errorf("customer = %+v", o.Customer)
	}
	if len(o.Products) != 1 {
		t.Fatalf("products = %+v", o.Products)
	}
	p := o.Products[0]
	if p.ProductID != 1001 || p.SalePrice != dec("82.6446") || p.VAT != dec("0.21") || p.Campaign == nil || p.Campaign.Name != "Black Friday" {
		t.Errorf("line = %+v", p)
	}
	if len(p.ProductVoucherSplit) != 1 || p.ProductVoucherSplit[0].Value != dec("-8.2645") || len(p.RecycleWarranties) != 1 {
		t.Errorf("line splits = %+v %+v", p.ProductVoucherSplit, p.RecycleWarranties)
	}
	if o.ShippingTax != dec("14.99") || len(o.Vouchers) != 1 || o.Vouchers[0].SalePriceVAT != dec("-10") || len(o.Attachments) != 1 || o.Attachments[0].OrderID != 3115229985 {
		t.Errorf("money/vouchers/attachments = %v %+v %+v", o.ShippingTax, o.Vouchers, o.Attachments)
	}
	if o.ReasonCancellation != nil || o.EnforcedVendorCourierAccounts != nil || o.Currency != "RON" || len(o.Flags) != 1 {
		t.Errorf("tail = %+v %s %q %+v", o.ReasonCancellation, o.EnforcedVendorCourierAccounts, o.Currency, o.Flags)
	}
	if len(o.Extra) != 0 || !json.Valid(o.Raw) {
		t.Errorf("extra = %v", o.Extra)
	}
}

func TestReadOrdersQuirks(t *testing.T) {
	t.Parallel()
	c, _ := newFake(t, map[string]http.HandlerFunc{"/api-3/order/read": jsonAnswer(200, fixture(t, "order_read_quirks.json"))})
	got, err := c.ReadOrders(bg, OrderFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d orders", len(got))
	}
	a, b, z := got[0], got[1], got[2]
	if a.ID != 4294967296 || a.PaymentModeID != 0 || !cmp.Equal(a.Details, OrderDetails{}) || a.CashedCO != dec("12.5") || a.RefundedAmount != dec("10.5") {
		t.Errorf("first = %+v", a)
	}
	if diff := cmp.Diff(&CancellationReason{ID: 24, Name: "By customer request"}, a.ReasonCancellation); diff != "" {
		t.Error(diff)
	}
	if string(a.EnforcedVendorCourierAccounts) != "[]" || string(a.Extra["brand_new_field"]) != `"kept"` {
		t.Errorf("enforced %s extra %v", a.EnforcedVendorCourierAccounts, a.Extra)
	}
	if b.Type != 3 || b.PaymentModeID != 2 || b.ReasonCancellation == nil || b.ReasonCancellation.ID != 1 || !b.Modified.IsZero() || !b.FinalizationDate.IsZero() {
		t.Errorf("second = %+v", b)
	}
	if len(b.Products) != 1 || b.Products[0].Quantity != 2 || b.Products[0].SalePrice != dec("10") || string(b.Products[0].Details) != `{"x": 1}` {
		t.Errorf("second products = %+v", b.Products)
	}
	if z.ReasonCancellation == nil || z.ReasonCancellation.ID != 21 || z.Products != nil {
		t.Errorf("third = %+v", z)
	}
}

func TestCountStrings(t *testing.T) {
	t.Parallel()
	body := fixture(t, "count_strings.json")
	c, f := newFake(t, map[string]http.HandlerFunc{
		"/api-3/order/count":         jsonAnswer(200, body),
		"/api-3/product_offer/count": jsonAnswer(200, body),
	})
	want := Count{Items: 797, Pages: 8, ItemsPerPage: 100}
	n, err := c.CountOrders(bg, OrderFilter{Status: []int{4}})
	if err != nil || n != want {
		t.Fatalf("order count = %+v, %v", n, err)
	}
	n, err = c.CountProductOffers(bg, ProductOfferFilter{ItemsPerPage: 100})
	if err != nil || n != want {
		t.Fatalf("offer count = %+v, %v", n, err)
	}
	if got := bodyMap(t, f.requests()[0].Body); !cmp.Equal(got, map[string]any{"status": []any{4.0}}) {
		t.Errorf("count body = %v", got)
	}
}

func TestOrderDateWindows(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, nil)
	day := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		count bool
		f     OrderFilter
		field string
	}{
		{"before without after", false, OrderFilter{CreatedBefore: day}, "createdAfter"},
		{"window over one month", false, OrderFilter{ModifiedAfter: day, ModifiedBefore: day.AddDate(0, 1, 1)}, "modifiedBefore"},
		{"before earlier than after", false, OrderFilter{CreatedAfter: day, CreatedBefore: day.Add(-time.Hour)}, "createdBefore"},
		{"count needs both ends", true, OrderFilter{ModifiedAfter: day}, "modifiedBefore"},
		{"items per page", false, OrderFilter{ItemsPerPage: 300}, "itemsPerPage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.count {
				_, err = c.CountOrders(bg, tc.f)
			} else {
				_, err = c.ReadOrders(bg, tc.f)
			}
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindValidation || e.Field != tc.field || e.Fix == "" {
				t.Fatalf("err = %v (field %q), want validation of %s", err, e.Field, tc.field)
			}
		})
	}
	if len(f.requests()) != 0 {
		t.Error("invalid filters reached the server")
	}
}

func TestOrderWrites(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, map[string]http.HandlerFunc{
		"/api-3/order/acknowledge/3115229985": jsonAnswer(200, ok("[]")),
		"/api-3/order/save":                   jsonAnswer(200, ok("[]")),
		"/api-3/order/attachments/save":       jsonAnswer(200, ok("[]")),
	})
	if err := c.AcknowledgeOrder(bg, 3115229985); err != nil {
		t.Fatal(err)
	}
	base := json.RawMessage(`{"id":3115229985,"status":2,"observation":null,"products":[{"id":87503654,"product_id":1001,"status":1,"quantity":2,"sale_price":"82.6446"}]}`)
	four, storno := 4, true
	_, err := c.SaveOrders(bg, []OrderSave{{Base: base, Status: &four, IsStorno: &storno, Products: []OrderProductSave{
		{Base: json.RawMessage(`{"id":87503654,"product_id":1001,"status":1,"quantity":2,"sale_price":"82.6446"}`), Status: 1, Quantity: 1},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SaveOrderAttachments(bg, []OrderAttachment{{OrderID: 3115229985, OrderType: 3, Name: "Factura ABC 123", URL: "https://example.invalid/inv/123.pdf", Type: 1}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if reqs[0].Path != "/api-3/order/acknowledge/3115229985" || reqs[0].Method != "POST" {
		t.Errorf("ack = %+v", reqs[0])
	}
	var saved []map[string]any
	if err := json.Unmarshal(reqs[1].Body, &saved); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{{"id": 3115229985.0, "status": 4.0, "is_storno": true, "observation": nil,
		"products": []any{map[string]any{"id": 87503654.0, "product_id": 1001.0, "status": 1.0, "quantity": 1.0, "sale_price": "82.6446"}}}}
	if diff := cmp.Diff(want, saved); diff != "" {
		t.Errorf("order/save body (-want +got):\n%s", diff)
	}
	var atts []map[string]any
	_ = json.Unmarshal(reqs[2].Body, &atts)
	if diff := cmp.Diff([]map[string]any{{"order_id": 3115229985.0, "order_type": 3.0, "name": "Factura ABC 123", "url": "https://example.invalid/inv/123.pdf", "type": 1.0}}, atts); diff != "" {
		t.Errorf("attachments body (-want +got):\n%s", diff)
	}
	if magflow.ErrorCode(c.AcknowledgeOrder(bg, 0)) != magflow.EInvalid {
		t.Error("ack of order 0 was not refused")
	}
}
