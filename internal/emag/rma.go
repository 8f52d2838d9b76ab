package emag

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/magflow/magflow"
)

// RMA is one return request (rma/read). request_status: 1 incomplete, 2
// new, 3 acknowledged, 4 refused, 5 canceled, 6 received, 7 finalized.
type RMA struct {
	EmagID                     FlexInt                  `json:"emag_id"`
	ID                         FlexInt                  `json:"id"`
	OrderID                    FlexInt                  `json:"order_id"`
	Type                       FlexInt                  `json:"type"`
	IsFullFBE                  FlexInt                  `json:"is_full_fbe"`
	ReturnParentID             FlexInt                  `json:"return_parent_id"`
	IsClub                     FlexInt                  `json:"is_club"`
	IsFast                     FlexInt                  `json:"is_fast"`
	CustomerName               FlexString               `json:"customer_name"`
	CustomerCompany            FlexString               `json:"customer_company"`
	CustomerPhone              FlexString               `json:"customer_phone"`
	Products                   ObjectOrList[RMAProduct] `json:"products"`
	AWBs                       []RMAAWB                 `json:"awbs"`
	PickupCountry              FlexString               `json:"pickup_country"`
	PickupSuburb               FlexString               `json:"pickup_suburb"`
	PickupCity                 FlexString               `json:"pickup_city"`
	PickupAddress              FlexString               `json:"pickup_address"`
	PickupAddressID            FlexString               `json:"pickup_address_id"`
	PickupZipcode              FlexString               `json:"pickup_zipcode"`
	PickupDate                 FlexString               `json:"pickup_date"`
	PickupLocalityID           FlexInt                  `json:"pickup_locality_id"`
	PickupMethod               FlexInt                  `json:"pickup_method"` // 1 eMAG courier, 2 seller's courier, 3 sent by client
	ReturnReason               FlexInt                  `json:"return_reason"`
	Observations               FlexString               `json:"observations"`
	ReturnType                 FlexInt                  `json:"return_type"` // 1 same product, 2 other product, 3 refund, 4 cancel contract, 5 voucher
	ReturnAddressID            FlexString               `json:"return_address_id"`
	ReturnTaxValue             magflow.Decimal          `json:"return_tax_value"`
	CustomerAccountIBAN        FlexString               `json:"customer_account_iban"`
	CustomerAccountBank        FlexString               `json:"customer_account_bank"`
	CustomerAccountBeneficiary FlexString               `json:"customer_account_beneficiary"`
	ReplacementProductEmagID   FlexInt                  `json:"replacement_product_emag_id"`
	ReplacementProductID       FlexInt                  `json:"replacement_product_id"`
	ReplacementProductName     FlexString               `json:"replacement_product_name"`
	ReplacementProductQuantity FlexInt                  `json:"replacement_product_quantity"`
	Date                       FlexTime                 `json:"date"` // in the client's Location
	RequestStatus              FlexInt                  `json:"request_status"`
	Swap                       FlexInt                  `json:"swap"`
	RequestHistory             []json.RawMessage        `json:"request_history"`
	StatusHistory              []json.RawMessage        `json:"status_history"`
	ExtraInfo                  Object[RMAExtraInfo]     `json:"extra_info"`
	Locker                     Object[RMALocker]        `json:"locker"` // [] when none (PHP)
	ReturnAddressSnapshot      json.RawMessage          `json:"return_address_snapshot"`
	Country                    FlexString               `json:"country"`
	AddressType                FlexString               `json:"address_type"`
	RequestStatusReason        json.RawMessage          `json:"request_status_reason"`
	Currency                   FlexString               `json:"currency"`
	FinalizedWithIncident      FlexInt                  `json:"finalized_with_incident"`
	CourierName                FlexString               `json:"courier_name"`
}

// RMAProduct is one returned product.
type RMAProduct struct {
	ID             FlexInt         `json:"id"`
	ProductEmagID  FlexInt         `json:"product_emag_id"`
	ProductID      FlexInt         `json:"product_id"`
	Quantity       FlexInt         `json:"quantity"`
	ProductName    FlexString      `json:"product_name"`
	ReturnReason   FlexInt         `json:"return_reason"`
	Observations   FlexString      `json:"observations"`
	Diagnostic     FlexString      `json:"diagnostic"`
	RejectReason   FlexString      `json:"reject_reason"`
	RefundValue    magflow.Decimal `json:"refund_value"`
	RetainedAmount magflow.Decimal `json:"retained_amount"`
}

// RMAAWB is an AWB reservation of a return.
type RMAAWB struct {
	ReservationID FlexInt `json:"reservation_id"`
}

// RMAExtraInfo carries a return's deadlines.
type RMAExtraInfo struct {
	MaximumFinalizationDate   FlexString `json:"maximum_finalization_date"`
	FirstPickupDate           FlexString `json:"first_pickup_date"`
	EstimatedProductPickup    FlexString `json:"estimated_product_pickup"`
	EstimatedProductReception FlexString `json:"estimated_product_reception"`
}

// RMALocker is the locker a return goes through.
type RMALocker struct {
	LockerHash           FlexString `json:"locker_hash"`
	LockerPin            FlexString `json:"locker_pin"`
	LockerPinIntervalEnd FlexString `json:"locker_pin_interval_end"`
}

// RMAFilter selects returns; dates are sent in the client's Location.
type RMAFilter struct {
	ID            int64
	EmagID        int64
	OrderID       int64
	ProductID     int64
	ProductEmagID int64
	RequestStatus int
	Type          int // 2 or 3
	DateStart     time.Time
	DateEnd       time.Time
	CurrentPage   int
	ItemsPerPage  int
}

func (f RMAFilter) payload(loc *time.Location) json.RawMessage {
	w := newObj()
	w.intNZ("id", f.ID)
	w.intNZ("emag_id", f.EmagID)
	w.intNZ("order_id", f.OrderID)
	w.intNZ("product_id", f.ProductID)
	w.intNZ("product_emag_id", f.ProductEmagID)
	w.intNZ("request_status", int64(f.RequestStatus))
	w.intNZ("type", int64(f.Type))
	w.timeNZ("date_start", f.DateStart, loc)
	w.timeNZ("date_end", f.DateEnd, loc)
	w.intNZ("currentPage", int64(f.CurrentPage))
	w.intNZ("itemsPerPage", int64(f.ItemsPerPage))
	b, _ := w.bytes()
	return b
}

func (f RMAFilter) validate() *Error {
	if e := validatePaging(f.CurrentPage, f.ItemsPerPage); e != nil {
		return e
	}
	if !f.DateEnd.IsZero() && !f.DateStart.IsZero() && f.DateEnd.Before(f.DateStart) {
		return invalid("date_end", "put date_end after date_start", "date_end before date_start")
	}
	return nil
}

// ReadRMAs reads one page of returns (rma/read).
func (c *Client) ReadRMAs(ctx context.Context, f RMAFilter) ([]RMA, error) {
	const route = "rma/read"
	if e := f.validate(); e != nil {
		return nil, c.validated(route, e)
	}
	out, err := readList[RMA](ctx, c, route, f.payload(c.loc))
	for i := range out {
		// encoding/json reads FlexTime as UTC; eMAG's dates are the
		// platform's wall clock, the zone the filters are sent in.
		out[i].Date.Time = inZone(out[i].Date.Time, c.loc)
	}
	return out, err
}

// inZone reads t's wall clock in loc (the zero time stays zero).
func inZone(t time.Time, loc *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
}

// CountRMAs counts returns (rma/count).
func (c *Client) CountRMAs(ctx context.Context, f RMAFilter) (Count, error) {
	const route = "rma/count"
	f.CurrentPage = 0
	if e := f.validate(); e != nil {
		return Count{}, c.validated(route, e)
	}
	return c.count(ctx, route, f.payload(c.loc))
}

// RMASave is one return to save (rma/save). Base is the return as read
// (eMAG wants the whole entity); the set fields override its keys.
type RMASave struct {
	Base          json.RawMessage `json:"-"`
	EmagID        int64           `json:"emag_id,omitempty"`
	ID            int64           `json:"id,omitempty"`
	OrderID       int64           `json:"order_id,omitempty"`
	Type          int             `json:"type,omitempty"`
	RequestStatus int             `json:"request_status,omitempty"`
	CustomerName  string          `json:"customer_name,omitempty"`
	CustomerPhone string          `json:"customer_phone,omitempty"`
	PickupMethod  int             `json:"pickup_method,omitempty"`
	ReturnType    int             `json:"return_type,omitempty"`
	ReturnReason  int             `json:"return_reason,omitempty"`
	Observations  string          `json:"observations,omitempty"`
	Products      json.RawMessage `json:"products,omitempty"`
}

// MarshalJSON merges the set fields over Base.
func (r RMASave) MarshalJSON() ([]byte, error) {
	m, err := mergeBase(r.Base)
	if err != nil {
		return nil, err
	}
	type plain RMASave
	b, err := json.Marshal(plain(r))
	if err != nil {
		return nil, err
	}
	var over map[string]json.RawMessage
	if err := json.Unmarshal(b, &over); err != nil {
		return nil, err
	}
	for k, v := range over {
		m[k] = v
	}
	return json.Marshal(m)
}

// rmaTransitions are the request_status changes eMAG allows.
var rmaTransitions = map[int][]int{2: {2, 3, 5}, 3: {3, 5, 6}, 4: {4}, 5: {5}, 6: {4, 6, 7}, 7: {7}}

// SaveRMAs saves up to 50 returns (rma/save). eMAG echoes failed entities
// with isError:true and a message naming the RMA id.
func (c *Client) SaveRMAs(ctx context.Context, rmas []RMASave) (SaveResult, error) {
	const route = "rma/save"
	if e := validateBulk(len(rmas)); e != nil {
		return SaveResult{}, c.validated(route, e)
	}
	for i, r := range rmas {
		if r.RequestStatus != 0 && (r.RequestStatus < 1 || r.RequestStatus > 7) {
			return SaveResult{}, c.validated(route, invalid(fmt.Sprintf("[%d].request_status", i), "use a request status between 1 and 7", "request_status %d", r.RequestStatus))
		}
		if r.Type != 0 && r.Type != 2 && r.Type != 3 {
			return SaveResult{}, c.validated(route, invalid(fmt.Sprintf("[%d].type", i), "use type 2 (FBE) or 3 (seller)", "type %d", r.Type))
		}
	}
	return c.save(ctx, route, rmas)
}

// RMATransitionAllowed reports whether eMAG allows moving a return from one
// request_status to another.
func RMATransitionAllowed(from, to int) bool {
	return slices.Contains(rmaTransitions[from], to)
}
