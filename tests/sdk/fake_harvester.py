"""A native stand-in for the runtime's ``_harvester`` module: the SDK
primitives with the same behaviour, over a bytearray as linear memory.

Install it before importing the SDK::

    import fake_harvester
    sys.modules["_harvester"] = fake_harvester

The "host" is a Python object the test sets with :func:`set_host`; its
``resolve(name)`` and ``invoke(fid, args, ret)`` play the C side and read or
write memory by hand (:func:`read`, :func:`write`, :func:`alloc`).

The allocator hands out 8-aligned blocks from a bump pointer, reuses freed
blocks of the same rounded size, fills new blocks with 0xCD and freed ones
with 0xDD (so reading uninitialised or freed memory shows), tracks live
blocks for leak checks and rejects double or foreign frees. Memory can grow
(:func:`grow`, or on every alloc with ``reset(grow_on_alloc=True)``): growing
replaces the bytearray, so a memoryview taken before a growth goes stale
exactly where the SDK forgot to call memory() again.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol

PAGE = 65536
HEAP_BASE = 0x1000  # address 0..HEAP_BASE is never handed out


class Host(Protocol):
    def resolve(self, name: str) -> int: ...

    def invoke(self, fid: int, args: bytes, ret: int) -> None: ...


class _State:
    def __init__(self, size: int, limit: int, grow_on_alloc: bool) -> None:
        self.mem = bytearray(size)
        self.view: Optional[memoryview] = None
        self.limit = limit
        self.grow_on_alloc = grow_on_alloc
        self.top = HEAP_BASE
        self.live: dict[int, int] = {}  # address -> rounded size
        self.idle: dict[int, list[int]] = {}  # rounded size -> freed addresses
        self.allocs = 0
        self.frees = 0
        self.growths = 0


_state = _State(4 << 20, 64 << 20, False)
_host: Optional[Host] = None


def reset(size: int = 4 << 20, limit: int = 64 << 20, grow_on_alloc: bool = False) -> None:
    """Fresh memory and allocator (and no host)."""
    global _state, _host
    _state = _State(size, limit, grow_on_alloc)
    _host = None


def set_host(host: Optional[Host]) -> None:
    global _host
    _host = host


# ---- the _harvester API ----------------------------------------------------


def memory() -> memoryview:
    """All of linear memory, writable; cached until memory grows."""
    if _state.view is None:
        _state.view = memoryview(_state.mem)
    return _state.view


def alloc(size: int, align: int) -> int:
    if type(size) is not int or type(align) is not int:
        raise TypeError("alloc(size: int, align: int)")
    if size < 0 or size >= 1 << 32:
        raise OverflowError(f"alloc: bad size {size}")
    if align not in (1, 2, 4, 8, 16):
        raise ValueError(f"bad alignment {align}")
    rounded = max(8, (size + 7) & ~7)
    idle = _state.idle.get(rounded)
    if idle:
        addr = idle.pop()
    else:
        addr = _state.top
        if addr + rounded > _state.limit:
            raise MemoryError(f"fake heap exhausted allocating {size} bytes")
        _state.top += rounded
        if _state.top > len(_state.mem):
            grow(_state.top - len(_state.mem))
    if _state.grow_on_alloc:
        grow(PAGE)
    _state.live[addr] = rounded
    _state.mem[addr : addr + rounded] = b"\xcd" * rounded
    _state.allocs += 1
    return addr


def free(addr: int) -> None:
    if type(addr) is not int:
        raise TypeError("free(addr: int)")
    if addr == 0:
        return  # free(NULL)
    rounded = _state.live.pop(addr, None)
    if rounded is None:
        raise RuntimeError(f"free of 0x{addr:x}, which is not a live block")
    _state.mem[addr : addr + rounded] = b"\xdd" * rounded
    _state.idle.setdefault(rounded, []).append(addr)
    _state.frees += 1


def resolve(name: str) -> int:
    if type(name) is not str:
        raise TypeError("resolve(name: str)")
    if _host is None:
        raise LookupError(f"no host: cannot resolve {name}")
    return _host.resolve(name)


def invoke(fid: int, args: Any, ret: int) -> None:
    if type(fid) is not int or type(ret) is not int:
        raise TypeError("invoke(fid: int, args: bytes, ret: int)")
    data = bytes(memoryview(args))  # the C side takes any buffer (y*)
    if len(data) % 8:
        raise ValueError(f"invoke: {len(data)} argument bytes is not a whole number of slots")
    if _host is None:
        raise OSError("no host")
    _host.invoke(fid, data, ret)


# ---- for tests -------------------------------------------------------------


def grow(nbytes: int) -> None:
    """memory.grow: a bigger bytearray; earlier memoryviews go stale."""
    pages = (nbytes + PAGE - 1) // PAGE
    bigger = bytearray(len(_state.mem) + pages * PAGE)
    bigger[: len(_state.mem)] = _state.mem
    _state.mem = bigger
    _state.view = None
    _state.growths += 1


def bump_to(addr: int) -> None:
    """Makes the next fresh block start at ``addr`` or above (it must lie
    inside memory, e.g. after :func:`grow`)."""
    if addr > len(_state.mem):
        raise ValueError(f"0x{addr:x} is outside memory")
    _state.top = max(_state.top, (addr + 7) & ~7)
    _state.idle.clear()


def read(addr: int, n: int) -> bytes:
    if addr < 0 or addr + n > len(_state.mem):
        raise IndexError(f"read of 0x{addr:x} + {n} outside memory")
    return bytes(_state.mem[addr : addr + n])


def write(addr: int, data: bytes) -> None:
    if addr < 0 or addr + len(data) > len(_state.mem):
        raise IndexError(f"write of 0x{addr:x} + {len(data)} outside memory")
    _state.mem[addr : addr + len(data)] = data


def live_blocks() -> dict[int, int]:
    """Address -> rounded size of every block not freed yet."""
    return dict(_state.live)


def is_live(addr: int) -> bool:
    return addr in _state.live


def stats() -> dict[str, int]:
    return {"allocs": _state.allocs, "frees": _state.frees, "growths": _state.growths, "live": len(_state.live)}
