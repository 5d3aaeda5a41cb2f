"""Imported WIT interfaces, one module per interface (``harvester.imports.i2c``),
filled in by ``harvester._bootstrap``: the interface's functions (the host's
capabilities) and the types it declares or uses."""
