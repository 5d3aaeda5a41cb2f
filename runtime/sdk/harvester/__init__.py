"""harvester: the Python SDK of harvester plugins.

A plugin is an ``app.py`` implementing its WIT world. The host calls
``harvester._bootstrap(descriptor)`` once; after that::

    from harvester.imports import i2c           # imported interfaces: typed functions
    from harvester.exports import bme680_logic  # exported interfaces: their types
    from harvester import Err                   # Ok, Err, Some: see harvester.types

    class Bme680Logic:                          # one class per exported interface
        def poll(self) -> list[bme680_logic.Bme680Reading]:
            chip_id = i2c.transfer_bytes(0x77, b"\\xd0", 1)  # raises Err(msg) on error
            ...

WIT names become Python names: ``read-dht22`` -> ``read_dht22`` (functions,
parameters, fields, modules), ``bme680-reading`` -> ``Bme680Reading``
(types), enum/flags cases -> ``UPPER_SNAKE`` members. Values are checked
when they cross the boundary; a bad one raises TypeError, ValueError or
OverflowError naming the function and parameter.

Everything underscored is the host's interface: ``_bootstrap``,
``_dispatch`` and ``_post_return``.
"""

from . import exports, imports, types
from ._bind import bootstrap as _bootstrap
from ._bind import dispatch as _dispatch
from ._bind import post_return as _post_return
from ._canon import LiftError, LowerError
from .types import Err, Ok, Some

__all__ = ["Ok", "Err", "Some", "LowerError", "LiftError", "types", "imports", "exports"]
