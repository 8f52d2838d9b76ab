package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/twoway"
)

// TwoWay is what the API needs of the writes to eMAG; *twoway.Service
// implements it.
type TwoWay interface {
	EnqueueOfferChanges(ctx context.Context, changes []sqldb.OfferChange) ([]int64, error)
	Callback(ctx context.Context, token string, orderID int64) (twoway.CallbackResult, error)
}

// Amount is a price in a request body: a JSON number or a decimal string,
// without VAT, at most 4 decimals.
type Amount struct{ magflow.Decimal }

// Schema implements huma.SchemaProvider.
func (Amount) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Description: "An amount without VAT, at most 4 decimals: a number (79.9) or a string (\"79.9000\").",
		OneOf: []*huma.Schema{{Type: "number", Minimum: new(float64)}, {Type: "string", Pattern: `^[0-9]+(\.[0-9]{1,4})?$`}}}
}

func (a *Amount) ptr() *magflow.Decimal {
	if a == nil {
		return nil
	}
	d := a.Decimal
	return &d
}

// OfferFieldsBody are the offer fields a change sets; absent fields stay as
// they are.
type OfferFieldsBody struct {
	Stock            *int    `json:"stock,omitempty" minimum:"0" maximum:"65535" doc:"Stock of the warehouse (0 to 65535)."`
	WarehouseID      int     `json:"warehouse_id,omitempty" minimum:"0" maximum:"65535" doc:"The warehouse of the stock; default 1."`
	SalePrice        *Amount `json:"sale_price,omitempty" doc:"Sale price without VAT; must lie within min_sale_price and max_sale_price."`
	MinSalePrice     *Amount `json:"min_sale_price,omitempty"`
	MaxSalePrice     *Amount `json:"max_sale_price,omitempty"`
	RecommendedPrice *Amount `json:"recommended_price,omitempty" doc:"Shown as the former price; must be above sale_price."`
	Status           *int    `json:"status,omitempty" minimum:"0" maximum:"2" doc:"0 inactive, 1 active, 2 end of life."`
}

func (b OfferFieldsBody) fields() sqldb.OfferFields {
	return sqldb.OfferFields{Stock: b.Stock, WarehouseID: b.WarehouseID, SalePrice: b.SalePrice.ptr(), MinSalePrice: b.MinSalePrice.ptr(),
		MaxSalePrice: b.MaxSalePrice.ptr(), RecommendedPrice: b.RecommendedPrice.ptr(), Status: b.Status}
}

// OfferPatchInput changes one offer, named by id or by part number.
type OfferPatchInput struct {
	Account string `path:"account" maxLength:"32" doc:"The account (EMAG_ACCOUNTS)."`
	Key     string `path:"key" maxLength:"64" doc:"The seller product id, or the part number (SKU) when by is part_number."`
	By      string `query:"by" enum:"id,part_number" default:"id" doc:"What key is."`
	Body    OfferFieldsBody
}

// ChangeAccepted answers a change with 202.
type ChangeAccepted struct {
	Location string `header:"Location"`
	Body     struct {
		ChangeID int64  `json:"change_id" doc:"Follow it at url: pending, sending, retrying, then applied, rejected (with eMAG's message), superseded or failed."`
		State    string `json:"state" example:"pending"`
		URL      string `json:"url"`
	}
}

// ChangeRowBody is one row of a bulk change.
type ChangeRowBody struct {
	Account    string `json:"account" maxLength:"32" doc:"The account (EMAG_ACCOUNTS)."`
	ID         int64  `json:"id,omitempty" minimum:"0" doc:"The seller product id; or give part_number."`
	PartNumber string `json:"part_number,omitempty" maxLength:"64"`
	OfferFieldsBody
}

// BulkChangeInput changes many offers at once.
type BulkChangeInput struct {
	Body struct {
		Changes []ChangeRowBody `json:"changes" minItems:"1" maxItems:"100000"`
	}
}

// BulkCSVInput changes many offers from a CSV file.
type BulkCSVInput struct {
	Account string `query:"account" maxLength:"32" doc:"The account of rows without an account column."`
	RawBody []byte `contentType:"text/csv"`
}

// BulkAccepted answers a bulk change with 202.
type BulkAccepted struct {
	Body struct {
		Accepted  int     `json:"accepted"`
		ChangeIDs []int64 `json:"change_ids" doc:"In the order of the rows."`
		URL       string  `json:"url" doc:"The changes of this request."`
	}
}

// Change is an outbox entry: an offer change or an order acknowledgement.
type Change struct {
	ID           int64            `json:"id"`
	Account      string           `json:"account"`
	Kind         string           `json:"kind" enum:"offer,ack"`
	TargetID     int64            `json:"target_id" doc:"The seller product id (offer) or the order id (ack)."`
	PartNumber   string           `json:"part_number,omitempty"`
	Fields       *OfferFieldsView `json:"fields,omitempty"`
	State        string           `json:"state" enum:"pending,sending,retrying,applied,rejected,superseded,failed"`
	Attempts     int              `json:"attempts"`
	Route        string           `json:"route,omitempty" doc:"The eMAG route of the last attempt."`
	Message      string           `json:"message,omitempty" doc:"eMAG's message (the reason of a rejection)."`
	Source       string           `json:"source,omitempty"`
	SupersededBy int64            `json:"superseded_by,omitempty"`
	CreatedAt    time.Time        `json:"created_at"`
	UpdatedAt    time.Time        `json:"updated_at"`
	SentAt       *time.Time       `json:"sent_at,omitempty"`
	DoneAt       *time.Time       `json:"done_at,omitempty"`
}

// OfferFieldsView shows the fields a change sets.
type OfferFieldsView struct {
	Stock            *int    `json:"stock,omitempty"`
	WarehouseID      int     `json:"warehouse_id,omitempty"`
	SalePrice        *string `json:"sale_price,omitempty"`
	MinSalePrice     *string `json:"min_sale_price,omitempty"`
	MaxSalePrice     *string `json:"max_sale_price,omitempty"`
	RecommendedPrice *string `json:"recommended_price,omitempty"`
	Status           *int    `json:"status,omitempty"`
}

func changeOf(e sqldb.OutboxEntry) Change {
	c := Change{ID: e.ID, Account: e.Account, Kind: e.Kind, TargetID: e.TargetID, PartNumber: e.PartNumber, State: string(e.State),
		Attempts: e.Attempts, Route: e.Route, Message: e.Message, Source: e.Source, SupersededBy: e.SupersededBy,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt, SentAt: e.SentAt, DoneAt: e.DoneAt}
	if e.Kind == sqldb.OutboxOffer {
		str := func(d *magflow.Decimal) *string {
			if d == nil {
				return nil
			}
			s := d.String()
			return &s
		}
		f := e.Fields
		c.Fields = &OfferFieldsView{Stock: f.Stock, WarehouseID: f.WarehouseID, SalePrice: str(f.SalePrice), MinSalePrice: str(f.MinSalePrice),
			MaxSalePrice: str(f.MaxSalePrice), RecommendedPrice: str(f.RecommendedPrice), Status: f.Status}
	}
	return c
}

// ChangeInput names one change.
type ChangeInput struct {
	ID int64 `path:"id" minimum:"1"`
}

// ChangeOutput is one change.
type ChangeOutput struct {
	Body Change
}

// ChangeListInput filters the changes.
type ChangeListInput struct {
	Account  string `query:"account" maxLength:"32"`
	Kind     string `query:"kind" enum:"offer,ack"`
	State    string `query:"state" enum:"pending,sending,retrying,applied,rejected,superseded,failed"`
	TargetID int64  `query:"target_id" minimum:"0" doc:"Changes of one offer (seller product id) or order."`
	MinID    int64  `query:"min_id" minimum:"0" doc:"Changes with this id or a later one."`
	MaxID    int64  `query:"max_id" minimum:"0" doc:"Changes with this id or an earlier one."`
	ListParams
}

// ChangeListOutput is one page of changes, newest first, with a count per
// state of every change the filters select.
type ChangeListOutput struct {
	Body struct {
		Items  []Change       `json:"items"`
		Page   Page           `json:"page"`
		States map[string]int `json:"states" doc:"How many of the selected changes are in each state."`
	}
}

const changesPath = basePath + "/offers/changes"

// outboxError moves the service's "[i].field" errors under where the
// request put them: one change's fields are the body's (and its key the
// path's); a bulk change's are body.changes[i].field, and an unknown offer
// there is a 400.
func outboxError(err error, single bool, keyField string) error {
	var me *magflow.Error
	if !errors.As(err, &me) || !strings.HasPrefix(me.Field, "[") {
		return err
	}
	out := *me
	if single {
		_, rest, _ := strings.Cut(me.Field, ".")
		switch rest {
		case "id", "part_number":
			out.Field = keyField
		case "account":
			out.Field = "path.account"
		default:
			out.Field = "body." + rest
		}
	} else {
		out.Field = "body.changes" + me.Field
		if out.Code == magflow.ENotFound {
			out.Code = magflow.EInvalid
		}
	}
	return &out
}

func (s *Server) source(ctx context.Context) string {
	if p := PrincipalFrom(ctx); p != nil {
		return "api:" + p.Username
	}
	return "api"
}

func (s *Server) twoWay() (TwoWay, error) {
	if s.opts.TwoWay == nil {
		return nil, &magflow.Error{Code: magflow.ENotImplemented, Message: "writes to eMAG are not configured in this server"}
	}
	return s.opts.TwoWay, nil
}

func (s *Server) registerOfferWrites() {
	huma.Register(s.api, huma.Operation{
		OperationID: "patchOffer", Method: http.MethodPatch, Path: basePath + "/offers/{account}/{key}", Tags: []string{"Offer changes"},
		Summary: "Change one offer's stock, prices or status",
		Description: "Checks the change (stock 0..65535, sale price within min and max, a known offer), writes it to the outbox in the " +
			"request's transaction and answers 202 with its id. The account's drainer sends it to eMAG (light offer/save, or " +
			"offer_stock for a stock alone) ahead of catalogue reads; follow it at the change's url.",
		Security: bearerAuth, Metadata: map[string]any{metaOperator: true}, DefaultStatus: http.StatusAccepted,
		Errors: []int{400, 401, 403, 404, 429, 503},
	}, func(ctx context.Context, in *OfferPatchInput) (*ChangeAccepted, error) {
		tw, err := s.twoWay()
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		if err := s.checkAccount("path.account", in.Account); err != nil {
			return nil, err
		}
		c := sqldb.OfferChange{Account: in.Account, OfferFields: in.Body.fields(), Source: s.source(ctx)}
		if in.By == "part_number" {
			c.PartNumber = in.Key
		} else {
			id, err := strconv.ParseInt(in.Key, 10, 64)
			if err != nil || id < 1 || id > magflow.MaxSellerProductID {
				return nil, invalid("path.key", fmt.Sprintf("%q is not a seller product id (1 to %d); to name the offer by its SKU add ?by=part_number", in.Key, magflow.MaxSellerProductID))
			}
			c.ProductID = id
		}
		ids, err := tw.EnqueueOfferChanges(ctx, []sqldb.OfferChange{c})
		if err != nil {
			return nil, problemOf(outboxError(err, true, "path.key"), s.log)
		}
		out := &ChangeAccepted{}
		out.Body.ChangeID, out.Body.State = ids[0], string(sqldb.OutboxPending)
		out.Body.URL = changesPath + "/" + strconv.FormatInt(ids[0], 10)
		out.Location = out.Body.URL
		return out, nil
	})

	bulk := func(ctx context.Context, rows []twoway.ChangeRow, account string) (*BulkAccepted, error) {
		tw, err := s.twoWay()
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		changes := make([]sqldb.OfferChange, len(rows))
		src := s.source(ctx)
		for i, r := range rows {
			changes[i] = r.Change(account, src)
		}
		ids, err := tw.EnqueueOfferChanges(ctx, changes)
		if err != nil {
			return nil, problemOf(outboxError(err, false, ""), s.log)
		}
		out := &BulkAccepted{}
		out.Body.Accepted, out.Body.ChangeIDs = len(ids), ids
		out.Body.URL = fmt.Sprintf("%s?min_id=%d&max_id=%d", changesPath, ids[0], ids[len(ids)-1])
		return out, nil
	}
	huma.Register(s.api, huma.Operation{
		OperationID: "patchOffers", Method: http.MethodPatch, Path: basePath + "/offers", Tags: []string{"Offer changes"},
		Summary: "Change many offers (JSON)",
		Description: "Up to 100,000 changes in one request, all checked before any is written; one transaction writes them to the outbox. " +
			"They reach eMAG 50 offers per request, several changes of one offer coalesced to its latest values.",
		Security: bearerAuth, Metadata: map[string]any{metaOperator: true}, DefaultStatus: http.StatusAccepted,
		MaxBodyBytes: 64 << 20, Errors: []int{400, 401, 403, 429, 503},
	}, func(ctx context.Context, in *BulkChangeInput) (*BulkAccepted, error) {
		rows := make([]twoway.ChangeRow, len(in.Body.Changes))
		for i, c := range in.Body.Changes {
			f := c.fields()
			rows[i] = twoway.ChangeRow{Account: c.Account, ID: c.ID, PartNumber: c.PartNumber, Stock: f.Stock, WarehouseID: f.WarehouseID,
				SalePrice: f.SalePrice, MinSalePrice: f.MinSalePrice, MaxSalePrice: f.MaxSalePrice, RecommendedPrice: f.RecommendedPrice, Status: f.Status}
		}
		return bulk(ctx, rows, "")
	})
	huma.Register(s.api, huma.Operation{
		OperationID: "patchOffersCSV", Method: http.MethodPatch, Path: basePath + "/offers/csv", Tags: []string{"Offer changes"},
		Summary: "Change many offers (CSV)",
		Description: "A CSV file with a header row naming some of: " + strings.Join(twoway.CSVColumns, ", ") +
			" (id or part_number required; empty cells leave the field as it is). Same checks and answer as the JSON form.",
		Security: bearerAuth, Metadata: map[string]any{metaOperator: true}, DefaultStatus: http.StatusAccepted,
		MaxBodyBytes: 64 << 20, Errors: []int{400, 401, 403, 429, 503},
	}, func(ctx context.Context, in *BulkCSVInput) (*BulkAccepted, error) {
		if in.Account != "" {
			if err := s.checkAccount("query.account", in.Account); err != nil {
				return nil, err
			}
		}
		rows, err := twoway.ReadChanges(bytes.NewReader(in.RawBody), "csv")
		if err != nil {
			var me *magflow.Error
			if errors.As(err, &me) && me.Field != "" {
				return nil, invalid("body "+me.Field, me.Message)
			}
			return nil, problemOf(err, s.log)
		}
		if len(rows) == 0 {
			return nil, invalid("body", "no rows: send a header row and at least one change")
		}
		return bulk(ctx, rows, in.Account)
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "getChange", Method: http.MethodGet, Path: changesPath + "/{id}", Tags: []string{"Offer changes"},
		Summary: "Get one change", Security: bearerAuth, Errors: []int{400, 401, 404, 429},
		Description: "An offer change or an order acknowledgement and where it stands.",
	}, func(ctx context.Context, in *ChangeInput) (*ChangeOutput, error) {
		e, err := s.db.GetOutbox(ctx, in.ID)
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		return &ChangeOutput{Body: changeOf(e)}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "listChanges", Method: http.MethodGet, Path: changesPath, Tags: []string{"Offer changes"},
		Summary: "List changes", Security: bearerAuth, Errors: []int{400, 401, 429},
		Description: "Offer changes and order acknowledgements, newest first, with a count per state.",
	}, func(ctx context.Context, in *ChangeListInput) (*ChangeListOutput, error) {
		if err := s.checkAccount("query.account", in.Account); err != nil {
			return nil, err
		}
		f := sqldb.OutboxFilter{Account: in.Account, Kind: in.Kind, State: sqldb.OutboxState(in.State), TargetID: in.TargetID,
			MinID: in.MinID, MaxID: in.MaxID, Limit: in.Limit, Offset: in.Offset}
		list, total, err := s.db.ListOutbox(ctx, f)
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		states, err := s.db.OutboxSummary(ctx, f)
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		out := &ChangeListOutput{}
		out.Body.Items = make([]Change, len(list))
		for i, e := range list {
			out.Body.Items[i] = changeOf(e)
		}
		out.Body.Page = pageOf(total, in.Limit, in.Offset, len(list))
		out.Body.States = map[string]int{}
		for k, v := range states {
			out.Body.States[string(k)] = v
		}
		return out, nil
	})
}
