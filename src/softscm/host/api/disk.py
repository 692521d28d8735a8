"""Disk encryption: volume keys under the module."""

from __future__ import annotations

from ...wire.messages.disk import DiskNewKeyRequest, DiskUnlockRequest, VolumeKey
from .base import ApiBase, same


class DiskApi(ApiBase):
    def disk_new_key(self, size: int = 64, volume_id: bytes = b"") -> VolumeKey:
        """A new ``size``-byte volume key from the module and its blob, sealed to this module and
        ``volume_id`` (the LUKS UUID).

        :raises InvalidArgumentError: for a size other than 32 or 64. :raises ModuleStateError:
            unless the module is READY.
        """
        return self._call(DiskNewKeyRequest(size, bytes(volume_id)), same)

    def disk_unlock(self, blob: bytes, volume_id: bytes = b"") -> bytes:
        """The volume key in ``blob``.

        :raises ModuleStateError: unless the module is READY and, with a supervised boot policy set,
            the boot partition verified in this boot. :raises AuthenticationError: for a blob this
            module did not make for ``volume_id``.
        """
        return self._call(DiskUnlockRequest(bytes(blob), bytes(volume_id)), lambda reply: reply.key)
