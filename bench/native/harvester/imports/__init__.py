"""Imported WIT interfaces, one module per interface, as the real SDK's
bootstrap makes them (every interface of wit/plugin.wit is here, whatever
the plugin's world: the sandbox would refuse the ones outside it)."""
