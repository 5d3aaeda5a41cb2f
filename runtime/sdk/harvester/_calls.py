"""Function calls across the sandbox boundary, per CanonicalABI.md's
``canon lower`` (a plugin calling an imported host function) and
``canon lift`` (the host calling a plugin's exported method).

Both are compiled once per function at bootstrap into a closure that does
only what that signature needs. The wire format (see ``_harvester``):

* parameters: one 8-byte slot per flat value, or, past
  :data:`~._canon.MAX_FLAT_PARAMS` flat values, one slot holding the
  address of the parameters stored as a tuple;
* result: one slot at ``ret`` when it flattens to at most one value, else
  the result in canonical layout (an import: at ``ret``; an export: in a
  block whose address goes in the slot at ``ret``).
"""

from __future__ import annotations

import inspect
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from struct import Struct
from typing import Any, Optional

import _harvester

from ._canon import (
    MAX_FLAT_PARAMS,
    MAX_FLAT_RESULTS,
    SLOT_CODE,
    Buffer,
    LiftError,
    LowerError,
    Result,
    ValType,
    record_layout,
)
from .types import Err

_ADDRESS_SLOT = Struct("<I4x")  # an i32 address as one flat slot


@dataclass(frozen=True)
class Param:
    name: str  #: the Python name, used in messages
    type: ValType


class ReturnAreas:
    """Guest blocks the host writes import results into, reused across
    calls (a pool, so a nested call never shares one)."""

    def __init__(self, size: int) -> None:
        self.size = max(8, size)
        self.idle: list[int] = []

    def release(self) -> None:
        while self.idle:
            _harvester.free(self.idle.pop())


ArgsLowerer = Callable[[Sequence[Any], list[int]], bytes]
ArgsLifter = Callable[[memoryview, int, list[int]], Sequence[Any]]


def _lower_params(where: str, params: Sequence[Param]) -> ArgsLowerer:
    """args, allocs -> the ``invoke`` argument bytes."""
    nflat = sum(len(p.type.flat) for p in params)
    if nflat > MAX_FLAT_PARAMS:
        return _spill_params(where, params)

    def explain(args: Sequence[Any], error: Exception) -> Exception:
        """The precise error for a failed pack of unchecked parameters."""
        for p, a in zip(params, args):
            if p.type.fast is not None:
                try:
                    p.type.check(a)
                except LowerError as e:
                    return e.located(f"{where}: {p.name}")
        return TypeError(f"{where}: {error}")

    if all(p.type.fast is not None for p in params):
        # Only numbers: struct checks and packs them in one call.
        pack_numbers = Struct("<" + "".join(str(p.type.fast) for p in params)).pack

        def lower_numbers(args: Sequence[Any], allocs: list[int]) -> bytes:
            try:
                return pack_numbers(*args)
            except (struct.error, TypeError, OverflowError) as e:
                raise explain(args, e) from None

        return lower_numbers

    # Numbers go into the pack as they are; each other param is replaced by
    # its flat values, last first so that the earlier indices still hold.
    pack = Struct("<" + "".join(p.type.fast or "".join(SLOT_CODE[c] for c in p.type.flat) for p in params)).pack
    plan = [(i, p.name, _values_lowerer(p.type)) for i, p in enumerate(params) if p.type.fast is None]
    plan.reverse()

    def lower(args: Sequence[Any], allocs: list[int]) -> bytes:
        values = list(args)
        for i, name, lower_values in plan:
            try:
                values[i : i + 1] = lower_values(values[i], allocs)
            except LowerError as e:
                raise e.located(f"{where}: {name}") from None
        try:
            return pack(*values)
        except (struct.error, TypeError, OverflowError) as e:
            raise explain(args, e) from None

    return lower


def _values_lowerer(t: ValType) -> Callable[[Any, list[int]], Sequence[Any]]:
    """value, allocs -> the value's flat values."""
    if isinstance(t, Buffer):
        return t.put  # (ptr, len)
    lower_flat = t.lower_flat

    def lower_values(v: Any, allocs: list[int]) -> Sequence[Any]:
        out: list[Any] = []
        lower_flat(v, out, allocs)
        return out

    return lower_values


def _spill_params(where: str, params: Sequence[Param]) -> ArgsLowerer:
    """Too many flat values: the params as a tuple in a guest block."""
    offsets, size, align = record_layout([p.type for p in params])
    plan = [(p.name, p.type.store, off) for p, off in zip(params, offsets)]
    alloc, memory = _harvester.alloc, _harvester.memory
    address_slot = _ADDRESS_SLOT.pack

    def lower_spilled(args: Sequence[Any], allocs: list[int]) -> bytes:
        buf = bytearray(size)
        for (name, store, off), a in zip(plan, args):
            try:
                store(buf, off, a, allocs)
            except LowerError as e:
                raise e.located(f"{where}: {name}") from None
        block = alloc(size, align)
        allocs.append(block)
        memory()[block : block + size] = buf
        return address_slot(block)

    return lower_spilled


def make_import(
    *,
    where: str,
    target: str,
    params: Sequence[Param],
    result: Optional[ValType],
    areas: ReturnAreas,
    signature: inspect.Signature,
) -> Callable[..., Any]:
    """The Python function for an imported host function.

    where: "module.function" for messages; target: "interface#function",
    resolved by the host on first call. A ``result<T, E>`` result is
    returned as T, or raised as Err(e).
    """
    memory, alloc, free = _harvester.memory, _harvester.alloc, _harvester.free
    invoke, resolve = _harvester.invoke, _harvester.resolve
    nparams = len(params)
    lower_args = _lower_params(where, params)
    lift: Optional[Callable[[memoryview, int, list[int]], Any]] = None
    if result is not None:
        load, lift_flat = result.unwrapped_readers if isinstance(result, Result) else (result.load, result.lift_flat)
        lift = lift_flat if len(result.flat) <= MAX_FLAT_RESULTS else load
    idle_areas, area_size = areas.idle, areas.size
    fid = -1

    def call(*args: Any, **kwargs: Any) -> Any:
        nonlocal fid
        if kwargs or len(args) != nparams:
            args = signature.bind(*args, **kwargs).args
        if fid < 0:
            fid = resolve(target)  # PermissionError / LookupError from the host
        allocs: list[int] = []
        try:
            data = lower_args(args, allocs)
            if lift is None:
                invoke(fid, data, 0)
                return None
            ret = idle_areas.pop() if idle_areas else alloc(area_size, 8)
            try:
                invoke(fid, data, ret)
                frees: list[int] = []
                try:
                    value = lift(memory(), ret, frees)
                except LiftError as e:
                    raise LiftError(f"{where}: result: {e}") from None
                finally:
                    for block in frees:
                        free(block)
            finally:
                idle_areas.append(ret)
        finally:
            for block in allocs:
                free(block)
        return value

    return call


def _lift_params(params: Sequence[Param]) -> tuple[int, ArgsLifter]:
    """(number of argument slots, mem, args, frees -> argument values)."""
    types = [p.type for p in params]
    nflat = sum(len(t.flat) for t in types)
    if nflat > MAX_FLAT_PARAMS:
        offsets, _, _ = record_layout(types)
        loads = [(t.load, off) for t, off in zip(types, offsets)]
        address_from = _ADDRESS_SLOT.unpack_from

        def lift_spilled(mem: memoryview, args: int, frees: list[int]) -> Sequence[Any]:
            block = address_from(mem, args)[0]
            frees.append(block)
            return [load(mem, block + off, frees) for load, off in loads]

        return 1, lift_spilled

    if all(t.slot is not None and t.prim is not None for t in types):
        # Only numbers: one unpack gives the arguments.
        unpack_from = Struct("<" + "".join(str(t.slot) for t in types)).unpack_from

        def lift_numbers(mem: memoryview, args: int, frees: list[int]) -> Sequence[Any]:
            return unpack_from(mem, args)

        return nflat, lift_numbers

    plan = []
    slot = 0
    for t in types:
        plan.append((t.lift_flat, 8 * slot))
        slot += len(t.flat)

    def lift(mem: memoryview, args: int, frees: list[int]) -> Sequence[Any]:
        return [lift_flat(mem, args + off, frees) for lift_flat, off in plan]

    return nflat, lift


def make_export(
    *,
    where: str,
    params: Sequence[Param],
    result: Optional[ValType],
    method: Callable[..., Any],
    pending: list[int],
) -> Callable[[int, int, int], None]:
    """The handler ``_dispatch`` calls for an exported function.

    where: "Class.method" for messages; pending: where the result's guest
    blocks wait for ``_post_return``. For a ``result<T, E>`` result the
    method returns T, or raises Err(e).
    """
    memory, alloc, free = _harvester.memory, _harvester.alloc, _harvester.free
    nslots, lift_args = _lift_params(params)
    wrap_result = isinstance(result, Result)

    def lift(args: int, nargs: int) -> Sequence[Any]:
        if nargs != nslots:
            raise ValueError(f"{where}: expected {nslots} argument slots, got {nargs}")
        frees: list[int] = []
        try:
            return lift_args(memory(), args, frees)
        except LiftError as e:
            raise LiftError(f"{where}: arguments: {e}") from None
        finally:
            for block in frees:
                free(block)

    def call(values: Sequence[Any]) -> Any:
        if not wrap_result:
            return method(*values)
        try:
            return 0, method(*values)  # see Result.unwrapped_writers
        except Err as e:
            return 1, e.value

    if result is None:

        def handle_no_result(args: int, nargs: int, ret: int) -> None:
            call(lift(args, nargs))

        return handle_no_result

    store, lower_flat = result.unwrapped_writers if isinstance(result, Result) else (result.store, result.lower_flat)
    if len(result.flat) <= MAX_FLAT_RESULTS:
        # A number (or enum/flags...): never allocates.
        pack_into = Struct("<" + "".join(SLOT_CODE[c] for c in result.flat)).pack_into

        def handle_flat(args: int, nargs: int, ret: int) -> None:
            value = call(lift(args, nargs))
            values: list[Any] = []
            try:
                lower_flat(value, values, [])  # one flat value: nothing to allocate
            except LowerError as e:
                raise e.located(f"{where}: result") from None
            pack_into(memory(), ret, *values)

        return handle_flat

    size, align = result.size, result.align
    address_into = _ADDRESS_SLOT.pack_into

    def handle(args: int, nargs: int, ret: int) -> None:
        value = call(lift(args, nargs))
        buf = bytearray(size)
        allocs: list[int] = []
        try:
            store(buf, 0, value, allocs)
            block = alloc(size, align)
            allocs.append(block)
            mem = memory()
            mem[block : block + size] = buf
            address_into(mem, ret, block)
        except LowerError as e:
            _free_all(allocs)
            raise e.located(f"{where}: result") from None
        except BaseException:
            _free_all(allocs)
            raise
        pending.extend(allocs)

    return handle


def _free_all(blocks: list[int]) -> None:
    free = _harvester.free
    for block in blocks:
        free(block)
