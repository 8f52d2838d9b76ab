// Inline SVG charts drawn from API data: the last runs, and a run's request
// rate against the account's limit.

import { h, svg, fmtDuration, fmtInt } from "./ui.js";

const W = 640;

// nice rounds a maximum up to 1, 2 or 5 times a power of ten.
function nice(max) {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (max <= m * p) return m * p;
  return 10 * p;
}

/**
 * runsChart draws three aligned bar strips over the given runs (newest
 * last): duration, items, and errors (holes, plus one for a failed run).
 */
export function runsChart(runs, { onSelect } = {}) {
  const rs = [...runs].reverse();
  if (!rs.length) return h("p.empty", "No runs yet: start a sync.");
  const strips = [
    { label: "Duration", value: (r) => r.duration_seconds, fmt: fmtDuration, cls: "bar-dur" },
    { label: "Items", value: (r) => r.counters.items, fmt: fmtInt, cls: "bar-items" },
    { label: "Errors", value: (r) => r.counters.holes + (r.status === "failed" ? 1 : 0) + (r.status === "partial" && !r.counters.holes ? 1 : 0), fmt: fmtInt, cls: "bar-err" },
  ];
  const left = 92, top = 6, stripH = 46, gap = 14;
  const height = top + strips.length * (stripH + gap) + 18;
  const bw = Math.min(36, (W - left - 8) / rs.length);
  const right = Math.max(left + bw * rs.length, left + 120);
  const root = svg("svg", { viewBox: `0 0 ${W} ${height}`, class: "chart", role: "img",
    "aria-label": `Last ${rs.length} runs: duration, items and errors per run` });
  strips.forEach((s, i) => {
    const y0 = top + i * (stripH + gap);
    const max = nice(Math.max(...rs.map(s.value)));
    root.append(
      svg("text", { x: 0, y: y0 + 12, class: "axis-label" }, s.label),
      svg("text", { x: 0, y: y0 + 26, class: "axis-note" }, `max ${s.fmt(max)}`),
      svg("line", { x1: left, x2: right, y1: y0 + stripH, y2: y0 + stripH, class: "axis" }));
    rs.forEach((r, j) => {
      const v = s.value(r) || 0;
      const bh = Math.max(v > 0 ? 1.5 : 0, (v / max) * stripH);
      const rect = svg("rect", { x: left + j * bw + bw * 0.15, y: y0 + stripH - bh, width: Math.max(1, bw * 0.7), height: bh,
        class: `${s.cls} st-${r.status}` },
      svg("title", {}, `run ${r.id} · ${r.account} ${r.stream} · ${r.status}: ${s.label.toLowerCase()} ${s.fmt(v)}`));
      root.append(rect);
    });
  });
  const y = height - 4;
  root.append(svg("text", { x: left, y, class: "axis-note" }, "older"), svg("text", { x: right, y, class: "axis-note", "text-anchor": "end" }, "newer"));
  const fig = h("figure.chart-box", root, h("figcaption.muted",
    "Last runs, oldest to newest. Bars of failed or partial runs are marked in colour; hover a bar for its run."));
  if (onSelect) {
    root.addEventListener("click", (e) => {
      const t = e.target.closest("rect");
      if (!t) return;
      const idx = Math.floor((Number(t.getAttribute("x")) - left) / bw);
      if (rs[idx]) onSelect(rs[idx]);
    });
  }
  return fig;
}

/**
 * rateChart draws requests per second over time (samples {t: ms, rps}) with
 * a dashed line at the account's limit.
 */
export function rateChart(samples, limit, label) {
  const width = 320, height = 64, pad = 4;
  const pts = samples.filter((s) => Number.isFinite(s.rps));
  const max = nice(Math.max(limit || 0, ...pts.map((s) => s.rps), 1) * 1.1);
  const t0 = pts.length ? pts[0].t : 0;
  const span = pts.length > 1 ? pts[pts.length - 1].t - t0 : 1;
  const x = (t) => pad + ((t - t0) / span) * (width - 2 * pad);
  const y = (v) => height - pad - (v / max) * (height - 2 * pad);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart rate", role: "img",
    "aria-label": `${label}: request rate${limit ? ` against the limit of ${limit} per second` : ""}` });
  root.append(svg("line", { x1: pad, x2: width - pad, y1: height - pad, y2: height - pad, class: "axis" }));
  if (limit) {
    root.append(svg("line", { x1: pad, x2: width - pad, y1: y(limit), y2: y(limit), class: "limit" }),
      svg("text", { x: width - pad, y: y(limit) - 3, class: "axis-note", "text-anchor": "end" }, `limit ${limit}/s`));
  }
  if (pts.length > 1) {
    root.append(svg("polyline", { points: pts.map((s) => `${x(s.t).toFixed(1)},${y(s.rps).toFixed(1)}`).join(" "), class: "rate-line" }));
  } else if (pts.length === 1) {
    root.append(svg("circle", { cx: width / 2, cy: y(pts[0].rps), r: 2.5, class: "rate-dot" }));
  }
  root.append(svg("text", { x: pad, y: 11, class: "axis-note" }, `max ${max}/s`));
  return root;
}
