"""The page's stylesheet and script, inline: the dashboard must work on a
cluster with no internet (no CDN, no web fonts).

The script keeps the page live: every POLL_MS it fetches /api/readings and
updates the cards in place through their data attributes (see cards.py);
the thresholds repeat readings.py's. Where the readings come from is the
one function subscribe(), so moving to server-sent events is a local
change. It never puts received text into innerHTML, only textContent.
"""

CSS = """
:root{--bg:#0d1117;--panel:#161b22;--line:#30363d;--fg:#c9d1d9;--dim:#8b949e;
--accent:#58a6ff;--green:#3fb950;--lime:#a5d65a;--yellow:#e3b341;--orange:#f0883e;
--red:#f85149;--purple:#bc8cff;--blue:#79c0ff}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:14px/1.45 "JetBrains Mono",ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1rem;padding:.8rem 1rem;
border-bottom:1px solid var(--line)}
h1{font-size:1.05rem;margin:0;letter-spacing:.15em;color:var(--accent)}
h2{font-size:.75rem;color:var(--dim);text-transform:uppercase;letter-spacing:.15em;
margin:1.2rem 0 .5rem}
main{padding:0 1rem 2rem;max-width:1200px;margin:0 auto}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:.75rem}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:.75rem .9rem;
min-width:0}
.wide{grid-column:1/-1}
.card h3{margin:0 0 .4rem;font-size:.85rem;display:flex;justify-content:space-between;gap:.5rem}
.card h3 small{color:var(--dim);font-weight:normal;overflow:hidden;text-overflow:ellipsis;
white-space:nowrap}
.big{font-size:1.7rem;margin:.1rem 0 .4rem;white-space:nowrap}
.big small{font-size:.8rem;color:var(--dim)}
dl{display:grid;grid-template-columns:auto 1fr;gap:.15rem .75rem;margin:0}
dt{color:var(--dim)}dd{margin:0;text-align:right;overflow-wrap:anywhere}
.dim{color:var(--dim)}
.badge{font-size:.7rem;padding:.05rem .4rem;border:1px solid currentColor;border-radius:4px;
vertical-align:middle}
.bar{height:4px;background:var(--line);border-radius:2px;overflow:hidden;margin:.4rem 0}
.bar i{display:block;height:100%;background:var(--accent)}
.temp-ok,.hum-ok,.cpu-ok,.iaq-excellent{color:var(--green)}
.iaq-good{color:var(--lime)}.iaq-moderate{color:var(--yellow)}
.temp-warm,.cpu-warm,.iaq-poor,.hum-high,.hum-low{color:var(--orange)}
.temp-hot,.cpu-hot,.iaq-bad{color:var(--red)}
.temp-cold{color:var(--blue)}.iaq-calibrating{color:var(--purple)}
button{font:inherit;background:var(--bg);color:var(--fg);border:1px solid var(--line);
border-radius:6px;padding:.45rem .9rem;min-height:2.6rem;cursor:pointer}
button:hover,button:focus-visible{border-color:var(--accent);outline:none}
.buttons,.tabs{display:flex;flex-wrap:wrap;gap:.5rem}
.tabs{margin-bottom:.5rem}
.tab[aria-selected=true]{border-color:var(--accent);color:var(--accent)}
pre{background:#010409;border:1px solid var(--line);border-radius:6px;padding:.6rem;margin:0;
max-height:22rem;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px}
table{width:100%;border-collapse:collapse}td{padding:.15rem 0}td+td{text-align:right}
.status{display:flex;align-items:center;gap:.4rem;color:var(--dim);font-size:.8rem}
.dot{width:.6rem;height:.6rem;border-radius:50%;background:var(--green)}
.offline .dot{background:var(--red)}
.notice{background:var(--panel);border:1px solid var(--yellow);border-radius:8px;
padding:.6rem .9rem;margin:1rem 0 0}
@media (max-width:520px){body{font-size:13px}main{padding:0 .6rem 1.5rem}.big{font-size:1.45rem}}
"""

JS = r"""
"use strict";
const POLL_MS = 3000, LOG_MS = 5000, DASH = "\u2014";
const $ = (sel) => document.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const isNum = (v) => typeof v === "number" && isFinite(v);

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

function updateCard(card, data) {
  for (const el of $$("[data-f]", card)) el.textContent = format(el, data);
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

function apply(payload) {
  const list = Array.isArray(payload) ? payload : (payload && payload.readings) || [];
  const readings = list.filter((r) => r && typeof r === "object" && r.data && typeof r.data === "object");
  const lastSeen = new Map();
  let unknown = false;
  for (const r of readings) {
    const sid = String(r.sensor_id || ""), node = sid.split(":")[0];
    lastSeen.set(node, Math.max(lastSeen.get(node) || 0, Number(r.timestamp) || 0));
    const isMonitor = "cpu-temp" in r.data;
    const card = isMonitor ? byData("node", node) : byData("sid", sid);
    if (card) updateCard(card, r.data); else unknown = true;
  }
  for (const [node, ts] of lastSeen) {
    const card = byData("node", node);
    const seen = card && card.querySelector("[data-ts]");
    if (seen) seen.dataset.ts = String(ts); else unknown = true;
  }
  renderLatency(readings);
  refreshAges();
  $("#newer").hidden = !unknown;
  setStatus(true, "live \u00b7 " + new Date().toLocaleTimeString());
}

function refreshAges() {
  for (const el of $$("[data-ts]")) {
    const ts = Number(el.dataset.ts);
    el.textContent = ts > 0 ? age(Date.now() - ts) : DASH;
  }
}
function setStatus(ok, text) {
  $("#status").classList.toggle("offline", !ok);
  $("#status-text").textContent = text;
}

// ---- where readings come from: swap this for EventSource("/api/events") ----
function subscribe(onReadings, onError) {
  async function tick() {
    try {
      const res = await fetch("/api/readings", {cache: "no-store"});
      if (!res.ok) throw new Error("HTTP " + res.status);
      onReadings(await res.json());
    } catch (err) {
      onError(err);
    } finally {
      setTimeout(tick, POLL_MS);
    }
  }
  setTimeout(tick, POLL_MS);
}

// ---- buzzer ---------------------------------------------------------------
async function buzz(pattern) {
  const out = $("#buzzer-status");
  out.textContent = pattern + "\u2026";
  try {
    const res = await fetch("/api/buzzer", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({pattern})});
    out.textContent = res.ok ? `${pattern}: sent` : `${pattern}: failed (HTTP ${res.status})`;
  } catch (err) {
    out.textContent = `${pattern}: failed (${err.message})`;
  }
}

// ---- logs -----------------------------------------------------------------
let logNode = null;
function logText(body) {
  let lines = body;
  try { lines = JSON.parse(body); } catch (e) { return body; }
  if (lines && !Array.isArray(lines)) lines = lines.lines || lines.logs || lines.entries || [];
  if (!Array.isArray(lines)) return String(body);
  return lines.map((l) => typeof l === "string" ? l : [l.time_ms ? new Date(l.time_ms)
    .toLocaleTimeString() : "", l.level, l.source, l.text ?? l.message]
    .filter((x) => x !== undefined && x !== "").join(" ")).join("\n") || "(empty)";
}
async function showLogs(node) {
  const view = $("#log-view");
  try {
    const res = await fetch("/api/logs?node=" + encodeURIComponent(node), {cache: "no-store"});
    if (!res.ok) throw new Error("HTTP " + res.status);
    const text = logText(await res.text());
    if (logNode === node) {
      const atEnd = view.scrollTop + view.clientHeight >= view.scrollHeight - 4;
      view.textContent = text;
      if (atEnd) view.scrollTop = view.scrollHeight;
    }
  } catch (err) {
    if (logNode === node) view.textContent = `Could not load ${node}'s log (${err.message}).`;
  }
}
function pickLog(tab) {
  for (const t of $$("[data-log-node]")) t.setAttribute("aria-selected", String(t === tab));
  logNode = tab.dataset.logNode;
  $("#log-view").textContent = "Loading\u2026";
  showLogs(logNode);
}

// ---- start ----------------------------------------------------------------
for (const b of $$("[data-pattern]")) b.addEventListener("click", () => buzz(b.dataset.pattern));
for (const t of $$("[data-log-node]")) t.addEventListener("click", () => pickLog(t));
setInterval(refreshAges, 1000);
setInterval(() => { if (logNode && !document.hidden) showLogs(logNode); }, LOG_MS);
subscribe(apply, (err) => setStatus(false, `offline (${err.message}) \u00b7 retrying`));
"""
