// Sync history and one run's details.

import { BASE, canOperate, get, post, query } from "../api.js";
import { accountInfo, accountOptions } from "../config.js";
import { runsChart } from "../charts.js";
import * as live from "../live.js";
import { badge, dl, plural, field, fmtDuration, fmtInt, h, pager, pill, select, table, time, toast } from "../ui.js";

/** runsPage lists sync runs, newest first, with the chart of the page. */
export async function runsPage({ query: q, navigate }) {
  const params = {};
  for (const k of ["account", "stream", "status", "trigger", "offset"]) if (q.get(k)) params[k] = q.get(k);
  const page = await get(`${BASE}/sync/runs${query({ ...params, limit: 50 })}`);
  const form = h("form.filters", {
    role: "search", "aria-label": "Run filters",
    onsubmit: (e) => {
      e.preventDefault();
      const next = {};
      for (const [k, v] of new FormData(form)) if (v !== "") next[k] = v;
      navigate("/runs", next);
    },
  },
  field("Account", select("account", accountOptions(), params.account)),
  field("Stream", select("stream", [["", "Any stream"], ["products", "products"], ["offers", "offers"], ["orders", "orders"]], params.stream)),
  field("Status", select("status", [["", "Any status"], ...["running", "completed", "partial", "failed", "cancelled"].map((s) => [s, s])], params.status)),
  field("Started by", select("trigger", [["", "Anyone"], ["api", "API or dashboard"], ["schedule", "schedule"], ["cli", "command line"]], params.trigger)),
  h("div.field.buttons", h("button.primary", { type: "submit" }, "Filter"), h("button", { type: "button", onclick: () => navigate("/runs") }, "Reset")));
  return h("div.page",
    h("div.page-head", h("h1", "Sync history"), h("span.muted", plural(page.total, "run"))),
    form,
    h("section.panel", { "aria-label": "Chart of these runs" }, runsChart(page.items, { onSelect: (r) => navigate(`/runs/${r.id}`) })),
    h("section.panel", { "aria-label": "Runs" },
      table([
        { label: "Run", cell: (r) => h("a.run-link", { href: `#/runs/${r.id}` }, String(r.id)) },
        { label: "Account", cell: (r) => badge(r.account) },
        { label: "Stream", cell: (r) => r.stream },
        { label: "Status", cell: (r) => [pill(r.status), r.capped ? pill("capped", "muted") : null] },
        { label: "Started", cell: (r) => time(r.started_at) },
        { label: "Duration", num: true, cell: (r) => fmtDuration(r.duration_seconds) },
        { label: "Items", num: true, cell: (r) => fmtInt(r.counters.items) },
        { label: "New / changed", num: true, cell: (r) => `${fmtInt(r.counters.inserted)} / ${fmtInt(r.counters.updated)}` },
        { label: "Holes", num: true, cell: (r) => (r.counters.holes ? h("span.bad", fmtInt(r.counters.holes)) : "0") },
        { label: "Reason", cell: (r) => r.reason || "" },
      ], page.items, { caption: "Sync runs", empty: "No run matches these filters." }),
      pager(page, (offset) => navigate("/runs", { ...params, offset }))));
}

/** runPage shows one run: counters, holes, errors and why it stopped. */
export async function runPage({ params: [id], navigate }) {
  const r = await get(`${BASE}/sync/runs/${id}`);
  const c = r.counters;
  const info = accountInfo(r.account);
  const limit = info ? (r.stream === "orders" ? info.orders_rps : info.other_rps) : 0;
  const rps = r.duration_seconds > 0 ? c.requests / r.duration_seconds : 0;
  const running = !["completed", "partial", "failed", "cancelled"].includes(r.status);
  const cancel = running && canOperate()
    ? h("button.danger", { type: "button", onclick: async (e) => {
      e.currentTarget.disabled = true;
      try {
        await post(`${BASE}/sync/runs/${r.id}/cancel`);
        toast(`Cancelling run ${r.id}.`, "warn");
        setTimeout(() => navigate(`/runs/${r.id}`), 800);
      } catch (err) {
        toast(`Could not cancel: ${err.message}`, "bad");
      }
    } }, "Cancel run")
    : null;
  if (running) live.track([r.id]);
  return h("div.page",
    h("p.crumbs", h("a", { href: "#/runs" }, "Sync history"), " / ", `run ${r.id}`),
    h("div.page-head", h("h1", `Run ${r.id}: ${r.account} ${r.stream}`), pill(r.status), r.capped ? pill("capped: not a complete scan", "warn") : null, cancel),
    r.reason ? h("p.error", { role: "note" }, h("strong", "Why it stopped: "), r.reason) : null,
    running ? live.panel() : null,
    h("div.grid2",
      h("section.panel", h("h2", "Run"), dl([
        ["Account", badge(r.account)],
        ["Stream", r.stream],
        ["Started by", r.trigger],
        ["Started", time(r.started_at)],
        ["Finished", r.finished_at ? time(r.finished_at) : h("span.muted", "still running")],
        ["Duration", fmtDuration(r.duration_seconds)],
        ["Last heartbeat", time(r.heartbeat_at, true)],
        ["Request rate", `${rps.toFixed(2)} req/s on average${limit ? ` (limit ${limit}/s)` : ""}`],
      ])),
      h("section.panel", h("h2", "Counts"), dl([
        ["Pages", c.total_pages ? `${fmtInt(c.page)} of ${fmtInt(c.total_pages)}` : fmtInt(c.page)],
        ["Items", fmtInt(c.items)],
        ["Inserted", fmtInt(c.inserted)],
        ["Updated", fmtInt(c.updated)],
        ["Unchanged", fmtInt(c.unchanged)],
        ["Removed (gone)", fmtInt(c.gone)],
        ["Duplicates", fmtInt(c.duplicates)],
        ["Requests", fmtInt(c.requests)],
        ["Retries", fmtInt(c.retries)],
        ["429 answers", fmtInt(c.throttled)],
        ["Holes", fmtInt(c.holes)],
      ]))),
    h("section.panel", { "aria-labelledby": "holes-title" }, h("h2", { id: "holes-title" }, "Holes and errors"),
      h("p.muted", "Pages that failed after every retry. The next run of this account and stream fetches them first."),
      table([
        { label: "Page", num: true, cell: (x) => fmtInt(x.page) },
        { label: "Tries", num: true, cell: (x) => fmtInt(x.tries) },
        { label: "Error", cell: (x) => x.error },
      ], r.holes, { caption: "Holes", empty: "No holes: every page arrived." })));
}
