"""Attribute values as bytes, the way C sees them: CK_BBOOL is one byte, CK_ULONG a native
``unsigned long``, arrays of CK_ULONG packed natively; everything else is a byte string."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator

from .constants import CKA, CKR
from .errors import Pkcs11Error

_ULONG = struct.Struct("@L")
TRUE, FALSE = b"\x01", b"\x00"


def boolean(value: bool) -> bytes:
    return TRUE if value else FALSE


def ulong(value: int) -> bytes:
    return _ULONG.pack(value)


def ulong_array(values: Iterable[int]) -> bytes:
    return b"".join(_ULONG.pack(v) for v in values)


ULONG_SIZE = _ULONG.size


class Template:
    """An attribute template (type -> value bytes), with typed readers.

    Every reader raises :class:`Pkcs11Error` with ``CKR_ATTRIBUTE_VALUE_INVALID`` for a value of the
    wrong size; :meth:`check_known` rejects attribute types this module does not know.
    """

    def __init__(self, items: Iterable[tuple[int, bytes]]) -> None:
        self.values: dict[int, bytes] = {}
        for kind, value in items:
            if kind in self.values and self.values[kind] != value:
                raise Pkcs11Error(CKR.TEMPLATE_INCONSISTENT)
            self.values[kind] = value

    def __contains__(self, kind: int) -> bool:
        return kind in self.values

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        return iter(self.values.items())

    def bytes(self, kind: CKA) -> bytes | None:
        return self.values.get(kind)

    def bool(self, kind: CKA, default: bool) -> bool:
        value = self.values.get(kind)
        if value is None:
            return default
        if len(value) != 1:
            raise Pkcs11Error(CKR.ATTRIBUTE_VALUE_INVALID)
        return value != FALSE

    def ulong(self, kind: CKA) -> int | None:
        value = self.values.get(kind)
        if value is None:
            return None
        if len(value) != ULONG_SIZE:
            raise Pkcs11Error(CKR.ATTRIBUTE_VALUE_INVALID)
        return int(_ULONG.unpack(value)[0])

    def check_known(self, allowed: frozenset[int]) -> None:
        """:raises Pkcs11Error: ``CKR_ATTRIBUTE_TYPE_INVALID`` for a type outside ``allowed``."""
        for kind in self.values:
            if kind not in allowed:
                raise Pkcs11Error(CKR.ATTRIBUTE_TYPE_INVALID)

    def expect(self, kind: CKA, value: int) -> None:
        """A CK_ULONG attribute, if present, must equal ``value``.

        :raises Pkcs11Error: ``CKR_TEMPLATE_INCONSISTENT`` if it does not.
        """
        given = self.ulong(kind)
        if given is not None and given != value:
            raise Pkcs11Error(CKR.TEMPLATE_INCONSISTENT)
