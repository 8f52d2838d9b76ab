package emag

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/magflow/magflow"
)

// AWBParty is the sender or receiver of an AWB. AddressID (a saved
// address) overrides the address fields.
type AWBParty struct {
	Name        string // 3..255
	Contact     string
	Phone1      string // 8..11 digits, optional leading +
	Phone2      string
	LegalEntity *int // receiver only
	AddressID   string
	LocalityID  int64
	Street      string
	Zipcode     string
}

func (p AWBParty) marshal() ([]byte, error) {
	w := newObj()
	w.str("name", p.Name)
	w.strNZ("contact", p.Contact)
	w.strNZ("phone1", p.Phone1)
	w.strNZ("phone2", p.Phone2)
	w.intPtr("legal_entity", p.LegalEntity)
	w.strNZ("address_id", p.AddressID)
	w.intNZ("locality_id", p.LocalityID)
	w.strNZ("street", p.Street)
	w.strNZ("zipcode", p.Zipcode)
	return w.bytes()
}

// AWBSave asks eMAG to issue an AWB for an order or an RMA (awb/save).
// Issuing an order's first AWB finalizes the order.
type AWBSave struct {
	OrderID          int64
	RMAID            int64
	Sender           AWBParty
	Receiver         AWBParty
	LockerID         string
	IsOversize       int
	InsuredValue     *magflow.Decimal
	Weight           magflow.Decimal
	EnvelopeNumber   int // 0..9999
	ParcelNumber     int // 0..999; not both 0
	Observation      string
	COD              magflow.Decimal // cash on delivery; 0 when prepaid
	CourierAccountID int64           // 0 = the default account
	PickupAndReturn  *int
	SaturdayDelivery *int
	SamedayDelivery  *int
	DropoffLocker    *int
	Unboxing         *int
	Date             string // returns: YYYY-MM-DD, at least the next day
}

// MarshalJSON writes the keys eMAG expects.
func (a AWBSave) MarshalJSON() ([]byte, error) {
	w := newObj()
	w.intNZ("order_id", a.OrderID)
	w.intNZ("rma_id", a.RMAID)
	for _, p := range []struct {
		k string
		v AWBParty
	}{{"sender", a.Sender}, {"receiver", a.Receiver}} {
		b, err := p.v.marshal()
		if err != nil {
			return nil, err
		}
		w.key(p.k)
		w.b = append(w.b, b...)
	}
	w.strNZ("locker_id", a.LockerID)
	w.int("is_oversize", int64(a.IsOversize))
	w.decPtr("insured_value", a.InsuredValue)
	w.dec("weight", a.Weight)
	w.int("envelope_number", int64(a.EnvelopeNumber))
	w.int("parcel_number", int64(a.ParcelNumber))
	w.strNZ("observation", a.Observation)
	w.dec("cod", a.COD)
	w.intNZ("courier_account_id", a.CourierAccountID)
	w.intPtr("pickup_and_return", a.PickupAndReturn)
	w.intPtr("saturday_delivery", a.SaturdayDelivery)
	w.intPtr("sameday_delivery", a.SamedayDelivery)
	w.intPtr("dropoff_locker", a.DropoffLocker)
	w.intPtr("unboxing", a.Unboxing)
	w.strNZ("date", a.Date)
	return w.bytes()
}

func (a AWBSave) validate() *Error {
	switch {
	case a.OrderID == 0 && a.RMAID == 0:
		return invalid("order_id", "set order_id or rma_id", "no order or RMA")
	case a.EnvelopeNumber < 0 || a.EnvelopeNumber > 9999:
		return invalid("envelope_number", "use 0 to 9999 envelopes", "envelope_number %d", a.EnvelopeNumber)
	case a.ParcelNumber < 0 || a.ParcelNumber > 999:
		return invalid("parcel_number", "use 0 to 999 parcels", "parcel_number %d", a.ParcelNumber)
	case a.EnvelopeNumber == 0 && a.ParcelNumber == 0:
		return invalid("parcel_number", "send at least one envelope or parcel", "envelope_number and parcel_number are both 0")
	case a.IsOversize != 0 && a.IsOversize != 1:
		return invalid("is_oversize", "use 0 or 1", "is_oversize %d", a.IsOversize)
	}
	for _, p := range []struct {
		name string
		v    AWBParty
	}{{"sender", a.Sender}, {"receiver", a.Receiver}} {
		// address_id replaces the address fields (locality, street,
		// zipcode), not the contact: name and phone1 stay mandatory.
		if n := len([]rune(p.v.Name)); n < 3 || n > 255 {
			return invalid(p.name+".name", "use a name of 3 to 255 characters", "%s name %q", p.name, p.v.Name)
		}
		if p.v.Phone1 == "" {
			return invalid(p.name+".phone1", "set a phone of 8 to 11 digits, optionally with a leading +", "%s phone1 missing", p.name)
		}
		if p.v.AddressID == "" && (p.v.LocalityID == 0 || p.v.Street == "") {
			return invalid(p.name+".locality_id", "set locality_id and street, or a saved address_id", "%s address missing", p.name)
		}
		for i, ph := range []string{p.v.Phone1, p.v.Phone2} {
			if ph == "" {
				continue
			}
			digits := strings.TrimPrefix(ph, "+")
			if len(digits) < 8 || len(digits) > 11 || strings.Trim(digits, "0123456789") != "" {
				return invalid(fmt.Sprintf("%s.phone%d", p.name, i+1), "use a phone of 8 to 11 digits, optionally with a leading +", "phone %q", ph)
			}
		}
	}
	return nil
}

// AWBSaveResult is eMAG's answer to awb/save.
type AWBSaveResult struct {
	ReservationID int64
	Results       json.RawMessage
}

// SaveAWB issues an AWB (awb/save) and returns its reservation id.
func (c *Client) SaveAWB(ctx context.Context, a AWBSave) (AWBSaveResult, error) {
	const route = "awb/save"
	if e := a.validate(); e != nil {
		return AWBSaveResult{}, c.validated(route, e)
	}
	env, err := c.rpc(ctx, route, a, true)
	if err != nil {
		return AWBSaveResult{}, err
	}
	res := AWBSaveResult{Results: cloneRaw(env.Results)}
	_ = eachObjectOrList(env.Results, func(e []byte) error {
		if kind(e) != '{' {
			return nil
		}
		return eachField(e, func(k, v []byte) error {
			if string(k) == "reservation_id" {
				res.ReservationID, _ = parseInt64(v)
			}
			return nil
		})
	})
	return res, nil
}

// AWB is one AWB as awb/read returns it.
type AWB struct {
	EmagID  FlexInt            `json:"emag_id"`
	OrderID FlexInt            `json:"order_id"`
	RMAID   FlexInt            `json:"rma_id"`
	Type    FlexInt            `json:"type"`
	Weight  magflow.Decimal    `json:"weight"`
	AWBType FlexInt            `json:"awb_type"` // returns: 1 to customer, 2 pickup from customer
	AWB     []AWBNumber        `json:"awb"`
	Status  Object[AWBStatus]  `json:"status"`
	Courier Object[AWBCourier] `json:"courier"`
}

// AWBNumber is one parcel's AWB number.
type AWBNumber struct {
	EmagID     FlexInt    `json:"emag_id"`
	AWBNumber  FlexString `json:"awb_number"`
	AWBBarcode FlexString `json:"awb_barcode"`
}

// AWBStatus is an AWB's courier status (e.g. DLV, Delivered).
type AWBStatus struct {
	Code        FlexString `json:"code"`
	Name        FlexString `json:"name"`
	Description FlexString `json:"description"`
}

// AWBCourier is the courier that carries an AWB.
type AWBCourier struct {
	CourierAccountID FlexInt    `json:"courier_account_id"`
	CourierName      FlexString `json:"courier_name"`
	CourierID        FlexInt    `json:"courier_id"`
}

// AWBFilter selects AWBs by eMAG id or reservation id.
type AWBFilter struct {
	EmagID        int64 `json:"emag_id,omitempty"`
	ReservationID int64 `json:"reservation_id,omitempty"`
}

// ReadAWB reads AWBs (awb/read).
func (c *Client) ReadAWB(ctx context.Context, f AWBFilter) ([]AWB, error) {
	const route = "awb/read"
	if f.EmagID == 0 && f.ReservationID == 0 {
		return nil, c.validated(route, invalid("emag_id", "set emag_id or reservation_id", "no AWB selected"))
	}
	return readList[AWB](ctx, c, route, f)
}

// Label formats for DownloadAWBLabel.
const (
	LabelA4  = "A4"
	LabelA5  = "A5"
	LabelA6  = "A6"
	LabelZPL = "ZPL"
)

// DownloadAWBLabel downloads an AWB label: a PDF for A4, A5 and A6, raw
// ZPL for ZPL. Labels are served at the host root, without /api-3.
func (c *Client) DownloadAWBLabel(ctx context.Context, emagID int64, format string) ([]byte, error) {
	format = strings.ToUpper(strings.TrimSpace(format))
	route := "awb/read_pdf"
	q := url.Values{"emag_id": {strconv.FormatInt(emagID, 10)}}
	switch format {
	case LabelA4, LabelA5, LabelA6:
		q.Set("awb_format", format)
	case LabelZPL:
		route = "awb/read_zpl"
	default:
		return nil, c.validated(route, invalid("format", "use A4, A5, A6 or ZPL", "unknown label format %q", format))
	}
	if emagID < 1 {
		return nil, c.validated(route, invalid("emag_id", "use the AWB's emag_id from awb/save or awb/read", "emag_id %d", emagID))
	}
	var label []byte
	cl := &call{method: http.MethodGet, route: route, url: c.root + "/" + route + "?" + q.Encode()}
	cl.check = func(r *response) error {
		body := trim(r.body)
		if format != LabelZPL && bytes.HasPrefix(body, []byte("%PDF")) {
			label = r.body
			return nil
		}
		var env envelope
		if err := c.checkEnvelope(r, false, &env); err != nil {
			return err
		}
		if format != LabelZPL {
			return &Error{Kind: KindDecode, Status: r.status, Err: errors.New("label is neither a PDF nor an error envelope")}
		}
		zpl, err := zplContent(env.Results)
		if err != nil {
			return &Error{Kind: KindDecode, Status: r.status, Err: err}
		}
		label = zpl
		return nil
	}
	if _, err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return label, nil
}

// zplContent collects results.deliveries.{n}.awbs.content[] (base64).
func zplContent(results []byte) ([]byte, error) {
	var out []byte
	var walk func(v []byte, depth int) error
	walk = func(v []byte, depth int) error {
		if depth > 8 {
			return nil
		}
		switch kind(v) {
		case '{':
			return eachField(v, func(k, e []byte) error {
				if string(k) == "content" {
					if kind(e) == '"' {
						return appendB64(&out, e)
					}
					return eachObjectOrList(e, func(s []byte) error { return appendB64(&out, s) })
				}
				return walk(e, depth+1)
			})
		case '[':
			return eachElem(v, func(e []byte) error { return walk(e, depth+1) })
		}
		return nil
	}
	if err := walk(results, 0); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("no ZPL content in the answer")
	}
	return out, nil
}

func appendB64(out *[]byte, v []byte) error {
	s, err := parseString(v)
	if err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("ZPL content: %w", err)
	}
	*out = append(*out, b...)
	return nil
}
