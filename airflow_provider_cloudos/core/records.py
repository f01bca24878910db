"""Value classes without :mod:`dataclasses`, which would be half of the core's import time.

``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis`` and ``tokenize``): about 7 ms,
paid by every worker and DAG file that imports the core (see BENCHMARKS.md). The core's specs,
filters and watches need little of it, and these two bases give exactly that, the way a dataclass
does: equality between instances of the same class, a ``Name(field=value, ...)`` repr, and for a
:class:`FrozenRecord` a hash by value and no assignment after construction.

A subclass names its fields in ``__slots__``, in constructor order (repr, equality and hash
follow it), names the constructor's parameters in ``__match_args__`` (as a dataclass does; for a
frozen record they are the same tuple) and writes its own ``__init__``, so the signature stays
explicit and type-checked.
"""

from __future__ import annotations

from typing import Any


class Record:
    """Equality and repr over the fields named in ``__slots__``; unhashable, like a mutable dataclass."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__ or not isinstance(other, Record):
            return NotImplemented
        return self._values() == other._values()

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__qualname__}({fields})"


class FrozenRecord(Record):
    """A :class:`Record` that cannot change once made, and so hashes by value.

    ``__init__`` sets the fields with :meth:`_init_fields`; any later assignment or deletion
    raises :class:`dataclasses.FrozenInstanceError` (an ``AttributeError``), as a frozen
    dataclass does.
    """

    __slots__ = ()

    def _init_fields(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise _frozen_error(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise _frozen_error(f"cannot delete field {name!r}")

    def __hash__(self) -> int:
        return hash(self._values())

    # pickle and copy restore the fields through these, since assignment is refused.
    def __getstate__(self) -> dict[str, Any]:
        return dict(zip(self.__slots__, self._values(), strict=True))

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._init_fields(**state)


def _frozen_error(message: str) -> AttributeError:
    """The frozen dataclass's own error, so code that catches it keeps working.

    Imported only on this error path (a bug), never when the core is imported.
    """
    from dataclasses import FrozenInstanceError

    return FrozenInstanceError(message)


__all__ = ["FrozenRecord", "Record"]
