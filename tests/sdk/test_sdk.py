"""Tests of the guest-side Python SDK (runtime/sdk/harvester) under the
native python3, with tests/sdk/fake_harvester.py standing in for the
runtime's C primitives.

The "host" callbacks below read and write linear memory by hand with
struct, independently of harvester._canon, so these tests check the real
canonical ABI layouts (sizes, alignments, offsets, slots) and not merely
that the SDK agrees with itself.

Set HV_SDK_BENCH=1 to also print the µs per call of an i2c-like transfer.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import os
import struct
import sys
import time
import types
import unittest
from collections.abc import Callable, Sequence
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "runtime", "sdk")]

import fake_harvester as fh  # noqa: E402

sys.modules["_harvester"] = fh

import harvester  # noqa: E402
from harvester import Err, Ok, Some, _bind, _canon  # noqa: E402

# ---- helpers ---------------------------------------------------------------------


class World:
    """Builds a world descriptor the way the host's describe.c does."""

    def __init__(self, name: str = "test-world") -> None:
        self.name = name
        self.types: list[dict[str, Any]] = []
        self.imports: list[dict[str, Any]] = []
        self.exports: list[dict[str, Any]] = []
        self.next_export_id = 0

    def t(self, kind: str, **fields: Any) -> int:
        entry = {"kind": kind, **fields}
        if entry in self.types:
            return self.types.index(entry)
        self.types.append(entry)
        return len(self.types) - 1

    def record(self, type_name: str, iface: str, /, **fields: int) -> int:
        return self.t("record", name=type_name, interface=iface, fields=[{"name": k.replace("_", "-"), "type": v} for k, v in fields.items()])

    @staticmethod
    def func(name: str, params: Sequence[tuple[str, int]] = (), result: Optional[int] = None) -> dict[str, Any]:
        return {"name": name, "params": [{"name": n, "type": t} for n, t in params], "result": result}

    def imp(self, iface: str, *funcs: dict[str, Any], types: tuple[int, ...] = ()) -> None:
        self.imports.append({"interface": iface, "types": list(types), "functions": list(funcs)})

    def exp(self, iface: str, *funcs: dict[str, Any], types: tuple[int, ...] = ()) -> None:
        for f in funcs:
            f["id"] = self.next_export_id
            self.next_export_id += 1
        self.exports.append({"interface": iface, "types": list(types), "functions": list(funcs)})

    def json(self) -> str:
        return json.dumps({"world": self.name, "types": self.types, "imports": self.imports, "exports": self.exports})


class FakeHost:
    """resolve/invoke for fake_harvester: functions by "iface#func" name."""

    def __init__(self) -> None:
        self.functions: dict[str, Callable[[bytes, int], None]] = {}
        self.denied: set[str] = set()
        self.ids: list[str] = []
        self.calls = 0

    def on(self, name: str) -> Callable[[Callable[[bytes, int], None]], Callable[[bytes, int], None]]:
        def register(fn: Callable[[bytes, int], None]) -> Callable[[bytes, int], None]:
            self.functions[name] = fn
            return fn

        return register

    def resolve(self, name: str) -> int:
        if name in self.denied:
            raise PermissionError(f"{name} is not granted to this plugin")
        if name not in self.functions:
            raise LookupError(f"unknown function {name}")
        self.ids.append(name)
        return len(self.ids) - 1

    def invoke(self, fid: int, args: bytes, ret: int) -> None:
        self.calls += 1
        self.functions[self.ids[fid]](args, ret)


def slots(args: bytes) -> list[int]:
    return list(struct.unpack(f"<{len(args) // 8}Q", args))


def f32_bits(x: float) -> int:
    return int(struct.unpack("<I", struct.pack("<f", x))[0])


def f64_bits(x: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", x))[0])


def host_buffer(data: bytes, align: int = 1) -> tuple[int, int]:
    """A buffer the host allocated through the guest's realloc."""
    p = fh.alloc(len(data), align)
    fh.write(p, data)
    return p, len(data)


def live() -> set[int]:
    """Live guest blocks, except the SDK's idle import return areas."""
    return set(fh.live_blocks()) - set(_bind._areas.idle)


_app_counter = 0


def install_app(**classes: type) -> str:
    """Registers a module holding the classes as an importable app."""
    global _app_counter
    _app_counter += 1
    name = f"test_app_{_app_counter}"
    mod = types.ModuleType(name)
    for k, v in classes.items():
        setattr(mod, k, v)
    sys.modules[name] = mod
    return name


def boot(world: World, app: Optional[str] = None, **kwargs: Any) -> FakeHost:
    """Fresh fake memory, a host, and the world bootstrapped."""
    harvester._bootstrap(json.dumps({"world": "empty"}))  # frees what the SDK held in the old memory
    fh.reset(**kwargs)
    host = FakeHost()
    fh.set_host(host)
    harvester._bootstrap(world.json(), app or "app")
    return host


class SdkTestCase(unittest.TestCase):
    def assertNoLeaks(self) -> None:
        self.assertEqual(live(), set(), "guest blocks leaked")


# ---- names -------------------------------------------------------------------------


class TestNames(unittest.TestCase):
    def test_conversions(self) -> None:
        self.assertEqual(_bind.snake("read-dht22"), "read_dht22")
        self.assertEqual(_bind.snake("gas-resistance"), "gas_resistance")
        self.assertEqual(_bind.snake("from"), "from_")
        self.assertEqual(_bind.snake("match"), "match")  # soft keywords are fine names
        self.assertEqual(_bind.pascal("bme680-logic"), "Bme680Logic")
        self.assertEqual(_bind.pascal("led-controller"), "LedController")
        self.assertEqual(_bind.pascal("HTTP-client"), "HttpClient")
        self.assertEqual(_bind.upper_snake("read-only"), "READ_ONLY")
        self.assertEqual(_bind.interface_name("harvester:plugin/i2c@1.0.0"), "i2c")


# ---- layout -------------------------------------------------------------------------


class TestLayout(unittest.TestCase):
    """size / alignment / flat types, computed by hand from CanonicalABI.md."""

    def layout(self, w: World, tid: int) -> tuple[int, int, list[str]]:
        table = _bind.TypeTable(w.types, lambda iface: "harvester.imports.layout_test")
        t = table[tid]
        return t.size, t.align, list(t.flat)

    def test_layouts(self) -> None:
        w = World()
        u8, s8, u16, u32, s32 = (w.t(k) for k in ("u8", "s8", "u16", "u32", "s32"))
        u64, s64, f32, f64 = (w.t(k) for k in ("u64", "s64", "f32", "f64"))
        boolean, char, string = w.t("bool"), w.t("char"), w.t("string")
        tup3 = w.t("tuple", elems=[u16, u16, u16])
        rec_mixed = w.record("mixed", "l", a=u8, b=f64, c=u16)
        opt_f32 = w.t("option", elem=f32)
        rec_nested = w.record("entry", "l", s=string, b=w.t("list", elem=u8), o=opt_f32)
        opt_u8 = w.t("option", elem=u8)
        i32 = "i32"
        cases = [
            # (type id, size, align, flat)
            (boolean, 1, 1, [i32]),
            (s8, 1, 1, [i32]),
            (u16, 2, 2, [i32]),
            (s32, 4, 4, [i32]),
            (u64, 8, 8, ["i64"]),
            (f32, 4, 4, ["f32"]),
            (f64, 8, 8, ["f64"]),
            (char, 4, 4, [i32]),
            (string, 8, 4, [i32, i32]),
            (w.t("list", elem=u8), 8, 4, [i32, i32]),
            (w.t("list", elem=u64), 8, 4, [i32, i32]),
            # option<f64>: u8 discriminant, payload at 8 -> 16, align 8
            (w.t("option", elem=f64), 16, 8, [i32, "f64"]),
            (opt_u8, 2, 1, [i32, i32]),
            (w.t("option", elem=string), 12, 4, [i32, i32, i32]),
            (w.t("option", elem=opt_u8), 3, 1, [i32, i32, i32]),
            (w.t("result", ok=None, err=None), 1, 1, [i32]),
            # result<_, string>: payload at 4, 4 + 8 = 12
            (w.t("result", ok=None, err=string), 12, 4, [i32, i32, i32]),
            (w.t("result", ok=u32, err=f32), 8, 4, [i32, i32]),  # join(i32, f32) = i32
            (w.t("result", ok=u64, err=f32), 16, 8, [i32, "i64"]),  # join(i64, f32) = i64
            (w.t("result", ok=f32, err=f64), 16, 8, [i32, "i64"]),  # join(f32, f64) = i64
            (w.t("result", ok=f64, err=f64), 16, 8, [i32, "f64"]),
            # a(u8) | b(tuple<u16 x3>) | c(f64) | d: payload at 8, largest 8 -> 16;
            # slot 0 joins i32, i32, f64 -> i64
            (
                w.t("variant", name="v", interface="l", cases=[
                    {"name": "a", "type": u8}, {"name": "b", "type": tup3},
                    {"name": "c", "type": f64}, {"name": "d", "type": None}]),
                16, 8, [i32, "i64", i32, i32],
            ),
            # x(f32) | y(list<u8>): join(f32, i32) = i32
            (w.t("variant", name="xy", interface="l", cases=[
                {"name": "x", "type": f32}, {"name": "y", "type": w.t("list", elem=u8)}]), 12, 4, [i32, i32, i32]),
            (w.t("enum", name="e3", interface="l", cases=["a", "b", "c"]), 1, 1, [i32]),
            (w.t("enum", name="e300", interface="l", cases=[f"c{i}" for i in range(300)]), 2, 2, [i32]),
            # 257 cases -> u16 discriminant, payload (u8) at 2, size 3 -> 4
            (w.t("variant", name="v257", interface="l", cases=[{"name": "c0", "type": u8}]
                 + [{"name": f"c{i}", "type": None} for i in range(1, 257)]), 4, 2, [i32, i32]),
            (w.t("flags", name="f3", interface="l", flags=["a", "b", "c"]), 1, 1, [i32]),
            (w.t("flags", name="f9", interface="l", flags=[f"f{i}" for i in range(9)]), 2, 2, [i32]),
            (w.t("flags", name="f17", interface="l", flags=[f"f{i}" for i in range(17)]), 4, 4, [i32]),
            (w.t("flags", name="f32", interface="l", flags=[f"f{i}" for i in range(32)]), 4, 4, [i32]),
            (w.t("flags", name="f40", interface="l", flags=[f"f{i}" for i in range(40)]), 8, 4, [i32, i32]),
            (w.t("flags", name="f65", interface="l", flags=[f"f{i}" for i in range(65)]), 12, 4, [i32, i32, i32]),
            (w.t("tuple", elems=[u8, u32, u8]), 12, 4, [i32, i32, i32]),  # offsets 0, 4, 8
            (rec_mixed, 24, 8, [i32, "f64", i32]),  # offsets 0, 8, 16; 18 -> 24
            (rec_nested, 24, 4, [i32, i32, i32, i32, i32, "f32"]),  # 0, 8, option<f32> (8 bytes) at 16
            (w.t("list", elem=rec_nested), 8, 4, [i32, i32]),
            (w.t("tuple", elems=[u32] * 17), 68, 4, [i32] * 17),
            (w.record("pair", "l", a=u8, b=w.t("tuple", elems=[u8, u16])), 6, 2, [i32, i32, i32]),
            (w.t("option", elem=rec_mixed), 32, 8, [i32, i32, "f64", i32]),
            # ok: tuple<f32, u64> [f32, i64]; err: tuple<u32, f32, f64> [i32, f32, f64]
            (w.t("result", ok=w.t("tuple", elems=[f32, u64]), err=w.t("tuple", elems=[u32, f32, f64])),
             24, 8, [i32, i32, "i64", "f64"]),
            (w.t("variant", name="wide", interface="l", cases=[
                {"name": "a", "type": s32}, {"name": "b", "type": s64}]), 16, 8, [i32, "i64"]),
        ]
        self.assertGreaterEqual(len(cases), 25)
        for tid, size, align, flat in cases:
            with self.subTest(type=w.types[tid]):
                self.assertEqual(self.layout(w, tid), (size, align, flat))

    def test_field_and_payload_offsets(self) -> None:
        w = World()
        f64, u8, u16 = w.t("f64"), w.t("u8"), w.t("u16")
        rec = w.record("mixed", "l", a=u8, b=f64, c=u16)
        var = w.t("variant", name="v", interface="l", cases=[{"name": "a", "type": u8}, {"name": "c", "type": f64}])
        table: Any = _bind.TypeTable(w.types, lambda iface: "harvester.imports.layout_test")
        self.assertEqual(table[rec].offsets, [0, 8, 16])
        self.assertEqual(table[var].payload_offset, 8)


# ---- values through memory and slots ---------------------------------------------


class TestValues(SdkTestCase):
    """Round trips through canonical layout and flat slots, plus exact bytes."""

    def setUp(self) -> None:
        harvester._bootstrap(json.dumps({"world": "empty"}))
        fh.reset()
        w = self.w = World()
        u8, u16, u32, s8, s32, s64, u64 = (w.t(k) for k in ("u8", "u16", "u32", "s8", "s32", "s64", "u64"))
        f32, f64, string, char, boolean = w.t("f32"), w.t("f64"), w.t("string"), w.t("char"), w.t("bool")
        self.ids = {
            "u8": u8, "s8": s8, "s64": s64, "u64": u64, "f32": f32, "f64": f64, "char": char, "bool": boolean,
            "string": string,
            "bytes": w.t("list", elem=u8),
            "list_u32": w.t("list", elem=u32),
            "list_string": w.t("list", elem=string),
            "shape": w.t("variant", name="shape", interface="l", cases=[
                {"name": "a", "type": u8}, {"name": "b", "type": w.t("tuple", elems=[u16, u16, u16])},
                {"name": "c", "type": f64}, {"name": "d", "type": None}]),
            "xy": w.t("variant", name="xy", interface="l", cases=[{"name": "x", "type": f32}, {"name": "y", "type": u32}]),
            "wide": w.t("variant", name="wide", interface="l", cases=[{"name": "a", "type": s32}, {"name": "b", "type": s64}]),
            "f40": w.t("flags", name="f40", interface="l", flags=[f"p{i}" for i in range(40)]),
            "color": w.t("enum", name="color", interface="l", cases=["red", "green", "blue"]),
            "mixed": w.record("mixed", "l", a=u8, b=f64, c=u16),
            "entry": w.record("entry", "l", s=string, b=w.t("list", elem=u8), o=w.t("option", elem=f32)),
            "opt_opt": w.t("option", elem=w.t("option", elem=u8)),
            "res_u64_f32": w.t("result", ok=u64, err=f32),
            "res_f32_f64": w.t("result", ok=f32, err=f64),
            "res_unit_string": w.t("result", ok=None, err=string),
            "tuple": w.t("tuple", elems=[char, boolean, s8, w.t("option", elem=string)]),
        }
        self.ids["entries"] = w.t("list", elem=self.ids["entry"])
        self.table = _bind.TypeTable(w.types, lambda iface: "harvester.imports.values_test")
        self.table.all()

    def type(self, name: str) -> Any:  # Any: tests read the attributes of each kind
        return self.table[self.ids[name]]

    def through_memory(self, name: str, value: Any) -> tuple[bytes, Any]:
        t = self.type(name)
        buf = bytearray(t.size)
        allocs: list[int] = []
        t.store(buf, 0, value, allocs)
        block = fh.alloc(t.size, t.align)
        fh.write(block, bytes(buf))
        frees: list[int] = []
        back = t.load(fh.memory(), block, frees)
        self.assertEqual(sorted(frees), sorted(allocs), "lifting must find every buffer lowering made")
        for p in frees + [block]:
            fh.free(p)
        return bytes(buf), back

    def through_slots(self, name: str, value: Any) -> tuple[list[int], Any]:
        t = self.type(name)
        values: list[Any] = []
        allocs: list[int] = []
        t.lower_flat(value, values, allocs)
        data = _canon.flat_struct([t]).pack(*values)
        block = fh.alloc(len(data), 8)
        fh.write(block, data)
        frees: list[int] = []
        back = t.lift_flat(fh.memory(), block, frees)
        self.assertEqual(sorted(frees), sorted(allocs))
        for p in frees + [block]:
            fh.free(p)
        return slots(data), back

    def test_round_trips(self) -> None:
        Shape = self.type("shape").classes
        Xy = self.type("xy").classes
        Wide = self.type("wide").classes
        F40 = self.type("f40").cls
        Color = self.type("color").cls
        Mixed = self.type("mixed").cls
        Entry = self.type("entry").cls
        samples = {
            "u8": [0, 255],
            "s8": [-128, -1, 127],
            "s64": [-(1 << 63), -1, (1 << 63) - 1],
            "u64": [0, (1 << 64) - 1],
            "f32": [0.0, -1.5, float("inf")],
            "f64": [2.5, -1e300],
            "char": ["a", "é", "\U0001F600"],
            "bool": [True, False],
            "string": ["", "héllo wörld", "x" * 1000],
            "bytes": [b"", b"\x00\xff" * 50],
            "list_u32": [[], [0, 1, (1 << 32) - 1]],
            "list_string": [[], ["a", "", "ccc"]],
            "shape": [Shape[0](7), Shape[1]((1, 2, 3)), Shape[2](2.5), Shape[3]()],
            "xy": [Xy[0](1.5), Xy[1](7)],
            "wide": [Wide[0](-1), Wide[1](-2)],
            "f40": [F40(0), F40.P0 | F40.P39, F40.P31 | F40.P32],
            "color": list(Color),
            "mixed": [Mixed(1, 2.5, 3)],
            "entry": [Entry("n", b"\x01\x02", None), Entry("", b"", 0.5)],
            "entries": [[], [Entry("a", b"x", 1.0), Entry("bb", b"", None)]],
            "opt_opt": [None, Some(None), Some(0), Some(255)],
            "res_u64_f32": [Ok(1 << 63), Err(1.5)],
            "res_f32_f64": [Ok(1.5), Err(-2.5)],
            "res_unit_string": [Ok(None), Err("bad")],
            "tuple": [("z", True, -3, "s"), ("é", False, 0, None)],
        }
        for name, values in samples.items():
            for value in values:
                with self.subTest(type=name, value=value):
                    self.assertEqual(self.through_memory(name, value)[1], value)
                    self.assertEqual(self.through_slots(name, value)[1], value)
        self.assertNoLeaks()

    def test_exact_memory_bytes(self) -> None:
        Shape = self.type("shape").classes
        F40 = self.type("f40").cls
        Mixed = self.type("mixed").cls
        self.assertEqual(self.through_memory("shape", Shape[2](2.5))[0], b"\x02" + bytes(7) + struct.pack("<d", 2.5))
        self.assertEqual(self.through_memory("shape", Shape[1]((1, 2, 3)))[0], b"\x01" + bytes(7) + struct.pack("<HHH", 1, 2, 3) + bytes(2))
        self.assertEqual(self.through_memory("shape", Shape[3]())[0], b"\x03" + bytes(15))
        # flag 39 is bit 7 of the second u32 word
        self.assertEqual(self.through_memory("f40", F40.P0 | F40.P39)[0], struct.pack("<II", 1, 0x80))
        self.assertEqual(self.through_memory("mixed", Mixed(1, 2.5, 3))[0], struct.pack("<B7xdH6x", 1, 2.5, 3))
        self.assertEqual(self.through_memory("res_unit_string", Ok())[0], bytes(12))
        self.assertEqual(self.through_memory("opt_opt", Some(None))[0], b"\x01\x00\x00")
        self.assertEqual(self.through_memory("opt_opt", Some(9))[0], b"\x01\x01\x09")
        self.assertEqual(self.through_memory("s8", -2)[0], b"\xfe")

    def test_exact_slots_and_coercions(self) -> None:
        Xy = self.type("xy").classes
        Wide = self.type("wide").classes
        Shape = self.type("shape").classes
        # s8 travels as an i32 (sign-extended to 32 bits, then zero-extended)
        self.assertEqual(self.through_slots("s8", -1)[0], [0xFFFFFFFF])
        # f32 payload in an i32 slot: its bits
        self.assertEqual(self.through_slots("xy", Xy[0](1.5))[0], [0, f32_bits(1.5)])
        self.assertEqual(self.through_slots("xy", Xy[1](7))[0], [1, 7])
        # s32 in an i64 slot: the i32 zero-extended; s64 as is
        self.assertEqual(self.through_slots("wide", Wide[0](-1))[0], [0, 0xFFFFFFFF])
        self.assertEqual(self.through_slots("wide", Wide[1](-1))[0], [1, (1 << 64) - 1])
        # f32 and f64 in an i64 slot
        self.assertEqual(self.through_slots("res_u64_f32", Err(1.5))[0], [1, f32_bits(1.5)])
        self.assertEqual(self.through_slots("res_f32_f64", Ok(1.5))[0], [0, f32_bits(1.5)])
        self.assertEqual(self.through_slots("res_f32_f64", Err(2.5))[0], [1, f64_bits(2.5)])
        # unused joined slots are zero
        self.assertEqual(self.through_slots("shape", Shape[3]())[0], [3, 0, 0, 0])
        self.assertEqual(self.through_slots("shape", Shape[2](2.5))[0], [2, f64_bits(2.5), 0, 0])
        self.assertEqual(self.through_slots("shape", Shape[1]((1, 2, 3)))[0], [1, 1, 2, 3])

    def test_lifting_is_lenient_where_the_spec_is(self) -> None:
        # bool lifts as != 0; slots wrap to the type's width
        mem = fh.memory()
        block = fh.alloc(8, 8)
        fh.write(block, struct.pack("<Q", 0x1_0000_0002))
        self.assertIs(self.type("bool").lift_flat(fh.memory(), block, []), True)
        self.assertEqual(self.type("u8").lift_flat(fh.memory(), block, []), 2)
        self.assertEqual(self.type("s8").lift_flat(fh.memory(), block, []), 2)
        fh.write(block, b"\x02")
        self.assertIs(self.type("bool").load(fh.memory(), block, []), True)
        del mem
        fh.free(block)

    def test_lift_traps(self) -> None:
        block = fh.alloc(16, 8)
        cases = [
            ("char", struct.pack("<I", 0xD800)),
            ("char", struct.pack("<I", 0x110000)),
            ("string", struct.pack("<II", block + 8, 2)),  # 0xcd 0xcd: not UTF-8
            ("string", struct.pack("<II", 1 << 30, 4)),  # outside memory
            ("list_u32", struct.pack("<II", block + 1, 1)),  # misaligned
            ("color", b"\x03"),
            ("shape", b"\x04"),
        ]
        for name, data in cases:
            with self.subTest(type=name, data=data):
                fh.write(block, data.ljust(16, b"\xcd"))
                with self.assertRaises(ValueError):
                    self.type(name).load(fh.memory(), block, [])
        fh.free(block)


# ---- imports -----------------------------------------------------------------------


def i2c_world() -> World:
    w = World("bme680-plugin")
    u8, u32, string = w.t("u8"), w.t("u32"), w.t("string")
    bytes_ = w.t("list", elem=u8)
    w.imp(
        "i2c",
        w.func("transfer", [("addr", u8), ("write-data", bytes_), ("read-len", u32)], w.t("result", ok=bytes_, err=string)),
        w.func("reset", [("from", u8)], w.t("result", ok=None, err=string)),
        w.func("read-temp", [("channel", u8)], w.t("f32")),
        w.func("count", [("text", string)], u32),
        w.func("ready", [], w.t("bool")),
        w.func("ping", []),
    )
    return w


class I2cHost:
    """Implements i2c for the fake host, checking the exact argument bytes."""

    def __init__(self, host: FakeHost, test: unittest.TestCase) -> None:
        self.test = test
        self.device = bytes(range(0x80, 0x100))
        self.nack = False
        self.seen: list[tuple[int, bytes, int]] = []
        host.functions["i2c#transfer"] = self.transfer
        host.functions["i2c#reset"] = self.reset
        host.functions["i2c#read-temp"] = self.read_temp
        host.functions["i2c#count"] = self.count
        host.functions["i2c#ready"] = self.ready
        host.functions["i2c#ping"] = self.ping

    def transfer(self, args: bytes, ret: int) -> None:
        t = self.test
        t.assertEqual(len(args), 4 * 8)
        addr, ptr, n, read_len = slots(args)
        # exact slots: the u8, the buffer, the u32, each zero-extended
        t.assertEqual(args, struct.pack("<B7xI4xI4xI4x", addr, ptr, n, read_len))
        t.assertTrue(fh.is_live(ptr), "the write buffer is a live guest block")
        data = fh.read(ptr, n)
        self.seen.append((addr, data, read_len))
        t.assertEqual(ret % 4, 0)
        if self.nack:
            p, m = host_buffer(b"nack from device 0x%02x" % addr)
            fh.write(ret, struct.pack("<B3xII", 1, p, m))  # err case, payload at 4
            return
        p, m = host_buffer(self.device[:read_len])
        fh.write(ret, struct.pack("<B3xII", 0, p, m))

    def reset(self, args: bytes, ret: int) -> None:
        (value,) = slots(args)
        if value == 0:
            fh.write(ret, bytes([0]))
        else:
            p, m = host_buffer(b"busy")
            fh.write(ret, struct.pack("<B3xII", 1, p, m))

    def read_temp(self, args: bytes, ret: int) -> None:
        self.test.assertEqual(args, struct.pack("<B7x", 2))
        self.test.assertEqual(ret % 8, 0)
        fh.write(ret, struct.pack("<f4x", 21.5))

    def count(self, args: bytes, ret: int) -> None:
        ptr, n = slots(args)
        fh.write(ret, struct.pack("<I4x", len(fh.read(ptr, n).decode())))

    def ready(self, args: bytes, ret: int) -> None:
        self.test.assertEqual(args, b"")
        fh.write(ret, struct.pack("<Q", 2))  # any non-zero i32 is true

    def ping(self, args: bytes, ret: int) -> None:
        self.test.assertEqual(args, b"")


class TestImports(SdkTestCase):
    def setUp(self) -> None:
        self.host = boot(i2c_world())
        self.i2c = I2cHost(self.host, self)
        from harvester.imports import i2c

        self.mod = i2c

    def test_module_and_signature(self) -> None:
        self.assertIs(sys.modules["harvester.imports.i2c"], self.mod)
        sig = inspect.signature(self.mod.transfer)
        self.assertEqual(list(sig.parameters), ["addr", "write_data", "read_len"])
        self.assertIs(sig.parameters["write_data"].annotation, bytes)
        self.assertIs(sig.return_annotation, bytes)
        self.assertIn("func(addr: u8, write-data: list<u8>, read-len: u32) -> result<list<u8>, string>", self.mod.transfer.__doc__)
        self.assertEqual(list(inspect.signature(self.mod.reset).parameters), ["from_"])

    def test_transfer_result_in_memory(self) -> None:
        self.assertEqual(self.mod.transfer(0x76, b"\xd0", 3), b"\x80\x81\x82")
        self.assertEqual(self.i2c.seen, [(0x76, b"\xd0", 3)])
        self.assertNoLeaks()  # our write buffer and the host's result buffer are freed
        for data in (bytearray(b"ab"), memoryview(b"ab"), [0x61, 0x62], (0x61, 0x62)):
            self.assertEqual(self.mod.transfer(1, data, 1), b"\x80")
            self.assertEqual(self.i2c.seen[-1], (1, b"ab", 1))
        self.assertEqual(self.mod.transfer(addr=5, write_data=b"", read_len=0), b"")
        self.assertEqual(self.mod.transfer(5, read_len=2, write_data=b"z"), b"\x80\x81")
        self.assertNoLeaks()

    def test_err_is_raised(self) -> None:
        self.i2c.nack = True
        with self.assertRaises(Err) as cm:
            self.mod.transfer(0x77, b"\x00", 1)
        self.assertEqual(cm.exception.value, "nack from device 0x77")
        self.assertIsInstance(cm.exception, Exception)
        self.assertNoLeaks()

    def test_result_without_ok_payload(self) -> None:
        self.assertIsNone(self.mod.reset(0))
        with self.assertRaises(Err) as cm:
            self.mod.reset(1)
        self.assertEqual(cm.exception, Err("busy"))
        self.assertNoLeaks()

    def test_single_flat_results(self) -> None:
        self.assertEqual(self.mod.read_temp(2), 21.5)
        self.assertEqual(self.mod.count("héllo"), 5)
        self.assertIs(self.mod.ready(), True)
        self.assertIsNone(self.mod.ping())
        self.assertNoLeaks()

    def test_permission_and_unknown(self) -> None:
        self.host.denied.add("i2c#transfer")
        with self.assertRaisesRegex(PermissionError, "not granted"):
            self.mod.transfer(1, b"", 1)
        del self.host.functions["i2c#count"]
        with self.assertRaises(LookupError):
            self.mod.count("x")
        self.assertNoLeaks()
        self.host.denied.clear()  # not cached: a later call resolves again
        self.assertEqual(self.mod.transfer(1, b"", 1), b"\x80")

    def test_host_failures_free_everything(self) -> None:
        for exc in (OSError("bus error"), ValueError("bad pointer"), PermissionError("denied")):

            def fail(args: bytes, ret: int, exc: Exception = exc) -> None:
                raise exc

            self.host.functions["i2c#transfer"] = fail
            with self.assertRaises(type(exc)):
                self.mod.transfer(1, b"abc", 1)
            self.assertNoLeaks()

    def test_memory_grows_during_invoke(self) -> None:
        def transfer(args: bytes, ret: int) -> None:
            old_size = len(fh.memory())
            fh.grow(1 << 20)
            fh.bump_to(old_size)  # the result lies in the new pages
            p, n = host_buffer(b"new")
            self.assertGreaterEqual(p, old_size)
            fh.write(ret, struct.pack("<B3xII", 0, p, n))

        self.host.functions["i2c#transfer"] = transfer
        self.assertEqual(self.mod.transfer(1, b"", 3), b"new")
        self.assertNoLeaks()

    def test_memory_grows_on_every_alloc(self) -> None:
        host = boot(i2c_world(), grow_on_alloc=True)
        i2c = I2cHost(host, self)
        from harvester.imports import i2c as mod

        self.assertEqual(mod.transfer(0x10, b"\x01\x02\x03", 2), b"\x80\x81")
        self.assertEqual(i2c.seen, [(0x10, b"\x01\x02\x03", 2)])
        self.assertGreater(fh.stats()["growths"], 2)

    def test_lowering_errors_name_the_parameter(self) -> None:
        t = self.mod.transfer
        cases: list[tuple[Callable[[], Any], type[Exception], str]] = [
            (lambda: t(300, b"", 1), OverflowError, "i2c.transfer: addr: expected u8 (0..255), got 300"),
            (lambda: t(-1, b"", 1), OverflowError, "i2c.transfer: addr: expected u8 (0..255), got -1"),
            (lambda: t("x", b"", 1), TypeError, "i2c.transfer: addr: expected u8 (int), got str 'x'"),
            (lambda: t(1.0, b"", 1), TypeError, "i2c.transfer: addr: expected u8 (int), got float 1.0"),
            (lambda: t(1, "abc", 1), TypeError, "i2c.transfer: write_data: expected list<u8>"),
            (lambda: t(1, [1, 256], 1), OverflowError, "i2c.transfer: write_data[1]: expected u8 (0..255), got 256"),
            (lambda: t(1, b"", 1 << 32), OverflowError, "i2c.transfer: read_len: expected u32 (0..4294967295)"),
            (lambda: t(1, b""), TypeError, "read_len"),
            (lambda: self.mod.count(b"x"), TypeError, "i2c.count: text: expected string (str), got bytes"),
            (lambda: self.mod.count("\ud800"), ValueError, "i2c.count: text: string contains the lone surrogate"),
        ]
        for call, exc, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(exc) as cm:
                    call()
                self.assertIn(message, str(cm.exception))
        self.assertEqual(self.host.calls, 0)
        self.assertNoLeaks()

    def test_lift_error(self) -> None:
        def transfer(args: bytes, ret: int) -> None:
            p, m = host_buffer(b"\xff\xfe")
            fh.write(ret, struct.pack("<B3xII", 1, p, m))  # err: string, not UTF-8

        self.host.functions["i2c#transfer"] = transfer
        with self.assertRaisesRegex(ValueError, "i2c.transfer: result: string at .* is not UTF-8"):
            self.mod.transfer(1, b"", 1)
        self.assertNoLeaks()


class TestImportTypes(SdkTestCase):
    """Enums, flags, variants, options, records and chars as parameters:
    exact slots; more than 16 flat params go through memory."""

    def setUp(self) -> None:
        w = World()
        u8, u16, u32, s8 = w.t("u8"), w.t("u16"), w.t("u32"), w.t("s8")
        f32, f64, string = w.t("f32"), w.t("f64"), w.t("string")
        color = w.t("enum", name="color", interface="gfx", cases=["red", "green", "blue"])
        perms = w.t("flags", name="perms", interface="gfx", flags=[f"p{i}" for i in range(40)])
        shape = w.t("variant", name="shape", interface="gfx", cases=[
            {"name": "circle", "type": f32}, {"name": "rect", "type": w.t("tuple", elems=[u16, u16])},
            {"name": "empty", "type": None}])
        point = w.record("point", "gfx", x=f32, y=f32)
        reading = w.record("reading", "gfx", name=string, value=f32)
        w.imp(
            "gfx",
            w.func("mix", [("a", s8), ("b", w.t("option", elem=f32)), ("c", w.t("bool")), ("d", w.t("char")),
                           ("e", color), ("f", perms), ("g", shape)]),
            w.func("many", [*((f"n{i}", u32) for i in range(8)), ("name", string), *((f"x{i}", f64) for i in range(8))], u32),
            w.func("centroid", [("points", w.t("list", elem=point))], point),
            w.func("log", [("readings", w.t("list", elem=reading))]),
            w.func("pick", [("v", w.t("option", elem=w.t("option", elem=u8)))]),
            w.func("lookup", [("key", string)], w.t("option", elem=string)),
            w.func("usage", [], w.t("tuple", elems=[u32, u32])),
            w.func("default-color", [], color),
            types=(color, perms, shape, point, reading),
        )
        world_level = w.t("enum", name="mode", interface="", cases=["off", "on"])
        w.imp("power", w.func("mode", [], world_level), types=(world_level,))
        uses = w.t("enum", name="level", interface="types", cases=["low", "high"])
        w.imp("types", types=(uses,))
        w.imp("led-controller", w.func("set-level", [("level", uses)]), types=(uses,))
        self.host = boot(w)
        from harvester.imports import gfx

        self.gfx = gfx

    def test_types_in_module(self) -> None:
        gfx = self.gfx
        self.assertTrue(issubclass(gfx.Color, enum.Enum))
        self.assertEqual([c.name for c in gfx.Color], ["RED", "GREEN", "BLUE"])
        self.assertEqual(gfx.Color.BLUE.value, 2)
        self.assertTrue(issubclass(gfx.Perms, enum.Flag))
        self.assertEqual(gfx.Perms.P39.value, 1 << 39)
        self.assertTrue(dataclasses.is_dataclass(gfx.Point))
        self.assertEqual([f.name for f in dataclasses.fields(gfx.Point)], ["x", "y"])
        self.assertEqual(gfx.Point.__module__, "harvester.imports.gfx")
        self.assertEqual(gfx.ShapeRect((1, 2)).value, (1, 2))
        self.assertEqual(dataclasses.fields(gfx.ShapeEmpty), ())
        self.assertIn(gfx.ShapeCircle, gfx.Shape.__args__)
        from harvester.imports import led_controller, types as types_mod

        self.assertIs(led_controller.Level, types_mod.Level)  # `use`d types are re-exported
        self.assertEqual(led_controller.Level.__module__, "harvester.imports.types")

    def test_exact_slots(self) -> None:
        gfx = self.gfx
        got: list[bytes] = []

        @self.host.on("gfx#mix")
        def mix(args: bytes, ret: int) -> None:
            got.append(args)

        gfx.mix(-1, 1.5, True, "é", gfx.Color.BLUE, gfx.Perms.P0 | gfx.Perms.P39, gfx.ShapeCircle(2.5))
        self.assertEqual(slots(got[0]), [
            0xFFFFFFFF,  # s8 -1 as i32
            1, f32_bits(1.5),  # option<f32> some
            1,  # bool
            0xE9,  # char
            2,  # enum
            1, 0x80,  # flags: two i32 words
            0, f32_bits(2.5), 0,  # variant: circle's f32 in a joined i32 slot, unused slot 0
        ])
        gfx.mix(0, None, False, "a", gfx.Color.RED, 0, gfx.ShapeRect((3, 4)))
        self.assertEqual(slots(got[1]), [0, 0, 0, 0, 0x61, 0, 0, 0, 1, 3, 4])
        gfx.mix(0, None, 0, "a", gfx.Color.RED, 1 << 33, gfx.ShapeEmpty())
        self.assertEqual(slots(got[2])[6:], [0, 2, 2, 0, 0])
        self.assertNoLeaks()

    def test_more_than_16_flat_params_go_through_memory(self) -> None:
        @self.host.on("gfx#many")
        def many(args: bytes, ret: int) -> None:
            (block,) = slots(args)  # one slot: the params tuple's address
            self.assertEqual(block % 8, 0)
            self.assertTrue(fh.is_live(block))
            # u32 x8 at 0..32, string at 32, f64 x8 at 40..104
            ns = struct.unpack("<8I", fh.read(block, 32))
            p, n = struct.unpack("<II", fh.read(block + 32, 8))
            xs = struct.unpack("<8d", fh.read(block + 40, 64))
            total = sum(ns) + int(sum(xs)) + len(fh.read(p, n).decode())
            fh.write(ret, struct.pack("<I4x", total))

        result = self.gfx.many(*range(8), "héllo", *(float(i) for i in range(8)))
        self.assertEqual(result, 28 + 28 + 5)
        self.assertNoLeaks()

    def test_records_and_lists(self) -> None:
        gfx = self.gfx

        @self.host.on("gfx#centroid")
        def centroid(args: bytes, ret: int) -> None:
            p, n = slots(args)
            self.assertEqual(p % 4, 0)
            pts = [struct.unpack("<ff", fh.read(p + 8 * i, 8)) for i in range(n)]
            x = sum(a for a, _ in pts) / n
            y = sum(b for _, b in pts) / n
            fh.write(ret, struct.pack("<ff", x, y))  # 2 flat values: in memory at ret

        self.assertEqual(gfx.centroid([gfx.Point(0.0, 0.0), gfx.Point(2.0, 4)]), gfx.Point(1.0, 2.0))
        logged: list[list[tuple[str, float]]] = []

        @self.host.on("gfx#log")
        def log(args: bytes, ret: int) -> None:
            p, n = slots(args)
            items = []
            for i in range(n):
                sp, sn, v = struct.unpack("<IIf", fh.read(p + 12 * i, 12))
                items.append((fh.read(sp, sn).decode(), v))
            logged.append(items)

        gfx.log([gfx.Reading("t", 1.5), gfx.Reading("humidity", 50)])
        self.assertEqual(logged, [[("t", 1.5), ("humidity", 50.0)]])
        self.assertNoLeaks()

    def test_results_in_memory(self) -> None:
        gfx = self.gfx

        @self.host.on("gfx#lookup")
        def lookup(args: bytes, ret: int) -> None:
            p, n = slots(args)
            key = fh.read(p, n).decode()
            if key == "name":
                vp, vn = host_buffer("bmé".encode())
                fh.write(ret, struct.pack("<B3xII", 1, vp, vn))  # option<string>: some, payload at 4
            else:
                fh.write(ret, b"\x00")

        @self.host.on("gfx#usage")
        def usage(args: bytes, ret: int) -> None:
            fh.write(ret, struct.pack("<II", 374, 24105))  # two flat values: in memory

        @self.host.on("gfx#default-color")
        def default_color(args: bytes, ret: int) -> None:
            fh.write(ret, struct.pack("<Q", 1))

        self.assertEqual(gfx.lookup("name"), "bmé")
        self.assertIsNone(gfx.lookup("other"))
        self.assertEqual(gfx.usage(), (374, 24105))
        self.assertIs(gfx.default_color(), gfx.Color.GREEN)
        self.assertNoLeaks()

    def test_world_level_types(self) -> None:
        from harvester.imports import power

        self.assertIs(power.Mode, harvester.imports.Mode)
        self.assertEqual(power.Mode.__module__, "harvester.imports")

    def test_nested_lowering_errors(self) -> None:
        gfx = self.gfx
        self.host.functions["gfx#log"] = self.host.functions["gfx#pick"] = lambda args, ret: None
        self.host.functions["gfx#mix"] = lambda args, ret: None
        ok_mix = [0, None, True, "a", gfx.Color.RED, 0, gfx.ShapeEmpty()]

        def mix(i: int, value: Any) -> None:
            args = list(ok_mix)
            args[i] = value
            gfx.mix(*args)

        cases: list[tuple[Callable[[], Any], type[Exception], str]] = [
            (lambda: gfx.log([gfx.Reading("a", 1.0), gfx.Reading("b", "x")]), TypeError,
             "gfx.log: readings[1].value: expected f32 (float), got str 'x'"),
            (lambda: gfx.log([gfx.Reading(3, 1.0)]), TypeError, "gfx.log: readings[0].name: expected string (str), got int 3"),
            (lambda: gfx.log([{"name": "a", "value": 1.0}]), TypeError, "gfx.log: readings[0]: expected reading (Reading), got dict"),
            (lambda: gfx.log([gfx.Reading("a", 1e300)]), OverflowError, "gfx.log: readings[0].value: expected f32, got 1e+300 (out of range)"),
            (lambda: gfx.log("abc"), TypeError, "gfx.log: readings: expected list<reading> (list), got str"),
            (lambda: gfx.pick(5), TypeError, "gfx.pick: v: expected option<option<u8>> (None or Some(...)), got int 5"),
            (lambda: gfx.pick(Some(300)), OverflowError, "gfx.pick: v.value: expected u8 (0..255), got 300"),
            (lambda: mix(0, 128), OverflowError, "gfx.mix: a: expected s8 (-128..127), got 128"),
            (lambda: mix(1, "x"), TypeError, "gfx.mix: b: expected f32 (float)"),
            (lambda: mix(2, "yes"), TypeError, "gfx.mix: c: expected bool, got str"),
            (lambda: mix(3, "ab"), TypeError, "gfx.mix: d: expected char (str of length 1)"),
            (lambda: mix(3, "\udc00"), ValueError, "gfx.mix: d: expected char, got the lone surrogate U+DC00"),
            (lambda: mix(4, 2), TypeError, "gfx.mix: e: expected color (Color), got int 2"),
            (lambda: mix(5, 1 << 40), ValueError, "gfx.mix: f: expected perms (Perms or int), got 0x10000000000 (bits outside its 40 flags)"),
            (lambda: mix(5, gfx.Color.RED), TypeError, "gfx.mix: f: expected perms (Perms or int)"),
            (lambda: mix(6, gfx.Point(1.0, 2.0)), TypeError, "gfx.mix: g: expected shape (ShapeCircle | ShapeRect | ShapeEmpty), got Point"),
            (lambda: mix(6, gfx.ShapeRect((1, -2))), OverflowError, "gfx.mix: g.value[1]: expected u16 (0..65535), got -2"),
            (lambda: mix(6, gfx.ShapeRect((1,))), TypeError, "gfx.mix: g.value: expected tuple<u16, u16> (tuple of 2)"),
        ]
        for call, exc, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(exc) as cm:
                    call()
                self.assertIn(message, str(cm.exception))
        self.assertNoLeaks()


# ---- exports -----------------------------------------------------------------------


def sensor_world() -> World:
    w = World("sensor-plugin")
    u8, u16, u32, u64, f32, string = (w.t(k) for k in ("u8", "u16", "u32", "u64", "f32", "string"))
    reading = w.record("reading", "sensor", name=string, value=f32, raw=w.t("list", elem=u8))
    color = w.t("enum", name="color", interface="sensor", cases=["red", "green"])
    w.exp(
        "sensor",
        w.func("describe", [("label", string), ("scale", u16)], reading),  # id 0
        w.func("sum17", [(f"a{i}", u32) for i in range(17)], u64),  # id 1
        w.func("check", [("level", u8)], w.t("result", ok=u32, err=string)),  # id 2
        w.func("boom", [], string),  # id 3
        w.func("count", [("items", w.t("list", elem=string))], u32),  # id 4
        w.func("bad", [], reading),  # id 5
        w.func("paint", [("c", color), ("ok", w.t("bool"))], color),  # id 6
        w.func("noop", []),  # id 7
        w.func("keep", [("r", reading)], w.t("result", ok=None, err=string)),  # id 8
        w.func("toggle", [("on", w.t("bool"))], w.t("result", ok=None, err=None)),  # id 9
        types=(reading, color),
    )
    return w


KEPT: list[Any] = []  # what Sensor.keep received


class Sensor:
    def describe(self, label: str, scale: int) -> Any:
        from harvester.exports import sensor

        return sensor.Reading(label.upper(), scale / 2, label.encode()[:2])

    def sum17(self, *values: int) -> int:
        return sum(values) + (1 << 40)

    def check(self, level: int) -> int:
        if level > 10:
            raise Err(f"level {level} too high")
        return level * 2

    def boom(self) -> str:
        raise RuntimeError("kaput")

    def count(self, items: list[str]) -> int:
        return sum(len(s) for s in items)

    def bad(self) -> Any:
        from harvester.exports import sensor

        return sensor.Reading(name=b"not a str", value=1.0, raw=b"")

    def paint(self, c: Any, ok: bool) -> Any:
        from harvester.exports import sensor

        return sensor.Color.GREEN if ok and c is sensor.Color.RED else sensor.Color.RED

    def noop(self) -> None:
        self.called = True

    def keep(self, r: Any) -> None:
        if not r.name:
            raise Err("nameless")
        KEPT.append(r)

    def toggle(self, on: bool) -> None:
        if not on:
            raise Err()


def call_export(fid: int, args: list[int]) -> int:
    """What the engine does: nargs + 1 slots in a guest block, the last one
    the return slot; returns the return slot's value."""
    block = fh.alloc(8 * (len(args) + 1), 8)
    fh.write(block, struct.pack(f"<{len(args)}Q", *args) + bytes(8))
    try:
        harvester._dispatch(fid, block, len(args), block + 8 * len(args))
        return int(struct.unpack("<Q", fh.read(block + 8 * len(args), 8))[0])
    finally:
        fh.free(block)


class TestExports(SdkTestCase):
    def setUp(self) -> None:
        self.app = install_app(Sensor=Sensor)
        boot(sensor_world(), self.app)

    def test_record_result_round_trip(self) -> None:
        label, n = host_buffer("héllo".encode())
        block = call_export(0, [label, n, 7])
        self.assertEqual(block % 4, 0)
        # reading: name (ptr, len) at 0, value f32 at 8, raw (ptr, len) at 12; size 20
        name_ptr, name_len, value, raw_ptr, raw_len = struct.unpack("<IIfII", fh.read(block, 20))
        self.assertEqual(fh.read(block, 20), struct.pack("<IIfII", name_ptr, 6, 3.5, raw_ptr, 2))
        self.assertEqual(fh.read(name_ptr, name_len), "HÉLLO".encode())
        self.assertEqual(fh.read(raw_ptr, raw_len), "héllo".encode()[:2])
        # pending until post_return; the label buffer was freed after lifting
        # (the allocator may have handed its address out again since)
        self.assertEqual(live(), {block, name_ptr, raw_ptr})
        harvester._post_return(0)
        self.assertNoLeaks()
        harvester._post_return(0)  # idempotent

    def test_more_than_16_flat_params(self) -> None:
        params = fh.alloc(68, 4)  # tuple<u32 x 17>: the host allocates it with alloc
        fh.write(params, struct.pack("<17I", *range(17)))
        self.assertEqual(call_export(1, [params]), 136 + (1 << 40))  # u64: one flat value in the slot
        self.assertFalse(fh.is_live(params), "the SDK frees the params block")
        harvester._post_return(1)
        self.assertNoLeaks()

    def test_result_ok_and_err(self) -> None:
        block = call_export(2, [4])
        # result<u32, string>: discriminant, payload at 4; size 12
        self.assertEqual(fh.read(block, 12), bytes(4) + struct.pack("<I", 8) + bytes(4))
        harvester._post_return(2)
        block = call_export(2, [11])
        disc, ptr, n = struct.unpack("<B3xII", fh.read(block, 12))
        self.assertEqual((disc, fh.read(ptr, n)), (1, b"level 11 too high"))
        harvester._post_return(2)
        self.assertNoLeaks()

    def test_exception_propagates(self) -> None:
        with self.assertRaisesRegex(RuntimeError, "kaput"):
            call_export(3, [])
        self.assertNoLeaks()

    def test_bad_result_is_reported_and_freed(self) -> None:
        with self.assertRaises(TypeError) as cm:
            call_export(5, [])
        self.assertIn("Sensor.bad: result.name: expected string (str), got bytes", str(cm.exception))
        self.assertNoLeaks()

    def test_list_argument_and_single_flat_result(self) -> None:
        bufs = [host_buffer(s.encode()) for s in ("ab", "", "cde")]
        items = fh.alloc(8 * len(bufs), 4)
        fh.write(items, b"".join(struct.pack("<II", p, n) for p, n in bufs))
        self.assertEqual(call_export(4, [items, 3]), 5)
        harvester._post_return(4)
        self.assertNoLeaks()

    def test_enum_and_bool(self) -> None:
        self.assertEqual(call_export(6, [0, 5]), 1)  # bool: any non-zero is true
        self.assertEqual(call_export(6, [0, 0]), 0)
        with self.assertRaisesRegex(ValueError, "discriminant 2 out of range"):
            call_export(6, [2, 1])
        self.assertEqual(call_export(7, []), 0)  # no result: the slot is untouched
        self.assertNoLeaks()

    def test_record_argument_in_flat_slots(self) -> None:
        from harvester.exports import sensor

        name = host_buffer(b"t1")
        raw = host_buffer(b"\x01\x02")
        block = call_export(8, [*name, f32_bits(1.5), *raw])  # reading: 5 flat values
        self.assertEqual(KEPT.pop(), sensor.Reading("t1", 1.5, b"\x01\x02"))
        self.assertEqual(fh.read(block, 12), bytes(12))  # result<_, string>: ok
        harvester._post_return(8)
        empty = host_buffer(b"")
        block = call_export(8, [*empty, 0, *host_buffer(b"")])
        disc, p, n = struct.unpack("<B3xII", fh.read(block, 12))
        self.assertEqual((disc, fh.read(p, n)), (1, b"nameless"))
        harvester._post_return(8)
        self.assertNoLeaks()
        self.assertEqual(call_export(9, [1]), 0)  # result (no payloads): one flat value
        self.assertEqual(call_export(9, [0]), 1)
        self.assertNoLeaks()

    def test_dispatch_errors(self) -> None:
        with self.assertRaises(LookupError):
            harvester._dispatch(99, 0, 0, 0)
        with self.assertRaisesRegex(ValueError, "Sensor.describe: expected 3 argument slots, got 1"):
            call_export(0, [1])
        self.assertNoLeaks()

    def test_export_types_module(self) -> None:
        from harvester.exports import sensor

        self.assertEqual(sensor.Reading.__module__, "harvester.exports.sensor")
        self.assertEqual([f.name for f in dataclasses.fields(sensor.Reading)], ["name", "value", "raw"])
        self.assertIs(sensor.Reading.__annotations__["raw"], bytes)
        self.assertTrue(hasattr(harvester.exports, "Sensor"))


# ---- bootstrap ---------------------------------------------------------------------


def bme680_world() -> World:
    w = World("bme680-plugin")
    f32, string = w.t("f32"), w.t("string")
    reading = w.record("bme680-reading", "bme680-logic", temperature=f32, gas_resistance=f32)
    w.imp("i2c", w.func("transfer", [("addr", w.t("u8"))], string))
    w.exp(
        "bme680-logic",
        w.func("poll", [], w.t("result", ok=w.t("list", elem=reading), err=string)),
        w.func("read-dht22", [("pin", w.t("u8"))], f32),
        types=(reading,),
    )
    return w


class TestBootstrap(SdkTestCase):
    def test_missing_class(self) -> None:
        app = install_app()
        with self.assertRaises(TypeError) as cm:
            boot(bme680_world(), app)
        self.assertEqual(str(cm.exception), f"{app}.py must define class Bme680Logic (world bme680-plugin exports bme680-logic)")

    def test_missing_method(self) -> None:
        class Bme680Logic:
            def read_dht22(self, pin: int) -> float:
                return 1.0

        app = install_app(Bme680Logic=Bme680Logic)
        with self.assertRaises(TypeError) as cm:
            boot(bme680_world(), app)
        self.assertEqual(
            str(cm.exception),
            f"{app}.py: class Bme680Logic has no method poll "
            "(bme680-logic.poll: func() -> result<list<bme680-reading>, string>)",
        )

    def test_wrong_arity(self) -> None:
        class Bme680Logic:
            def poll(self) -> list[Any]:
                return []

            def read_dht22(self) -> float:
                return 1.0

        with self.assertRaisesRegex(TypeError, r"Bme680Logic.read_dht22\(\) cannot take the 1 parameter"):
            boot(bme680_world(), install_app(Bme680Logic=Bme680Logic))

    def test_base_class_and_dispatch(self) -> None:
        # The generated base class exists after a bootstrap, even a failing one.
        with self.assertRaises(TypeError):
            boot(bme680_world(), install_app())
        Base: Any = harvester.exports.Bme680Logic
        with self.assertRaises(NotImplementedError):
            Base().poll()

        class Partial(Base):
            def poll(self) -> list[Any]:
                return []

        with self.assertRaisesRegex(TypeError, "has no method read_dht22"):
            boot(bme680_world(), install_app(Bme680Logic=Partial))

        class Bme680Logic(Base):
            def poll(self) -> list[Any]:
                from harvester.exports import bme680_logic

                return [bme680_logic.Bme680Reading(temperature=21.5, gas_resistance=1e5)]

            def read_dht22(self, pin: int) -> float:
                return pin + 0.5

        boot(bme680_world(), install_app(Bme680Logic=Bme680Logic))
        block = call_export(0, [])
        disc, ptr, n = struct.unpack("<B3xII", fh.read(block, 12))
        self.assertEqual((disc, n), (0, 1))
        self.assertEqual(struct.unpack("<ff", fh.read(ptr, 8)), (21.5, 1e5))  # both exact in f32
        harvester._post_return(0)
        self.assertEqual(struct.unpack("<f4x", struct.pack("<Q", call_export(1, [3])))[0], 3.5)
        self.assertNoLeaks()

    def test_rebootstrap_replaces_modules(self) -> None:
        boot(i2c_world())
        self.assertIn("harvester.imports.i2c", sys.modules)
        w = World()
        w.imp("spi", w.func("xfer", [], None))
        boot(w)
        self.assertNotIn("harvester.imports.i2c", sys.modules)
        self.assertFalse(hasattr(harvester.imports, "i2c"))
        from harvester.imports import spi

        self.assertTrue(callable(spi.xfer))


# ---- benchmark ---------------------------------------------------------------------


class TestBenchmark(unittest.TestCase):
    @unittest.skipUnless(os.environ.get("HV_SDK_BENCH") == "1", "set HV_SDK_BENCH=1")
    def test_transfer_round_trip(self) -> None:
        host = boot(i2c_world())
        I2cHost(host, self)
        result_buf = [0]

        def transfer(args: bytes, ret: int) -> None:  # a lean host, like the C one
            _, p, n, m = struct.unpack("<QQQQ", args)
            bytes(fh.memory()[p : p + n])
            out = fh.alloc(m, 1)
            fh.memory()[out : out + m] = b"\x01\x02\x03"[:m]
            struct.pack_into("<B3xII", fh.memory(), ret, 0, out, m)
            result_buf[0] = out

        host.functions["i2c#transfer"] = transfer
        from harvester.imports import i2c

        n = 50_000
        for _ in range(1000):
            i2c.transfer(0x76, b"\xd0\x01\x02", 3)
        t0 = time.perf_counter()
        for _ in range(n):
            i2c.transfer(0x76, b"\xd0\x01\x02", 3)
        total = (time.perf_counter() - t0) / n * 1e6

        # The same primitive calls the SDK makes, without the SDK: what the
        # fake primitives and the host cost.
        fid = host.resolve("i2c#transfer")
        ret = fh.alloc(12, 8)
        p = fh.alloc(3, 1)
        fh.free(p)
        args = struct.pack("<B7xI4xI4xI4x", 0x76, p, 3, 3)
        t0 = time.perf_counter()
        for _ in range(n):
            p = fh.alloc(3, 1)
            fh.memory()[p : p + 3] = b"\xd0\x01\x02"
            fh.invoke(fid, args, ret)
            fh.memory()
            fh.free(result_buf[0])
            fh.free(p)
        fake = (time.perf_counter() - t0) / n * 1e6
        fh.free(ret)
        print(
            f"\n  i2c.transfer(u8, list<u8>, u32) -> result<list<u8>, string>, 3 bytes each way:"
            f"\n    {total:.2f} µs/call through the SDK and the fake host"
            f"\n    {fake:.2f} µs/call for the fake primitives and host alone"
            f"\n    {total - fake:.2f} µs/call of SDK work",
            file=sys.stderr,
        )


if __name__ == "__main__":
    unittest.main(verbosity=2)
