"""Lock and unlock: data sealed under the module's lock key or the shared cloud key.

A lock blob is ``SCL2`` | key id (1) | owner length (1) | owner (the principal that locked it,
UTF-8) | nonce (12) | ciphertext | tag (16) | Ed25519 signature (64) by the module identity key
over everything before it. The header (magic to owner) is the AEAD's associated data, so the owner
cannot be changed. Blobs of the first format (``SCL1``: no owner field) still open; their owner is
empty.
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

MAGIC = b"SCL2"
MAGIC_V1 = b"SCL1"
MAX_OWNER = 255
_SIGNATURE = 64
_SEALED_MIN = 12 + 16


def _failed() -> AuthenticationError:
    return AuthenticationError("authentication failed")


@dataclass(frozen=True)
class LockBlob:
    """The parts of a lock blob; :meth:`parse` checks only the framing, never the contents."""

    key: LockKey
    owner: str
    sealed: bytes  # nonce | ciphertext | tag
    signature: bytes
    version: int = 2

    @property
    def header(self) -> bytes:
        """The magic, key id and owner: the AEAD's associated data."""
        if self.version == 1:
            return MAGIC_V1 + bytes([self.key])
        owner = self.owner.encode()
        return MAGIC + bytes([self.key, len(owner)]) + owner

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
        if len(blob) < len(MAGIC) + 2 + _SEALED_MIN + _SIGNATURE:
            raise _failed()
        try:
            key = LockKey(blob[4])
        except ValueError:
            raise _failed() from None
        if hmac.compare_digest(blob[:4], MAGIC_V1):
            return cls(key, "", blob[5:-_SIGNATURE], blob[-_SIGNATURE:], version=1)
        if not hmac.compare_digest(blob[:4], MAGIC):
            raise _failed()
        end = 6 + blob[5]
        if len(blob) < end + _SEALED_MIN + _SIGNATURE:
            raise _failed()
        try:
            owner = blob[6:end].decode()
        except UnicodeDecodeError:
            raise _failed() from None
        return cls(key, owner, blob[end:-_SIGNATURE], blob[-_SIGNATURE:])


class LockBox:
    """Seals and opens lock blobs with the module's keys."""

    def __init__(self, lock_key: bytes, cloud_key: bytes, identity: ed25519.Ed25519PrivateKey, rng: Rng) -> None:
        self._keys = {LockKey.MODULE: lock_key, LockKey.CLOUD: cloud_key}
        self._identity = identity
        self._rng = rng

    def key(self, key: LockKey) -> bytes:
        """The lock or cloud key itself, for the module's streamed locks."""
        return self._keys[key]

    def key_material(self) -> bytes:
        """The lock and cloud keys, for the key-material integrity digest."""
        return self._keys[LockKey.MODULE] + self._keys[LockKey.CLOUD]

    def lock(self, data: bytes, key: LockKey, owner: str) -> bytes:
        """Encrypt and authenticate ``data`` for ``owner`` (a principal; at most 255 bytes), then
        sign the blob with the module identity key."""
        header = LockBlob(key, owner, b"", b"").header
        sealed = seal(self._keys[key], data, header, self._rng)
        return LockBlob(key, owner, sealed, self._identity.sign(header + sealed)).to_bytes()

    def unlock(self, blob: bytes) -> tuple[LockBlob, bytes]:
        """Reverse :meth:`lock`: the blob (its key and owner) and its data. A module-key blob must carry this
        module's signature; a cloud-key blob is authenticated by the shared key alone (another
        module sharing it may have made it).

        :raises AuthenticationError: if the blob fails any check (which one is not said).
        """
        parsed = LockBlob.parse(blob)
        if parsed.key is LockKey.MODULE:
            try:
                self._identity.public_key().verify(parsed.signature, parsed.body)
            except InvalidSignature:
                raise _failed() from None
        return parsed, open_sealed(self._keys[parsed.key], parsed.sealed, parsed.header)
