// The products and offers browsers, and one product.

import { BASE, get, query } from "../api.js";
import { accountOptions } from "../config.js";
import { badge, dl, plural, field, fmtInt, fmtMoney, h, input, pager, pill, productStatus, select, table, time } from "../ui.js";

const LIMIT = 50;

// filterForm builds a filter form whose submit navigates with its values:
// the search field first, the other filters folded away on a phone unless
// one is set.
function filterForm(path, [search, ...controls], navigate, { label = "Filters", active = false } = {}) {
  const wide = window.matchMedia("(min-width: 761px)").matches;
  const more = h("details.more", { open: wide || active }, h("summary", "More filters"), h("div.more-fields", controls));
  const form = h("form.filters", {
    role: "search", "aria-label": label,
    onsubmit: (e) => {
      e.preventDefault();
      const params = {};
      for (const [k, v] of new FormData(form)) if (v !== "") params[k] = v;
      navigate(path, params);
    },
  }, search, more, h("div.field.buttons",
    h("button.primary", { type: "submit" }, "Search"),
    h("button", { type: "button", onclick: () => navigate(path) }, "Reset")));
  return form;
}

// pick copies the allowed, non-empty query parameters.
function pick(q, keys) {
  const out = {};
  for (const k of keys) if (q.get(k)) out[k] = q.get(k);
  return out;
}

const statusOptions = [["", "Any status"], ["1", "active"], ["0", "inactive"], ["2", "end of life"]];
const goneOptions = [["present", "Listed on eMAG"], ["gone", "Removed"], ["any", "Both"]];

function listings(item) {
  const others = (item.listings || []).filter((l) => !(l.account === item.account && l.product_id === item.id));
  if (!others.length) return h("span.muted", "–");
  return h("ul.listings", others.map((l) => h("li",
    badge(l.account, `also listed by ${l.account}`), " ",
    h("a", { href: `#/products/${l.product_id}?account=${encodeURIComponent(l.account)}`, "aria-label": `${l.account} listing: ${fmtMoney(l.sale_price, l.currency)}, stock ${l.general_stock}` },
      fmtMoney(l.sale_price, l.currency)),
    h("span.muted", ` · ${fmtInt(l.general_stock)} in stock`))));
}

/** productsPage is the products browser. */
export async function productsPage({ query: q, navigate }) {
  const keys = ["search", "view", "account", "status", "brand", "min_price", "max_price", "min_stock", "max_stock", "gone", "sort", "offset"];
  const params = pick(q, keys);
  const canonical = (params.view || "canonical") === "canonical";
  const page = await get(`${BASE}/products/all${query({ ...params, limit: LIMIT })}`);
  const form = filterForm("/products", [
    field("Search", input("search", params.search, { type: "search", placeholder: "name, part number, PNK or EAN", id: "product-search" })),
    field("View", select("view", [["canonical", "One row per SKU"], ["account", "Per account"]], params.view)),
    field(canonical ? "Source account" : "Account", select("account", accountOptions(), params.account)),
    field("Status", select("status", statusOptions, params.status)),
    field("Brand", input("brand", params.brand)),
    field("Min price", input("min_price", params.min_price, { inputmode: "decimal", size: 7 })),
    field("Max price", input("max_price", params.max_price, { inputmode: "decimal", size: 7 })),
    field("Min stock", input("min_stock", params.min_stock, { type: "number", min: 0 })),
    field("Max stock", input("max_stock", params.max_stock, { type: "number", min: 0 })),
    field("Listed", select("gone", goneOptions, params.gone)),
    field("Sort", select("sort", [["id", "Product id"], ["name", "Name"], ["-price", "Price, highest"], ["price", "Price, lowest"],
      ["-stock", "Stock, most"], ["stock", "Stock, least"], ["-updated_at", "Recently changed"], ["brand", "Brand"]], params.sort)),
  ], navigate, { label: "Product filters", active: Object.keys(params).some((k) => !["search", "offset"].includes(k)) });
  const link = (it) => `#/products/${it.id}?account=${encodeURIComponent(it.account)}`;
  const cols = [
    { label: "Product", cell: (it) => [h("a.product-link", { href: link(it) }, it.name || `(no name) ${it.id}`),
      h("div.sub", `PN ${it.part_number}`, it.part_number_key ? ` · PNK ${it.part_number_key}` : "", it.ean.length ? ` · EAN ${it.ean.join(", ")}` : "")] },
    { label: "Brand", cell: (it) => it.brand || "–" },
    { label: "Price", num: true, cell: (it) => (it.offer ? fmtMoney(it.offer.sale_price, it.offer.currency) : h("span.muted", "no offer")) },
    { label: "Stock", num: true, cell: (it) => (it.offer ? fmtInt(it.offer.general_stock) : "–") },
    { label: "Status", cell: (it) => [pill(productStatus[it.status] || String(it.status), it.status === 1 ? "ok" : "muted"), it.gone_at ? pill("removed", "warn") : null] },
    { label: canonical ? "Source" : "Account", cell: (it) => badge(it.account, canonical ? `source account: ${it.account}` : undefined) },
  ];
  if (canonical) cols.push({ label: "Other accounts", cell: listings });
  return h("div.page",
    h("div.page-head", h("h1", "Products"), h("span.muted", canonical ? plural(page.total, "SKU") : plural(page.total, "product"))),
    form,
    h("section.panel", { "aria-label": "Results" },
      table(cols, page.items, { caption: "Products", empty: "No product matches these filters." }),
      pager(page, (offset) => navigate("/products", { ...params, offset }))));
}

function jsonBlock(title, value) {
  if (value === undefined || value === null) return null;
  return h("details.raw", h("summary", title), h("pre", JSON.stringify(value, null, 2)));
}

function characteristics(c) {
  if (!Array.isArray(c) || !c.length) return null;
  const rows = c.map((x) => (typeof x === "object" && x ? x : { value: x }));
  return h("section.panel", h("h2", "Characteristics"),
    table([{ label: "Id", cell: (r) => r.id ?? "–" }, { label: "Value", cell: (r) => String(r.value ?? JSON.stringify(r)) }], rows));
}

/** productPage shows one product with every account's offer for its SKU. */
export async function productPage({ params: [id], query: q }) {
  const p = await get(`${BASE}/products/${id}${query({ account: q.get("account") })}`);
  const images = Array.isArray(p.images) ? p.images.map((i) => (typeof i === "object" && i ? i.url : i)).filter(Boolean) : [];
  return h("div.page",
    h("p.crumbs", h("a", { href: "#/products" }, "Products"), " / ", p.part_number),
    h("div.page-head", h("h1", p.name || `Product ${p.id}`), badge(p.account, `account ${p.account}`),
      pill(productStatus[p.status] || String(p.status), p.status === 1 ? "ok" : "muted"), p.gone_at ? pill("removed from eMAG", "warn") : null),
    h("section.panel.product", dl([
      ["Product id", String(p.id)],
      ["Part number", p.part_number],
      ["PNK", p.part_number_key || "–"],
      ["EAN", p.ean.length ? p.ean.join(", ") : "–"],
      ["Brand", p.brand || "–"],
      ["Category", p.category_id ? String(p.category_id) : "–"],
      ["Validation", `product ${p.validation_status} · offer ${p.offer_validation_status}`],
      ["Ownership", p.ownership ? "yes" : "no"],
      ["Green tax", p.green_tax],
      ["First seen", time(p.first_seen_at)],
      ["Last seen", time(p.last_seen_at)],
      ["Changed", time(p.updated_at)],
      p.gone_at ? ["Removed", time(p.gone_at)] : null,
      images.length ? ["Images", h("ul.plain", images.map((u) => h("li.mono", u)))] : null,
    ])),
    h("section.panel", { "aria-labelledby": "offers-title" }, h("h2", { id: "offers-title" }, "Offers in every account"),
      table([
        { label: "Account", cell: (o) => badge(o.account) },
        { label: "Product id", cell: (o) => (o.account === p.account && o.product_id === p.id ? String(o.product_id)
          : h("a", { href: `#/products/${o.product_id}?account=${encodeURIComponent(o.account)}` }, String(o.product_id))) },
        { label: "Price", num: true, cell: (o) => fmtMoney(o.sale_price, o.currency) },
        { label: "Min–max", num: true, cell: (o) => `${fmtMoney(o.min_sale_price)} – ${fmtMoney(o.max_sale_price)}` },
        { label: "Best offer", num: true, cell: (o) => fmtMoney(o.best_offer_price, o.currency) },
        { label: "Stock", num: true, cell: (o) => fmtInt(o.general_stock) },
        { label: "Status", cell: (o) => pill(productStatus[o.status] || String(o.status), o.status === 1 ? "ok" : "muted") },
        { label: "Buy button rank", num: true, cell: (o) => String(o.buy_button_rank) },
        { label: "Sellers", num: true, cell: (o) => String(o.number_of_offers) },
        { label: "Last seen", cell: (o) => time(o.last_seen_at, true) },
      ], p.offers, { caption: "Offers for this part number", empty: "No account has an offer for this product." })),
    characteristics(p.characteristics),
    h("section.panel", jsonBlock("Raw eMAG payload", p.raw)));
}

/** offersPage is the offers browser. */
export async function offersPage({ query: q, navigate }) {
  const keys = ["account", "status", "min_stock", "max_stock", "min_price", "max_price", "search", "gone", "sort", "offset"];
  const params = pick(q, keys);
  const page = await get(`${BASE}/offers/all${query({ ...params, limit: LIMIT })}`);
  const form = filterForm("/offers", [
    field("Part number", input("search", params.search, { type: "search", placeholder: "part number prefix", id: "offer-search" })),
    field("Account", select("account", accountOptions(), params.account)),
    field("Status", select("status", statusOptions, params.status)),
    field("Min price", input("min_price", params.min_price, { inputmode: "decimal", size: 7 })),
    field("Max price", input("max_price", params.max_price, { inputmode: "decimal", size: 7 })),
    field("Min stock", input("min_stock", params.min_stock, { type: "number", min: 0 })),
    field("Max stock", input("max_stock", params.max_stock, { type: "number", min: 0 })),
    field("Listed", select("gone", goneOptions, params.gone)),
    field("Sort", select("sort", [["id", "Product id"], ["-price", "Price, highest"], ["price", "Price, lowest"], ["-stock", "Stock, most"],
      ["stock", "Stock, least"], ["-updated_at", "Recently changed"]], params.sort)),
  ], navigate, { label: "Offer filters", active: Object.keys(params).some((k) => !["search", "offset"].includes(k)) });
  return h("div.page",
    h("div.page-head", h("h1", "Offers"), h("span.muted", plural(page.total, "offer"))),
    form,
    h("section.panel", { "aria-label": "Results" },
      table([
        { label: "Account", cell: (o) => badge(o.account) },
        { label: "Part number", cell: (o) => h("a", { href: `#/products/${o.product_id}?account=${encodeURIComponent(o.account)}` }, o.part_number) },
        { label: "Price", num: true, cell: (o) => fmtMoney(o.sale_price, o.currency) },
        { label: "Best offer", num: true, cell: (o) => fmtMoney(o.best_offer_price, o.currency) },
        { label: "Stock", num: true, cell: (o) => fmtInt(o.general_stock) },
        { label: "Status", cell: (o) => [pill(productStatus[o.status] || String(o.status), o.status === 1 ? "ok" : "muted"), o.gone_at ? pill("removed", "warn") : null] },
        { label: "Rank", num: true, cell: (o) => String(o.buy_button_rank) },
        { label: "Sellers", num: true, cell: (o) => String(o.number_of_offers) },
        { label: "Last seen", cell: (o) => time(o.last_seen_at, true) },
      ], page.items, { caption: "Offers", empty: "No offer matches these filters." }),
      pager(page, (offset) => navigate("/offers", { ...params, offset }))));
}
