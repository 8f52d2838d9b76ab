// Export downloads and the scheduled sync settings.

import { BASE, canOperate, download, get, post, query } from "../api.js";
import { field, fmtInt, h, input, select, time, toast } from "../ui.js";

function checkbox(name, label, checked, attrs = {}) {
  const id = `cb-${name}-${attrs.value || "on"}`;
  return h("div.check", h("input", { type: "checkbox", id, name, checked, ...attrs }), h("label", { for: id }, label));
}

function exportForm() {
  const status = h("p.muted", { role: "status" });
  const button = h("button.primary", { type: "submit" }, "Download");
  const form = h("form.stack", {
    "aria-labelledby": "export-title",
    onsubmit: async (e) => {
      e.preventDefault();
      const fd = new FormData(form);
      const kinds = ["products", "offers", "orders"].filter((k) => fd.get(`include_${k}`));
      const format = fd.get("format");
      if (!kinds.length) {
        status.textContent = "Choose at least one kind of data.";
        return;
      }
      if (format === "csv" && kinds.length !== 1) {
        status.textContent = "A CSV export holds exactly one kind of data: choose one.";
        return;
      }
      const params = { format };
      for (const k of ["products", "offers", "orders"]) params[`include_${k}`] = kinds.includes(k) ? "true" : "false";
      button.disabled = true;
      status.textContent = "Preparing the export…";
      try {
        const got = await download(`${BASE}/sync/export${query(params)}`, `magflow-export.${format}`);
        status.textContent = `Saved ${got.name} (${fmtInt(got.size)} bytes).`;
      } catch (err) {
        status.textContent = `The export failed: ${err.message}`;
      } finally {
        button.disabled = false;
      }
    },
  },
  h("fieldset", h("legend", "Include"),
    checkbox("include_products", "Products", true),
    checkbox("include_offers", "Offers", true),
    checkbox("include_orders", "Orders", false)),
  field("Format", select("format", [["json", "JSON (one document)"], ["ndjson", "NDJSON (one record per line)"], ["csv", "CSV (one kind of data)"]], "json")),
  h("div.actions", button), status);
  return h("section.panel", { "aria-labelledby": "export-title" }, h("h2", { id: "export-title" }, "Export"),
    h("p.muted", "A backup of the synced data, streamed by the server. It carries no credential."), form);
}

function savedBy(s) {
  return ["Saved by ", s.updated_by || "someone", " ", time(s.updated_at, true), "."];
}

function scheduleForm(s) {
  const operator = canOperate();
  const status = h("p.muted", { role: "status" });
  const disabled = !operator;
  const streams = ["products", "offers", "orders"];
  const source = h("p.muted", s.source === "stored"
    ? savedBy(s)
    : "From the server configuration (EMAG_ENABLE_SCHEDULED_SYNC); nothing saved yet.");
  const form = h("form.stack", {
    onsubmit: async (e) => {
      e.preventDefault();
      const fd = new FormData(form);
      const body = {
        enabled: fd.get("enabled") === "on",
        interval_minutes: Number(fd.get("interval_minutes")),
        orders_interval_minutes: Number(fd.get("orders_interval_minutes")),
        streams: streams.filter((st) => fd.getAll("streams").includes(st)),
      };
      try {
        const saved = await post(`${BASE}/sync/scheduled`, body);
        source.replaceChildren(...savedBy(saved));
        status.textContent = "";
        toast("Schedule saved.", "ok");
      } catch (err) {
        status.textContent = `Not saved: ${err.message}`;
      }
    },
  },
  h("fieldset", { disabled },
    h("legend", "Scheduled sync"),
    checkbox("enabled", "Run syncs on a schedule", s.enabled),
    field("Catalogue every (minutes)", input("interval_minutes", s.interval_minutes, { type: "number", min: 1, max: 10080, required: true })),
    field("Orders every (minutes)", input("orders_interval_minutes", s.orders_interval_minutes, { type: "number", min: 1, max: 10080, required: true })),
    h("fieldset.inline", h("legend", "Streams"), streams.map((st) => checkbox("streams", st, s.streams.includes(st), { value: st })))),
  operator ? h("div.actions", h("button.primary", { type: "submit" }, "Save schedule")) : h("p.muted", "Only operators can change the schedule."),
  status);
  return h("section.panel", { "aria-labelledby": "schedule-title" }, h("h2", { id: "schedule-title" }, "Schedule"), source, form);
}

/** settingsPage holds the export downloads and the schedule settings. */
export async function settingsPage() {
  const s = await get(`${BASE}/sync/scheduled`);
  return h("div.page", h("div.page-head", h("h1", "Export & schedule")), h("div.grid2", exportForm(), scheduleForm(s)));
}
