"""Volume keys under the module's custody.

The module makes a volume key with its own generator and returns it with a blob that only this
module can open: AES-256-GCM under a disk key derived from the module's root key (apart from the
general lock key, so a disk blob cannot be opened by the general UNLOCK, which knows nothing of
the boot gate), bound to a volume id (the LUKS UUID) and this format's version. The key leaves the
module again only while the module is READY and, when a supervised boot policy is set, only after
the boot partition verified in this boot. Every release and refusal is an audit event.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...wire.defs import Event, ModuleState
from ...wire.errors import AuthenticationError, InvalidArgumentError, ModuleStateError
from ..audit.recorder import Recorder
from ..crypto.aead import NONCE_SIZE, TAG_SIZE, open_sealed, seal
from ..crypto.rng import Rng

DISK_BLOB_MAGIC = b"SCD1"
VOLUME_KEY_SIZES = (32, 64)
MAX_VOLUME_ID = 64
_HEADER = struct.Struct(">4sB")  # magic, volume id length


@dataclass(frozen=True)
class DiskBlob:
    """``SCD1`` | volume id length (1) | volume id | nonce (12) | sealed key | tag (16)."""

    volume_id: bytes
    sealed: bytes

    def aad(self) -> bytes:
        """The header, which the seal authenticates."""
        return _aad(self.volume_id)

    def to_bytes(self) -> bytes:
        return self.aad() + self.sealed

    @classmethod
    def parse(cls, data: bytes) -> DiskBlob:
        """:raises AuthenticationError: if ``data`` is not a disk blob (nothing more is said)."""
        if len(data) < _HEADER.size:
            raise AuthenticationError("authentication failed")
        magic, id_size = _HEADER.unpack_from(data)
        sealed = data[_HEADER.size + id_size:]
        if magic != DISK_BLOB_MAGIC or len(sealed) - NONCE_SIZE - TAG_SIZE not in VOLUME_KEY_SIZES:
            raise AuthenticationError("authentication failed")
        return cls(data[_HEADER.size:_HEADER.size + id_size], sealed)


class DiskCustody:
    """Makes and releases volume keys. ``state`` reads the module's state; ``boot_gate`` says
    whether the boot gate allows releasing disk keys now (no policy set, or the boot partition
    verified in this boot); ``events`` takes the audit events."""

    def __init__(self, key: bytes, rng: Rng, *, state: Callable[[], ModuleState], boot_gate: Callable[[], bool],
                 events: Recorder) -> None:
        if len(key) != 32:
            raise ValueError("the disk key is 32 bytes")
        self._key = key
        self._rng = rng
        self._state = state
        self._boot_gate = boot_gate
        self._events = events

    def new_volume_key(self, size: int = 64, volume_id: bytes = b"") -> tuple[bytes, bytes]:
        """A new volume key and its blob: ``(key, blob)``.

        :raises InvalidArgumentError: for a size other than 32 or 64, or a volume id over 64 bytes.
        :raises ModuleStateError: unless the module is READY.
        """
        if size not in VOLUME_KEY_SIZES:
            raise InvalidArgumentError("a volume key is 32 or 64 bytes")
        _check_volume_id(volume_id)
        self._require_ready("create")
        key = self._rng(size)
        blob = DiskBlob(volume_id, seal(self._key, key, _aad(volume_id), self._rng))
        self._events.record(Event.DISK_KEY_CREATED, volume=volume_id.hex(), size=size)
        return key, blob.to_bytes()

    def unlock_volume_key(self, blob: bytes, volume_id: bytes = b"") -> bytes:
        """The volume key in ``blob``, made by this module for ``volume_id``.

        :raises ModuleStateError: unless the module is READY and the boot gate is open.
        :raises AuthenticationError: for a blob this module did not make for that volume.
        """
        _check_volume_id(volume_id)
        self._require_ready("release", volume_id)
        if not self._boot_gate():
            self._refuse(volume_id, "boot not verified")
            raise ModuleStateError("the boot partition has not verified in this boot: disk keys stay locked")
        try:
            parsed = DiskBlob.parse(blob)
            if parsed.volume_id != volume_id:
                raise AuthenticationError("authentication failed")
            key = open_sealed(self._key, parsed.sealed, parsed.aad())
        except AuthenticationError:
            self._refuse(volume_id, "authentication")
            raise
        self._events.record(Event.DISK_KEY_RELEASED, volume=volume_id.hex())
        return key

    def _require_ready(self, action: str, volume_id: bytes = b"") -> None:
        state = self._state()
        if state is not ModuleState.READY:
            if action == "release":
                self._refuse(volume_id, f"state {state.name}")
            raise ModuleStateError(f"the module is {state.name}, not READY: it does not {action} disk keys")

    def _refuse(self, volume_id: bytes, reason: str) -> None:
        self._events.record(Event.DISK_KEY_REFUSED, volume=volume_id.hex(), reason=reason)


def _aad(volume_id: bytes) -> bytes:
    return _HEADER.pack(DISK_BLOB_MAGIC, len(volume_id)) + volume_id


def _check_volume_id(volume_id: Any) -> None:
    if not isinstance(volume_id, bytes) or len(volume_id) > MAX_VOLUME_ID:
        raise InvalidArgumentError(f"a volume id is at most {MAX_VOLUME_ID} bytes")
