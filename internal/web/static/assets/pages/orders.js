// The orders browser and one order.

import { BASE, get, query } from "../api.js";
import { accountOptions } from "../config.js";
import { badge, dl, plural, field, fmtInt, fmtMoney, h, input, mulMoney, orderStatus, orderType, pager, pill, select, table, time } from "../ui.js";

const statusTone = { 0: "muted", 1: "info", 2: "info", 3: "info", 4: "ok", 5: "warn" };

function statusPill(s) {
  return pill(orderStatus[s] ?? String(s), statusTone[s]);
}

// dayStart turns a YYYY-MM-DD date into the RFC 3339 time of its local
// midnight, plus days.
function dayStart(d, days = 0) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d || "")) return "";
  const t = new Date(`${d}T00:00:00`);
  t.setDate(t.getDate() + days);
  return t.toISOString();
}

/** ordersPage is the orders browser: by status and date, newest first. */
export async function ordersPage({ query: q, navigate }) {
  const params = {};
  for (const k of ["account", "status", "type", "since", "until", "search", "sort", "offset"]) if (q.get(k)) params[k] = q.get(k);
  const api = { ...params, since: dayStart(params.since), until: dayStart(params.until, 1), limit: 50 };
  const page = await get(`${BASE}/orders/all${query(api)}`);
  const form = h("form.filters", {
    role: "search", "aria-label": "Order filters",
    onsubmit: (e) => {
      e.preventDefault();
      const next = {};
      for (const [k, v] of new FormData(form)) if (v !== "") next[k] = v;
      navigate("/orders", next);
    },
  },
  field("Search", input("search", params.search, { type: "search", placeholder: "customer name, email or order id", id: "order-search" })),
  field("Status", select("status", [["", "Any status"], ...Object.entries(orderStatus)], params.status)),
  field("Account", select("account", accountOptions(), params.account)),
  field("Fulfilment", select("type", [["", "Any"], ["3", "by the seller"], ["2", "by eMAG (FBE)"]], params.type)),
  field("From", input("since", params.since, { type: "date" })),
  field("To", input("until", params.until, { type: "date" })),
  field("Sort", select("sort", [["date", "Newest first"], ["+date", "Oldest first"], ["modified", "Recently modified"], ["total", "Largest total"], ["+total", "Smallest total"]], params.sort)),
  h("div.field.buttons", h("button.primary", { type: "submit" }, "Search"), h("button", { type: "button", onclick: () => navigate("/orders") }, "Reset")));
  const link = (o) => `#/orders/${o.id}?account=${encodeURIComponent(o.account)}`;
  return h("div.page",
    h("div.page-head", h("h1", "Orders"), h("span.muted", plural(page.total, "order"))),
    form,
    h("section.panel", { "aria-label": "Results" },
      table([
        { label: "Order", cell: (o) => h("a.order-link", { href: link(o) }, String(o.id)) },
        { label: "Date", cell: (o) => time(o.date) },
        { label: "Account", cell: (o) => badge(o.account) },
        { label: "Status", cell: (o) => statusPill(o.status) },
        { label: "Fulfilment", cell: (o) => orderType[o.type] || String(o.type) },
        { label: "Customer", cell: (o) => o.customer_name || "–" },
        { label: "City", cell: (o) => o.shipping_city || "–" },
        { label: "Payment", cell: (o) => o.payment_mode || "–" },
        { label: "Total", num: true, cell: (o) => fmtMoney(o.total, o.currency) },
      ], page.items, { caption: "Orders", empty: "No order matches these filters." }),
      pager(page, (offset) => navigate("/orders", { ...params, offset }))));
}

/** orderPage shows one order with its lines and customer. */
export async function orderPage({ params: [id], query: q }) {
  const o = await get(`${BASE}/orders/${id}${query({ account: q.get("account") })}`);
  const lines = o.lines || [];
  return h("div.page",
    h("p.crumbs", h("a", { href: "#/orders" }, "Orders"), " / ", String(o.id)),
    h("div.page-head", h("h1", `Order ${o.id}`), badge(o.account), statusPill(o.status)),
    h("div.grid2",
      h("section.panel", { "aria-labelledby": "order-facts" }, h("h2", { id: "order-facts" }, "Order"), dl([
        ["Placed", time(o.date)],
        ["Modified", time(o.modified)],
        ["Fulfilment", orderType[o.type] || String(o.type)],
        ["Payment", `${o.payment_mode || "–"}${o.payment_status ? " · paid" : ""}`],
        ["Delivery", o.delivery_mode || "–"],
        ["Shipping", fmtMoney(o.shipping_tax, o.currency)],
        ["Total", h("strong", fmtMoney(o.total, o.currency))],
        ["Last synced", time(o.last_seen_at, true)],
      ])),
      h("section.panel.customer", { "aria-labelledby": "order-customer" }, h("h2", { id: "order-customer" }, "Customer"), dl([
        ["Name", o.customer_name || "–"],
        ["Email", o.customer_email ? h("a", { href: `mailto:${o.customer_email}` }, o.customer_email) : "–"],
        ["Phone", o.customer_phone || "–"],
        ["City", o.shipping_city || "–"],
      ]))),
    h("section.panel", { "aria-labelledby": "order-lines" }, h("h2", { id: "order-lines" }, `Lines (${lines.length})`),
      table([
        { label: "Product", cell: (l) => [l.name || "–", h("div.sub", `PN ${l.part_number}`, l.part_number_key ? ` · PNK ${l.part_number_key}` : "")] },
        { label: "Quantity", num: true, cell: (l) => fmtInt(l.quantity) },
        { label: "Unit price", num: true, cell: (l) => fmtMoney(l.sale_price, l.currency) },
        { label: "VAT", num: true, cell: (l) => fmtMoney(l.vat) },
        { label: "Line total", num: true, cell: (l) => fmtMoney(mulMoney(l.sale_price, l.quantity), l.currency) },
        { label: "Status", cell: (l) => (l.status === 1 ? pill("active", "ok") : pill("removed", "muted")) },
      ], lines, { caption: "Order lines", empty: "This order has no lines." })),
    o.raw ? h("section.panel", h("details.raw", h("summary", "Raw eMAG payload"), h("pre", JSON.stringify(o.raw, null, 2)))) : null);
}
