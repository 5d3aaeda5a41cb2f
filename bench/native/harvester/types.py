"""Value wrappers shared by every WIT world, as runtime/sdk/harvester/types.py
(pure Python there too: copied so the stub needs nothing from the runtime)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar, Union

__all__ = ["Some", "Ok", "Err", "Result"]

T = TypeVar("T")
E = TypeVar("E")


@dataclass(frozen=True)
class Some(Generic[T]):
    """The ``some`` case of a nested option."""

    value: T


@dataclass(frozen=True)
class Ok(Generic[T]):
    """The ``ok`` case of a ``result`` used as data."""

    value: T = None  # type: ignore[assignment]


class Err(Exception, Generic[E]):
    """The ``err`` case of a ``result``: raised by a failed import, raised
    by an exported method to return an error."""

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
