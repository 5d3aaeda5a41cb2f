"""The page script, part 1: helpers, the thresholds (the same tables as
readings.py) and apply(), which writes a readings JSON into the cards in
place through their data attributes (see cards.py).

apply() then calls every function in readingHooks with the readings, so
the history chart and the LED preview follow each poll without knowing
where readings come from. Received text only ever goes into textContent.
"""

CARDS_JS = r"""
"use strict";
const POLL_MS = 3000, LOG_MS = 5000, DASH = "\u2014";
const $ = (sel) => document.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const isNum = (v) => typeof v === "number" && isFinite(v);
const readingHooks = [];  // fn(readings) after every apply()
let clockSkew = 0;        // the daemon's clock minus ours, from reading timestamps

function parseJSON(text) {
  try { return JSON.parse(text); } catch (e) { return undefined; }
}
async function getJSON(url) {
  const res = await fetch(url, {cache: "no-store"});
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    throw new Error(body && typeof body.error === "string" ? body.error : "HTTP " + res.status);
  }
  return res.json();
}

// ---- thresholds: the same tables as readings.py --------------------------
const IAQ = [[50, "excellent", "Excellent"], [100, "good", "Good"],
             [150, "moderate", "Moderate"], [200, "poor", "Poor"]];
function iaqState(d) {
  if (d["iaq-accuracy"] === "calibrating" || d.iaq === 0) return ["calibrating", "Calibrating"];
  if (!isNum(d.iaq)) return ["none", DASH];
  const hit = IAQ.find(([limit]) => d.iaq <= limit);
  return hit ? [hit[1], hit[2]] : ["bad", "Bad"];
}
const STATES = {
  iaq: (d) => iaqState(d)[0],
  temp: (d) => !isNum(d.temperature) ? "none" : d.temperature >= 30 ? "hot"
    : d.temperature <= 15 ? "cold" : d.temperature > 25 ? "warm" : "ok",
  hum: (d) => !isNum(d.humidity) ? "none" : d.humidity > 70 ? "high"
    : d.humidity < 25 ? "low" : "ok",
  cpu: (d) => !isNum(d["cpu-temp"]) ? "none" : d["cpu-temp"] > 75 ? "hot"
    : d["cpu-temp"] > 60 ? "warm" : "ok",
};

// ---- formatting -----------------------------------------------------------
function plain(v) {
  if (isNum(v)) return String(Number(v.toPrecision(6)));
  return v === null || v === undefined ? DASH : String(v);
}
function uptime(s) {
  const m = Math.floor(s / 60), d = Math.floor(m / 1440), h = Math.floor(m / 60) % 24;
  return d ? `${d}d ${h}h ${m % 60}m` : `${h}h ${m % 60}m`;
}
function age(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.floor(s / 60)} min ago`
    : s < 86400 ? `${Math.floor(s / 3600)} h ago` : `${Math.floor(s / 86400)} d ago`;
}
function format(el, data) {
  const v = data[el.dataset.f];
  if (el.dataset.fmt === "iaq" && iaqState(data)[0] === "calibrating") return "\u2026";
  if (el.dataset.d === undefined && el.dataset.fmt !== "uptime") return plain(v);
  if (!isNum(v)) return DASH;
  if (el.dataset.fmt === "uptime") return uptime(v);
  return (v * Number(el.dataset.scale || 1)).toFixed(Number(el.dataset.d));
}
function setState(el, prefix, state) {
  for (const c of Array.from(el.classList)) if (c.startsWith(prefix + "-")) el.classList.remove(c);
  el.classList.add(prefix + "-" + state);
}

// ---- applying readings ----------------------------------------------------
const byData = (attr, value) => $$(`[data-${attr}]`).find((el) => el.getAttribute(`data-${attr}`) === value);

// net: a network reading, which fills only the card's [data-net] block
// (a node card also shows its pi-monitor reading, which fills the rest).
function updateCard(card, data, net = false) {
  const mine = (el) => !!el.closest("[data-net]") === net;
  for (const el of $$("[data-f]", card)) if (mine(el)) el.textContent = format(el, data);
  if (net) return;
  for (const el of $$("[data-c]", card)) setState(el, el.dataset.c, STATES[el.dataset.c](data));
  for (const el of $$("[data-iaq-label]", card)) el.textContent = iaqState(data)[1];
  const fields = Array.isArray(data.fields) ? data.fields : [];
  for (const el of $$("[data-field]", card)) {
    const f = fields.find((x) => x && String(x.name) === el.dataset.field);
    if (f) el.textContent = plain(f.value);
  }
  const bar = card.querySelector("[data-bar]");
  if (bar && isNum(data["memory-used-mb"]) && data["memory-total-mb"] > 0)
    bar.style.width = Math.min(100, Math.max(0,
      Math.round(100 * data["memory-used-mb"] / data["memory-total-mb"]))) + "%";
}

function latencyRows(readings) {
  const rows = [];
  for (const r of readings) {
    const lat = r.data.latency;
    if (!lat || typeof lat !== "object" || Array.isArray(lat)) continue;
    const node = String(r.sensor_id || "").split(":")[0];
    for (const [host, v] of Object.entries(lat)) {
      const ms = v && typeof v === "object" ? (v.ms ?? v.latency_ms) : v;
      rows.push([`${node} \u2192 ${host}`,
                 isNum(ms) ? `${ms.toFixed(1)} ms` : ms === null || ms === false ? "unreachable" : DASH]);
    }
  }
  return rows.length ? rows : [[DASH]];
}
function renderLatency(readings) {
  const body = $("#latency");
  if (!body) return;
  body.replaceChildren(...latencyRows(readings).map((cells) => {
    const tr = document.createElement("tr");
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cells.length === 1) td.colSpan = 2;
      tr.append(td);
    }
    return tr;
  }));
}

// Returns false when a reading has no card yet (a new sensor or node).
function apply(payload) {
  const list = Array.isArray(payload) ? payload : (payload && payload.readings) || [];
  const readings = list.filter((r) => r && typeof r === "object" && r.data && typeof r.data === "object");
  const lastSeen = new Map();
  let unknown = false, newest = 0;
  for (const r of readings) {
    const sid = String(r.sensor_id || ""), node = sid.split(":")[0];
    const ts = Number(r.timestamp) || 0;
    newest = Math.max(newest, ts);
    lastSeen.set(node, Math.max(lastSeen.get(node) || 0, ts));
    const isNet = r.plugin === "cluster" && typeof r.data.role === "string";
    const isMonitor = "cpu-temp" in r.data;
    const card = isMonitor || isNet ? byData("node", node) : byData("sid", sid);
    if (card) updateCard(card, r.data, isNet); else unknown = true;
  }
  for (const [node, ts] of lastSeen) {
    const card = byData("node", node);
    const seen = card && card.querySelector("[data-ts]");
    if (seen) seen.dataset.ts = String(ts); else unknown = true;
  }
  if (newest > 0) clockSkew = newest - Date.now();
  renderLatency(readings);
  refreshAges();
  $("#status-text").textContent = "updated " + new Date().toLocaleTimeString();
  for (const hook of readingHooks) hook(readings);
  return !unknown;
}

function refreshAges() {
  for (const el of $$("[data-ts]")) {
    const ts = Number(el.dataset.ts);
    el.textContent = ts > 0 ? age(Date.now() - ts) : DASH;
  }
}
"""
