"""The canonical ABI: WIT types laid out in linear memory, and the
conversions between their Python values and that layout.

Every WIT type becomes a :class:`ValType` with its size, alignment and flat
core types (``i32``/``i64``/``f32``/``f64``) computed as CanonicalABI.md
defines them, plus four converters compiled once into closures and stored
as attributes, so that a call only runs straight-line code:

``load(mem, ptr, frees) -> value``
    Lift the value stored in canonical layout at ``mem[ptr:]``. Every
    string/list buffer it meets is appended to ``frees``: such buffers were
    allocated by the host, and the caller frees them after lifting.
``lift_flat(mem, ptr, frees) -> value``
    Lift the value from its flat form: one 8-byte little-endian slot per
    flat core value, starting at ``mem[ptr:]`` (i32 and f32 in the low
    half). Because every slot is 8 bytes with i32/f32 zero-extended, the
    spec's variant coercions (i32 <-> f32 bit casts, i64 wrap/extension,
    f64 <-> i64 bit casts) are byte-identical: a variant's payload is read
    with its case's own slot formats.
``store(buf, off, value, allocs)``
    Lower into canonical layout at ``buf[off:]``, a zero-filled bytearray
    owned by the caller (never guest memory, so a growing memory cannot
    leave it stale). String/list contents go into fresh guest blocks whose
    addresses are appended to ``allocs``.
``lower_flat(value, out, allocs)``
    Append the value's flat core values to ``out``, in canonical form:
    i32 as an int in [0, 2**32), i64 in [0, 2**64), f32/f64 as floats. A
    function packs them all at once with one :class:`struct.Struct` made of
    :data:`SLOT_CODE` entries.

Lowering validates and raises :class:`LowerError` subclasses (TypeError,
ValueError, OverflowError) whose path (``[2].gas_resistance``) is filled in
while unwinding. Lifting untrusted memory raises :class:`LiftError` where
the canonical ABI would trap.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from functools import partial
from struct import Struct
from typing import Any, Optional

import _harvester

from .types import Err, Ok, Result as ResultAlias, Some  # noqa: F401 - used by _compound

MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1
MAX_STRING_BYTES = (1 << 31) - 1

#: struct code of one 8-byte slot holding a canonical flat value of each core type
SLOT_CODE = {"i32": "I4x", "i64": "Q", "f32": "f4x", "f64": "d"}

Load = Callable[[memoryview, int, list[int]], Any]
Store = Callable[[bytearray, int, Any, list[int]], None]
LowerFlat = Callable[[Any, list[Any], list[int]], None]

_memory = _harvester.memory
_alloc = _harvester.alloc

_PAIR = Struct("<II")  # (ptr, len) of a string or list in memory
_SLOT_PAIR = Struct("<I4xI4x")  # the same as two flat slots
_U32 = Struct("<I")


# ---- errors ------------------------------------------------------------------


class LowerError(Exception):
    """A Python value that cannot be lowered to its WIT type.

    Raised as :class:`LowerTypeError`, :class:`LowerValueError` or
    :class:`LowerOverflowError`; the enclosing converters add path segments
    on the way out and the function adapter prefixes ``"iface.func: param"``.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.segments: list[str] = []  # innermost first

    def at(self, segment: str) -> LowerError:
        """Records that the failing value sits at ``segment`` of its parent."""
        self.segments.append(segment)
        return self

    def located(self, where: str) -> LowerError:
        """Sets the final message, ``where`` naming the function and param."""
        path = where + "".join(reversed(self.segments))
        self.args = (f"{path}: {self.reason}",)
        return self


class LowerTypeError(LowerError, TypeError):
    pass


class LowerValueError(LowerError, ValueError):
    pass


class LowerOverflowError(LowerError, OverflowError):
    pass


class LiftError(ValueError):
    """Linear memory does not hold a valid value (the canonical ABI traps)."""


def _got(v: object) -> str:
    text = repr(v)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(v).__name__} {text}"


# ---- layout helpers ----------------------------------------------------------


def align_to(offset: int, alignment: int) -> int:
    return (offset + alignment - 1) & ~(alignment - 1)


def join(a: str, b: str) -> str:
    """The core type a variant slot needs to hold either of two core types."""
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


def record_layout(types: Sequence[ValType]) -> tuple[list[int], int, int]:
    """Field offsets, size and alignment of a record/tuple of ``types``."""
    offsets = []
    offset = 0
    alignment = 1
    for t in types:
        offset = align_to(offset, t.align)
        offsets.append(offset)
        offset += t.size
        alignment = max(alignment, t.align)
    return offsets, align_to(offset, alignment), alignment


def discriminant_size(ncases: int) -> int:
    return 1 if ncases <= 1 << 8 else 2 if ncases <= 1 << 16 else 4


def flat_struct(types: Sequence[ValType]) -> Struct:
    """Packs the canonical flat values of ``types`` into 8-byte slots."""
    return Struct("<" + "".join(SLOT_CODE[c] for t in types for c in t.flat))


def copy_in(data: bytes | bytearray, align: int, allocs: list[int]) -> int:
    """Copies ``data`` into a new guest block, recorded in ``allocs``."""
    n = len(data)
    ptr = _alloc(n, align)
    allocs.append(ptr)
    _memory()[ptr : ptr + n] = data
    return ptr


def _check_range(mem: memoryview, ptr: int, nbytes: int, what: str) -> None:
    if ptr + nbytes > len(mem):
        raise LiftError(f"{what} at 0x{ptr:x} + {nbytes} bytes is outside linear memory")


# ---- types -------------------------------------------------------------------


class ValType:
    """A WIT value type: layout plus compiled converters (see module doc)."""

    wit: str  #: how WIT spells the type, for messages
    size: int
    align: int
    flat: tuple[str, ...]
    annotation: Any  #: the Python type of its values, for signatures

    #: struct code of the value in memory when it is a single number that
    #: needs no conversion (ints and floats); lets lists/records use one Struct
    prim: Optional[str] = None
    #: struct code of its one flat slot when struct's own checks are exactly
    #: the lowering checks (top-level parameters are then packed unchecked)
    fast: Optional[str] = None
    #: struct code reading its one flat slot without conversion
    slot: Optional[str] = None

    load: Load
    lift_flat: Load
    store: Store
    lower_flat: LowerFlat

    def check(self, v: Any) -> None:
        """Raises the LowerError lowering ``v`` would raise (for ``fast`` types)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.wit} size={self.size} align={self.align} flat={self.flat}>"


_INT_KINDS = {
    # kind: (bytes, signed, struct code)
    "u8": (1, False, "B"),
    "s8": (1, True, "b"),
    "u16": (2, False, "H"),
    "s16": (2, True, "h"),
    "u32": (4, False, "I"),
    "s32": (4, True, "i"),
    "u64": (8, False, "Q"),
    "s64": (8, True, "q"),
}


class Int(ValType):
    def __init__(self, kind: str) -> None:
        nbytes, signed, code = _INT_KINDS[kind]
        bits = 8 * nbytes
        lo = -(1 << (bits - 1)) if signed else 0
        hi = (1 << (bits - 1)) - 1 if signed else (1 << bits) - 1
        self.wit = kind
        self.size = self.align = nbytes
        self.flat = ("i64",) if nbytes == 8 else ("i32",)
        self.annotation = int
        self.prim = code
        self.slot = code + "x" * (8 - nbytes)  # the low bytes: lifting wraps like the spec
        # s8/s16 travel sign-extended to 32 bits, which no struct code does.
        self.fast = None if signed and nbytes < 4 else self.slot
        self.lo, self.hi = lo, hi
        mask = (1 << (64 if nbytes == 8 else 32)) - 1
        check = self.check
        unpack_from = Struct("<" + code).unpack_from
        pack_into = Struct("<" + code).pack_into

        def load(mem: memoryview, ptr: int, frees: list[int]) -> int:
            return unpack_from(mem, ptr)[0]

        def store(buf: bytearray, off: int, v: Any, allocs: list[int]) -> None:
            if type(v) is not int or not lo <= v <= hi:
                check(v)
            pack_into(buf, off, v)

        if signed:

            def lower_flat(v: Any, out: list[Any], allocs: list[int]) -> None:
                if type(v) is not int or not lo <= v <= hi:
                    check(v)
                out.append(v & mask)

        else:

            def lower_flat(v: Any, out: list[Any], allocs: list[int]) -> None:
                if type(v) is not int or not lo <= v <= hi:
                    check(v)
                out.append(v)

        self.load = self.lift_flat = load
        self.store = store
        self.lower_flat = lower_flat

    def check(self, v: Any) -> None:
        if not isinstance(v, int):
            raise LowerTypeError(f"expected {self.wit} (int), got {_got(v)}")
        if not self.lo <= v <= self.hi:
            raise LowerOverflowError(f"expected {self.wit} ({self.lo}..{self.hi}), got {v}")


class Float(ValType):
    def __init__(self, kind: str) -> None:
        code = "f" if kind == "f32" else "d"
        self.wit = kind
        self.size = self.align = 4 if kind == "f32" else 8
        self.flat = (kind,)
        self.annotation = float
        self.prim = code
        self.fast = self.slot = SLOT_CODE[kind]
        self._pack = pack = Struct("<" + code).pack
        check = self.check
        unpack_from = Struct("<" + code).unpack_from
        pack_into = Struct("<" + code).pack_into

        def load(mem: memoryview, ptr: int, frees: list[int]) -> float:
            return unpack_from(mem, ptr)[0]

        def store(buf: bytearray, off: int, v: Any, allocs: list[int]) -> None:
            try:
                pack_into(buf, off, v)
            except (struct.error, TypeError, OverflowError):
                check(v)
                raise

        if kind == "f32":

            def lower_flat(v: Any, out: list[Any], allocs: list[int]) -> None:
                check(v)  # includes the range check packing does
                out.append(v)

        else:

            def lower_flat(v: Any, out: list[Any], allocs: list[int]) -> None:
                if type(v) is not float:
                    check(v)
                out.append(v)

        self.load = self.lift_flat = load
        self.store = store
        self.lower_flat = lower_flat

    def check(self, v: Any) -> None:
        if not isinstance(v, (float, int)):
            raise LowerTypeError(f"expected {self.wit} (float), got {_got(v)}")
        try:
            self._pack(v)
        except OverflowError:
            raise LowerOverflowError(f"expected {self.wit}, got {v!r} (out of range)") from None


class Bool(ValType):
    def __init__(self) -> None:
        self.wit = "bool"
        self.size = self.align = 1
        self.flat = ("i32",)
        self.annotation = bool
        check = self.check
        slot_i32 = _U32.unpack_from

        def load(mem: memoryview, ptr: int, frees: list[int]) -> bool:
            return mem[ptr] != 0

        def lift_flat(mem: memoryview, ptr: int, frees: list[int]) -> bool:
            return slot_i32(mem, ptr)[0] != 0

        def store(buf: bytearray, off: int, v: Any, allocs: list[int]) -> None:
            if type(v) is not bool:
                check(v)
            buf[off] = 1 if v else 0

        def lower_flat(v: Any, out: list[Any], allocs: list[int]) -> None:
            if type(v) is not bool:
                check(v)
            out.append(1 if v else 0)

        self.load, self.lift_flat, self.store, self.lower_flat = load, lift_flat, store, lower_flat

    def check(self, v: Any) -> None:
        if not isinstance(v, int):
            raise LowerTypeError(f"expected bool, got {_got(v)}")


def _lift_char(i: int) -> str:
    if i >= 0x110000 or 0xD800 <= i <= 0xDFFF:
        raise LiftError(f"invalid char U+{i:X} (not a Unicode scalar value)")
    return chr(i)


class Char(ValType):
    def __init__(self) -> None:
        self.wit = "char"
        self.size = self.align = 4
        self.flat = ("i32",)
        self.annotation = str
        check = self.check
        unpack_from = _U32.unpack_from
        pack_into = _U32.pack_into

        def load(mem: memoryview, ptr: int, frees: list[int]) -> str:
            return _lift_char(unpack_from(mem, ptr)[0])

        def store(buf: bytearray, off: int, v: Any, allocs: list[int]) -> None:
            check(v)
            pack_into(buf, off, ord(v))

        def lower_flat(v: Any, out: list[Any], allocs: list[int]) -> None:
            check(v)
            out.append(ord(v))

        self.load = self.lift_flat = load
        self.store, self.lower_flat = store, lower_flat

    def check(self, v: Any) -> None:
        if not isinstance(v, str) or len(v) != 1:
            raise LowerTypeError(f"expected char (str of length 1), got {_got(v)}")
        if 0xD800 <= ord(v) <= 0xDFFF:
            raise LowerValueError(f"expected char, got the lone surrogate U+{ord(v):X}")


class Buffer(ValType):
    """string and list<T>: (ptr, len) of a separate guest block."""

    #: put(value, allocs) -> (ptr, len): copies a value into a new guest block
    put: Callable[[Any, list[int]], tuple[int, int]]

    def __init__(self, wit: str, annotation: Any) -> None:
        self.wit = wit
        self.size = 8
        self.align = 4
        self.flat = ("i32", "i32")
        self.annotation = annotation

    def _compile(
        self,
        put: Callable[[Any, list[int]], tuple[int, int]],
        read: Callable[[memoryview, int, int, list[int]], Any],
    ) -> None:
        """put(value, allocs) -> (ptr, len) copies a value into guest memory;
        read(mem, ptr, len, frees) lifts one."""
        pair_into = _PAIR.pack_into
        pair_from = _PAIR.unpack_from
        slot_pair_from = _SLOT_PAIR.unpack_from

        def load(mem: memoryview, ptr: int, frees: list[int]) -> Any:
            p, n = pair_from(mem, ptr)
            return read(mem, p, n, frees)

        def lift_flat(mem: memoryview, ptr: int, frees: list[int]) -> Any:
            p, n = slot_pair_from(mem, ptr)
            return read(mem, p, n, frees)

        def store(buf: bytearray, off: int, v: Any, allocs: list[int]) -> None:
            p, n = put(v, allocs)
            pair_into(buf, off, p, n)

        def lower_flat(v: Any, out: list[Any], allocs: list[int]) -> None:
            out += put(v, allocs)

        self.put = put
        self.load, self.lift_flat, self.store, self.lower_flat = load, lift_flat, store, lower_flat


class _ByteBuffer(Buffer):
    """string and list<u8>: the buffer holds the value's bytes, and its
    length counts bytes. The hot paths (a bytes/str parameter, a bytes/str
    result) are written out without helper calls."""

    def _compile_bytes(
        self,
        raw: Optional[type],
        to_bytes: Callable[[Any], Any],
        explain: Callable[[Any, Exception], LowerError],
        decode: Callable[[memoryview], Any],
    ) -> None:
        """Values of exact type ``raw`` are their bytes; to_bytes(value) ->
        a bytes-like object for the others, raising TypeError/ValueError that
        explain(value, error) turns into the LowerError to raise;
        decode(view) -> value, which may raise UnicodeDecodeError."""
        wit = self.wit
        alloc, memory = _alloc, _memory
        pair_into, pair_from, slot_pair_from = _PAIR.pack_into, _PAIR.unpack_from, _SLOT_PAIR.unpack_from

        def put(v: Any, allocs: list[int]) -> tuple[int, int]:
            try:
                data = v if type(v) is raw else to_bytes(v)
            except (TypeError, ValueError) as e:
                raise explain(v, e) from None
            n = len(data)
            if n > MAX_STRING_BYTES:
                raise LowerOverflowError(f"{wit} of {n} bytes is too long")
            p = alloc(n, 1)
            allocs.append(p)
            memory()[p : p + n] = data
            return p, n

        def store(buf: bytearray, off: int, v: Any, allocs: list[int]) -> None:
            p, n = put(v, allocs)
            pair_into(buf, off, p, n)

        def lower_flat(v: Any, out: list[Any], allocs: list[int]) -> None:
            # put(), written out: this is every string/bytes parameter
            try:
                data = v if type(v) is raw else to_bytes(v)
            except (TypeError, ValueError) as e:
                raise explain(v, e) from None
            n = len(data)
            if n > MAX_STRING_BYTES:
                raise LowerOverflowError(f"{wit} of {n} bytes is too long")
            p = alloc(n, 1)
            allocs.append(p)
            memory()[p : p + n] = data
            out.append(p)
            out.append(n)

        def not_decodable(p: int, e: UnicodeDecodeError) -> LiftError:
            return LiftError(f"{wit} at 0x{p:x} is not UTF-8 ({e.reason} at byte {e.start})")

        def load(mem: memoryview, ptr: int, frees: list[int]) -> Any:
            p, n = pair_from(mem, ptr)
            if p + n > len(mem):
                _check_range(mem, p, n, wit)
            if p:
                frees.append(p)
            try:
                return decode(mem[p : p + n])
            except UnicodeDecodeError as e:
                raise not_decodable(p, e) from None

        def lift_flat(mem: memoryview, ptr: int, frees: list[int]) -> Any:
            p, n = slot_pair_from(mem, ptr)  # the only difference from load
            if p + n > len(mem):
                _check_range(mem, p, n, wit)
            if p:
                frees.append(p)
            try:
                return decode(mem[p : p + n])
            except UnicodeDecodeError as e:
                raise not_decodable(p, e) from None

        self.put = put
        self.load, self.lift_flat, self.store, self.lower_flat = load, lift_flat, store, lower_flat


class String(_ByteBuffer):
    def __init__(self) -> None:
        super().__init__("string", str)

        def explain(v: Any, error: Exception) -> LowerError:
            if isinstance(error, UnicodeEncodeError):
                return LowerValueError(f"string contains the lone surrogate at index {error.start}")
            return LowerTypeError(f"expected string (str), got {_got(v)}")

        # str.encode: UTF-8, UnicodeEncodeError on lone surrogates, TypeError
        # on anything but a str
        self._compile_bytes(None, str.encode, explain, partial(str, encoding="utf-8"))


def _sequence(v: Any, wit: str) -> Sequence[Any]:
    t = type(v)
    if t is list or t is tuple:
        return v
    if isinstance(v, Sequence) and not isinstance(v, (str, bytes, bytearray, memoryview)):
        return v
    raise LowerTypeError(f"expected {wit} (list), got {_got(v)}")


class Bytes(_ByteBuffer):
    """list<u8> as bytes; lowering also takes bytearray, memoryview and
    lists/tuples of ints."""

    def __init__(self, u8: Int) -> None:
        super().__init__("list<u8>", bytes)
        check_u8 = u8.check
        expected = "expected list<u8> (bytes, bytearray, memoryview or list of ints)"

        def to_bytes(v: Any) -> Any:
            if isinstance(v, (bytes, bytearray)):
                return v
            if isinstance(v, memoryview):
                return v.tobytes()
            if isinstance(v, (list, tuple)):
                return bytes(v)
            raise TypeError(expected)

        def explain(v: Any, error: Exception) -> LowerError:
            if isinstance(v, (list, tuple)):
                for i, x in enumerate(v):
                    try:
                        check_u8(x)
                    except LowerError as e:
                        return e.at(f"[{i}]")
            return LowerTypeError(f"{expected}, got {_got(v)}")

        self._compile_bytes(bytes, to_bytes, explain, memoryview.tobytes)


class List(Buffer):
    def __init__(self, elem: ValType) -> None:
        super().__init__(f"list<{elem.wit}>", list[elem.annotation])  # type: ignore[name-defined]
        self.elem = elem
        wit, esize, ealign = self.wit, elem.size, elem.align
        if elem.prim is not None:
            encode, decode = self._numbers(elem)
        else:
            encode, decode = self._generic(elem)

        def put(v: Any, allocs: list[int]) -> tuple[int, int]:
            seq = _sequence(v, wit)
            if len(seq) * esize >= 1 << 32:
                raise LowerOverflowError(f"list of {len(seq)} elements is too long")
            return copy_in(encode(seq, allocs), ealign, allocs), len(seq)

        def read(mem: memoryview, p: int, n: int, frees: list[int]) -> list[Any]:
            if p & (ealign - 1):
                raise LiftError(f"{wit} at 0x{p:x} is not aligned to {ealign}")
            _check_range(mem, p, n * esize, wit)
            if p:
                frees.append(p)
            return decode(mem, p, n, frees)

        self._compile(put, read)

    @staticmethod
    def _numbers(
        elem: ValType,
    ) -> tuple[Callable[[Sequence[Any], list[int]], bytes], Callable[[memoryview, int, int, list[int]], list[Any]]]:
        """Lists of ints or floats: one struct call for the whole list."""
        code = elem.prim

        def encode(seq: Sequence[Any], allocs: list[int]) -> bytes:
            try:
                return struct.pack(f"<{len(seq)}{code}", *seq)
            except (struct.error, TypeError, OverflowError):
                for i, x in enumerate(seq):
                    try:
                        elem.check(x)
                    except LowerError as e:
                        raise e.at(f"[{i}]") from None
                raise

        def decode(mem: memoryview, p: int, n: int, frees: list[int]) -> list[Any]:
            return list(struct.unpack_from(f"<{n}{code}", mem, p))

        return encode, decode

    @staticmethod
    def _generic(
        elem: ValType,
    ) -> tuple[Callable[[Sequence[Any], list[int]], bytearray], Callable[[memoryview, int, int, list[int]], list[Any]]]:
        esize = elem.size
        store_elem, load_elem = elem.store, elem.load

        def encode(seq: Sequence[Any], allocs: list[int]) -> bytearray:
            buf = bytearray(len(seq) * esize)
            off = 0
            for i, x in enumerate(seq):
                try:
                    store_elem(buf, off, x, allocs)
                except LowerError as e:
                    raise e.at(f"[{i}]")
                off += esize
            return buf

        def decode(mem: memoryview, p: int, n: int, frees: list[int]) -> list[Any]:
            if esize == 0:
                return [load_elem(mem, p, frees) for _ in range(n)]
            return [load_elem(mem, q, frees) for q in range(p, p + n * esize, esize)]

        return encode, decode


# Compound types live in _compound.py; it needs the names above, so it is
# imported last and its classes re-exported from here.
from ._compound import Enum, Flags, Option, Record, Result, Tuple, Variant  # noqa: E402


def primitive(kind: str) -> ValType:
    """The type of a primitive WIT kind ("u8", "string", ...)."""
    if kind in _INT_KINDS:
        return Int(kind)
    if kind in ("f32", "f64"):
        return Float(kind)
    if kind == "bool":
        return Bool()
    if kind == "char":
        return Char()
    if kind == "string":
        return String()
    raise ValueError(f"unknown primitive WIT type {kind!r}")


def list_of(elem: ValType) -> ValType:
    """list<T>; list<u8> maps to bytes."""
    if isinstance(elem, Int) and elem.wit == "u8":
        return Bytes(elem)
    return List(elem)


__all__ = [
    "MAX_FLAT_PARAMS",
    "MAX_FLAT_RESULTS",
    "SLOT_CODE",
    "ValType",
    "Int",
    "Float",
    "Bool",
    "Char",
    "String",
    "Buffer",
    "Bytes",
    "List",
    "Tuple",
    "Record",
    "Option",
    "Result",
    "Variant",
    "Enum",
    "Flags",
    "LowerError",
    "LowerTypeError",
    "LowerValueError",
    "LowerOverflowError",
    "LiftError",
    "primitive",
    "list_of",
    "align_to",
    "join",
    "record_layout",
    "discriminant_size",
    "flat_struct",
    "copy_in",
]
