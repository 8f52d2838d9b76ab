package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
)

// OrderListInput are the filters of GET .../orders/all.
type OrderListInput struct {
	Account       string    `query:"account" maxLength:"32"`
	Status        Opt[int]  `query:"status" minimum:"0" maximum:"5" doc:"0 canceled, 1 new, 2 in progress, 3 prepared, 4 finalized, 5 returned."`
	Type          Opt[int]  `query:"type" minimum:"2" maximum:"3" doc:"2 fulfilled by eMAG (FBE), 3 by the seller."`
	Since         time.Time `query:"since" doc:"Orders placed at or after this time (RFC 3339)."`
	Until         time.Time `query:"until" doc:"Orders placed before this time (RFC 3339)."`
	ModifiedSince time.Time `query:"modified_since" doc:"Orders modified at or after this time (RFC 3339)."`
	Search        string    `query:"search" maxLength:"200" doc:"Customer name or email substring, or an order id."`
	Sort          string    `query:"sort" enum:"date,-date,+date,modified,-modified,+modified,id,-id,+id,total,-total,+total" default:"date" doc:"Newest first by default; + for ascending."`
	ListParams
}

// OrderListOutput is one page of orders (without lines).
type OrderListOutput struct {
	Body struct {
		Items []Order `json:"items"`
		Page
	}
}

// OrderInput names one order.
type OrderInput struct {
	ID      int64  `path:"id" minimum:"1"`
	Account string `query:"account" maxLength:"32" doc:"The account of the order; default: the first account in EMAG_ACCOUNTS order that has it."`
}

// OrderOutput is one order with its lines.
type OrderOutput struct {
	Body Order
}

func (s *Server) registerOrders() {
	huma.Register(s.api, huma.Operation{
		OperationID: "listOrders", Method: http.MethodGet, Path: "/api/v1/emag/enhanced/orders/all", Tags: []string{"Orders"},
		Summary: "List orders", Security: bearerAuth, Errors: []int{400, 401, 429},
		Description: "Orders of every account with filters on status, type, account and dates, newest first.",
	}, func(ctx context.Context, in *OrderListInput) (*OrderListOutput, error) {
		if err := s.checkAccount("query.account", in.Account); err != nil {
			return nil, err
		}
		if !in.Since.IsZero() && !in.Until.IsZero() && !in.Since.Before(in.Until) {
			return nil, invalid("query.since", "since must be before until")
		}
		sort := in.Sort // no sign: descending (the store's convention)
		orders, total, err := s.db.ListOrders(ctx, sqldb.OrderFilter{Account: in.Account, Status: in.Status.Ptr(), Type: in.Type.Ptr(),
			Since: in.Since, Until: in.Until, ModifiedSince: in.ModifiedSince, Search: in.Search, Sort: sort, Limit: in.Limit, Offset: in.Offset})
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		out := &OrderListOutput{}
		out.Body.Items = make([]Order, len(orders))
		for i, o := range orders {
			out.Body.Items[i] = orderOf(o, false)
		}
		out.Body.Page = pageOf(total, in.Limit, in.Offset, len(orders))
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "getOrder", Method: http.MethodGet, Path: "/api/v1/emag/enhanced/orders/{id}", Tags: []string{"Orders"},
		Summary: "Get one order", Security: bearerAuth, Errors: []int{400, 401, 404, 429},
		Description: "One order with its lines and raw eMAG payload.",
	}, func(ctx context.Context, in *OrderInput) (*OrderOutput, error) {
		if err := s.checkAccount("query.account", in.Account); err != nil {
			return nil, err
		}
		accounts := s.engine.AccountNames()
		if in.Account != "" {
			accounts = []string{in.Account}
		}
		for _, a := range accounts {
			o, err := s.db.GetOrder(ctx, a, in.ID)
			if err == nil {
				return &OrderOutput{Body: orderOf(o, true)}, nil
			}
			if magflow.ErrorCode(err) != magflow.ENotFound {
				return nil, problemOf(err, s.log)
			}
		}
		return nil, problemOf(magflow.Errorf(magflow.ENotFound, "order %d not found in %s", in.ID, strings.Join(accounts, ", ")), s.log)
	})
}
