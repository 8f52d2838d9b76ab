package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/httpapi"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

type problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (e *env) problem(r resp, status int, field string) {
	e.t.Helper()
	var p problem
	r.json(e.t, &p)
	if r.status != status || p.Status != status || (field != "" && p.Field != field) || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
		e.t.Fatalf("got %d %s, want %d problem on %q", r.status, r.body, status, field)
	}
}

func TestOfferChangesAPI(t *testing.T) {
	t.Parallel()
	for _, d := range sqldbtest.Engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := setup(t, d, setupOptions{products: 120, orders: 40})
			e.seed()
			op := e.login("op", operatorPassword).AccessToken
			view := e.login("view", viewerPassword).AccessToken
			offers, _, err := e.db.ListOffers(context.Background(), sqldb.OfferFilter{Account: "main", Limit: 10})
			if err != nil || len(offers) < 5 {
				t.Fatalf("offers: %d, %v", len(offers), err)
			}
			o := offers[0]
			path := fmt.Sprintf("/api/v1/emag/enhanced/offers/main/%d", o.ProductID)

			// One offer by id: 202 with the change id.
			r := e.do("PATCH", path, op, map[string]any{"stock": 17})
			if r.status != http.StatusAccepted {
				t.Fatalf("patch: %d %s", r.status, r.body)
			}
			var acc struct {
				ChangeID int64  `json:"change_id"`
				State    string `json:"state"`
				URL      string `json:"url"`
			}
			r.json(t, &acc)
			if acc.ChangeID == 0 || acc.State != "pending" || r.header.Get("Location") != acc.URL {
				t.Fatalf("accepted %+v, Location %q", acc, r.header.Get("Location"))
			}
			// By part number, with a price inside the bounds.
			r = e.do("PATCH", "/api/v1/emag/enhanced/offers/main/"+o.PartNumber+"?by=part_number", op, map[string]any{"sale_price": o.MinSalePrice.String()})
			if r.status != http.StatusAccepted {
				t.Fatalf("patch by SKU: %d %s", r.status, r.body)
			}

			// Refusals name the field.
			e.problem(e.do("PATCH", path, view, map[string]any{"stock": 1}), 403, "")
			e.problem(e.do("PATCH", path, "", map[string]any{"stock": 1}), 401, "")
			e.problem(e.do("PATCH", path, op, map[string]any{"stock": 70000}), 400, "body.stock")
			e.problem(e.do("PATCH", path, op, map[string]any{"sale_price": o.MaxSalePrice.Add(o.MaxSalePrice).String()}), 400, "body.sale_price")
			e.problem(e.do("PATCH", path, op, map[string]any{}), 400, "body.stock")
			e.problem(e.do("PATCH", "/api/v1/emag/enhanced/offers/main/99999999", op, map[string]any{"stock": 1}), 400, "path.key")
			e.problem(e.do("PATCH", "/api/v1/emag/enhanced/offers/main/16000000", op, map[string]any{"stock": 1}), 404, "path.key")
			e.problem(e.do("PATCH", "/api/v1/emag/enhanced/offers/nope/1", op, map[string]any{"stock": 1}), 400, "path.account")

			// Bulk JSON and CSV.
			bulk := map[string]any{"changes": []map[string]any{
				{"account": "main", "id": offers[1].ProductID, "stock": 3},
				{"account": "main", "part_number": offers[2].PartNumber, "stock": 4, "status": 1},
			}}
			r = e.do("PATCH", "/api/v1/emag/enhanced/offers", op, bulk)
			var bacc struct {
				Accepted  int     `json:"accepted"`
				ChangeIDs []int64 `json:"change_ids"`
				URL       string  `json:"url"`
			}
			r.json(t, &bacc)
			if r.status != http.StatusAccepted || bacc.Accepted != 2 || len(bacc.ChangeIDs) != 2 {
				t.Fatalf("bulk: %d %s", r.status, r.body)
			}
			bad := map[string]any{"changes": []map[string]any{{"account": "main", "id": offers[1].ProductID, "stock": 3}, {"account": "main", "id": 16000000, "stock": 1}}}
			e.problem(e.do("PATCH", "/api/v1/emag/enhanced/offers", op, bad), 400, "body.changes[1].id")
			csv := fmt.Sprintf("id,stock\n%d,5\n%d,6\n", offers[3].ProductID, offers[4].ProductID)
			r = e.do("PATCH", "/api/v1/emag/enhanced/offers/csv?account=main", op, csv, "Content-Type", "text/csv")
			if r.status != http.StatusAccepted {
				t.Fatalf("csv: %d %s", r.status, r.body)
			}
			e.problem(e.do("PATCH", "/api/v1/emag/enhanced/offers/csv?account=main", op, "id,stock\nx,5\n", "Content-Type", "text/csv"), 400, "body line 2: id")

			// Follow the change: pending, then applied once drained.
			var ch httpapi.Change
			e.do("GET", acc.URL, view, nil).json(t, &ch)
			if ch.State != "pending" || ch.Fields == nil || *ch.Fields.Stock != 17 || ch.Source != "api:op" {
				t.Fatalf("change = %+v", ch)
			}
			if ok, err := e.app.TwoWay.Drain(context.Background(), "main", sqldb.OutboxOffer); err != nil || !ok {
				t.Fatalf("drain: %v %v", ok, err)
			}
			e.do("GET", acc.URL, view, nil).json(t, &ch)
			if ch.State != "applied" || ch.Attempts != 1 || ch.DoneAt == nil {
				t.Fatalf("after the drain: %+v", ch)
			}
			var list httpapi.ChangeListOutput
			e.do("GET", "/api/v1/emag/enhanced/offers/changes?account=main&kind=offer", view, nil).json(t, &list.Body)
			if list.Body.Page.Total != 6 || list.Body.States["applied"] != 6 {
				t.Fatalf("list: total %d, states %v", list.Body.Page.Total, list.Body.States)
			}
			e.problem(e.do("GET", "/api/v1/emag/enhanced/offers/changes/999999", view, nil), 404, "")
		})
	}
}

func TestOrderCallback(t *testing.T) {
	t.Parallel()
	for _, d := range sqldbtest.Engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			e := setup(t, d, setupOptions{products: 20, orders: 200})
			c, err := emag.New(emag.Options{Account: "main", BaseURL: e.cfg.Accounts[0].BaseURL, Username: e.cfg.Accounts[0].Username, Password: e.cfg.Accounts[0].Password.Reveal()})
			if err != nil {
				t.Fatal(err)
			}
			typ := 3
			news, err := c.ReadOrders(context.Background(), emag.OrderFilter{Status: []int{1}, Type: &typ, ItemsPerPage: 100, CurrentPage: 1})
			if err != nil || len(news) == 0 {
				t.Fatalf("new orders: %d, %v", len(news), err)
			}
			id := news[0].ID
			url := fmt.Sprintf("%s?order_id=%d&token=callback-main", httpapi.CallbackPath, id)
			var first, second httpapi.CallbackAnswer
			r := e.do("GET", url, "", nil)
			r.json(t, &first)
			if r.status != 200 || first.Account != "main" || first.Stored != "inserted" || !first.AckQueued || first.Status != 1 {
				t.Fatalf("callback: %d %s", r.status, r.body)
			}
			r = e.do("GET", url+"&extra=eMAG", "", nil) // eMAG calls again until acknowledged
			r.json(t, &second)
			if r.status != 200 || second.Stored != "unchanged" {
				t.Fatalf("second callback: %d %s", r.status, r.body)
			}
			acks, total, err := e.db.ListOutbox(context.Background(), sqldb.OutboxFilter{Kind: sqldb.OutboxAck})
			if err != nil || total != 1 || acks[0].TargetID != id {
				t.Fatalf("acks %+v (%d), %v", acks, total, err)
			}
			if _, total, _ := e.db.ListOrders(context.Background(), sqldb.OrderFilter{Account: "main"}); total != 1 {
				t.Fatalf("%d orders stored, want 1", total)
			}
			if ok, err := e.app.TwoWay.Drain(context.Background(), "main", sqldb.OutboxAck); err != nil || !ok {
				t.Fatalf("drain acks: %v %v", ok, err)
			}
			got, err := c.ReadOrders(context.Background(), emag.OrderFilter{ID: id})
			if err != nil || len(got) != 1 || got[0].Status != 2 {
				t.Fatalf("eMAG's order after the acknowledgement: %+v, %v", got, err)
			}
			if o, err := e.db.GetOrder(context.Background(), "main", id); err != nil || o.Status != 2 {
				t.Fatalf("stored order after the acknowledgement: status %d, %v", o.Status, err)
			}

			e.problem(e.do("GET", fmt.Sprintf("%s?order_id=%d", httpapi.CallbackPath, id), "", nil), 401, "")
			e.problem(e.do("GET", fmt.Sprintf("%s?order_id=%d&token=callback-mainX", httpapi.CallbackPath, id), "", nil), 403, "")
			e.problem(e.do("GET", httpapi.CallbackPath+"?order_id=abc&token=callback-main", "", nil), 400, "query.order_id")
			e.problem(e.do("GET", httpapi.CallbackPath+"?order_id=1&token=callback-main", "", nil), 404, "")
			if strings.Contains(e.logs.String(), "callback-main") {
				t.Fatal("a callback token reached the logs")
			}
		})
	}
}
