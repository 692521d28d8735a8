"""AES-256-GCM sealing: nonce || ciphertext || tag."""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ...wire.errors import AuthenticationError
from .rng import Rng, system_rng

NONCE_SIZE = 12
TAG_SIZE = 16


def seal(key: bytes, plaintext: bytes, aad: bytes, rng: Rng = system_rng) -> bytes:
    """Encrypt and authenticate ``plaintext`` bound to ``aad`` under a 32-byte ``key``."""
    nonce = rng(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Reverse :func:`seal`.

    :raises AuthenticationError: if the blob, the key or the AAD do not match (which one is not said).
    """
    if len(sealed) < NONCE_SIZE + TAG_SIZE:
        raise AuthenticationError("authentication failed")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], aad)
    except InvalidTag:
        raise AuthenticationError("authentication failed") from None
