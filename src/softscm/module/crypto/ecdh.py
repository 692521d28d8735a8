"""ECDH and the key derivations applied to its shared secret."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ...wire.defs import KdfType
from ...wire.errors import InvalidArgumentError, LimitExceededError
from .keys import PrivateKey

MAX_SALT_INFO = 128
MAX_PBKDF2_ITERATIONS = 1_000_000
MAX_PBKDF2_LENGTH = 1024
MAX_PBKDF2_WORK = 2_000_000
"""PBKDF2 work per request: iterations x output blocks (one block per hash output, 32 or 64
bytes). About 1.2 s of SHA-512 on a 2 GHz core; it runs off the event loop."""


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
    :raises LimitExceededError: for PBKDF2 work over the per-request limits (see :func:`pbkdf2_work`).
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
    pbkdf2_work(kdf, iterations, length)
    # hashlib's PBKDF2 (OpenSSL) releases the GIL while it runs; cryptography's holds it
    return hashlib.pbkdf2_hmac(algorithm.name, secret, salt, iterations, length)


def pbkdf2_work(kdf: KdfType, iterations: int, length: int) -> int:
    """The work (iterations x output blocks) of a PBKDF2 derivation; 0 for another KDF.

    :raises InvalidArgumentError: for fewer than 1 iteration or an output under 1 byte.
    :raises LimitExceededError: for more than :data:`MAX_PBKDF2_ITERATIONS` iterations, an
        output over :data:`MAX_PBKDF2_LENGTH` bytes, or work over :data:`MAX_PBKDF2_WORK`.
    """
    if kdf not in (KdfType.PBKDF2_SHA256, KdfType.PBKDF2_SHA512):
        return 0
    if iterations < 1 or length < 1:
        raise InvalidArgumentError("PBKDF2 needs at least 1 iteration and 1 byte of output")
    if iterations > MAX_PBKDF2_ITERATIONS or length > MAX_PBKDF2_LENGTH:
        raise LimitExceededError(f"PBKDF2 allows at most {MAX_PBKDF2_ITERATIONS} iterations and "
                                 f"{MAX_PBKDF2_LENGTH} bytes of output per request")
    block = 32 if kdf is KdfType.PBKDF2_SHA256 else 64
    work = iterations * -(-length // block)
    if work > MAX_PBKDF2_WORK:
        raise LimitExceededError(f"PBKDF2 work (iterations x {block}-byte output blocks) is at most "
                                 f"{MAX_PBKDF2_WORK} per request; this asks for {work}")
    return work
