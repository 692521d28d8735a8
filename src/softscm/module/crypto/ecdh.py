"""ECDH and the key derivations applied to its shared secret."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from ...wire.defs import KdfType
from ...wire.errors import InvalidArgumentError
from .keys import PrivateKey

MAX_SALT_INFO = 128
MAX_PBKDF2_ITERATIONS = 10_000_000


def shared_secret(key: PrivateKey, peer_public: bytes) -> bytes:
    """Raw ECDH shared secret (the X coordinate, or the X25519 output).

    :raises KeyTypeMismatchError: for an Ed25519 key.
    :raises InvalidKeyError: if the peer key is invalid or the result is zero.
    """
    return key.exchange(peer_public)


def derive_key(
    kdf: KdfType, secret: bytes, *, salt: bytes = b"", info: bytes = b"", iterations: int = 1, length: int = 32
) -> bytes:
    """Apply ``kdf`` to ``secret``. ``KdfType.NONE`` returns the secret unchanged.

    ``info`` is ignored by PBKDF2; ``iterations`` is used only by PBKDF2.

    :raises InvalidArgumentError: for salt/info over 128 bytes, a bad length or iteration count.
    """
    if len(salt) > MAX_SALT_INFO or len(info) > MAX_SALT_INFO:
        raise InvalidArgumentError(f"salt and info are at most {MAX_SALT_INFO} bytes")
    if kdf is KdfType.NONE:
        return secret
    algorithm: hashes.HashAlgorithm = (
        hashes.SHA256() if kdf in (KdfType.HKDF_SHA256, KdfType.PBKDF2_SHA256) else hashes.SHA512()
    )
    if kdf in (KdfType.HKDF_SHA256, KdfType.HKDF_SHA512):
        if not 1 <= length <= 255 * algorithm.digest_size:
            raise InvalidArgumentError(f"HKDF output is 1..{255 * algorithm.digest_size} bytes")
        return HKDF(algorithm, length, salt or None, info).derive(secret)
    if not 1 <= iterations <= MAX_PBKDF2_ITERATIONS:
        raise InvalidArgumentError(f"PBKDF2 iterations are 1..{MAX_PBKDF2_ITERATIONS}")
    if not 1 <= length <= 1024:
        raise InvalidArgumentError("PBKDF2 output is 1..1024 bytes")
    return PBKDF2HMAC(algorithm, length, salt, iterations).derive(secret)
