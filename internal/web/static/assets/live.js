// Live sync progress: one following event stream for every running run
// (whoever started it), one stream per sync started from this page, and
// the request-rate samples each run's chart draws.

import { BASE, get, stream } from "./api.js";
import { rateChart } from "./charts.js";
import { badge, fmtDuration, fmtInt, h, pill } from "./ui.js";
import { accountInfo } from "./config.js";

const runs = new Map(); // run id -> {p, samples}
const subscribers = new Set();
const streams = new Set();
let follower = null;
let notifyQueued = false;

function notify() {
  if (notifyQueued) return;
  notifyQueued = true;
  requestAnimationFrame(() => {
    notifyQueued = false;
    for (const fn of subscribers) fn();
  });
}

// update merges one progress figure set and samples the request rate over
// the last two seconds or so: the counters move in steps (a page's
// requests, then its commit), so a rate over one snapshot interval jumps.
function update(p) {
  const t = Date.parse(p.updated_at);
  let cur = runs.get(p.run_id);
  if (!cur) {
    cur = { p, samples: [], points: [{ t: Date.parse(p.started_at), requests: 0 }] };
    runs.set(p.run_id, cur);
  }
  const last = cur.points[cur.points.length - 1];
  if (t > last.t && p.requests >= last.requests) {
    cur.points.push({ t, requests: p.requests });
    let base = cur.points[0];
    for (const q of cur.points) if (q.t <= t - 2000) base = q;
    cur.points = cur.points.filter((q) => q.t >= base.t);
    const dt = (t - base.t) / 1000;
    if (dt > 0.2) {
      cur.samples.push({ t, rps: (p.requests - base.requests) / dt });
      if (cur.samples.length > 240) cur.samples.shift();
    }
  }
  cur.p = p;
}

function onSnapshot(snap, following) {
  const seen = new Set();
  for (const p of snap.runs) {
    seen.add(p.run_id);
    update(p);
  }
  if (following) {
    // A run that left the running set has finished: read its final figures.
    for (const [id, r] of runs) {
      if (!seen.has(id) && (r.p.status === "running" || r.p.status === "pending")) finalize(id);
    }
  }
  notify();
}

async function finalize(id) {
  try {
    const run = await get(`${BASE}/sync/runs/${id}`);
    const r = runs.get(id);
    if (!r) return;
    const c = run.counters;
    r.p = {
      ...r.p, status: run.status, page: c.page, total_pages: c.total_pages, items: c.items, requests: c.requests,
      retries: c.retries, throttled: c.throttled, holes: c.holes, eta_seconds: 0,
      percent: run.status === "completed" ? 100 : r.p.percent,
    };
    notify();
  } catch {
    // the next snapshot or page load shows it
  }
}

/** start begins following every running run (call once logged in). */
export function start() {
  if (!follower) follower = stream({ follow: true }, (s) => onSnapshot(s, true));
}

/** stop closes every stream and forgets the runs (logout). */
export function stop() {
  if (follower) follower.close();
  follower = null;
  for (const s of streams) s.close();
  streams.clear();
  runs.clear();
}

/** track follows runs just started until they finish. */
export function track(ids) {
  if (!ids.length) return;
  const s = stream({ run_ids: ids.join(",") }, (snap) => onSnapshot(snap, false), () => streams.delete(s));
  streams.add(s);
}

/** subscribe calls fn whenever progress changes; it returns the unsubscribe. */
export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

/** running reports whether a run of the account and stream is in progress. */
export function running(account, streamName) {
  for (const { p } of runs.values()) {
    if (p.account === account && p.stream === streamName && (p.status === "running" || p.status === "pending")) return true;
  }
  return false;
}

function limitOf(p) {
  const a = accountInfo(p.account);
  if (!a) return 0;
  return p.stream === "orders" ? a.orders_rps : a.other_rps;
}

function row({ p, samples }) {
  const pct = Math.round(p.percent * 10) / 10;
  const limit = limitOf(p);
  const done = p.status !== "running" && p.status !== "pending";
  // While running: the rate of the last interval; once done: the average.
  const elapsed = (Date.parse(p.updated_at) - Date.parse(p.started_at)) / 1000;
  const rps = done ? (elapsed > 0 ? p.requests / elapsed : 0) : (samples.length ? samples[samples.length - 1].rps : 0);
  const figs = [
    p.total_pages ? `page ${fmtInt(p.page)} of ${fmtInt(p.total_pages)}` : `page ${fmtInt(p.page)}`,
    `${fmtInt(p.items)} items`,
    !done && p.rate ? `${p.rate.toFixed(1)} items/s` : null,
    `${done ? "average " : ""}${rps.toFixed(1)} req/s${limit ? ` of ${limit}/s limit` : ""}`,
    !done && p.eta_seconds > 0 ? `ETA ${fmtDuration(p.eta_seconds)}` : null,
    `${fmtInt(p.retries)} retries`,
    `${fmtInt(p.throttled)} × 429`,
    p.holes ? `${fmtInt(p.holes)} holes` : null,
  ].filter(Boolean);
  const bar = h("div.bar", {
    role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(pct),
    "aria-label": `${p.account} ${p.stream} sync`, class: `st-${p.status}`,
  }, h("span"));
  bar.firstChild.style.width = `${pct}%`;
  return h("div.live-row", { dataset: { run: p.run_id, account: p.account, stream: p.stream, status: p.status } },
    h("div.live-main",
      h("div.live-head", badge(p.account), h("strong", p.stream), pill(p.status),
        h("span.pct", `${pct}%`), h("a.muted", { href: `#/runs/${p.run_id}` }, `run ${p.run_id}`)),
      bar,
      h("div.live-figs", figs.join(" · "))),
    samples.length ? rateChart(samples, limit, `${p.account} ${p.stream}`) : h("div"));
}

/** panel renders the live progress panel, kept current until detached. */
export function panel() {
  const list = h("div.live-list");
  const clear = h("button.quiet", { type: "button", onclick: () => {
    for (const [id, r] of runs) if (r.p.status !== "running" && r.p.status !== "pending") runs.delete(id);
    notify();
  } }, "Clear finished");
  const box = h("section.panel.live", { "aria-labelledby": "live-title" },
    h("div.panel-head", h("h2", { id: "live-title" }, "Live progress"), clear), list);
  const render = () => {
    const rs = [...runs.values()].sort((a, b) => a.p.account.localeCompare(b.p.account) || a.p.stream.localeCompare(b.p.stream) || b.p.run_id - a.p.run_id);
    // Keep keyboard focus on the run link it was on across re-renders.
    const focused = list.contains(document.activeElement) ? document.activeElement.closest(".live-row")?.dataset.run : null;
    list.replaceChildren(...(rs.length ? rs.map(row) : [h("p.empty", "No sync is running.")]));
    if (focused) list.querySelector(`.live-row[data-run="${focused}"] a`)?.focus();
    clear.hidden = !rs.some((r) => r.p.status !== "running" && r.p.status !== "pending");
  };
  render();
  const off = subscribe(() => {
    if (!box.isConnected) {
      off();
      return;
    }
    render();
  });
  return box;
}

/** progress returns the latest figures of every run on the panel. */
export function progress() {
  return [...runs.values()].map((r) => r.p);
}

/** streamsOpen counts open event streams (for tests and the footer). */
export function streamsOpen() {
  return streams.size + (follower ? 1 : 0);
}
