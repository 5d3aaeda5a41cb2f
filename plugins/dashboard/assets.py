"""The page's stylesheet and script, inline: the dashboard must work on a
cluster with no internet (no CDN, no web fonts; uPlot comes from the
daemon's /static/).

The script is in parts (script_*.py), joined here in order, with the
start-up last: script_cards (readings into the cards), script_live (events
or polling, buzzer, logs), script_history (uPlot charts), script_board
(OLED and LED previews). It never puts received text into innerHTML,
only textContent.
"""

from script_board import BOARD_JS
from script_cards import CARDS_JS
from script_history import HISTORY_JS
from script_live import LIVE_JS

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
#conn{text-transform:uppercase;letter-spacing:.08em}
#conn[data-state=live]{color:var(--green)}#conn[data-state=reconnecting]{color:var(--orange)}
#conn[data-state=polling]{color:var(--yellow)}#conn[data-state=offline]{color:var(--red)}
.controls{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;margin-bottom:.5rem}
select{font:inherit;background:var(--bg);color:var(--fg);border:1px solid var(--line);
border-radius:6px;padding:.45rem .6rem;min-height:2.6rem;flex:1 1 14rem;max-width:100%}
button[aria-pressed=true]{border-color:var(--accent);color:var(--accent)}
.chart{min-height:180px;overflow:hidden}
.u-legend{font-size:12px;color:var(--fg)}.u-select{background:rgba(88,166,255,.15)}
#board{grid-template-columns:repeat(auto-fill,minmax(min(100%,420px),1fr))}
.oled{width:100%;max-width:384px;aspect-ratio:2/1;background:#000;border:1px solid var(--line);
border-radius:4px;overflow:hidden}
.oled img{display:block;width:100%;height:100%;image-rendering:crisp-edges;
image-rendering:pixelated}
.leds{display:flex;flex-wrap:wrap;gap:.45rem;padding:.4rem 0;min-height:2.2rem}
.leds i{width:1.35rem;height:1.35rem;border-radius:50%;background:#000;
border:1px solid var(--line);box-shadow:0 0 .5rem currentColor}
.leds i.off{box-shadow:none}
@media (max-width:520px){body{font-size:13px}main{padding:0 .6rem 1.5rem}.big{font-size:1.45rem}}
"""

START_JS = r"""
// ---- start ----------------------------------------------------------------
for (const b of $$("[data-pattern]")) b.addEventListener("click", () => buzz(b.dataset.pattern));
$("#log-tabs").addEventListener("click", (ev) => {
  const tab = ev.target.closest("[data-log-node]");
  if (tab) pickLog(tab);
});
for (const b of $$("[data-range]")) b.addEventListener("click", () => pickRange(b));
$("#series").addEventListener("change", (ev) => pickSeries(Number(ev.target.value)));
$("#series").addEventListener("focus", () => {
  if (Date.now() - hist.seriesAt > SERIES_RETRY_MS) loadSeries();
});
readingHooks.push(followHistory, refreshLeds);
window.addEventListener("resize", () => requestAnimationFrame(resizeChart));
document.addEventListener("visibilitychange", refreshOled);
setInterval(refreshAges, 1000);
setInterval(refreshOled, OLED_MS);
setInterval(() => { if (!live && logNode && !document.hidden) showLogs(logNode); }, LOG_MS);
fetchReadingsOnce();
setTimeout(pollReadings, POLL_MS);
refreshOled();
refreshLeds();
loadSeries();
whoAmI().then((node) => {
  localNode = node;
  if (node && !logNode) pickLog(addLogTab(node));
  if (typeof EventSource === "function") connectEvents(); else setConn("polling");
});
"""

JS = "".join((CARDS_JS, LIVE_JS, HISTORY_JS, BOARD_JS, START_JS))
