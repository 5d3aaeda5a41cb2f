"""WIT interface ``sensor-logic``: uses types.{reading}."""

from ..imports.types import Reading

__all__ = ["Reading"]
