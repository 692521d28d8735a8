"""Lock and unlock: data sealed under the module's lock key or the shared cloud key.

A lock blob is ``SCL1`` | key id (1) | nonce (12) | ciphertext | tag (16) | Ed25519 signature (64)
by the module identity key over everything before it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from ...wire.defs import LockKey
from ...wire.errors import AuthenticationError
from .aead import open_sealed, seal
from .rng import Rng

MAGIC = b"SCL1"
_SIGNATURE = 64
_SEALED_MIN = 12 + 16


def _failed() -> AuthenticationError:
    return AuthenticationError("authentication failed")


@dataclass(frozen=True)
class LockBlob:
    """The parts of a lock blob; :meth:`parse` checks only the framing, never the contents."""

    key: LockKey
    sealed: bytes  # nonce | ciphertext | tag
    signature: bytes

    @property
    def header(self) -> bytes:
        """The magic and key id: the AEAD's associated data."""
        return MAGIC + bytes([self.key])

    @property
    def body(self) -> bytes:
        """What the signature covers."""
        return self.header + self.sealed

    def to_bytes(self) -> bytes:
        return self.body + self.signature

    @classmethod
    def parse(cls, blob: bytes) -> LockBlob:
        """:raises AuthenticationError: for anything that is not a lock blob (which check failed is
        not said)."""
        if len(blob) < len(MAGIC) + 1 + _SEALED_MIN + _SIGNATURE or not hmac.compare_digest(blob[:4], MAGIC):
            raise _failed()
        try:
            key = LockKey(blob[4])
        except ValueError:
            raise _failed() from None
        return cls(key, blob[5:-_SIGNATURE], blob[-_SIGNATURE:])


class LockBox:
    """Seals and opens lock blobs with the module's keys."""

    def __init__(self, lock_key: bytes, cloud_key: bytes, identity: ed25519.Ed25519PrivateKey, rng: Rng) -> None:
        self._keys = {LockKey.MODULE: lock_key, LockKey.CLOUD: cloud_key}
        self._identity = identity
        self._rng = rng

    def key_material(self) -> bytes:
        """The lock and cloud keys, for the key-material integrity digest."""
        return self._keys[LockKey.MODULE] + self._keys[LockKey.CLOUD]

    def lock(self, data: bytes, key: LockKey) -> bytes:
        """Encrypt and authenticate ``data``, then sign the blob with the module identity key."""
        header = LockBlob(key, b"", b"").header
        sealed = seal(self._keys[key], data, header, self._rng)
        body = header + sealed
        return LockBlob(key, sealed, self._identity.sign(body)).to_bytes()

    def unlock(self, blob: bytes) -> bytes:
        """Reverse :meth:`lock`. A module-key blob must carry this module's signature; a cloud-key
        blob is authenticated by the shared key alone (another module sharing it may have made it).

        :raises AuthenticationError: if the blob fails any check (which one is not said).
        """
        parsed = LockBlob.parse(blob)
        if parsed.key is LockKey.MODULE:
            try:
                self._identity.public_key().verify(parsed.signature, parsed.body)
            except InvalidSignature:
                raise _failed() from None
        return open_sealed(self._keys[parsed.key], parsed.sealed, parsed.header)
