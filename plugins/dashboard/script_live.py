"""The page script, part 2: keeping up with the daemon, the buzzer and the
per-node logs.

Readings arrive by Server-Sent Events from /api/events ("reading" events
carry the readings JSON, "log" events one log line). EventSource
reconnects by itself; while the stream is down, or where the browser has
no EventSource, the page fetches /api/readings every POLL_MS instead (and
once at start: the page may be older than the last poll). The header badge
says which: live, reconnecting, polling or offline.

Log lines carry a seq that increases over every source, so lines fetched
from /api/logs and lines streamed merge without duplicates. A line pushed
by a spoke has the source "node/plugin"; any other line is this node's.
"""

LIVE_JS = r"""
// ---- connection: events, or polling while they are down ------------------
const RETRY_EVENTS_MS = 15000, LAYOUT_MS = 10000;
let live = false;
function setConn(state) {
  const badge = $("#conn");
  badge.dataset.state = state;
  badge.textContent = state;
  $("#status").classList.toggle("offline", state === "offline");
}
function onReadings(payload) {
  if (!apply(payload)) refreshLayout();
}
async function pollReadings() {
  if (!live) {
    try {
      const readings = await getJSON("/api/readings");
      if (!live) {
        onReadings(readings);
        setConn(typeof EventSource === "function" ? "reconnecting" : "polling");
      }
    } catch (err) {
      if (!live) {
        setConn("offline");
        $("#status-text").textContent = `no answer (${err.message})`;
      }
    }
  }
  setTimeout(pollReadings, POLL_MS);
}
async function fetchReadingsOnce() {  // the initial load: fetch("/api/readings")
  try {
    const res = await fetch("/api/readings", {cache: "no-store"});
    if (res.ok) onReadings(await res.json());
  } catch (err) { /* pollReadings() reports it */ }
}
function connectEvents() {
  const es = new EventSource("/api/events");
  es.addEventListener("open", () => {
    live = true;
    setConn("live");
    if (logNode) showLogs(logNode);  // lines logged while we were away
  });
  es.addEventListener("reading", (ev) => {
    const readings = parseJSON(ev.data);
    if (readings !== undefined) onReadings(readings);
  });
  es.addEventListener("log", (ev) => {
    const line = parseJSON(ev.data);
    if (line && typeof line === "object") addLogs([line]);
  });
  es.addEventListener("error", () => {
    live = false;
    if (es.readyState === EventSource.CLOSED) {  // refused: EventSource gives up, we do not
      es.close();
      setTimeout(connectEvents, RETRY_EVENTS_MS);
    }
    // while the daemon does not answer at all, "offline" (from polling) says more
    if ($("#conn").dataset.state !== "offline") setConn("reconnecting");
  });
}

// New sensors or nodes: re-render their grids from a fresh page, in place
// (the page is the plugin's, already escaped), at most every LAYOUT_MS.
let layoutAt = 0;
async function refreshLayout() {
  if (Date.now() - layoutAt < LAYOUT_MS) return;
  layoutAt = Date.now();
  try {
    const res = await fetch("/", {cache: "no-store"});
    if (!res.ok) throw new Error("HTTP " + res.status);
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    for (const id of ["sensors", "nodes", "counts", "message"]) {
      const old = document.getElementById(id), fresh = doc.getElementById(id);
      if (old && fresh) old.replaceWith(document.adoptNode(fresh));
      else if (old) old.remove();
      else if (fresh) $("#newer").before(document.adoptNode(fresh));
    }
    for (const tab of doc.querySelectorAll("[data-log-node]")) addLogTab(tab.dataset.logNode);
    $("#newer").hidden = true;
    refreshAges();
  } catch (err) {
    $("#newer").hidden = false;
  }
}

// ---- buzzer ---------------------------------------------------------------
async function buzz(pattern) {
  const out = $("#buzzer-status"), pick = $("#buzzer-node");
  const node = pick && pick.value ? pick.value : undefined;  // undefined: left out
  const what = node ? `${pattern} on ${node}` : pattern;
  out.textContent = what + "\u2026";
  try {
    const res = await fetch("/api/buzzer", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({pattern, node})});
    const body = res.ok ? null : await res.json().catch(() => null);
    out.textContent = res.ok ? `${what}: sent`
      : `${what}: failed (${body && typeof body.error === "string" ? body.error : "HTTP " + res.status})`;
  } catch (err) {
    out.textContent = `${what}: failed (${err.message})`;
  }
}

// ---- logs -----------------------------------------------------------------
const LOG_KEEP = 500;
const logs = new Map();  // node -> {lines: Map(seq -> text), fetched: last seq fetched}
let logNode = null, localNode = null;
let logShown = 0, logCount = 0;  // the view: its last seq (0: redraw) and how many lines

function logBook(node) {
  if (!logs.has(node)) logs.set(node, {lines: new Map(), fetched: 0});
  return logs.get(node);
}
function logNodeOf(line) {
  const source = String(line.source ?? ""), cut = source.indexOf("/");
  return cut > 0 ? source.slice(0, cut) : localNode;
}
function logText(line) {
  const ms = line.time ?? line.time_ms;
  return [isNum(ms) ? new Date(ms).toLocaleTimeString() : "",
          String(line.level ?? "").toUpperCase(), line.source ? `${line.source}:` : "",
          String(line.text ?? line.message ?? "")].filter((x) => x !== "").join(" ");
}
function addLogs(lines, fetchedFor) {
  const touched = new Set();
  for (const line of lines) {
    if (!line || typeof line !== "object" || !isNum(line.seq)) continue;
    const node = logNodeOf(line);
    if (!node) continue;
    const book = logBook(node);
    if (book.lines.has(line.seq)) continue;
    book.lines.set(line.seq, logText(line));
    touched.add(node);
  }
  if (fetchedFor) {
    const seqs = lines.map((l) => l && l.seq).filter(isNum);
    if (seqs.length) logBook(fetchedFor).fetched = Math.max(logBook(fetchedFor).fetched, ...seqs);
  }
  for (const node of touched) {
    const book = logBook(node);
    if (book.lines.size > LOG_KEEP * 1.2) {
      const keep = [...book.lines.keys()].sort((a, b) => a - b).slice(-LOG_KEEP);
      book.lines = new Map(keep.map((seq) => [seq, book.lines.get(seq)]));
      if (node === logNode) logShown = -1;  // redraw
    }
  }
  if (logNode && touched.has(logNode)) renderLog();
}
function renderLog() {
  const view = $("#log-view"), book = logBook(logNode);
  const atEnd = view.scrollTop + view.clientHeight >= view.scrollHeight - 4;
  const seqs = [...book.lines.keys()].sort((a, b) => a - b);
  const fresh = seqs.filter((seq) => seq > logShown);
  // Only newer lines than those shown (the common case): append them.
  if (view.dataset.node === logNode && logShown > 0 && seqs.length - fresh.length === logCount)
    view.append(fresh.map((seq) => "\n" + book.lines.get(seq)).join(""));
  else
    view.textContent = seqs.length ? seqs.map((seq) => book.lines.get(seq)).join("\n") : "(empty)";
  view.dataset.node = logNode;
  logCount = seqs.length;
  logShown = seqs.length ? seqs[seqs.length - 1] : 0;
  if (atEnd) view.scrollTop = view.scrollHeight;
}
async function showLogs(node) {
  try {
    const after = logBook(node).fetched;
    const res = await fetch("/api/logs?node=" + encodeURIComponent(node) + "&after=" + after,
                            {cache: "no-store"});
    if (!res.ok) throw new Error("HTTP " + res.status);
    const lines = await res.json();
    if (!Array.isArray(lines)) throw new Error("not a list of lines");
    addLogs(lines, node);
    if (logNode === node && logShown === 0) renderLog();  // "(empty)" rather than "Loading"
  } catch (err) {
    if (logNode === node)
      $("#log-view").textContent = `Could not load ${node}'s log (${err.message}).`;
  }
}
function pickLog(tab) {
  for (const t of $$("[data-log-node]")) t.setAttribute("aria-selected", String(t === tab));
  logNode = tab.dataset.logNode;
  logShown = 0;
  $("#log-view").textContent = "Loading\u2026";
  if (logBook(logNode).lines.size) renderLog();
  showLogs(logNode);
}
function addLogTab(node) {
  const existing = byData("log-node", node);
  if (existing) return existing;
  const tab = document.createElement("button");
  tab.type = "button";
  tab.className = "tab";
  tab.setAttribute("role", "tab");
  tab.setAttribute("aria-selected", "false");
  tab.dataset.logNode = node;
  tab.textContent = node;
  $("#log-tabs").append(tab);
  return tab;
}
// Which node serves this page: its tab is shown first, unprefixed lines are its.
async function whoAmI() {
  try {
    const health = await getJSON("/health");
    if (typeof health.node === "string" && health.node) return health.node;
  } catch (err) { /* an older daemon: the first tab's node */ }
  const first = $("[data-log-node]");
  return first ? first.dataset.logNode : null;
}
"""
