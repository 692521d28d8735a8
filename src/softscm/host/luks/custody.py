"""Who holds the volume keys: a small interface, and its implementation over a module client.

Today the module's general calls do the work (``get_random``, ``lock``, ``unlock``, each refused
by the module unless it is READY). The module-side ``disk`` commands will take the same place:
the module makes and locks the key in one step and releases it only when the boot gate allows.
"""

from __future__ import annotations

import hmac
from typing import Any, Protocol, runtime_checkable

from ...wire.defs import LockKey, ModuleState
from ...wire.errors import AuthenticationError, ModuleStateError

VOLUME_KEY_SIZES = (32, 64)


@runtime_checkable
class KeyCustody(Protocol):
    """Makes volume keys and gives them back only to the module that locked them."""

    @property
    def serial(self) -> str:
        """The serial number of the module whose blobs this custody makes."""
        ...

    def new_volume_key(self, size: int = 64, volume_id: bytes = b"") -> tuple[bytes, bytes]:
        """A new random key from the module and the module-locked blob of it, bound to
        ``volume_id`` (the LUKS UUID): ``(key, blob)``.

        :raises ModuleStateError: if the module is not READY.
        """
        ...

    def unlock_volume_key(self, blob: bytes, volume_id: bytes = b"") -> bytes:
        """The key inside ``blob``.

        :raises ModuleStateError: if the module is not READY (e.g. HOLD).
        :raises AuthenticationError: if this module did not lock the blob for ``volume_id``.
        """
        ...


class ClientCustody:
    """:class:`KeyCustody` over a module client (``softscm.connect(...)``), using its RNG and its
    module-bound lock key; the volume id is locked with the key and checked on the way out."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._serial: str | None = None

    @property
    def serial(self) -> str:
        if self._serial is None:
            self._serial = str(self._client.info().serial)
        return self._serial

    def require_ready(self) -> None:
        """:raises ModuleStateError: unless the module reports READY."""
        state = str(self._client.status()["state"])
        if state != ModuleState.READY.name:
            raise ModuleStateError(f"the module is {state}, not READY: it does not release disk keys")

    def new_volume_key(self, size: int = 64, volume_id: bytes = b"") -> tuple[bytes, bytes]:
        if size not in VOLUME_KEY_SIZES:
            raise ValueError(f"a volume key is {' or '.join(map(str, VOLUME_KEY_SIZES))} bytes, not {size}")
        if len(volume_id) > 255:
            raise ValueError("a volume id is at most 255 bytes")
        self.require_ready()
        key = bytes(self._client.get_random(size))
        return key, bytes(self._client.lock(bytes([len(volume_id)]) + volume_id + key, key=LockKey.MODULE))

    def unlock_volume_key(self, blob: bytes, volume_id: bytes = b"") -> bytes:
        self.require_ready()
        plain = bytes(self._client.unlock(blob))  # length of the volume id | volume id | key
        bound, key = plain[1:1 + plain[0]], plain[1 + plain[0]:]
        if not hmac.compare_digest(bound, volume_id) or len(key) not in VOLUME_KEY_SIZES:
            raise AuthenticationError("the blob was not locked for this volume")
        return key
