"""Value wrappers shared by every WIT world.

* ``Some(x)``: the *some* case of an ``option<T>`` whose ``T`` is itself an
  option, so that ``none``, ``some(none)`` and ``some(some(x))`` stay apart
  (``None``, ``Some(None)``, ``Some(x)``). Any other ``option<T>`` is just
  ``T | None``.
* ``Ok(x)`` / ``Err(x)``: a ``result<T, E>`` wherever it appears as data
  (record fields, list elements, parameters...). At the top level of a
  function result the SDK unwraps it instead: an imported function returns
  the ok value and raises ``Err(e)``; an exported method returns the ok
  value and raises ``Err(e)`` to return the error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar, Union

__all__ = ["Some", "Ok", "Err", "Result"]

T = TypeVar("T")
E = TypeVar("E")


@dataclass(frozen=True)
class Some(Generic[T]):
    """The ``some`` case of a nested option: ``option<option<u8>>`` is
    ``None | Some[int | None]``."""

    value: T


@dataclass(frozen=True)
class Ok(Generic[T]):
    """The ``ok`` case of a ``result`` used as data."""

    value: T = None  # type: ignore[assignment]  # result<_, E> has no payload


class Err(Exception, Generic[E]):
    """The ``err`` case of a ``result``; raise it from an exported method to
    return an error, catch it around an imported call that failed."""

    value: E

    def __init__(self, value: E = None) -> None:  # type: ignore[assignment]
        super().__init__(value)
        self.value = value

    def __repr__(self) -> str:
        return f"Err({self.value!r})"

    def __str__(self) -> str:
        return str(self.value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Err):
            return NotImplemented
        return bool(self.value == other.value)

    def __hash__(self) -> int:
        return hash(("Err", self.value))


Result = Union[Ok[T], Err[E]]
"""A ``result<T, E>`` value used as data."""
