"""A stub of the harvester SDK for benchmarks: the public surface plugins
use (``harvester.imports.*``, ``harvester.exports.*``, Ok/Err/Some), run by
native python3.11 against the simulated board of libhv_native.so.

The real SDK (runtime/sdk/harvester) builds these modules from the world
descriptor at bootstrap and checks every value crossing the sandbox; here
they are written out by hand for the worlds of wit/plugin.wit and call the
board's C functions through ctypes. Call ``harvester._native.setup()``
before importing a plugin's app.py.
"""

from . import exports, imports, types
from .types import Err, Ok, Some


class LowerError(Exception):
    """A value that cannot cross the boundary (the real SDK's name)."""


class LiftError(ValueError):
    """A value from the host that cannot be lifted (the real SDK's name)."""


__all__ = ["Ok", "Err", "Some", "LowerError", "LiftError", "types", "imports", "exports"]
