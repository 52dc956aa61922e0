"""The CSS and the small vanilla script shared by every page (inlined, so a page is one file)."""

CSS = """
:root { --ink:#1f2933; --muted:#5f6b7a; --line:#e3e7ed; --bg:#f4f6f9; --card:#fff;
  --green:#15803d; --amber:#b45309; --red:#b91c1c; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; color: var(--ink); background: var(--bg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
nav.top { display: flex; flex-wrap: wrap; align-items: center; gap: 2px; padding: 0 24px;
  background: #1e293b; }
nav.top .brand { color: #fff; font-weight: 700; margin-right: 18px; }
nav.top a { color: #cbd5e1; text-decoration: none; padding: 12px 10px;
  border-bottom: 3px solid transparent; }
nav.top a:hover { color: #fff; }
nav.top a[aria-current=page] { color: #fff; border-bottom-color: #60a5fa; }
header.page { padding: 18px 24px 6px; }
header.page h1 { margin: 0; font-size: 22px; }
.lede { margin: 4px 0 0; color: var(--muted); }
.stamp { margin: 6px 0 0; font-size: 13px; color: var(--muted); }
.stamp strong { color: var(--ink); }
.filters { position: sticky; top: 0; z-index: 10; display: flex; flex-wrap: wrap; gap: 16px;
  padding: 8px 24px; background: var(--bg); border-bottom: 1px solid var(--line); }
.filters label { display: flex; align-items: center; gap: 6px; font-size: 13px; color: var(--muted); }
.filters select { font: inherit; color: var(--ink); padding: 4px 8px; max-width: min(24em, 100%);
  border: 1px solid #cbd5e1; border-radius: 6px; background: #fff; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(520px, 100%), 1fr));
  gap: 16px; padding: 16px 24px 32px; }
section.card { min-width: 0; padding: 14px 16px; background: var(--card);
  border: 1px solid var(--line); border-radius: 10px; }
section.wide { grid-column: 1 / -1; }
section.card h2 { margin: 0; font-size: 16px; }
.explain { margin: 2px 0 10px; font-size: 13px; color: var(--muted); }
.empty-note, .muted { color: var(--muted); font-style: italic; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 0 0 4px; font-size: 12px; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.swatch { display: inline-block; width: 11px; height: 11px; background: var(--c); }
.swatch.dot { border-radius: 50%; }
.swatch.tick { width: 3px; height: 14px; }
.tile-group + .tile-group { margin-top: 14px; }
.tile-group h3 { margin: 0 0 8px; font-size: 14px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.tile { padding: 10px 12px; background: #fbfcfe; border: 1px solid var(--line); border-radius: 8px; }
.tile .label { font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase;
  letter-spacing: .03em; }
.tile .value { margin: 2px 0; font-size: 26px; font-weight: 650; }
.tile .value.long { font-size: 18px; }
.tile .value.muted { font-size: 15px; font-weight: 500; }
.tile .n { font-size: 12px; color: var(--muted); }
.tile .about { margin-top: 4px; font-size: 12px; color: var(--muted); }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px;
  font-weight: 600; vertical-align: middle; }
.badge.green { background: #dcfce7; color: var(--green); }
.badge.amber { background: #fef3c7; color: var(--amber); }
.badge.red { background: #fee2e2; color: var(--red); }
.table-wrap { max-height: 640px; overflow: auto; border: 1px solid var(--line); border-radius: 8px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th, td { padding: 6px 8px; text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); }
th { position: sticky; top: 0; background: #f8fafc; font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
td small { display: block; color: var(--muted); }
td.warn { background: #fff7e6; }
button.sort { all: unset; cursor: pointer; }
button.sort::after { content: " \\2195"; color: #94a3b8; }
th[aria-sort=ascending] button.sort::after { content: " \\2191"; color: var(--ink); }
th[aria-sort=descending] button.sort::after { content: " \\2193"; color: var(--ink); }
.links { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 10px; }
.links a { display: block; padding: 12px 14px; color: var(--ink); text-decoration: none;
  border: 1px solid var(--line); border-radius: 8px; background: #fbfcfe; }
.links a:hover { border-color: #60a5fa; }
.links a strong { display: block; }
.links a span { font-size: 13px; color: var(--muted); }
footer { padding: 0 24px 24px; font-size: 12px; color: var(--muted); }
.banner { margin: 10px 24px 0; padding: 10px 14px; border-radius: 8px; font-size: 13px; }
.banner.stale { background: #fff7e6; border: 1px solid #f59e0b; color: #7c2d12; }
.stamp .behind { color: var(--amber); }
.change { margin: 0 0 2px; font-size: 12px; font-weight: 600; }
.change .since { font-weight: 400; color: var(--muted); }
.change.better { color: var(--green); }
.change.worse { color: var(--red); }
.change.same, .change.neutral { color: var(--muted); }
.change.none { font-weight: 400; color: var(--muted); font-style: italic; }
/* Phones: nothing wider than the screen; tables scroll inside their box. */
@media (max-width: 640px) {
  nav.top, header.page, .filters, main, footer { padding-left: 12px; padding-right: 12px; }
  main { padding-top: 12px; gap: 12px; }
  .banner { margin-left: 12px; margin-right: 12px; }
  section.card { padding: 12px; }
  .tiles { grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); }
  .links { grid-template-columns: 1fr; }
  .filters label { flex-wrap: wrap; min-width: 0; max-width: 100%; }
}
"""

# The filter keeps program/cohort/survey selections and applies them to elements and traces.
# Elements and traces name their group in data-* attributes or trace.meta (see figures.py):
# "rows" items compare groups, so "All cohorts" shows every row; "series" items stand for one
# group, so "All cohorts" shows the program's "(all)" rollup.
SCRIPT = """
"use strict";
window.MP = (function () {
  const charts = [];
  const POINT_ARRAYS = ["x", "y", "text", "customdata", "hovertext", "marker.color",
    "marker.line.color", "error_x.array", "error_x.arrayminus"];
  // Nothing may send a program's data off the machine: no cloud/share button (plotly.js 3
  // shows one by default), no server URL, no logo.
  const CONFIG = { displaylogo: false, responsive: true, showSendToCloud: false,
    plotlyServerURL: "",
    modeBarButtonsToRemove: ["sendChartToCloud", "zoom2d", "pan2d", "select2d", "lasso2d",
      "zoomIn2d", "zoomOut2d", "autoScale2d", "resetScale2d"] };

  function selection() {
    const state = {};
    document.querySelectorAll("select[data-dim]").forEach((s) => { state[s.dataset.dim] = s.value; });
    return state;
  }
  function matches(keys, state, rule) {
    for (const dim of Object.keys(state)) {
      const have = keys[dim];
      const want = state[dim];
      if (have === undefined) continue;
      if (want === "*") {
        if (rule === "series" && dim === "cohort" && have !== "(all)") return false;
      } else if (have !== want) {
        return false;
      }
    }
    return true;
  }
  function getPath(obj, path) {
    return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
  }
  function setPath(obj, path, value) {
    const keys = path.split(".");
    const last = keys.pop();
    keys.reduce((o, k) => o[k], obj)[last] = value;
  }
  // rowKeys: the figure's per-row keys (layout.meta.keys) shared by its "rows" traces.
  function filterTrace(trace, state, rowKeys) {
    const meta = trace.meta;
    const copy = JSON.parse(JSON.stringify(trace));
    if (meta && meta.rule === "series") {
      copy.visible = matches(meta.keys, state, "series");
      return copy;
    }
    if (meta !== "rows") return copy;
    const dims = Object.keys(rowKeys);
    const kept = [];
    rowKeys[dims[0]].forEach((_, i) => {
      const keys = {};
      dims.forEach((d) => { keys[d] = rowKeys[d][i]; });
      if (matches(keys, state, "rows")) kept.push(i);
    });
    POINT_ARRAYS.forEach((path) => {
      const values = getPath(trace, path);
      if (Array.isArray(values)) setPath(copy, path, kept.map((i) => values[i]));
    });
    return copy;
  }
  function shownPoints(trace) {
    if (trace.visible === false) return [];
    return trace.y || [];
  }
  function render(chart, state) {
    const layout = JSON.parse(JSON.stringify(chart.figure.layout));
    const rowKeys = (layout.meta && layout.meta.keys) || {};
    const data = chart.figure.data.map((t) => filterTrace(t, state, rowKeys));
    const points = data.flatMap(shownPoints);
    const sizing = layout.meta;
    if (sizing && sizing.rowPx) {
      layout.height = sizing.basePx + sizing.rowPx * Math.max(1, new Set(points).size);
    }
    const div = document.getElementById(chart.id);
    div.dataset.shown = String(points.length);
    Plotly.react(div, data, layout, CONFIG);
  }
  function syncOptions() {
    const program = document.querySelector('select[data-dim="program"]');
    if (!program) return;
    document.querySelectorAll("select[data-dim]").forEach((select) => {
      if (select === program) return;
      for (const option of select.options) {
        if (!option.dataset.programs) continue;
        option.hidden = program.value !== "*" && !JSON.parse(option.dataset.programs).includes(program.value);
      }
      if (select.selectedOptions[0].hidden) {
        select.value = Array.from(select.options).find((o) => !o.hidden).value;
      }
    });
  }
  function apply() {
    syncOptions();
    const state = selection();
    document.querySelectorAll("[data-filter]").forEach((el) => {
      el.hidden = !matches(el.dataset, state, el.dataset.filter);
    });
    charts.forEach((chart) => render(chart, state));
    document.querySelectorAll(".filtered").forEach((box) => {
      const chart = box.querySelector(".chart");
      const items = box.querySelectorAll("[data-filter]");
      const empty = chart ? chart.dataset.shown === "0"
        : items.length > 0 && box.querySelectorAll("[data-filter]:not([hidden])").length === 0;
      box.querySelector(".empty-note").hidden = !empty;
    });
  }
  function sortTable(button) {
    const th = button.closest("th");
    const table = th.closest("table");
    const index = th.cellIndex;
    const ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach((h) => h.removeAttribute("aria-sort"));
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const numeric = th.classList.contains("num");
    const body = table.tBodies[0];
    const key = (row) => row.cells[index].dataset.sort;
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      if (x === "" || y === "") return (x === "") - (y === "");  // blanks last either way
      const order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
      return ascending ? order : -order;
    });
    body.append(...rows);
  }
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.sort");
    if (button) sortTable(button);
  });
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("select[data-dim]").forEach((s) => s.addEventListener("change", apply));
    apply();
  });
  return { chart: (id, figure) => charts.push({ id, figure }) };
})();
"""
