"""Compound WIT types of the canonical ABI: tuples, records, variants (and
option/result), enums and flags. Split from :mod:`._canon` for size; that
module re-exports everything here, so import from it."""

from __future__ import annotations

import enum
import struct

from collections.abc import Callable, Sequence
from operator import attrgetter
from struct import Struct
from typing import Any, Optional

from ._canon import (  # noqa: F401 - shared helpers of the canonical ABI
    Err,
    LiftError,
    Load,
    LowerError,
    LowerFlat,
    LowerTypeError,
    LowerValueError,
    Ok,
    ResultAlias,
    SLOT_CODE,
    Some,
    Store,
    ValType,
    _U32,
    _got,
    align_to,
    discriminant_size,
    join,
    record_layout,
)


class _Fields(ValType):
    """Records and tuples: fields one after another, each aligned."""

    def _compile(
        self,
        types: Sequence[ValType],
        segments: Sequence[str],
        split: Callable[[Any], Sequence[Any]],
        make: Callable[[Sequence[Any]], Any],
    ) -> None:
        """split(value) -> field values (raising LowerTypeError); make(field values) -> value."""
        offsets, self.size, self.align = record_layout(types)
        self.flat = tuple(c for t in types for c in t.flat)
        self.types = list(types)
        self.offsets = offsets
        slot_offsets = []
        n = 0
        for t in types:
            slot_offsets.append(8 * n)
            n += len(t.flat)

        loads = [(t.load, off) for t, off in zip(types, offsets)]
        flat_loads = [(t.lift_flat, off) for t, off in zip(types, slot_offsets)]
        stores = [(t.store, off, seg) for t, off, seg in zip(types, offsets, segments)]
        flat_lowers = [(t.lower_flat, seg) for t, seg in zip(types, segments)]

        def load(mem: memoryview, ptr: int, frees: list[int]) -> Any:
            return make([f(mem, ptr + off, frees) for f, off in loads])

        def lift_flat(mem: memoryview, ptr: int, frees: list[int]) -> Any:
            return make([f(mem, ptr + off, frees) for f, off in flat_loads])

        def store(buf: bytearray, off: int, v: Any, allocs: list[int]) -> None:
            for (f, foff, seg), x in zip(stores, split(v)):
                try:
                    f(buf, off + foff, x, allocs)
                except LowerError as e:
                    raise e.at(seg)

        def lower_flat(v: Any, out: list[Any], allocs: list[int]) -> None:
            for (f, seg), x in zip(flat_lowers, split(v)):
                try:
                    f(x, out, allocs)
                except LowerError as e:
                    raise e.at(seg)

        self.load, self.lift_flat, self.store, self.lower_flat = load, lift_flat, store, lower_flat
        if types and all(t.prim is not None for t in types):
            self._compile_numbers(types, offsets, split, make)

    def _compile_numbers(
        self,
        types: Sequence[ValType],
        offsets: Sequence[int],
        split: Callable[[Any], Sequence[Any]],
        make: Callable[[Sequence[Any]], Any],
    ) -> None:
        """All fields are numbers: one Struct each way. Storing falls back to
        the field-by-field path only to explain a failure."""
        code = []
        end = 0
        for t, off in zip(types, offsets):
            code.append("x" * (off - end) + str(t.prim))
            end = off + t.size
        code.append("x" * (self.size - end))
        mem_struct = Struct("<" + "".join(code))
        unpack_from, pack_into = mem_struct.unpack_from, mem_struct.pack_into
        slot_unpack_from = Struct("<" + "".join(str(t.slot) for t in types)).unpack_from
        store_fields = self.store

        def load(mem: memoryview, ptr: int, frees: list[int]) -> Any:
            return make(unpack_from(mem, ptr))

        def lift_flat(mem: memoryview, ptr: int, frees: list[int]) -> Any:
            return make(slot_unpack_from(mem, ptr))

        def store(buf: bytearray, off: int, v: Any, allocs: list[int]) -> None:
            values = split(v)
            try:
                pack_into(buf, off, *values)
            except (struct.error, TypeError, OverflowError):
                store_fields(buf, off, v, allocs)  # raises the precise error

        self.load, self.lift_flat, self.store = load, lift_flat, store


class Tuple(_Fields):
    def __init__(self, types: Sequence[ValType]) -> None:
        self.wit = f"tuple<{', '.join(t.wit for t in types)}>"
        self.annotation = tuple[tuple(t.annotation for t in types)] if types else tuple[()]
        n = len(types)
        wit = self.wit

        def split(v: Any) -> Sequence[Any]:
            if (type(v) is tuple or isinstance(v, (tuple, list))) and len(v) == n:
                return v
            raise LowerTypeError(f"expected {wit} (tuple of {n}), got {_got(v)}")

        self._compile(types, [f"[{i}]" for i in range(n)], split, tuple)


class Record(_Fields):
    def __init__(self, wit: str, fields: Sequence[tuple[str, ValType]], cls: type) -> None:
        """fields: (Python attribute name, type); cls(*values) builds a value."""
        self.wit = wit
        self.annotation = cls
        self.cls = cls
        names = [name for name, _ in fields]
        expected = f"expected {wit} ({cls.__name__})"
        if len(names) >= 2:
            getter: Callable[[Any], Sequence[Any]] = attrgetter(*names)
        elif names:
            one = attrgetter(names[0])

            def getter(v: Any) -> Sequence[Any]:
                return (one(v),)

        else:

            def getter(v: Any) -> Sequence[Any]:
                return ()

        def split(v: Any) -> Sequence[Any]:
            try:
                return getter(v)
            except AttributeError:
                raise LowerTypeError(f"{expected}, got {_got(v)}") from None

        def make(values: Sequence[Any]) -> Any:
            return cls(*values)

        self._compile([t for _, t in fields], ["." + name for name in names], split, make)


class _Cases(ValType):
    """Variants after despecialization (variant, option, result): a
    discriminant, then the payload of the case at a common offset."""

    def _compile(
        self,
        payloads: Sequence[Optional[ValType]],
        makers: Sequence[Callable[[Any], Any]],
        classify: Callable[[Any], tuple[int, Any]],
        segments: Sequence[str],
    ) -> None:
        """makers[i](payload or None) -> value of case i; classify(value) ->
        (case index, payload), raising LowerTypeError; segments[i]: where the
        payload of case i is, for error paths."""
        n = len(payloads)
        disc = discriminant_size(n)
        max_align = max((t.align for t in payloads if t is not None), default=1)
        payload_off = align_to(disc, max_align)
        self.align = max(disc, max_align)
        self.size = align_to(payload_off + max((t.size for t in payloads if t is not None), default=0), self.align)
        self.payload_offset = payload_off
        self.payloads = list(payloads)
        joined: list[str] = []
        for t in payloads:
            for i, c in enumerate(t.flat if t is not None else ()):
                if i < len(joined):
                    joined[i] = join(joined[i], c)
                else:
                    joined.append(c)
        self.flat = ("i32", *joined)
        self._disc_struct = Struct("<" + {1: "B", 2: "H", 4: "I"}[disc])
        self._joined = joined
        self.load, self.lift_flat = self.readers(makers)
        self.store, self.lower_flat = self.writers(classify, segments)

    def writers(self, classify: Callable[[Any], tuple[int, Any]], segments: Sequence[str]) -> tuple[Store, LowerFlat]:
        """(store, lower_flat) of values that classify(value) splits into
        (case index, payload)."""
        payload_off = self.payload_offset
        disc_into = self._disc_struct.pack_into
        case_stores = [t.store if t is not None else None for t in self.payloads]
        case_lowers = [_case_flat_lowerer(t, self._joined) for t in self.payloads]

        def store(buf: bytearray, off: int, v: Any, allocs: list[int]) -> None:
            i, payload = classify(v)
            disc_into(buf, off, i)
            store_payload = case_stores[i]
            if store_payload is not None:
                try:
                    store_payload(buf, off + payload_off, payload, allocs)
                except LowerError as e:
                    raise e.at(segments[i])

        def lower_flat(v: Any, out: list[Any], allocs: list[int]) -> None:
            i, payload = classify(v)
            out.append(i)
            try:
                case_lowers[i](payload, out, allocs)
            except LowerError as e:
                raise e.at(segments[i])

        return store, lower_flat

    def readers(self, makers: Sequence[Callable[[Any], Any]]) -> tuple[Load, Load]:
        """(load, lift_flat) building case i's value with makers[i](payload)."""
        n = len(self.payloads)
        payload_off = self.payload_offset
        disc_from = self._disc_struct.unpack_from
        slot_i32 = _U32.unpack_from
        wit = self.wit
        case_loads = [_case_reader(t.load if t else None, make) for t, make in zip(self.payloads, makers)]
        case_lifts = [_case_reader(t.lift_flat if t else None, make) for t, make in zip(self.payloads, makers)]

        def bad_case(i: int) -> LiftError:
            return LiftError(f"{wit}: discriminant {i} out of range ({n} cases)")

        def load(mem: memoryview, ptr: int, frees: list[int]) -> Any:
            i = disc_from(mem, ptr)[0]
            if i >= n:
                raise bad_case(i)
            return case_loads[i](mem, ptr + payload_off, frees)

        def lift_flat(mem: memoryview, ptr: int, frees: list[int]) -> Any:
            i = slot_i32(mem, ptr)[0]
            if i >= n:
                raise bad_case(i)
            return case_lifts[i](mem, ptr + 8, frees)

        return load, lift_flat


def _case_reader(read: Optional[Load], make: Callable[[Any], Any]) -> Load:
    """Lifts one case: make(payload read at ptr), or make(None) without payload."""
    if read is None:

        def read_empty(mem: memoryview, ptr: int, frees: list[int]) -> Any:
            return make(None)

        return read_empty
    if make is _identity:
        return read
    read_payload_value: Load = read

    def read_payload(mem: memoryview, ptr: int, frees: list[int]) -> Any:
        return make(read_payload_value(mem, ptr, frees))

    return read_payload


def _case_flat_lowerer(t: Optional[ValType], joined: Sequence[str]) -> LowerFlat:
    """Appends a case's flat payload as the variant's joined slots: coerced
    where the joined type differs (f32 -> i32/i64 bits, f64 -> i64 bits),
    zeros in the slots this case does not use."""
    own = t.flat if t is not None else ()
    padding = (0,) * (len(joined) - len(own))
    if t is None:

        def lower_empty(payload: Any, out: list[Any], allocs: list[int]) -> None:
            out += padding

        return lower_empty

    lower = t.lower_flat
    # An i32 value is already a valid i64 one (zero-extended); floats in
    # integer slots need their bits.
    if all(c == j or (c, j) == ("i32", "i64") for c, j in zip(own, joined)):

        def lower_direct(payload: Any, out: list[Any], allocs: list[int]) -> None:
            lower(payload, out, allocs)
            out += padding

        return lower_direct

    as_own = Struct("<" + "".join(SLOT_CODE[c] for c in own)).pack
    as_joined = Struct("<" + "".join(SLOT_CODE[j] for j in joined[: len(own)])).unpack

    def lower_coerced(payload: Any, out: list[Any], allocs: list[int]) -> None:
        values: list[Any] = []
        lower(payload, values, allocs)
        out += as_joined(as_own(*values))
        out += padding

    return lower_coerced


def _identity(x: Any) -> Any:
    return x


def _none(_: Any) -> None:
    return None


class Option(_Cases):
    """option<T>: None or the value; Some(x) for the some case when T is
    itself an option."""

    def __init__(self, elem: ValType) -> None:
        self.wit = f"option<{elem.wit}>"
        self.elem = elem
        nested = isinstance(elem, Option)
        wit = self.wit
        none = (0, None)
        if nested:
            self.annotation = Optional[Some[elem.annotation]]  # type: ignore[name-defined]

            def classify(v: Any) -> tuple[int, Any]:
                if v is None:
                    return none
                if isinstance(v, Some):
                    return 1, v.value
                raise LowerTypeError(f"expected {wit} (None or Some(...)), got {_got(v)}")

            self._compile([None, elem], [_none, Some], classify, ["", ".value"])
        else:
            self.annotation = Optional[elem.annotation]

            def classify(v: Any) -> tuple[int, Any]:
                return none if v is None else (1, v)

            self._compile([None, elem], [_none, _identity], classify, ["", ""])


class Result(_Cases):
    """result<T, E> as data: Ok(value) or Err(value)."""

    def __init__(self, ok: Optional[ValType], err: Optional[ValType]) -> None:
        ok_wit = ok.wit if ok is not None else "_"
        if err is None:
            self.wit = "result" if ok is None else f"result<{ok_wit}>"
        else:
            self.wit = f"result<{ok_wit}, {err.wit}>"
        self.ok, self.err = ok, err
        self.annotation = ResultAlias[ok.annotation if ok else None, err.annotation if err else None]  # type: ignore[misc]
        wit = self.wit

        def classify(v: Any) -> tuple[int, Any]:
            t = type(v)
            if t is Ok:
                return 0, v.value
            if t is Err:
                return 1, v.value
            if isinstance(v, Ok):
                return 0, v.value
            if isinstance(v, Err):
                return 1, v.value
            raise LowerTypeError(f"expected {wit} (Ok(...) or Err(...)), got {_got(v)}")

        self._compile([ok, err], [Ok, Err], classify, [".value", ".value"])
        # A function's top-level result: lifted to the ok value or Err(e)
        # raised; lowered from (0, ok value) or (1, error value).
        self.unwrapped_readers = self.readers([_identity, _raise_err])
        self.unwrapped_writers = self.writers(_identity, ["", ""])


def _raise_err(value: Any) -> Any:
    raise Err(value)


class Variant(_Cases):
    """A named variant: one class per case, holding ``value`` when the case
    has a payload."""

    def __init__(self, wit: str, cases: Sequence[tuple[Optional[ValType], type]], annotation: Any) -> None:
        self.wit = wit
        self.annotation = annotation
        self.classes = [cls for _, cls in cases]
        index = {cls: i for i, (_, cls) in enumerate(cases)}
        has_payload = [t is not None for t, _ in cases]
        expected = f"expected {wit} ({' | '.join(cls.__name__ for _, cls in cases)})"

        def classify(v: Any) -> tuple[int, Any]:
            i = index.get(type(v))
            if i is None:
                for cls, j in index.items():
                    if isinstance(v, cls):
                        i = j
                        break
                else:
                    raise LowerTypeError(f"{expected}, got {_got(v)}")
            return i, (v.value if has_payload[i] else None)

        makers = [cls if t is not None else _constructor(cls) for t, cls in cases]
        self._compile([t for t, _ in cases], makers, classify, [".value"] * len(cases))


def _constructor(cls: type) -> Callable[[Any], Any]:
    def make(_: Any) -> Any:
        return cls()

    return make


class Enum(ValType):
    """An enum: members of an enum.Enum whose values are the case indices."""

    def __init__(self, wit: str, cls: type[enum.Enum]) -> None:
        members = list(cls)
        n = len(members)
        self.wit = wit
        self.cls = cls
        self.annotation = cls
        self.size = self.align = discriminant_size(n)
        self.flat = ("i32",)
        disc = Struct("<" + {1: "B", 2: "H", 4: "I"}[self.size])
        disc_from, disc_into = disc.unpack_from, disc.pack_into
        slot_i32 = _U32.unpack_from
        check = self.check

        def member(i: int) -> enum.Enum:
            if i >= n:
                raise LiftError(f"{wit}: discriminant {i} out of range ({n} cases)")
            return members[i]

        def load(mem: memoryview, ptr: int, frees: list[int]) -> enum.Enum:
            return member(disc_from(mem, ptr)[0])

        def lift_flat(mem: memoryview, ptr: int, frees: list[int]) -> enum.Enum:
            return member(slot_i32(mem, ptr)[0])

        def store(buf: bytearray, off: int, v: Any, allocs: list[int]) -> None:
            if type(v) is not cls:
                check(v)
            disc_into(buf, off, v.value)

        def lower_flat(v: Any, out: list[Any], allocs: list[int]) -> None:
            if type(v) is not cls:
                check(v)
            out.append(v.value)

        self.load, self.lift_flat, self.store, self.lower_flat = load, lift_flat, store, lower_flat

    def check(self, v: Any) -> None:
        if not isinstance(v, self.cls):
            raise LowerTypeError(f"expected {self.wit} ({self.cls.__name__}), got {_got(v)}")


class Flags(ValType):
    """flags: an enum.Flag (or a plain int of its bits). Stored in 1 byte
    (<= 8 flags), 2 bytes (<= 16) or ceil(n/32) u32 words, flattened to one
    i32 per word."""

    def __init__(self, wit: str, cls: type[enum.Flag], nflags: int) -> None:
        # Zero flags (which WIT rejects) get one byte and one word, as the
        # host's layout.c does, rather than CanonicalABI.md's nothing.
        words = max(1, (nflags + 31) // 32)
        self.wit = wit
        self.cls = cls
        self.annotation = cls
        self.size = 1 if nflags <= 8 else 2 if nflags <= 16 else 4 * words
        self.align = min(self.size, 4)
        self.flat = ("i32",) * words
        size = self.size
        mask = (1 << nflags) - 1
        slots_from = Struct("<" + "I4x" * words).unpack_from
        expected = f"expected {wit} ({cls.__name__} or int)"

        def bits(v: Any) -> int:
            if isinstance(v, cls):
                return int(v.value)
            if isinstance(v, int) and not isinstance(v, enum.Flag):
                if v < 0 or v & ~mask:
                    raise LowerValueError(f"{expected}, got {v:#x} (bits outside its {nflags} flags)")
                return int(v)
            raise LowerTypeError(f"{expected}, got {_got(v)}")

        def make(i: int) -> Any:
            return cls(i & mask) if nflags else 0

        def load(mem: memoryview, ptr: int, frees: list[int]) -> Any:
            return make(int.from_bytes(mem[ptr : ptr + size], "little"))

        def lift_flat(mem: memoryview, ptr: int, frees: list[int]) -> Any:
            i = 0
            for k, word in enumerate(slots_from(mem, ptr)):
                i |= word << (32 * k)
            return make(i)

        def store(buf: bytearray, off: int, v: Any, allocs: list[int]) -> None:
            buf[off : off + size] = bits(v).to_bytes(size, "little")

        def lower_flat(v: Any, out: list[Any], allocs: list[int]) -> None:
            i = bits(v)
            for _ in range(words):
                out.append(i & 0xFFFFFFFF)
                i >>= 32

        self.load, self.lift_flat, self.store, self.lower_flat = load, lift_flat, store, lower_flat
