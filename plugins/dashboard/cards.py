"""HTML for the dashboard's cards and panels.

Every value that comes from the readings goes through esc() (html.escape):
readings arrive from plugins and from other nodes, and a sensor called
``<script>...`` must show up as text, not run.

Elements the page's script refreshes carry what it needs as data
attributes, so live updates change text in place without re-rendering:
``data-f`` (which field of the reading's data), ``data-d`` (decimals),
``data-scale``, ``data-c`` (which threshold colours the element: temp,
hum, iaq, cpu), ``data-sid`` / ``data-node`` on cards, ``data-ts`` on ages.
The history, OLED and LED panels are empty frames the script fills from
the API (/api/series and /api/history, /api/oled.png, /api/leds).
"""

from html import escape
from typing import Any

from readings import (NO_VALUE, Reading, age, cpu_state, fixed, hum_state, iaq_state,
                      node_role, number, plain, sensor_id, temp_state, uptime)

ROLE_LABELS = {"hub": "HUB", "node": "NODE", "spoke": "SPOKE", "zero": "PI ZERO"}
ROLE_ORDER = {"hub": 0, "node": 1, "spoke": 2, "zero": 3}
BUZZER_BUTTONS = (("single", "BEEP"), ("triple", "BEEP x3"), ("long", "LONG"))
# History ranges: (label, span in ms, step in ms). An hour of raw points;
# longer spans as min/max/mean buckets, so a week is ~2000 points, not 600k.
HOUR_MS = 3_600_000
HISTORY_RANGES = (("1 h", HOUR_MS, 0), ("24 h", 24 * HOUR_MS, 60_000),
                  ("7 d", 7 * 24 * HOUR_MS, 300_000))


def esc(value: Any) -> str:
    return escape(str(value), quote=True)


def card(title: str, subtitle: str, body: str, attrs: str = "") -> str:
    return (f'<section class="card"{attrs}><h3>{esc(title)}<small>{esc(subtitle)}</small></h3>'
            f"{body}</section>")


def field(data: dict[str, Any], key: str, decimals: int, scale: float = 1.0) -> str:
    """A number the script keeps up to date."""
    scale_attr = f' data-scale="{scale}"' if scale != 1.0 else ""
    text = fixed(data.get(key), decimals, scale)
    return f'<span data-f="{key}" data-d="{decimals}"{scale_attr}>{text}</span>'


def row(label: str, value_html: str, attrs: str = "") -> str:
    return f"<dt>{esc(label)}</dt><dd{attrs}>{value_html}</dd>"


def sid_attr(reading: Reading) -> str:
    return f' data-sid="{esc(sensor_id(reading))}"'


def placeholder(title: str) -> str:
    return card(title, "no reading", f'<p class="dim">{NO_VALUE}</p>')


# ---- sensors -------------------------------------------------------------------

def dht22_card(reading: Reading) -> str:
    data = reading["data"]
    body = (f'<div class="big temp-{temp_state(data.get("temperature"))}" data-c="temp">'
            f'{field(data, "temperature", 1)}<small> \u00b0C</small></div>'
            "<dl>"
            + row("Humidity", f'{field(data, "humidity", 1)} %',
                  f' class="hum-{hum_state(data.get("humidity"))}" data-c="hum"')
            + "</dl>")
    return card("DHT22", sensor_id(reading), body, sid_attr(reading))


def bme680_card(reading: Reading) -> str:
    data = reading["data"]
    state, label = iaq_state(data.get("iaq"), data.get("iaq-accuracy"))
    iaq_text = "\u2026" if state == "calibrating" else fixed(data.get("iaq"), 0)
    body = (f'<div class="big iaq-{state}" data-c="iaq">IAQ '
            f'<span data-f="iaq" data-d="0" data-fmt="iaq">{iaq_text}</span> '
            f'<span class="badge" data-iaq-label>{esc(label)}</span></div>'
            "<dl>"
            + row("Temperature", f'{field(data, "temperature", 1)} \u00b0C',
                  f' class="temp-{temp_state(data.get("temperature"))}" data-c="temp"')
            + row("Humidity", f'{field(data, "humidity", 1)} %')
            + row("Pressure", f'{field(data, "pressure", 1)} hPa')
            + row("Gas", f'{field(data, "gas-resistance", 1, 0.001)} k\u03a9')
            + "</dl>")
    return card("BME680", sensor_id(reading), body, sid_attr(reading))


def generic_card(reading: Reading) -> str:
    """Any sensor on the generic world: its fields, as given."""
    data = reading["data"]
    rows = []
    for item in data.get("fields", []):
        if not isinstance(item, dict):
            continue
        name, unit = item.get("name", "?"), item.get("unit") or ""
        rows.append(row(str(name), f'<span data-field="{esc(name)}">{esc(plain(item.get("value")))}'
                                   f"</span> {esc(unit)}"))
    extra = data.get("extra")
    note = f'<p class="dim">{esc(extra)}</p>' if extra else ""
    title = data.get("sensor") or sensor_id(reading)
    return card(str(title).upper(), sensor_id(reading), f"<dl>{''.join(rows)}</dl>{note}",
                sid_attr(reading))


def other_card(reading: Reading) -> str:
    """A reading of a shape we do not know: its plain values."""
    rows = [row(str(key), f'<span data-f="{esc(key)}">{esc(plain(value))}</span>')
            for key, value in reading["data"].items()
            if value is None or isinstance(value, (str, int, float))]
    title = reading.get("plugin") or "sensor"
    return card(str(title).upper(), sensor_id(reading), f"<dl>{''.join(rows)}</dl>",
                sid_attr(reading))


# ---- nodes ---------------------------------------------------------------------

def network_rows(network: Reading | None, role: str) -> str:
    """What the node says of its cluster link: a spoke its last push's round
    trip and its queue, the hub how many spokes push to it. In a
    ``data-net`` block, which the script updates from the network reading."""
    if network is None:
        return ""
    net: dict[str, Any] = network["data"]
    rows = ""
    if role in ("spoke", "zero"):
        rows += row("Push", f'<span data-f="push_ms" data-d="1">{fixed(net.get("push_ms"), 1)}'
                            "</span> ms")
        rows += row("Queued", f'<span data-f="queued">{esc(plain(net.get("queued")))}</span>')
        rows += row("Dropped", f'<span data-f="dropped">{esc(plain(net.get("dropped")))}</span>')
    elif role == "hub":
        rows += row("Spokes", f'<span data-f="spokes">{esc(plain(net.get("spokes")))}</span>')
    return f"<dl data-net>{rows}</dl>" if rows else ""


def node_card(node: str, monitor: Reading | None, last_ms: float, now_ms: float,
              network: Reading | None = None) -> str:
    """A node's health from its pi-monitor reading (dashes without one) and
    its cluster link from its network reading."""
    data: dict[str, Any] = monitor["data"] if monitor else {}
    role = node_role(node, network)
    used, total = number(data.get("memory-used-mb")), number(data.get("memory-total-mb"))
    percent = min(100, max(0, round(100 * used / total))) if used is not None and total else 0
    seen = age(now_ms - last_ms) if last_ms else NO_VALUE
    body = (f'<div class="big cpu-{cpu_state(data.get("cpu-temp"))}" data-c="cpu">'
            f'{field(data, "cpu-temp", 1)}<small> \u00b0C CPU</small></div>'
            "<dl>"
            + row("CPU usage", f'{field(data, "cpu-usage", 1)} %')
            + row("Memory", f'{field(data, "memory-used-mb", 0)} / '
                            f'{field(data, "memory-total-mb", 0)} MB')
            + "</dl>"
            f'<div class="bar"><i data-bar style="width:{percent}%"></i></div>'
            "<dl>"
            + row("Uptime", f'<span data-f="uptime-seconds" data-fmt="uptime">'
                            f'{uptime(data.get("uptime-seconds"))}</span>')
            + row("Last seen", f'<span data-ts="{last_ms:.0f}">{seen}</span>')
            + "</dl>"
            + network_rows(network, role))
    return card(node, ROLE_LABELS[role], body, f' data-node="{esc(node)}" data-role="{role}"')


def node_sort_key(node: str, network: Reading | None = None) -> tuple[int, str]:
    return ROLE_ORDER[node_role(node, network)], node


# ---- panels --------------------------------------------------------------------

def latency_text(value: Any) -> str:
    if isinstance(value, dict):  # {"ms": 1.2} as well as a bare number
        value = value.get("ms", value.get("latency_ms"))
    ms = number(value)
    if ms is not None:
        return f"{ms:.1f} ms"
    return "unreachable" if value is None or value is False else NO_VALUE


def latency_panel(rows: list[tuple[str, str, Any]]) -> str:
    """(from node, to host, latency) rows; a dash when nobody reports any."""
    if not rows:
        body = f'<tr><td colspan="2">{NO_VALUE}</td></tr>'
    else:
        body = "".join(f"<tr><td>{esc(src)} \u2192 {esc(dst)}</td><td>{esc(latency_text(v))}</td></tr>"
                       for src, dst, v in rows)
    return (f'<section class="card"><h3>Network latency<small>ping</small></h3>'
            f'<table class="latency"><tbody id="latency">{body}</tbody></table></section>')


def buzzer_panel(nodes: list[str]) -> str:
    """Pattern buttons and which node's buzzer: by default the serving
    node's own (or, on a hub, the spoke its config names); the hub forwards
    a request naming a node to it."""
    buttons = "".join(f'<button type="button" data-pattern="{pattern}">{label}</button>'
                      for pattern, label in BUZZER_BUTTONS)
    options = '<option value="">default</option>' + "".join(
        f'<option value="{esc(node)}">{esc(node)}</option>' for node in nodes)
    return (f'<section class="card"><h3>Buzzer<small>relay</small></h3>'
            f'<label class="dim">on <select id="buzzer-node">{options}</select></label>'
            f'<div class="buttons">{buttons}</div>'
            f'<p class="dim" id="buzzer-status" role="status"></p></section>')


def log_panel(nodes: list[str]) -> str:
    tabs = "".join(f'<button type="button" class="tab" role="tab" aria-selected="false" '
                   f'data-log-node="{esc(node)}">{esc(node)}</button>' for node in nodes)
    hint = "Pick a node to see its log." if nodes else "No nodes yet."
    return (f'<section class="card wide"><h3>Logs<small>per node, live</small></h3>'
            f'<div class="tabs" role="tablist" id="log-tabs">{tabs}</div>'
            f'<pre id="log-view">{hint}</pre></section>')


def history_panel() -> str:
    """A series picker, the range buttons and the chart's frame."""
    ranges = "".join(f'<button type="button" data-range="{span}" data-step="{step}" '
                     f'aria-pressed="{"true" if i == 0 else "false"}">{label}</button>'
                     for i, (label, span, step) in enumerate(HISTORY_RANGES))
    return ('<section class="card wide" id="history"><h3>Sensor history'
            '<small id="history-mode">raw points</small></h3>'
            '<div class="controls"><select id="series" aria-label="Series">'
            '<option value="">loading series\u2026</option></select>'
            f'<div class="buttons" role="group" aria-label="Range">{ranges}</div></div>'
            '<div id="chart" class="chart"></div>'
            '<p class="dim" id="chart-note" role="status"></p></section>')


def oled_panel() -> str:
    """The OLED's 128x64 picture, scaled up pixel for pixel by the script."""
    return ('<section class="card"><h3>OLED<small>SSD1306 preview</small></h3>'
            '<div class="oled" id="oled" role="img" aria-label="OLED display"></div>'
            '<p class="dim" id="oled-note" role="status"></p></section>')


def leds_panel() -> str:
    return ('<section class="card"><h3>LED strip<small id="leds-count">WS2812B</small></h3>'
            '<div class="leds" id="leds" role="img" aria-label="LED strip colours"></div>'
            '<p class="dim" id="leds-note" role="status"></p></section>')
