package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
)

// CallbackPath is the order callback URL a seller registers in eMAG, with
// ?order_id=N (eMAG adds it) and &token=<EMAG_<NAME>_CALLBACK_TOKEN>.
const CallbackPath = "/api/v1/emag/callbacks/order"

// CallbackAnswer is the body of a handled order callback.
type CallbackAnswer struct {
	Account   string `json:"account"`
	OrderID   int64  `json:"order_id"`
	Type      int    `json:"type"`
	Status    int    `json:"status"`
	Stored    string `json:"stored" doc:"inserted, updated or unchanged"`
	AckQueued bool   `json:"ack_queued"`
}

// registerCallbacks serves eMAG's order callbacks (new order, cancellation,
// AWB status: each names the order) without JWT: the per-account token
// authenticates them. A plain route, not a huma operation, because eMAG
// may add query parameters of its own, which huma would refuse.
func (s *Server) registerCallbacks(r chi.Router) {
	r.Get(CallbackPath, func(w http.ResponseWriter, r *http.Request) {
		tw, err := s.twoWay()
		if err != nil {
			writeProblem(w, problemOf(err, s.log))
			return
		}
		q := r.URL.Query()
		id, perr := strconv.ParseInt(q.Get("order_id"), 10, 64)
		token := q.Get("token")
		if token != "" && (perr != nil || id < 1) {
			writeProblem(w, invalid("query.order_id", "order_id must be a positive eMAG order id"))
			return
		}
		res, err := tw.Callback(r.Context(), token, id)
		if err != nil {
			p := problemOf(err, s.log)
			if p.Status == http.StatusUnauthorized {
				p = unauthorized(p)
				p.headers = nil // not a bearer realm: the token goes in the query
			}
			writeProblem(w, p)
			return
		}
		stored := "unchanged"
		switch {
		case res.Stored.Inserted > 0:
			stored = "inserted"
		case res.Stored.Updated > 0:
			stored = "updated"
		}
		s.log.Info("order callback", "account", res.Account, "order_id", res.OrderID, "status", res.Status, "stored", stored, "ack_queued", res.AckQueued)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(CallbackAnswer{Account: res.Account, OrderID: res.OrderID, Type: res.Type, Status: res.Status, Stored: stored, AckQueued: res.AckQueued})
	})
}
