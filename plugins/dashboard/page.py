"""The whole dashboard page: one self-contained HTML document."""

import time
from typing import Any

from assets import CSS, JS
from cards import (buzzer_panel, dht22_card, bme680_card, esc, generic_card, history_panel,
                   latency_panel, leds_panel, log_panel, node_card, node_sort_key, oled_panel,
                   other_card, placeholder)
from readings import Reading, kind, node_of, parse, timestamp

TITLE = "HARVESTER OS"

HEAD = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="color-scheme" content="dark"><title>{TITLE}</title>'
        f"<style>{CSS}</style></head><body>")
FOOT = f"<script>{JS}</script></body></html>"

SENSOR_CARDS = {"dht22": dht22_card, "bme680": bme680_card, "generic": generic_card,
                "other": other_card}


def header(readings: list[Reading], nodes: list[str], now_ms: float) -> str:
    clock = time.strftime("%H:%M:%S UTC", time.gmtime(now_ms / 1000))
    counts = f"{len(nodes)} node{'s' * (len(nodes) != 1)} \u00b7 {len(readings)} readings"
    # The badge tells how the page keeps up: live (events), reconnecting,
    # polling (no EventSource) or offline; the script keeps it current.
    return (f"<header><h1>{TITLE}</h1>"
            f'<span class="status" id="status"><i class="dot"></i>'
            f'<span class="badge" id="conn" data-state="connecting">connecting</span>'
            f'<span id="status-text">rendered {clock}</span></span>'
            f'<span class="dim" id="counts">{counts}</span></header>')


def sensor_section(kinds: list[tuple[str, Reading]]) -> str:
    """DHT22 and BME680 first (a placeholder when missing), then the rest."""
    cards = []
    for wanted, title in (("dht22", "DHT22"), ("bme680", "BME680")):
        mine = [SENSOR_CARDS[k](r) for k, r in kinds if k == wanted]
        cards += mine or [placeholder(title)]
    cards += [SENSOR_CARDS[k](r) for k, r in kinds if k in ("generic", "other")]
    return section("Sensors", "".join(cards), "sensors")


def latest_of(kinds: list[tuple[str, Reading]], wanted: str) -> dict[str, Reading]:
    """Each node's newest reading of a kind."""
    latest: dict[str, Reading] = {}
    for k, r in kinds:
        node = node_of(r)
        if k == wanted and (node not in latest or timestamp(r) >= timestamp(latest[node])):
            latest[node] = r
    return latest


def node_section(kinds: list[tuple[str, Reading]], nodes: list[str], now_ms: float) -> str:
    """A card per node: its latest pi-monitor and network readings, and when
    it was last heard of."""
    monitor, network = latest_of(kinds, "pi-monitor"), latest_of(kinds, "network")
    last_seen: dict[str, float] = {}
    for _, r in kinds:
        node = node_of(r)
        last_seen[node] = max(last_seen.get(node, 0.0), timestamp(r))
    cards = [node_card(node, monitor.get(node), last_seen[node], now_ms, network.get(node))
             for node in nodes]
    return section("Nodes", "".join(cards), "nodes")


def latency_rows(readings: list[Reading]) -> list[tuple[str, str, Any]]:
    rows = []
    for r in readings:
        latency = r["data"].get("latency")
        if isinstance(latency, dict):
            rows += [(node_of(r), str(host), value) for host, value in latency.items()]
    return rows


def section(title: str, body: str, grid_id: str = "") -> str:
    """A titled grid; the script re-renders the grids with an id in place
    when new sensors or nodes appear."""
    id_attr = f' id="{grid_id}"' if grid_id else ""
    return f'<h2>{esc(title)}</h2><div class="grid"{id_attr}>{body}</div>'


def render_page(sensor_data: str, now_ms: float) -> str:
    readings, message = parse(sensor_data)
    kinds = [(kind(r), r) for r in readings]  # classified once: the page is rendered often
    network = latest_of(kinds, "network")
    nodes = sorted({node_of(r) for r in readings},
                   key=lambda node: node_sort_key(node, network.get(node)))
    notice = f'<p class="notice" id="message" role="status">{esc(message)}</p>' if message else ""
    parts = [
        HEAD, header(readings, nodes, now_ms), "<main>", notice,
        '<p class="notice" id="newer" hidden>New sensors or nodes have appeared: '
        '<a href="">reload</a> to see them.</p>',
        sensor_section(kinds),
        node_section(kinds, nodes, now_ms),
        section("History", history_panel()),
        section("Board", oled_panel() + leds_panel(), "board"),
        section("Cluster", latency_panel(latency_rows(readings)) + buzzer_panel(nodes)
                + log_panel(nodes)),
        "</main>", FOOT,
    ]
    return "".join(parts)
