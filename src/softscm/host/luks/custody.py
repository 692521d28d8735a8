"""Who holds the volume keys: a small interface, and its implementation over a module client.

The module's ``disk`` commands do the work: the module makes the key with its own generator and
seals it to itself and the volume in one step, and releases it only while it is READY and, when a
supervised boot policy is set, after the boot partition verified in this boot (not in HOLD).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..api import ModuleApi


@runtime_checkable
class KeyCustody(Protocol):
    """Makes volume keys and gives them back only to the module that made them."""

    @property
    def serial(self) -> str:
        """The serial number of the module whose blobs this custody makes."""
        ...

    def new_volume_key(self, size: int = 64, volume_id: bytes = b"") -> tuple[bytes, bytes]:
        """A new random key from the module and the blob only that module opens, bound to
        ``volume_id`` (the LUKS UUID): ``(key, blob)``.

        :raises ModuleStateError: if the module is not READY.
        """
        ...

    def unlock_volume_key(self, blob: bytes, volume_id: bytes = b"") -> bytes:
        """The key inside ``blob``.

        :raises ModuleStateError: if the module is not READY (e.g. HOLD) or its boot gate is closed.
        :raises AuthenticationError: if this module did not make the blob for ``volume_id``.
        """
        ...


class ClientCustody:
    """:class:`KeyCustody` over a module client (``softscm.connect(...)``) and its disk commands."""

    def __init__(self, client: ModuleApi) -> None:
        self._client = client
        self._serial: str | None = None

    @property
    def serial(self) -> str:
        if self._serial is None:
            self._serial = str(self._client.info().serial)
        return self._serial

    def new_volume_key(self, size: int = 64, volume_id: bytes = b"") -> tuple[bytes, bytes]:
        made = self._client.disk_new_key(size, volume_id)
        return made.key, made.blob

    def unlock_volume_key(self, blob: bytes, volume_id: bytes = b"") -> bytes:
        return self._client.disk_unlock(blob, volume_id)
