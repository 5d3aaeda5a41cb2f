"""WIT interface ``config``: the plugin's [plugins.NAME] table."""

from __future__ import annotations

import json
from typing import Any, Optional

#: set by harvester._native.setup
table: dict[str, Any] = {}


def get(key: str) -> Optional[str]:
    """config.get: func(key: string) -> option<string> (the value as JSON text)"""
    if not isinstance(key, str):
        raise TypeError(f"config.get: key: expected str, got {type(key).__name__}")
    if key not in table:
        return None
    return json.dumps(table[key], separators=(",", ":"), ensure_ascii=False)
