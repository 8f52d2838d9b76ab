package emag

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/magflow/magflow"
)

// Order is one order of order/read with every documented and observed field
// (§4.6.5). Ids are int64 (real ids exceed 2^31). Dates are read in the
// client's Location; null numbers decode as 0. Raw holds the order exactly
// as received and Extra the fields this type does not know.
type Order struct {
	ID                      int64
	VendorName              string
	Status                  int // 0 canceled, 1 new, 2 in progress, 3 prepared, 4 finalized, 5 returned
	IsComplete              int
	Type                    int // 2 FBE, 3 fulfilled by seller
	ParentID                int64
	Date                    time.Time // cart submission
	Created                 time.Time
	Modified                time.Time
	PaymentMode             string
	PaymentModeID           int // 1 COD, 2 bank transfer, 3 card; 0 when null
	DetailedPaymentMethod   string
	DeliveryPaymentMode     string
	DeliveryMode            string // courier or pickup
	Observation             string
	Details                 OrderDetails // zero when {} or []
	PaymentStatus           int
	CashedCO                magflow.Decimal
	CashedCOD               magflow.Decimal
	ShippingTax             magflow.Decimal
	ShippingTaxVoucherSplit []VoucherSplit
	Customer                Customer
	Products                []OrderProduct
	Attachments             []OrderAttachmentInfo
	Vouchers                []Voucher
	Proforms                []json.RawMessage
	IsStorno                bool
	RefundedAmount          magflow.Decimal
	RefundStatus            string
	CancellationRequest     json.RawMessage
	HasEditableProducts     int
	// ReasonCancellation is documented as an int code and sent as
	// {"id", "name"}; both decode here. nil when null.
	ReasonCancellation     *CancellationReason
	MaximumDateForShipment time.Time
	LateShipment           int
	FinalizationDate       time.Time
	Flags                  []OrderFlag
	EmagClub               int
	WeekendDelivery        int
	// EnforcedVendorCourierAccounts is kept verbatim: null means any
	// courier, a list restricts to those accounts, [] means no AWB can be
	// issued from the marketplace.
	EnforcedVendorCourierAccounts json.RawMessage
	Currency                      string

	Raw   json.RawMessage
	Extra map[string]json.RawMessage
}

// OrderDetails are the delivery details (locker pickup).
type OrderDetails struct {
	LockerID                string
	LockerName              string
	LockerDeliveryEligible  int
	CourierExternalOfficeID string
	Extra                   map[string]json.RawMessage
}

// Customer is an order's customer with billing and shipping addresses.
type Customer struct {
	ID                 int64
	MktID              int64
	Name               string
	Email              string
	Company            string
	Gender             string
	Code               string // company registration code
	RegistrationNumber string
	Bank               string
	IBAN               string
	Fax                string
	LegalEntity        int
	IsVATPayer         int
	Phone1             string
	Phone2             string
	Phone3             string
	BillingName        string
	BillingPhone       string
	BillingCountry     string
	BillingSuburb      string // county
	BillingCity        string
	BillingLocalityID  int64
	BillingStreet      string
	BillingPostalCode  string
	LiablePerson       string
	ShippingCountry    string
	ShippingSuburb     string
	ShippingCity       string
	ShippingLocalityID int64
	ShippingStreet     string // for lockers e.g. "... [EasyBox #9194]"
	ShippingPostalCode string
	ShippingContact    string
	ShippingPhone      string
	Created            time.Time
	Modified           time.Time
	Extra              map[string]json.RawMessage
}

// OrderProduct is one product line of an order.
type OrderProduct struct {
	ID                    int64 // the order-line id
	ProductID             int64 // the seller's product id
	MktID                 int64
	Name                  string
	ProductVoucherSplit   []VoucherSplit
	Status                int // 0 canceled, 1 active
	PartNumber            string
	ExtPartNumber         string
	PartNumberKey         string
	Created               time.Time
	Modified              time.Time
	Currency              string
	Quantity              int
	InitialQty            int
	StornoQty             int
	SalePrice             magflow.Decimal // without VAT
	OriginalPrice         magflow.Decimal
	VAT                   magflow.Decimal // a fraction: 0.1900
	RetainedAmount        magflow.Decimal
	ReversibleVATCharging int
	Details               json.RawMessage
	Attachments           []OrderAttachmentInfo
	RecycleWarranties     []RecycleWarranty
	SerialNumbers         string
	Campaign              *Campaign
	Extra                 map[string]json.RawMessage
}

// VoucherSplit is a voucher's share on a line or on shipping.
type VoucherSplit struct {
	VoucherID   int64
	Value       magflow.Decimal
	VATValue    magflow.Decimal
	VAT         magflow.Decimal
	OfferedBy   string
	VoucherName string
}

// Voucher is an order-level voucher (amounts are negative).
type Voucher struct {
	ID           int64
	VoucherID    int64
	Modified     time.Time
	Created      time.Time
	Status       int
	SalePriceVAT magflow.Decimal
	SalePrice    magflow.Decimal
	VAT          magflow.Decimal
	VoucherName  string
	IssueDate    time.Time
}

// OrderAttachmentInfo is a document attached to an order or a line.
type OrderAttachmentInfo struct {
	Name          string
	URL           string
	Type          int
	ForceDownload int
	Visibility    string
	OrderID       int64
}

// RecycleWarranty is a deposit (e.g. "Taxa SGR metal") on a line.
type RecycleWarranty struct {
	Quantity                    int
	SalePrice                   magflow.Decimal
	VATRate                     magflow.Decimal
	ProductName                 string
	RecycleWarrantyVoucherSplit []VoucherSplit
}

// Campaign is the campaign a line was sold in.
type Campaign struct {
	ID   int64
	Name string
}

// CancellationReason is a reason_cancellation code and, when sent, its name.
type CancellationReason struct {
	ID   int
	Name string
}

// OrderFlag is one {flag, value} pair.
type OrderFlag struct {
	Flag  string
	Value string
}

// decoder carries the zone for dates.
type decoder struct{ loc *time.Location }

// UnmarshalJSON decodes an order (dates in UTC; the client uses its
// Location).
func (o *Order) UnmarshalJSON(b []byte) error { return decoder{time.UTC}.order(o, b) }

func (d decoder) order(o *Order, b []byte) error {
	*o = Order{}
	if kind(b) != '{' {
		return fmt.Errorf("order: want an object, got %s", describe(b))
	}
	o.Raw = cloneRaw(b)
	return eachField(o.Raw, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "id":
			o.ID, err = parseInt64(v)
		case "vendor_name":
			o.VendorName, err = parseString(v)
		case "status":
			o.Status, err = parseInt(v)
		case "is_complete":
			o.IsComplete, err = parseInt(v)
		case "type":
			o.Type, err = parseInt(v)
		case "parent_id":
			o.ParentID, err = parseInt64(v)
		case "date":
			o.Date, err = parseTime(v, d.loc)
		case "created":
			o.Created, err = parseTime(v, d.loc)
		case "modified":
			o.Modified, err = parseTime(v, d.loc)
		case "payment_mode":
			o.PaymentMode, err = parseString(v)
		case "payment_mode_id":
			o.PaymentModeID, err = parseInt(v)
		case "detailed_payment_method":
			o.DetailedPaymentMethod, err = parseString(v)
		case "delivery_payment_mode":
			o.DeliveryPaymentMode, err = parseString(v)
		case "delivery_mode":
			o.DeliveryMode, err = parseString(v)
		case "observation":
			o.Observation, err = parseString(v)
		case "details":
			err = d.orderDetails(&o.Details, v)
		case "payment_status":
			o.PaymentStatus, err = parseInt(v)
		case "cashed_co":
			o.CashedCO, err = parseDecimal(v)
		case "cashed_cod":
			o.CashedCOD, err = parseDecimal(v)
		case "shipping_tax":
			o.ShippingTax, err = parseDecimal(v)
		case "shipping_tax_voucher_split":
			o.ShippingTaxVoucherSplit, err = decodeEach(v, voucherSplit)
		case "customer":
			var ok bool
			if ok, err = objectOrEmpty(v); ok {
				err = d.customer(&o.Customer, v)
			}
		case "products":
			err = appendEach(&o.Products, v, d.orderProduct)
		case "attachments":
			o.Attachments, err = decodeEach(v, attachment)
		case "vouchers":
			err = appendEach(&o.Vouchers, v, d.voucher)
		case "proforms":
			err = eachListItem(v, func(e []byte) error {
				o.Proforms = append(o.Proforms, e)
				return nil
			})
		case "is_storno":
			o.IsStorno, err = parseBool(v)
		case "refunded_amount":
			o.RefundedAmount, err = parseDecimal(v)
		case "refund_status":
			o.RefundStatus, err = parseString(v)
		case "cancellation_request":
			if !isNull(v) {
				o.CancellationRequest = v
			}
		case "has_editable_products":
			o.HasEditableProducts, err = parseInt(v)
		case "reason_cancellation", "cancellation_reason":
			o.ReasonCancellation, err = parseCancellationReason(v)
		case "maximum_date_for_shipment":
			o.MaximumDateForShipment, err = parseTime(v, d.loc)
		case "late_shipment":
			o.LateShipment, err = parseInt(v)
		case "finalization_date":
			o.FinalizationDate, err = parseTime(v, d.loc)
		case "flags":
			err = appendEach(&o.Flags, v, orderFlag)
		case "emag_club":
			o.EmagClub, err = parseInt(v)
		case "weekend_delivery":
			o.WeekendDelivery, err = parseInt(v)
		case "enforced_vendor_courier_accounts":
			if !isNull(v) {
				o.EnforcedVendorCourierAccounts = v
			}
		case "currency":
			o.Currency, err = parseString(v)
		default:
			if o.Extra == nil {
				o.Extra = make(map[string]json.RawMessage, 2)
			}
			o.Extra[string(k)] = v
		}
		return wrapField(k, err)
	})
}

func parseCancellationReason(v []byte) (*CancellationReason, error) {
	switch kind(v) {
	case 'n':
		return nil, nil
	case '{':
		r := &CancellationReason{}
		err := eachField(v, func(k, v []byte) error {
			var err error
			switch string(k) {
			case "id":
				r.ID, err = parseInt(v)
			case "name":
				r.Name, err = parseString(v)
			}
			return wrapField(k, err)
		})
		return r, err
	case '[':
		if ok, err := emptyResults(v); ok || err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("want a code or {id, name}, got a list")
	}
	if s, _ := parseString(v); s == "" {
		return nil, nil
	}
	n, err := parseInt(v)
	if err != nil {
		return nil, err
	}
	return &CancellationReason{ID: n}, nil
}

func (d decoder) orderDetails(out *OrderDetails, v []byte) error {
	*out = OrderDetails{}
	ok, err := objectOrEmpty(v)
	if err != nil || !ok {
		return err
	}
	return eachField(v, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "locker_id":
			out.LockerID, err = parseString(v)
		case "locker_name":
			out.LockerName, err = parseString(v)
		case "locker_delivery_eligible":
			out.LockerDeliveryEligible, err = parseInt(v)
		case "courier_external_office_id":
			out.CourierExternalOfficeID, err = parseString(v)
		default:
			putExtra(&out.Extra, k, v)
		}
		return wrapField(k, err)
	})
}

func (d decoder) customer(c *Customer, v []byte) error {
	return eachField(v, func(k, v []byte) error {
		var err error
		s := func(dst *string) { *dst, err = parseString(v) }
		switch string(k) {
		case "id":
			c.ID, err = parseInt64(v)
		case "mkt_id":
			c.MktID, err = parseInt64(v)
		case "name":
			s(&c.Name)
		case "email":
			s(&c.Email)
		case "company":
			s(&c.Company)
		case "gender":
			s(&c.Gender)
		case "code":
			s(&c.Code)
		case "registration_number":
			s(&c.RegistrationNumber)
		case "bank":
			s(&c.Bank)
		case "iban":
			s(&c.IBAN)
		case "fax":
			s(&c.Fax)
		case "legal_entity":
			c.LegalEntity, err = parseInt(v)
		case "is_vat_payer":
			c.IsVATPayer, err = parseInt(v)
		case "phone_1":
			s(&c.Phone1)
		case "phone_2":
			s(&c.Phone2)
		case "phone_3":
			s(&c.Phone3)
		case "billing_name":
			s(&c.BillingName)
		case "billing_phone":
			s(&c.BillingPhone)
		case "billing_country":
			s(&c.BillingCountry)
		case "billing_suburb":
			s(&c.BillingSuburb)
		case "billing_city":
			s(&c.BillingCity)
		case "billing_locality_id":
			c.BillingLocalityID, err = parseInt64(v)
		case "billing_street":
			s(&c.BillingStreet)
		case "billing_postal_code":
			s(&c.BillingPostalCode)
		case "liable_person":
			s(&c.LiablePerson)
		case "shipping_country":
			s(&c.ShippingCountry)
		case "shipping_suburb":
			s(&c.ShippingSuburb)
		case "shipping_city":
			s(&c.ShippingCity)
		case "shipping_locality_id":
			c.ShippingLocalityID, err = parseInt64(v)
		case "shipping_street":
			s(&c.ShippingStreet)
		case "shipping_postal_code":
			s(&c.ShippingPostalCode)
		case "shipping_contact":
			s(&c.ShippingContact)
		case "shipping_phone":
			s(&c.ShippingPhone)
		case "created":
			c.Created, err = parseTime(v, d.loc)
		case "modified":
			c.Modified, err = parseTime(v, d.loc)
		default:
			putExtra(&c.Extra, k, v)
		}
		return wrapField(k, err)
	})
}

func orderFlag(f *OrderFlag, v []byte) error {
	return eachField(v, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "flag":
			f.Flag, err = parseString(v)
		case "value":
			f.Value, err = parseString(v)
		}
		return wrapField(k, err)
	})
}

func (d decoder) orderProduct(p *OrderProduct, v []byte) error {
	return eachField(v, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "id":
			p.ID, err = parseInt64(v)
		case "product_id":
			p.ProductID, err = parseInt64(v)
		case "mkt_id":
			p.MktID, err = parseInt64(v)
		case "name":
			p.Name, err = parseString(v)
		case "product_voucher_split":
			p.ProductVoucherSplit, err = decodeEach(v, voucherSplit)
		case "status":
			p.Status, err = parseInt(v)
		case "part_number":
			p.PartNumber, err = parseString(v)
		case "ext_part_number":
			p.ExtPartNumber, err = parseString(v)
		case "part_number_key":
			p.PartNumberKey, err = parseString(v)
		case "created":
			p.Created, err = parseTime(v, d.loc)
		case "modified":
			p.Modified, err = parseTime(v, d.loc)
		case "currency":
			p.Currency, err = parseString(v)
		case "quantity":
			p.Quantity, err = parseInt(v)
		case "initial_qty":
			p.InitialQty, err = parseInt(v)
		case "storno_qty":
			p.StornoQty, err = parseInt(v)
		case "sale_price":
			p.SalePrice, err = parseDecimal(v)
		case "original_price":
			p.OriginalPrice, err = parseDecimal(v)
		case "vat":
			p.VAT, err = parseDecimal(v)
		case "retained_amount":
			p.RetainedAmount, err = parseDecimal(v)
		case "reversible_vat_charging":
			p.ReversibleVATCharging, err = parseInt(v)
		case "details":
			if !isNull(v) {
				p.Details = cloneRaw(v)
			}
		case "attachments":
			p.Attachments, err = decodeEach(v, attachment)
		case "recycle_warranties":
			err = appendEach(&p.RecycleWarranties, v, recycleWarranty)
		case "serial_numbers":
			p.SerialNumbers, err = parseString(v)
		case "campaign":
			var ok bool
			if ok, err = objectOrEmpty(v); ok {
				cp := &Campaign{}
				err = eachField(v, func(k, v []byte) error {
					var err error
					switch string(k) {
					case "id":
						cp.ID, err = parseInt64(v)
					case "name":
						cp.Name, err = parseString(v)
					}
					return wrapField(k, err)
				})
				p.Campaign = cp
			}
		default:
			putExtra(&p.Extra, k, v)
		}
		return wrapField(k, err)
	})
}

func recycleWarranty(r *RecycleWarranty, v []byte) error {
	return eachField(v, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "quantity":
			r.Quantity, err = parseInt(v)
		case "sale_price":
			r.SalePrice, err = parseDecimal(v)
		case "vat_rate":
			r.VATRate, err = parseDecimal(v)
		case "product_name":
			r.ProductName, err = parseString(v)
		case "recycle_warranty_voucher_split":
			r.RecycleWarrantyVoucherSplit, err = decodeEach(v, voucherSplit)
		}
		return wrapField(k, err)
	})
}

func voucherSplit(s *VoucherSplit, v []byte) error {
	return eachField(v, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "voucher_id":
			s.VoucherID, err = parseInt64(v)
		case "value":
			s.Value, err = parseDecimal(v)
		case "vat_value":
			s.VATValue, err = parseDecimal(v)
		case "vat":
			s.VAT, err = parseDecimal(v)
		case "offered_by":
			s.OfferedBy, err = parseString(v)
		case "voucher_name":
			s.VoucherName, err = parseString(v)
		}
		return wrapField(k, err)
	})
}

func (d decoder) voucher(vc *Voucher, v []byte) error {
	return eachField(v, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "id":
			vc.ID, err = parseInt64(v)
		case "voucher_id":
			vc.VoucherID, err = parseInt64(v)
		case "modified":
			vc.Modified, err = parseTime(v, d.loc)
		case "created":
			vc.Created, err = parseTime(v, d.loc)
		case "status":
			vc.Status, err = parseInt(v)
		case "sale_price_vat":
			vc.SalePriceVAT, err = parseDecimal(v)
		case "sale_price":
			vc.SalePrice, err = parseDecimal(v)
		case "vat":
			vc.VAT, err = parseDecimal(v)
		case "voucher_name":
			vc.VoucherName, err = parseString(v)
		case "issue_date":
			vc.IssueDate, err = parseTime(v, d.loc)
		}
		return wrapField(k, err)
	})
}

func attachment(a *OrderAttachmentInfo, v []byte) error {
	return eachField(v, func(k, v []byte) error {
		var err error
		switch string(k) {
		case "name":
			a.Name, err = parseString(v)
		case "url":
			a.URL, err = parseString(v)
		case "type":
			a.Type, err = parseInt(v)
		case "force_download":
			a.ForceDownload, err = parseInt(v)
		case "visibility":
			a.Visibility, err = parseString(v)
		case "order_id":
			a.OrderID, err = parseInt64(v)
		}
		return wrapField(k, err)
	})
}

func (d decoder) orders(results []byte) ([]Order, error) {
	if ok, err := emptyResults(results); ok || err != nil {
		return nil, err
	}
	var out []Order
	err := eachListItem(results, func(e []byte) error {
		out = append(out, Order{})
		if err := d.order(&out[len(out)-1], e); err != nil {
			return fmt.Errorf("order #%d: %w", len(out)-1, err)
		}
		return nil
	})
	return out, err
}

// OrderFilter selects orders. Zero values are omitted. Dates are sent as
// "2006-01-02 15:04:05" in the client's Location; a Before needs its After
// and a window spans at most one month.
type OrderFilter struct {
	CurrentPage    int
	ItemsPerPage   int
	ID             int64
	Status         []int
	Type           *int // order/read defaults to 3 when omitted
	CreatedAfter   time.Time
	CreatedBefore  time.Time
	ModifiedAfter  time.Time
	ModifiedBefore time.Time
	PaymentModeID  []int
	IsComplete     *int
}

func (f OrderFilter) validate(count bool) *Error {
	if e := validatePaging(f.CurrentPage, f.ItemsPerPage); e != nil {
		return e
	}
	if f.ID < 0 {
		return invalid("id", "use a positive order id", "id %d", f.ID)
	}
	if e := validateWindow("created", f.CreatedAfter, f.CreatedBefore, count); e != nil {
		return e
	}
	return validateWindow("modified", f.ModifiedAfter, f.ModifiedBefore, count)
}

func (f OrderFilter) payload(loc *time.Location) json.RawMessage {
	w := newObj()
	w.intNZ("currentPage", int64(f.CurrentPage))
	w.intNZ("itemsPerPage", int64(f.ItemsPerPage))
	w.intNZ("id", f.ID)
	if len(f.Status) > 0 {
		w.any("status", f.Status)
	}
	w.intPtr("type", f.Type)
	w.timeNZ("createdAfter", f.CreatedAfter, loc)
	w.timeNZ("createdBefore", f.CreatedBefore, loc)
	w.timeNZ("modifiedAfter", f.ModifiedAfter, loc)
	w.timeNZ("modifiedBefore", f.ModifiedBefore, loc)
	if len(f.PaymentModeID) > 0 {
		w.any("payment_mode_id", f.PaymentModeID)
	}
	w.intPtr("is_complete", f.IsComplete)
	b, _ := w.bytes()
	return b
}

// ReadOrders reads one page of orders (order/read).
func (c *Client) ReadOrders(ctx context.Context, f OrderFilter) ([]Order, error) {
	const route = "order/read"
	if e := f.validate(false); e != nil {
		return nil, c.validated(route, e)
	}
	return readWith(ctx, c, route, f.payload(c.loc), decoder{c.loc}.orders)
}

// CountOrders counts the orders f selects (order/count). Date windows need
// both ends there.
func (c *Client) CountOrders(ctx context.Context, f OrderFilter) (Count, error) {
	const route = "order/count"
	f.CurrentPage = 0
	if e := f.validate(true); e != nil {
		return Count{}, c.validated(route, e)
	}
	return c.count(ctx, route, f.payload(c.loc))
}

// OrderPages walks every page of f from f.CurrentPage (ItemsPerPage
// defaults to 100). The total comes from order/count when f's date windows
// allow a count (both ends set or none).
func (c *Client) OrderPages(ctx context.Context, f OrderFilter, maxPages int) iter.Seq2[Page[Order], error] {
	if f.ItemsPerPage == 0 {
		f.ItemsPerPage = magflow.MaxItemsPerPage
	}
	p := Pager[Order]{
		Start: f.CurrentPage, MaxPages: maxPages,
		Fetch: func(ctx context.Context, page int) ([]Order, error) {
			g := f
			g.CurrentPage = page
			return c.ReadOrders(ctx, g)
		},
	}
	if f.validate(true) == nil {
		p.Count = func(ctx context.Context) (Count, error) { return c.CountOrders(ctx, f) }
	}
	return p.All(ctx)
}

// AcknowledgeOrder acknowledges a new order (order/acknowledge/{id}),
// moving it from 1 (new) to 2 (in progress).
func (c *Client) AcknowledgeOrder(ctx context.Context, id int64) error {
	route := "order/acknowledge/" + strconv.FormatInt(id, 10)
	if id < 1 {
		return c.validated(route, invalid("id", "use the order id from order/read", "order id %d", id))
	}
	cl := &call{method: "POST", route: route, url: c.base + "/" + route, write: true}
	cl.check = func(r *response) error {
		if len(trim(r.body)) == 0 {
			return nil
		}
		var env envelope
		return c.checkEnvelope(r, true, &env)
	}
	_, err := c.do(ctx, cl)
	return err
}

// OrderSave is one order to send to order/save. eMAG wants every field as
// read: Base is the order's Raw from order/read, and the set fields
// override its keys. Products, when non-nil, replace the product list.
// Base's is_storno is never echoed: IsStorno true asks for a partial storno.
type OrderSave struct {
	Base     json.RawMessage
	ID       int64
	Status   *int
	IsStorno *bool
	Products []OrderProductSave
}

// OrderProductSave is one product line on save: existing lines by ID;
// new ("virtual") lines with ProductID, Name, Status and SalePrice.
type OrderProductSave struct {
	ID        int64
	ProductID int64
	Name      string
	Status    int
	Quantity  int
	SalePrice magflow.Decimal
	VAT       *magflow.Decimal
	// Base is the line as read; the fields above override its keys.
	Base json.RawMessage
}

func mergeBase(base json.RawMessage) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if len(trim(base)) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(base, &m); err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	return m, nil
}

func num(v int64) json.RawMessage { return json.RawMessage(strconv.FormatInt(v, 10)) }

// MarshalJSON merges the set fields over Base.
func (p OrderProductSave) MarshalJSON() ([]byte, error) {
	m, err := mergeBase(p.Base)
	if err != nil {
		return nil, err
	}
	if p.ID != 0 {
		m["id"] = num(p.ID)
	}
	if p.ProductID != 0 {
		m["product_id"] = num(p.ProductID)
	}
	if p.Name != "" {
		b, _ := json.Marshal(p.Name)
		m["name"] = b
	}
	m["status"] = num(int64(p.Status))
	if p.Quantity != 0 {
		m["quantity"] = num(int64(p.Quantity))
	}
	if !p.SalePrice.IsZero() || m["sale_price"] == nil {
		m["sale_price"] = appendDecimal(nil, p.SalePrice)
	}
	if p.VAT != nil {
		m["vat"] = appendDecimal(nil, *p.VAT)
	}
	return json.Marshal(m)
}

// MarshalJSON merges the set fields over Base.
func (o OrderSave) MarshalJSON() ([]byte, error) {
	m, err := mergeBase(o.Base)
	if err != nil {
		return nil, err
	}
	if o.ID != 0 {
		m["id"] = num(o.ID)
	}
	if o.Status != nil {
		m["status"] = num(int64(*o.Status))
	}
	// is_storno is a request for a partial storno, not state to echo: an
	// order read after a storno carries "is_storno": true, and sending that
	// back without a lowered quantity is refused (DOC449 §5.5). It is sent
	// only when the caller asks for a storno.
	delete(m, "is_storno")
	if o.IsStorno != nil && *o.IsStorno {
		m["is_storno"] = json.RawMessage("true")
	}
	if o.Products != nil {
		b, err := json.Marshal(o.Products)
		if err != nil {
			return nil, err
		}
		m["products"] = b
	}
	return json.Marshal(m)
}

// SaveOrders updates up to 50 orders (order/save): status changes, line
// changes, partial storno.
func (c *Client) SaveOrders(ctx context.Context, orders []OrderSave) (SaveResult, error) {
	const route = "order/save"
	if e := validateBulk(len(orders)); e != nil {
		return SaveResult{}, c.validated(route, e)
	}
	for i, o := range orders {
		id := o.ID
		if id == 0 && len(o.Base) > 0 {
			var probe struct {
				ID FlexInt `json:"id"`
			}
			_ = json.Unmarshal(o.Base, &probe)
			id = int64(probe.ID)
		}
		if id < 1 {
			return SaveResult{}, c.validated(route, invalid(fmt.Sprintf("[%d].id", i), "set the order id (or pass the order as read in Base)", "order id missing"))
		}
		if o.Status != nil && (*o.Status < 0 || *o.Status > 5) {
			return SaveResult{}, c.validated(route, invalid(fmt.Sprintf("[%d].status", i), "use an order status between 0 and 5", "status %d", *o.Status))
		}
		for j, p := range o.Products {
			if p.Quantity < 0 {
				return SaveResult{}, c.validated(route, invalid(fmt.Sprintf("[%d].products[%d].quantity", i, j), "use a quantity of 0 or more", "quantity %d", p.Quantity))
			}
		}
	}
	return c.save(ctx, route, orders)
}

// OrderAttachment is a document to attach to an order (invoice, warranty, ...).
type OrderAttachment struct {
	OrderID        int64  `json:"order_id,omitempty"`
	OrderType      int    `json:"order_type"` // required: 2 FBE, 3 seller
	OrderProductID int64  `json:"order_product_id,omitempty"`
	Name           string `json:"name,omitempty"`
	URL            string `json:"url"`
	Type           int    `json:"type,omitempty"` // 1 invoice, 3 warranty, 4 user manual, 8 user guide, 10 AWB, 11 proforma
	ForceDownload  *int   `json:"force_download,omitempty"`
}

// SaveOrderAttachments attaches up to 50 documents (order/attachments/save).
func (c *Client) SaveOrderAttachments(ctx context.Context, atts []OrderAttachment) (SaveResult, error) {
	const route = "order/attachments/save"
	if e := validateBulk(len(atts)); e != nil {
		return SaveResult{}, c.validated(route, e)
	}
	for i, a := range atts {
		f := func(n string) string { return fmt.Sprintf("[%d].%s", i, n) }
		switch {
		case a.OrderID == 0 && a.OrderProductID == 0:
			return SaveResult{}, c.validated(route, invalid(f("order_id"), "set order_id (invoices) or order_product_id (warranties)", "no order"))
		case a.URL == "" || len(a.URL) > 1024:
			return SaveResult{}, c.validated(route, invalid(f("url"), "set a PDF URL of at most 1024 characters", "url length %d", len(a.URL)))
		case len([]rune(a.Name)) > 60:
			return SaveResult{}, c.validated(route, invalid(f("name"), "shorten the name to at most 60 characters", "name too long"))
		case a.OrderType != 2 && a.OrderType != 3:
			// Mandatory since v4.4.9: eMAG refuses attachments without it.
			return SaveResult{}, c.validated(route, invalid(f("order_type"), "set order_type to the order's type: 2 (FBE) or 3 (seller)", "order_type %d", a.OrderType))
		}
	}
	return c.save(ctx, route, atts)
}
