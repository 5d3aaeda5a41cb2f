"""Times one plugin's export under native python3.11 with the stub SDK.

    python3.11 -E -S bench/native/run_native.py --lib build/bench/libhv_native.so \
        --dir plugins/bme680 --func bme680-logic.poll [--args JSON] [--config JSON] \
        [--virtual-sleep] [--min-seconds S] [--max-calls N]

Prints one JSON object: the first call's result as the host would print it
(`harvester invoke`'s JSON), the number of timed calls, and their total
wall and thread-CPU seconds. bench/bench_seed.c prints the same for the
sandbox; bench/native/compare.py puts the two side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import importlib
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
WARMUP_CALLS = 2  # as bench_seed: the first calls fill caches on both sides
MIN_CALLS = 3


def pascal(wit: str) -> str:
    """bme680-logic -> Bme680Logic (the SDK's rule)."""
    return "".join(w[:1].upper() + w[1:].lower() for w in wit.split("-") if w)


def snake(wit: str) -> str:
    """read-dht22 -> read_dht22."""
    return "_".join(w.lower() for w in wit.split("-") if w)


def kebab(name: str) -> str:
    """sensor_id -> sensor-id; IAQ member HIGH -> high."""
    return name.lower().replace("_", "-")


def to_json(value: Any) -> Any:
    """A result as the host's JSON shows the lifted WIT value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {kebab(f.name): to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return kebab(value.name)
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return list(value)
    return value


def load_method(plugin_dir: str, func: str) -> Callable[..., Any]:
    """Imports the plugin's app.py and binds iface.func on a new instance."""
    iface, _, name = func.partition(".")
    sys.path.insert(0, plugin_dir)
    app = importlib.import_module("app")
    instance = getattr(app, pascal(iface))()
    return getattr(instance, snake(name))


def returning_err(method: Callable[..., Any]) -> Callable[..., Any]:
    """A result<T, E> export: Err raised is a normal return (as in the sandbox)."""
    from harvester import Err

    def call(*args: Any) -> Any:
        try:
            return method(*args)
        except Err as e:
            return e

    return call


def call_json(method: Callable[..., Any], args: list[Any], returns_result: bool) -> Any:
    """One call; a result<T, E> export shows as {"ok": T} or {"err": E}."""
    from harvester import Err

    out = method(*args)
    if not returns_result:
        return to_json(out)
    return {"err": to_json(out.value)} if isinstance(out, Err) else {"ok": to_json(out)}


def count_host_calls(method: Callable[..., Any], args: list[Any], returns_result: bool) -> tuple[Any, int]:
    """One call (untimed), counting the SDK imports the plugin makes: calls
    into harvester/imports/ from outside the stub (in the sandbox, each is a
    crossing to the host)."""
    stub = os.path.join(HERE, "harvester")
    imports = os.path.join(stub, "imports")
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event == "call" and frame.f_code.co_filename.startswith(imports) and frame.f_back is not None \
                and not frame.f_back.f_code.co_filename.startswith(stub):
            count += 1

    sys.setprofile(profile)
    try:
        first = call_json(method, args, returns_result)
    finally:
        sys.setprofile(None)
    return first, count


def time_calls(method: Callable[..., Any], args: list[Any], min_seconds: float, max_calls: int) -> dict[str, Any]:
    """Calls until min_seconds of wall time (at least MIN_CALLS, at most max_calls)."""
    calls = 0
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    while calls < max_calls:
        method(*args)
        calls += 1
        if calls >= MIN_CALLS and time.perf_counter() - wall0 >= min_seconds:
            break
    return {"calls": calls, "wall_s": time.perf_counter() - wall0, "cpu_s": time.thread_time() - cpu0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lib", required=True, help="libhv_native.so")
    ap.add_argument("--dir", required=True, help="the plugin directory (app.py)")
    ap.add_argument("--func", required=True, help="interface.function, e.g. bme680-logic.poll")
    ap.add_argument("--args", default="[]", help="JSON array of arguments")
    ap.add_argument("--config", default="{}", help="the plugin's config table as JSON")
    ap.add_argument("--result", action="store_true", help="the export returns result<T, E>")
    ap.add_argument("--virtual-sleep", action="store_true", help="clock.sleep-ms advances the board's clock")
    ap.add_argument("--min-seconds", type=float, default=1.0)
    ap.add_argument("--max-calls", type=int, default=1_000_000)
    opts = ap.parse_args()

    sys.path.insert(0, HERE)  # the stub `harvester` package
    from harvester import _native

    report = sys.stdout
    sys.stdout = open(os.devnull, "w")  # the sandbox routes a plugin's prints to its (dropped) log
    board = _native.setup(opts.lib, json.loads(opts.config), opts.virtual_sleep)
    t0 = time.perf_counter()
    method = load_method(os.path.abspath(opts.dir), opts.func)
    load_ms = (time.perf_counter() - t0) * 1e3
    if opts.result:
        method = returning_err(method)
    args = json.loads(opts.args)
    first, host_calls = count_host_calls(method, args, opts.result)
    for _ in range(WARMUP_CALLS - 1):
        method(*args)
    timing = time_calls(method, args, opts.min_seconds, opts.max_calls)
    board.close()
    print(json.dumps({"first": first, "load_ms": load_ms, "host_calls": host_calls, **timing}), file=report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
