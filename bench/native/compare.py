"""Seed plugins in the sandbox vs the same app.py under native python3.11.

For every plugin directory (plugins/*/ with a plugin.toml, and
examples/*/), times its export both ways on the same simulated board:

* sandbox: ``bench_seed`` (bench/bench_seed.c) builds the plugin, loads it
  and calls the export through the C API;
* native: ``run_native.py`` imports app.py with ``python3.11 -E -S`` and
  the stub SDK of bench/native/harvester, whose imports call the board of
  ``libhv_native.so`` (the host's sources as a shared library) via ctypes.

Two passes: with the plugins' real sleeps (wall time as the daemon sees it;
caches go cold during a sleep) and with virtual sleeps (clock.sleep-ms jumps
the board's clock: many calls, precise CPU figures). The goal concerns the
CPU time per call: sandbox <= 1.3x native.

    python3.11 bench/native/compare.py [--build build] [--quick] [NAME...]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from typing import Any, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "bench", "native")
NATIVE_PYTHON = "/usr/bin/python3.11"  # 3.11.2, as the sandbox's CPython
GOAL = 1.3
F32_EPSILON = 1e-6  # the sandbox's f32 fields vs native Python floats
CLOSE = 0.10
DIGITS = re.compile(r"\d")

#: world -> (export called, whether it returns result<T, E>, whether it takes the readings JSON)
WORLD_CALLS: dict[str, tuple[str, bool, bool]] = {
    "sensor-plugin": ("sensor-logic.poll", True, False),
    "dht22-plugin": ("dht22-logic.poll", False, False),
    "bme680-plugin": ("bme680-logic.poll", False, False),
    "pi-monitor-plugin": ("pi-monitor-logic.poll", False, False),
    "dashboard-plugin": ("dashboard-logic.render", False, True),
    "oled-plugin": ("oled-logic.update", False, True),
}

#: what the daemon hands UI plugins: one cycle of every seed sensor
SAMPLE_READINGS: list[dict[str, Any]] = [
    {"sensor_id": "harvester:dht22", "plugin": "dht22", "timestamp": 1732540000000,
     "data": {"sensor-id": "harvester:dht22", "temperature": 22.5, "humidity": 45.0}},
    {"sensor_id": "harvester:bme680", "plugin": "bme680", "timestamp": 1732540000000,
     "data": {"sensor-id": "harvester:bme680", "temperature": 22.5, "humidity": 45.0, "pressure": 1013.25,
              "gas-resistance": 120000.0, "iaq": 42.0, "iaq-accuracy": "medium"}},
    {"sensor_id": "harvester:pi-monitor", "plugin": "pi-monitor", "timestamp": 1732540000000,
     "data": {"cpu-temp": 48.0, "cpu-usage": 12.5, "memory-used-mb": 812, "memory-total-mb": 3906,
              "uptime-seconds": 86400}},
    {"sensor_id": "harvester:bh1750", "plugin": "bh1750", "timestamp": 1732540000000,
     "data": {"sensor": "bh1750", "fields": [{"name": "lux", "value": 333.3, "unit": "lx"}], "extra": None}},
    {"sensor_id": "harvester:aht20", "plugin": "aht20", "timestamp": 1732540000000,
     "data": {"sensor": "aht20", "fields": [{"name": "temperature", "value": 22.5, "unit": "°C"},
                                            {"name": "humidity", "value": 45.0, "unit": "%"}], "extra": None}},
]


@dataclass
class Plugin:
    name: str
    dir: str
    func: str
    returns_result: bool
    args: list[Any]
    config: dict[str, Any]


@dataclass
class Timing:
    calls: int
    wall_s: float
    cpu_s: float
    load_ms: float
    first: Any
    host_calls: int

    @property
    def wall(self) -> float:
        return self.wall_s / self.calls

    @property
    def cpu(self) -> float:
        return self.cpu_s / self.calls


def host_plugin_tables() -> dict[str, Any]:
    """[plugins.NAME] tables of config/host.toml: what config.get sees under the daemon."""
    try:
        with open(os.path.join(ROOT, "config", "host.toml"), "rb") as f:
            return dict(tomllib.load(f).get("plugins", {}))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def discover(names: list[str]) -> tuple[list[Plugin], list[str]]:
    """Plugin directories with a known world; notes for the others."""
    baseline = os.path.join(HERE, "baseline")  # the fixed cost of a call: always, first
    dirs = [baseline]
    for parent in ("plugins", "examples"):
        base = os.path.join(ROOT, parent)
        if os.path.isdir(base):
            dirs += [os.path.join(base, d) for d in sorted(os.listdir(base))
                     if os.path.isfile(os.path.join(base, d, "plugin.toml"))]
    tables, found, notes = host_plugin_tables(), [], []
    for d in dirs:
        label = os.path.relpath(d, ROOT)
        if names and d != baseline and os.path.basename(d) not in names and label not in names:
            continue
        try:
            with open(os.path.join(d, "plugin.toml"), "rb") as f:
                meta = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            notes.append(f"{label}: skipped, plugin.toml: {e}")
            continue
        world = meta.get("world", "")
        if world not in WORLD_CALLS:
            notes.append(f"{label}: skipped, world {world!r} has no call in WORLD_CALLS")
            continue
        if not os.path.isfile(os.path.join(d, "app.py")):
            notes.append(f"{label}: skipped, no app.py yet")
            continue
        func, returns_result, takes_readings = WORLD_CALLS[world]
        name = str(meta.get("name", os.path.basename(d)))
        table = tables.get(name, {})
        found.append(Plugin(label, d, func, returns_result,
                            [json.dumps(SAMPLE_READINGS)] if takes_readings else [],
                            table if isinstance(table, dict) else {}))
    return found, notes


def run_json(cmd: list[str], timeout: float) -> Timing:
    """Runs one side; its last stdout line is the JSON report."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        reason = (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}").splitlines()
        raise RuntimeError(reason[-1][:160] if reason else f"exit {proc.returncode}")
    r = json.loads(lines[-1])
    return Timing(int(r["calls"]), float(r["wall_s"]), float(r["cpu_s"]), float(r.get("load_ms", 0)), r["first"],
                  int(r.get("host_calls", -1)))


def measure(p: Plugin, build: str, virtual: bool, min_seconds: float) -> tuple[Timing, Timing]:
    common = ["--config", json.dumps(p.config), "--min-seconds", str(min_seconds)]
    if p.args:
        common += ["--args", json.dumps(p.args)]
    if virtual:
        common.append("--virtual-sleep")
    timeout = 120 + 10 * min_seconds
    runtime = os.path.join(build, "runtime")  # else bench_seed's built-in HV_RUNTIME_DIR
    sandbox = run_json([os.path.join(build, "bench", "bench_seed"),
                        *(["--runtime", runtime] if os.path.isdir(runtime) else []), *common, p.dir, p.func], timeout)
    # -B: no __pycache__ left in the plugin directories
    native = run_json([NATIVE_PYTHON, "-E", "-S", "-B", os.path.join(HERE, "run_native.py"),
                       "--lib", os.path.join(build, "bench", "libhv_native.so"), "--dir", p.dir,
                       "--func", p.func, *(["--result"] if p.returns_result else []), *common], timeout)
    return sandbox, native


def agreement(a: Any, b: Any) -> str:
    """equal (f32 rounding aside), close (same shape, numbers within 10 %:
    live host figures such as memory use and load move between runs; text
    equal but for its digits), or differs."""
    worst = _diff(a, b)
    return "equal" if worst <= F32_EPSILON else "close" if worst <= CLOSE else "differs"


def _diff(a: Any, b: Any) -> float:
    """Largest relative difference of numbers; inf when the shapes differ."""
    if isinstance(a, bool) or isinstance(b, bool):
        return 0.0 if a == b else math.inf
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) / max(abs(a), abs(b), 1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return math.inf
        return max((_diff(a[k], b[k]) for k in a), default=0.0)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return math.inf
        return max((_diff(x, y) for x, y in zip(a, b)), default=0.0)
    if isinstance(a, str) and isinstance(b, str) and a != b:
        # rendered text (the dashboard stamps the time): same apart from digits is close
        return CLOSE if DIGITS.sub("0", a) == DIGITS.sub("0", b) else math.inf
    return 0.0 if a == b else math.inf


def fmt_time(seconds: float) -> str:
    if seconds >= 0.1:
        return f"{seconds * 1e3:.0f} ms"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


HEADER = f"{'plugin':<22} {'call':<24} {'calls':>13} {'sandbox wall':>13} {'native wall':>12} " \
         f"{'sandbox CPU':>12} {'native CPU':>11} {'CPU ratio':>10} {'imports':>7}  result"


def row(p: Plugin, sandbox: Timing, native: Timing) -> str:
    ratio = sandbox.cpu / native.cpu if native.cpu > 0 else math.inf
    flag = "" if ratio <= GOAL else " *"
    calls = f"{sandbox.calls}/{native.calls}" if sandbox.calls != native.calls else str(sandbox.calls)
    return (f"{p.name:<22} {p.func:<24} {calls:>13} {fmt_time(sandbox.wall):>13} {fmt_time(native.wall):>12} "
            f"{fmt_time(sandbox.cpu):>12} {fmt_time(native.cpu):>11} {ratio:>9.2f}x{flag:<2}{native.host_calls:>6}  "
            f"{agreement(sandbox.first, native.first)}")


def main() -> int:
    ap = argparse.ArgumentParser(description="Seed plugins: sandbox vs native python3.11 (goal <= 1.3x CPU)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="build dir with bench/bench_seed and bench/libhv_native.so")
    ap.add_argument("--quick", action="store_true", help="shorter runs (0.3 s per measurement)")
    ap.add_argument("names", nargs="*", help="plugin names or dirs (default: all)")
    opts = ap.parse_args()
    build = os.path.abspath(opts.build)
    for need in ("bench/bench_seed", "bench/libhv_native.so"):
        if not os.path.exists(os.path.join(build, need)):
            print(f"compare.py: {build}/{need} is missing (cmake --build {build} --target bench_seed hv_native)",
                  file=sys.stderr)
            return 1
    plugins, notes = discover(opts.names)
    passes = [("with the plugins' real sleeps (as the daemon runs them; caches cool down while sleeping)",
               False, 0.5 if opts.quick else 2.0),
              ("with virtual sleeps (clock.sleep-ms advances the board's clock instead)",
               True, 0.3 if opts.quick else 1.0)]
    print("per call; CPU = the calling thread's CPU time (sandbox: interpreter + canonical ABI + host;"
          f" native: python3.11 -E -S + ctypes); goal: CPU ratio <= {GOAL}x (* = not met);"
          " imports = SDK import calls per call; result = first results of both sides compared")
    for title, virtual, seconds in passes:
        print(f"-- {title} --")
        print(HEADER)
        for p in plugins:
            try:
                sandbox, native = measure(p, build, virtual, seconds)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
                print(f"{p.name:<22} {p.func:<24} FAILED: {e}")
                continue
            print(row(p, sandbox, native), flush=True)
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
