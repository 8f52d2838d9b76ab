// Small DOM and formatting helpers shared by the pages.

/**
 * h builds an element: h("a.link", {href}, "text", child...). Attributes
 * starting with "on" are listeners; class names may follow the tag after dots.
 */
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className += (el.className ? " " : "") + v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const NS = "http://www.w3.org/2000/svg";

/** svg builds an SVG element with attributes. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** fmtInt formats a whole number with thousands separators. */
export function fmtInt(n) {
  return Number(n || 0).toLocaleString("en-GB");
}

/** plural formats a count with its noun: "1 SKU", "2 SKUs". */
export function plural(n, one, many = `${one}s`) {
  return `${fmtInt(n)} ${n === 1 ? one : many}`;
}

/** fmtMoney formats a decimal string amount with its currency. */
export function fmtMoney(amount, currency) {
  if (amount === undefined || amount === null || amount === "") return "–";
  const n = Number(amount);
  const s = Number.isFinite(n)
    ? n.toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 4 })
    : amount;
  return currency ? `${s} ${currency}` : s;
}

/** fmtDuration formats seconds as "1 h 02 min", "3 min 05 s" or "4.2 s". */
export function fmtDuration(sec) {
  if (sec === null || sec === undefined || !Number.isFinite(sec)) return "–";
  if (sec < 10) return `${sec.toFixed(1)} s`;
  if (sec < 60) return `${Math.round(sec)} s`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m} min ${String(Math.round(sec % 60)).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** fmtAgo formats how long ago an ISO time was. */
export function fmtAgo(iso) {
  if (!iso) return "never";
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (s < 45) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** fmtTime formats an ISO time in the browser's zone. */
export function fmtTime(iso) {
  if (!iso) return "–";
  return new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

/** time returns a <time> element showing fmtTime with the exact value as a title. */
export function time(iso, ago = false) {
  if (!iso) return h("span.muted", "never");
  return h("time", { datetime: iso, title: new Date(iso).toISOString() }, ago ? fmtAgo(iso) : fmtTime(iso));
}

const tones = {
  completed: "ok", running: "info", pending: "info", partial: "warn", failed: "bad", cancelled: "muted",
};

/** pill is a small status label. */
export function pill(text, tone) {
  return h(`span.pill.${tone || tones[text] || "muted"}`, text);
}

/** badge is an account badge. */
export function badge(account, title) {
  return h("span.badge", { title: title || `account ${account}` }, account);
}

export const productStatus = { 0: "inactive", 1: "active", 2: "end of life" };
export const orderStatus = { 0: "canceled", 1: "new", 2: "in progress", 3: "prepared", 4: "finalized", 5: "returned" };
export const orderType = { 2: "FBE", 3: "seller" };

/** table builds a table from column specs [{label, cell(row), num}] and rows. */
export function table(columns, rows, { caption, empty = "Nothing matches." } = {}) {
  if (!rows.length) return h("p.empty", empty);
  return h("div.table-wrap", h("table",
    caption ? h("caption.sr-only", caption) : null,
    h("thead", h("tr", columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : "" }, c.label)))),
    h("tbody", rows.map((r) => h("tr", columns.map((c) => h("td", { class: c.num ? "num" : "", "data-label": c.label }, h("div", c.cell(r)))))))));
}

/** pager shows "1–100 of 650" and previous/next buttons. */
export function pager(page, go) {
  const from = page.total ? page.offset + 1 : 0;
  const to = Math.min(page.offset + page.limit, page.total);
  return h("div.pager",
    h("span", { "aria-live": "polite" }, `${fmtInt(from)}–${fmtInt(to)} of ${fmtInt(page.total)}`),
    h("button", { type: "button", disabled: page.offset === 0, onclick: () => go(Math.max(0, page.offset - page.limit)) }, "Previous"),
    h("button", { type: "button", disabled: page.next_offset === undefined || page.next_offset === null, onclick: () => go(page.next_offset) }, "Next"));
}

/** field wraps a control with its label. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h("div.field", h("label", { for: id }, label), control, hint ? h("small.hint", hint) : null);
}

/** select builds a <select> from [value, label] pairs. */
export function select(name, options, value) {
  return h("select", { name }, options.map(([v, l]) => h("option", { value: v, selected: String(v) === String(value ?? "") }, l)));
}

/** input builds an <input>. */
export function input(name, value, attrs = {}) {
  return h("input", { name, value: value ?? "", ...attrs });
}

let toastTimer = 0;

/** toast shows a short message in the live region. */
export function toast(msg, tone = "info") {
  const t = document.getElementById("toast");
  t.textContent = msg;
  t.className = `toast show ${tone}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = "toast"; }, 5000);
}

/** errorBox shows a failed request. */
export function errorBox(err) {
  return h("div.error", { role: "alert" }, h("strong", "Could not load: "), err.message || String(err));
}

/** loading is a placeholder while a page loads. */
export function loading() {
  return h("p.muted.loading", { "aria-busy": "true" }, "Loading…");
}

/** dl builds a definition list from [term, value] pairs. */
export function dl(pairs) {
  return h("dl.facts", pairs.filter(Boolean).map(([k, v]) => [h("dt", k), h("dd", v ?? "–")]));
}

/**
 * mulMoney multiplies a decimal string amount (up to 4 decimals, as the API
 * sends them) by a whole quantity exactly, without floating point.
 */
export function mulMoney(amount, qty) {
  const m = /^(-?)(\d*)(?:\.(\d{0,4}))?$/.exec(String(amount || "0").trim());
  if (!m) return "";
  let units = BigInt(m[2] || "0") * 10000n + BigInt(((m[3] || "") + "0000").slice(0, 4));
  units *= BigInt(qty);
  const neg = (m[1] === "-") !== (units < 0n) && units !== 0n;
  if (units < 0n) units = -units;
  const s = `${units / 10000n}.${String(units % 10000n).padStart(4, "0")}`;
  return neg ? `-${s}` : s;
}
