// The overview: one card per account (platform, streams' last sync and
// freshness, counts, open errors, alerts, sync buttons for operators), the
// live progress panel and the chart of the last runs.

import { ApiError, BASE, canOperate, get, metrics, post, query } from "../api.js";
import { accountInfo } from "../config.js";
import { runsChart } from "../charts.js";
import * as live from "../live.js";
import { fmtAgo, fmtDuration, fmtInt, h, pill, time, toast } from "../ui.js";

const alertNames = { non_json: "captcha or HTML page instead of JSON", ip_not_whitelisted: "IP address not whitelisted", auth: "credentials refused" };

/** parseMetric reads the samples of one metric from Prometheus text. */
export function parseMetric(text, name) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const m = /^[^{\s]+(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[1] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

// alertsByAccount sums captcha/IP/credential alerts and 429s per account
// since the server started, from /metrics.
async function alertsByAccount() {
  const out = {};
  let text = "";
  try {
    text = await metrics();
  } catch {
    return out;
  }
  for (const s of parseMetric(text, "magflow_emag_alerts_total")) {
    if (!s.value) continue;
    const a = (out[s.labels.account] ||= { alerts: {}, throttled: 0 });
    a.alerts[s.labels.kind] = (a.alerts[s.labels.kind] || 0) + s.value;
  }
  for (const s of parseMetric(text, "magflow_emag_throttled_total")) {
    const a = (out[s.labels.account] ||= { alerts: {}, throttled: 0 });
    a.throttled += s.value;
  }
  return out;
}

async function counts(account) {
  const [p, o] = await Promise.all([
    get(`${BASE}/products/all${query({ view: "account", account, limit: 1 })}`),
    get(`${BASE}/offers/all${query({ account, limit: 1 })}`),
  ]);
  return { products: p.total, offers: o.total };
}

/** startSync starts a product or offer sync of the accounts and follows it. */
export async function startSync(streamName, accounts) {
  try {
    const res = await post(`${BASE}/sync/all-${streamName}`, accounts ? { accounts } : {});
    const ids = res.runs.map((r) => r.run_id);
    live.track(ids);
    const skipped = (res.already_running || []).map((r) => `${r.account} (run ${r.run_id})`);
    toast(`Started ${streamName} sync: run ${ids.join(", ")}${skipped.length ? `; already running: ${skipped.join(", ")}` : ""}`, "ok");
  } catch (err) {
    if (err instanceof ApiError && err.status === 409 && err.problem.running_run_id) {
      live.track([err.problem.running_run_id]);
      toast(`A ${streamName} sync is already running (run ${err.problem.running_run_id}): following it.`, "warn");
      return;
    }
    toast(`Could not start the sync: ${err.message}`, "bad");
  }
}

function accountState(a, alerts) {
  if (a.running.length) return ["syncing", "info"];
  if (a.errors.length || (alerts && Object.keys(alerts.alerts).length)) return ["needs attention", "bad"];
  if (a.streams.every((s) => !s.last_run)) return ["never synced", "muted"];
  // Products and offers come from one catalogue scan: the catalogue is
  // fresh when either stream is.
  const by = Object.fromEntries(a.streams.map((s) => [s.stream, s]));
  const catalogueStale = ["products", "offers"].every((st) => !by[st] || by[st].stale);
  const ordersStale = by.orders && by.orders.last_run && by.orders.stale;
  if (catalogueStale || ordersStale) return ["stale", "warn"];
  return ["up to date", "ok"];
}

function card(a, c, al, operator) {
  const info = accountInfo(a.account);
  const holes = a.streams.reduce((n, s) => n + s.open_holes, 0);
  const openErrors = a.errors.length + holes;
  const [state, tone] = accountState(a, al);
  const syncButtons = operator
    ? h("div.actions", ["products", "offers"].map((st) => h("button", {
      type: "button", class: "sync-btn", dataset: { account: a.account, stream: st },
      disabled: live.running(a.account, st), onclick: () => startSync(st, [a.account]),
    }, `Sync ${st}`)))
    : null;
  const alertItems = al ? Object.entries(al.alerts).map(([k, n]) => h("li", `${fmtInt(n)} × ${alertNames[k] || k}`)) : [];
  return h("article.card.account", { dataset: { account: a.account }, "aria-labelledby": `acct-${a.account}` },
    h("header.card-head",
      h("h2", { id: `acct-${a.account}` }, a.account),
      info ? h("span.platform", { title: "platform and currency" }, `${info.platform} · ${info.currency}`) : null,
      pill(state, tone)),
    h("dl.counts",
      h("div", h("dt", "Products"), h("dd", c ? h("a", { href: `#/products?view=account&account=${encodeURIComponent(a.account)}` }, fmtInt(c.products)) : "–")),
      h("div", h("dt", "Offers"), h("dd", c ? h("a", { href: `#/offers?account=${encodeURIComponent(a.account)}` }, fmtInt(c.offers)) : "–")),
      h("div", { class: openErrors ? "bad" : "" }, h("dt", "Open errors"), h("dd", fmtInt(openErrors))),
      h("div", { class: al && al.throttled ? "warn" : "" }, h("dt", "429s"), h("dd", fmtInt(al ? al.throttled : 0)))),
    h("div.scroll", h("table.streams",
      h("caption.sr-only", `${a.account}: last sync per stream`),
      h("thead", h("tr", h("th", { scope: "col" }, "Stream"), h("th", { scope: "col" }, "Last run"), h("th", { scope: "col" }, "Last complete"), h("th", { scope: "col", class: "num" }, "Holes"))),
      h("tbody", a.streams.map((s) => h("tr", { class: s.stale && s.last_run ? "stale" : "" },
        h("th", { scope: "row" }, s.stream),
        h("td", s.last_run ? [h("a", { href: `#/runs/${s.last_run.id}` }, pill(s.last_run.status)), " ", h("span.muted", fmtDuration(s.last_run.duration_seconds))] : h("span.muted", "never")),
        h("td", s.last_completed_at
          ? [time(s.last_completed_at, true), s.stale ? h("span.pill.warn", { title: "no completed run within twice the scheduled interval" }, "stale") : null]
          : h("span.muted", "never")),
        h("td.num", s.open_holes ? h("span.bad", fmtInt(s.open_holes)) : "0")))))),
    alertItems.length ? h("div.alert", { role: "note" }, h("strong", "Alerts since the server started"), h("ul", alertItems)) : null,
    a.errors.length ? h("ul.errors", a.errors.map((r) => h("li", h("a", { href: `#/runs/${r.id}` }, `${r.stream} run ${r.id}`), " ", pill(r.status), " ", r.reason || ""))) : null,
    syncButtons);
}

/** overviewPage renders the overview. */
export async function overviewPage() {
  const operator = canOperate();
  const cards = h("div.cards", { "aria-live": "off" });
  const chartBox = h("div");
  const updated = h("span.muted");

  const load = async () => {
    const [status, runs, alerts] = await Promise.all([get(`${BASE}/status`), get(`${BASE}/sync/runs${query({ limit: 40 })}`), alertsByAccount()]);
    const cs = await Promise.all(status.accounts.map((a) => counts(a.account).catch(() => null)));
    cards.replaceChildren(...status.accounts.map((a, i) => card(a, cs[i], alerts[a.account], operator)));
    chartBox.replaceChildren(runsChart(runs.items, { onSelect: (r) => { location.hash = `#/runs/${r.id}`; } }));
    updated.textContent = `updated ${fmtAgo(status.generated_at)}`;
    const s = status.schedule;
    schedule.textContent = s.enabled
      ? `Scheduled sync on: catalogue every ${s.interval_minutes} min, orders every ${s.orders_interval_minutes} min (${s.streams.join(", ")}).`
      : "Scheduled sync off.";
  };
  const schedule = h("p.muted");
  await load();

  // Reload the figures when a run finishes; keep the buttons in step with
  // what is running.
  const isDone = (p) => p.status !== "running" && p.status !== "pending";
  const finished = new Set(live.progress().filter(isDone).map((p) => p.run_id));
  let reload = 0;
  const off = live.subscribe(() => {
    if (!cards.isConnected) {
      off();
      return;
    }
    for (const b of cards.querySelectorAll(".sync-btn")) b.disabled = live.running(b.dataset.account, b.dataset.stream);
    let changed = false;
    for (const p of live.progress()) {
      if (isDone(p) && !finished.has(p.run_id)) {
        finished.add(p.run_id);
        changed = true;
      }
    }
    if (changed) {
      clearTimeout(reload);
      reload = setTimeout(() => load().catch((err) => toast(`Could not refresh: ${err.message}`, "bad")), 300);
    }
  });

  const all = operator
    ? h("div.actions", h("button.primary", { type: "button", id: "sync-all-products", onclick: () => startSync("products") }, "Sync all products"),
      h("button", { type: "button", id: "sync-all-offers", onclick: () => startSync("offers") }, "Sync all offers"))
    : null;
  return h("div.page",
    h("div.page-head", h("h1", "Overview"), updated, all),
    schedule,
    cards,
    live.panel(),
    h("section.panel", { "aria-labelledby": "runs-title" },
      h("div.panel-head", h("h2", { id: "runs-title" }, "Last runs"), h("a", { href: "#/runs" }, "Sync history")),
      chartBox));
}
