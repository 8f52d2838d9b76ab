package magflow

import (
	"encoding/json"
	"time"
)

// Order statuses as eMAG defines them.
const (
	OrderCanceled   = 0
	OrderNew        = 1
	OrderInProgress = 2
	OrderPrepared   = 3
	OrderFinalized  = 4
	OrderReturned   = 5
)

// Order types: fulfilled by eMAG (FBE) or by the seller.
const (
	OrderTypeFBE    = 2
	OrderTypeSeller = 3
)

// Order is one customer order of one account. Ids exceed 2^31.
type Order struct {
	Account       string
	ID            int64
	Type          int
	Status        int
	PaymentModeID int
	PaymentMode   string
	PaymentStatus int
	DeliveryMode  string
	Date          time.Time // cart submission
	Modified      time.Time
	CustomerName  string
	CustomerEmail string
	CustomerPhone string
	ShippingCity  string
	ShippingTax   Decimal
	Total         Decimal // sum of line sale_price * quantity, without VAT
	Currency      string
	Lines         []OrderLine
	Raw           json.RawMessage
	ContentHash   string
	LastSeenAt    time.Time
}

// OrderLine is one product line of an order.
type OrderLine struct {
	ID            int64
	ProductID     int64
	PartNumber    string
	PartNumberKey string
	Name          string
	Quantity      int
	SalePrice     Decimal
	VAT           Decimal
	Currency      string
	Status        int
}
