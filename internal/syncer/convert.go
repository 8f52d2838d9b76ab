package syncer

import (
	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
)

// productFromEMAG splits one product_offer/read row into the account's
// product (documentation) and offer (price, stock, status) records. The raw
// payload travels with the product so no field is ever lost.
func productFromEMAG(account string, po *emag.ProductOffer) (magflow.Product, magflow.Offer) {
	supply := po.OfferDetails.SupplyLeadTime
	if supply == 0 {
		supply = po.SupplyLeadTime
	}
	p := magflow.Product{
		Account:               account,
		ID:                    po.ID,
		PartNumber:            po.PartNumber,
		PartNumberKey:         po.PartNumberKey,
		Name:                  po.Name,
		Brand:                 firstNonEmpty(po.Brand, po.BrandName),
		CategoryID:            po.CategoryID,
		EAN:                   po.EAN,
		Status:                po.Status,
		ValidationStatus:      po.ValidationValue(),
		OfferValidationStatus: po.OfferValidationValue(),
		Ownership:             po.Ownership,
		GreenTax:              po.GreenTax,
		SupplyLeadTime:        supply,
		SafetyInformation:     po.SafetyInformation,
		Raw:                   po.Raw,
	}
	o := magflow.Offer{
		Account:          account,
		ProductID:        po.ID,
		PartNumber:       po.PartNumber,
		OfferID:          po.OfferDetails.ID,
		SalePrice:        po.SalePrice,
		RecommendedPrice: po.RecommendedPrice,
		MinSalePrice:     po.MinSalePrice,
		MaxSalePrice:     po.MaxSalePrice,
		BestOfferPrice:   po.BestOfferSalePrice,
		Currency:         po.Currency,
		VatID:            po.VatID,
		Status:           po.Status,
		GeneralStock:     po.GeneralStock,
		EstimatedStock:   po.EstimatedStock,
		Stock:            warehouseValues(po.Stock),
		HandlingTime:     warehouseValues(po.HandlingTime),
		Availability:     warehouseValues(po.Availability),
		BuyButtonRank:    po.BuyButtonRank,
		NumberOfOffers:   po.NumberOfOffers,
	}
	return p, o
}

func warehouseValues(in []emag.WarehouseValue) []magflow.WarehouseValue {
	if in == nil {
		return nil
	}
	out := make([]magflow.WarehouseValue, len(in))
	for i, w := range in {
		out[i] = magflow.WarehouseValue{WarehouseID: w.WarehouseID, Value: w.Value}
	}
	return out
}

// orderFromEMAG maps an order/read row to the domain order with its lines.
func orderFromEMAG(account string, eo *emag.Order) magflow.Order {
	o := magflow.Order{
		Account:       account,
		ID:            eo.ID,
		Type:          eo.Type,
		Status:        eo.Status,
		PaymentModeID: eo.PaymentModeID,
		PaymentMode:   eo.PaymentMode,
		PaymentStatus: eo.PaymentStatus,
		DeliveryMode:  eo.DeliveryMode,
		Date:          eo.Date,
		Modified:      eo.Modified,
		CustomerName:  eo.Customer.Name,
		CustomerEmail: eo.Customer.Email,
		CustomerPhone: firstNonEmpty(eo.Customer.Phone1, eo.Customer.ShippingPhone, eo.Customer.BillingPhone),
		ShippingCity:  eo.Customer.ShippingCity,
		ShippingTax:   eo.ShippingTax,
		Currency:      eo.Currency,
		Raw:           eo.Raw,
	}
	if o.Modified.IsZero() {
		o.Modified = eo.Date
	}
	for _, l := range eo.Products {
		o.Lines = append(o.Lines, magflow.OrderLine{
			ID:            l.ID,
			ProductID:     l.ProductID,
			PartNumber:    firstNonEmpty(l.ExtPartNumber, l.PartNumber),
			PartNumberKey: l.PartNumberKey,
			Name:          l.Name,
			Quantity:      l.Quantity,
			SalePrice:     l.SalePrice,
			VAT:           l.VAT,
			Currency:      l.Currency,
			Status:        l.Status,
		})
		if l.Status != 0 {
			o.Total = o.Total.Add(l.SalePrice.MulInt(int64(l.Quantity)))
		}
		if o.Currency == "" {
			o.Currency = l.Currency
		}
	}
	return o
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
