package emag

import (
	"context"
	"fmt"

	"github.com/magflow/magflow"
)

// CampaignProposal proposes an offer for a campaign (campaign_proposals/save).
type CampaignProposal struct {
	ID                       int64 // the seller's product id
	CampaignID               int64
	SalePrice                magflow.Decimal
	Stock                    int // 0..255
	MaxQtyPerOrder           *int
	PostCampaignSalePrice    *magflow.Decimal
	NotAvailablePostCampaign *int
	VoucherDiscount          *int // 10..100 %
	DateIntervals            []CampaignInterval
}

// CampaignInterval is one MultiDeals interval.
type CampaignInterval struct {
	StartDate       CampaignDate `json:"start_date"`
	EndDate         CampaignDate `json:"end_date"`
	VoucherDiscount int          `json:"voucher_discount,omitempty"`
	Index           int          `json:"index"`
}

// CampaignDate is a PHP DateTime as eMAG serializes it.
type CampaignDate struct {
	Date         string `json:"date"` // "2025-11-20 00:00:00.000000"
	TimezoneType int    `json:"timezone_type"`
	Timezone     string `json:"timezone"` // "Europe/Bucharest"
}

// MarshalJSON writes amounts as numbers.
func (p CampaignProposal) MarshalJSON() ([]byte, error) {
	w := newObj()
	w.int("id", p.ID)
	w.int("campaign_id", p.CampaignID)
	w.dec("sale_price", p.SalePrice)
	w.int("stock", int64(p.Stock))
	w.intPtr("max_qty_per_order", p.MaxQtyPerOrder)
	w.decPtr("post_campaign_sale_price", p.PostCampaignSalePrice)
	w.intPtr("not_available_post_campaign", p.NotAvailablePostCampaign)
	w.intPtr("voucher_discount", p.VoucherDiscount)
	if p.DateIntervals != nil {
		w.any("date_intervals", p.DateIntervals)
	}
	return w.bytes()
}

// SaveCampaignProposals proposes up to 50 offers for campaigns.
func (c *Client) SaveCampaignProposals(ctx context.Context, ps []CampaignProposal) (SaveResult, error) {
	const route = "campaign_proposals/save"
	if e := validateBulk(len(ps)); e != nil {
		return SaveResult{}, c.validated(route, e)
	}
	for i, p := range ps {
		f := func(n string) string { return fmt.Sprintf("[%d].%s", i, n) }
		if e := validateSaveID(i, p.ID); e != nil {
			return SaveResult{}, c.validated(route, e)
		}
		switch {
		case p.CampaignID < 1:
			return SaveResult{}, c.validated(route, invalid(f("campaign_id"), "set the campaign id", "campaign_id %d", p.CampaignID))
		case p.Stock < 0 || p.Stock > 255:
			return SaveResult{}, c.validated(route, invalid(f("stock"), "propose a campaign stock between 0 and 255", "stock %d", p.Stock))
		case p.SalePrice.Cmp(magflow.Decimal{}) <= 0:
			return SaveResult{}, c.validated(route, invalid(f("sale_price"), "propose a sale price above 0", "sale_price %s", p.SalePrice))
		case p.VoucherDiscount != nil && (*p.VoucherDiscount < 10 || *p.VoucherDiscount > 100):
			return SaveResult{}, c.validated(route, invalid(f("voucher_discount"), "use a voucher discount between 10 and 100 percent", "voucher_discount %d", *p.VoucherDiscount))
		case len(p.DateIntervals) > 30:
			return SaveResult{}, c.validated(route, invalid(f("date_intervals"), "send at most 30 intervals", "%d intervals", len(p.DateIntervals)))
		}
	}
	return c.save(ctx, route, ps)
}
