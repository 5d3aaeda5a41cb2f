"""Exported WIT interfaces, filled in by ``harvester._bootstrap``: one module
per interface with its types (``harvester.exports.bme680_logic``), and an
optional base class per interface (``harvester.exports.Bme680Logic``) whose
methods raise NotImplementedError."""
