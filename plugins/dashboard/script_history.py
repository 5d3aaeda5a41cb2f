"""The page script, part 3: the history chart.

uPlot (a 50 KB canvas chart library) comes from the daemon's own
/static/, loaded by the script the first time a chart is drawn, so the
page stays one request and works on a cluster with no internet.

The series picker lists /api/series; a range button sets the span and the
step (cards.HISTORY_RANGES): step 0 plots raw points, a step plots the
min/max band and the mean of each bucket from /api/history. While the
raw range shows, each new reading of the picked series is appended as it
arrives; bucketed ranges are fetched again once a step has passed.
"""

HISTORY_JS = r"""
// ---- history chart --------------------------------------------------------
const SERIES_RETRY_MS = 10000, CHART_MAX_H = 320, CHART_MIN_H = 180;
const hist = {series: [], pick: null, span: 3600000, step: 0, chart: null, raw: true,
              data: null, window: [0, 1], fetched: 0, tried: 0, seriesAt: 0, listed: false,
              request: 0};
let uplotLoad = null;

function loadUplot() {
  if (!uplotLoad) uplotLoad = new Promise((resolve, reject) => {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = "/static/uPlot.min.css";
    const js = document.createElement("script");
    js.src = "/static/uPlot.iife.min.js";
    js.onload = () => typeof uPlot === "function" ? resolve(uPlot)
                                                   : reject(new Error("uPlot did not load"));
    js.onerror = () => reject(new Error("cannot load /static/uPlot.iife.min.js"));
    document.head.append(css, js);
  }).catch((err) => { uplotLoad = null; throw err; });  // try again next time
  return uplotLoad;
}
function chartNote(text) { $("#chart-note").textContent = text; }
const seriesKey = (pair) => pair ? pair[0] + "\u0000" + pair[1] : "";

async function loadSeries() {
  hist.seriesAt = Date.now();
  let list;
  try {
    list = await getJSON("/api/series");
  } catch (err) {
    chartNote(`No history (${err.message}).`);
    return;
  }
  const pairs = (Array.isArray(list) ? list : [])
    .filter((p) => Array.isArray(p) && p.length >= 2).map((p) => [String(p[0]), String(p[1])])
    .sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
  if (hist.listed && JSON.stringify(pairs) === JSON.stringify(hist.series)) return;
  hist.listed = true;
  hist.series = pairs;
  const select = $("#series"), groups = new Map();
  select.replaceChildren();
  for (const [i, [sensor, field]] of pairs.entries()) {
    if (!groups.has(sensor)) {
      const group = document.createElement("optgroup");
      group.label = sensor;
      groups.set(sensor, group);
      select.append(group);
    }
    const option = document.createElement("option");
    option.value = String(i);
    option.textContent = `${sensor.slice(sensor.indexOf(":") + 1)} \u00b7 ${field}`;
    groups.get(sensor).append(option);
  }
  if (!pairs.length) {
    select.append(new Option("no series yet", ""));
    chartNote("No history yet: it starts with the first poll.");
    return;
  }
  // keep the pick; else a temperature (the reason most people look),
  // the DHT22's or BME680's first
  const first = (test) => pairs.findIndex(test);
  let at = first((p) => seriesKey(p) === seriesKey(hist.pick));
  if (at < 0) at = first((p) => p[1] === "temperature" && /:(dht22|bme680)$/.test(p[0]));
  if (at < 0) at = Math.max(0, first((p) => p[1] === "temperature"));
  select.value = String(at);
  if (seriesKey(pairs[at]) !== seriesKey(hist.pick)) pickSeries(at);
}
function pickSeries(index) {
  hist.pick = hist.series[index] || null;
  hist.data = null;
  loadHistory();
}
function pickRange(button) {
  for (const b of $$("[data-range]")) b.setAttribute("aria-pressed", String(b === button));
  hist.span = Number(button.dataset.range);
  hist.step = Number(button.dataset.step);
  $("#history-mode").textContent = hist.step ? `min / max / mean per ${hist.step / 60000} min`
                                             : "raw points";
  loadHistory();
}

// The response as uPlot's columns: x in seconds, then the value arrays.
function columns(body) {
  const nums = (a) => Array.isArray(a) ? a.map((v) => isNum(v) ? v : null) : [];
  const t = nums(body && body.t).map((ms) => ms === null ? null : ms / 1000);
  const ys = hist.step ? [nums(body.min), nums(body.max), nums(body.mean)] : [nums(body && body.v)];
  const n = Math.min(t.length, ...ys.map((y) => y.length));
  return [t.slice(0, n), ...ys.map((y) => y.slice(0, n))];
}
async function loadHistory() {
  if (!hist.pick) return;
  const [sensor, field] = hist.pick, request = ++hist.request;
  hist.tried = Date.now();
  const now = Date.now() + clockSkew, from = Math.max(0, Math.round(now - hist.span));
  const url = "/api/history?sensor=" + encodeURIComponent(sensor) + "&field=" +
              encodeURIComponent(field) + `&from=${from}&step=${hist.step}`;
  chartNote("Loading\u2026");
  try {
    const [U, body] = await Promise.all([loadUplot(), getJSON(url)]);
    if (request !== hist.request) return;  // a newer pick or range won
    hist.data = columns(body);
    hist.fetched = Date.now();
    hist.window = [from / 1000, now / 1000];
    draw(U);
    const n = hist.data[0].length;
    const unit = (hist.step ? "bucket" : "point") + (n === 1 ? "" : "s");
    chartNote(n ? `${n} ${unit} \u00b7 ${sensor} \u00b7 ${field}`
                : "No data in this range yet.");
  } catch (err) {
    if (request === hist.request) chartNote(`No history (${err.message}).`);
  }
}

function chartSize() {
  const width = Math.max(200, $("#chart").clientWidth);
  return {width, height: Math.round(Math.min(CHART_MAX_H, Math.max(CHART_MIN_H, width * 0.4)))};
}
function draw(U) {
  const raw = !hist.step;
  if (hist.chart && hist.raw === raw) {
    hist.chart.setData(hist.data);
    return;
  }
  if (hist.chart) hist.chart.destroy();
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  const axis = {stroke: color("--dim"), grid: {stroke: color("--line"), width: 1},
                ticks: {stroke: color("--line"), width: 1}};
  const line = (label, stroke, width) => ({label, stroke, width});  // dots only where sparse
  const series = raw ? [{}, line(hist.pick[1], color("--accent"), 1.5)]
    : [{}, line("min", color("--blue"), 1), line("max", color("--orange"), 1),
       line("mean", color("--accent"), 2)];
  hist.raw = raw;
  hist.chart = new U({
    ...chartSize(), series, axes: [axis, {...axis, size: 56}],
    bands: raw ? [] : [{series: [2, 1], fill: "rgba(88,166,255,0.12)"}],
    cursor: {drag: {x: true, y: false}},
    // raw points fill their own extent; buckets show the whole span asked
    // for (uPlot would stretch a lone bucket over years)
    scales: {x: raw ? {time: true} : {time: true, range: () => hist.window}},
  }, hist.data, $("#chart"));
}

// A raw series' value in a reading: a data member, a generic field by
// name, or a nested member flattened with "." (as the history stores it).
function fieldValue(data, field) {
  if (isNum(data[field])) return data[field];
  const fields = Array.isArray(data.fields) ? data.fields : [];
  const named = fields.find((f) => f && String(f.name) === field);
  if (named) return isNum(named.value) ? named.value : null;
  let v = data;
  for (const part of field.split(".")) v = v && typeof v === "object" ? v[part] : undefined;
  return isNum(v) ? v : null;
}
function followHistory(readings) {
  if (!hist.pick) {
    if (Date.now() - hist.seriesAt > SERIES_RETRY_MS) loadSeries();
    return;
  }
  if (!hist.chart || !hist.data) {  // the last load failed: try again now and then
    if (Date.now() - hist.tried > SERIES_RETRY_MS) loadHistory();
    return;
  }
  if (hist.step) {
    if (Date.now() - hist.fetched >= hist.step) loadHistory();
    return;
  }
  const [sensor, field] = hist.pick;
  const r = readings.find((x) => String(x.sensor_id) === sensor);
  const v = r ? fieldValue(r.data, field) : null, t = r ? Number(r.timestamp) / 1000 : 0;
  const [xs, ys] = hist.data;
  if (v === null || !(t > 0) || (xs.length && t <= xs[xs.length - 1])) return;
  xs.push(t);
  ys.push(v);
  const cutoff = t - hist.span / 1000;
  const old = xs.findIndex((x) => x >= cutoff);
  if (old > 0) hist.data = hist.data.map((a) => a.slice(old));
  hist.chart.setData(hist.data);
  const n = hist.data[0].length;
  chartNote(`${n} point${n === 1 ? "" : "s"} \u00b7 ${sensor} \u00b7 ${field}`);
}
function resizeChart() {
  if (hist.chart) hist.chart.setSize(chartSize());
}
"""
