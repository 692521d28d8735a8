"""Typed access to a request's arguments; every check raises InvalidArgumentError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ..wire.defs import KdfType, KeyType
from ..wire.errors import InvalidArgumentError, InvalidSlotError

_MISSING = object()
T = TypeVar("T")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def bounded_int(name: str, value: Any, *, min: int | None = None, max: int | None = None) -> int:
    """``value`` if it is an integer (not a bool) within ``min..max``, which default to the int64
    range: every integer the module takes fits SQLite and C, and its message never shows a huge
    number.

    :raises InvalidArgumentError: naming the argument and the range (:class:`InvalidSlotError`
        for an argument named ``slot`` or ``*_slot``: a slot number).
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgumentError(f"argument {name!r} must be an integer")
    low = INT64_MIN if min is None else min
    high = INT64_MAX if max is None else max
    if not low <= value <= high:
        error = InvalidSlotError if name == "slot" or name.endswith("_slot") else InvalidArgumentError
        raise error(f"argument {name!r} is out of range ({low}..{high})")
    return value


class Args:
    """A request's argument map with explicit, typed getters."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def values(self) -> dict[str, Any]:
        """Every argument as given (for handlers that pass a set of options through)."""
        return dict(self._values)

    def has(self, name: str) -> bool:
        """Whether ``name`` was given (and not null)."""
        return self._values.get(name) is not None

    def optional(self, getter: Callable[[str], T], name: str) -> T | None:
        """``getter(name)`` (one of the typed getters) if ``name`` was given, else None."""
        return getter(name) if self.has(name) else None

    def _get(self, name: str, default: Any) -> Any:
        value = self._values.get(name, _MISSING)
        if value is _MISSING or value is None:
            if default is _MISSING:
                raise InvalidArgumentError(f"argument {name!r} is required")
            return default
        return value

    def int(self, name: str, default: Any = _MISSING, *, min: int | None = None, max: int | None = None) -> int:
        """An integer within ``min..max`` (by default the int64 range), see :func:`bounded_int`."""
        return bounded_int(name, self._get(name, default), min=min, max=max)

    def float(self, name: str, default: Any = _MISSING) -> float:
        value = self._get(name, default)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise InvalidArgumentError(f"argument {name!r} must be a number")
        try:
            return float(value)
        except OverflowError:
            raise InvalidArgumentError(f"argument {name!r} is out of range") from None

    def bool(self, name: str, default: Any = _MISSING) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise InvalidArgumentError(f"argument {name!r} must be a boolean")
        return value

    def bytes(self, name: str, default: Any = _MISSING, *, max: int | None = None, size: int | None = None) -> bytes:
        value = self._get(name, default)
        if not isinstance(value, (bytes, bytearray)):
            raise InvalidArgumentError(f"argument {name!r} must be bytes")
        if (max is not None and len(value) > max) or (size is not None and len(value) != size):
            raise InvalidArgumentError(f"argument {name!r} has the wrong length")
        return bytes(value)

    def str(self, name: str, default: Any = _MISSING, *, max: int = 256) -> str:
        value = self._get(name, default)
        if not isinstance(value, str) or len(value) > max:
            raise InvalidArgumentError(f"argument {name!r} must be text of at most {max} characters")
        return value

    def list(self, name: str, default: Any = _MISSING, *, max: int = 4096) -> list[Any]:
        value = self._get(name, default)
        if not isinstance(value, list) or len(value) > max:
            raise InvalidArgumentError(f"argument {name!r} must be a list of at most {max} items")
        return value

    def key_type(self, name: str = "key_type") -> KeyType:
        value = self._get(name, _MISSING)
        try:
            if isinstance(value, bool):
                raise ValueError
            return KeyType.parse(value)
        except (ValueError, TypeError, AttributeError):
            raise InvalidArgumentError(f"argument {name!r} is not a key type") from None

    def kdf(self, name: str = "kdf") -> KdfType:
        value = self._get(name, KdfType.NONE)
        try:
            if isinstance(value, bool):
                raise ValueError
            return KdfType.parse(value)
        except (ValueError, TypeError, AttributeError):
            raise InvalidArgumentError(f"argument {name!r} is not a KDF") from None
