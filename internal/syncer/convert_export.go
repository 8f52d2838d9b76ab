package syncer

import (
	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
)

// OrderFromEMAG maps an order/read row to the domain order exactly as the
// engine stores it; the order callbacks and the reconciliation
// (internal/twoway) store single orders with it.
func OrderFromEMAG(account string, eo *emag.Order) magflow.Order { return orderFromEMAG(account, eo) }
