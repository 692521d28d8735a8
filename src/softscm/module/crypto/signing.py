"""Signature verification against a raw public key."""

from __future__ import annotations

from ...wire.defs import KeyType
from .keys import PublicKey
from ...wire.messages.operations import Signature


def verify(key_type: KeyType, public: bytes, data: bytes, signature: bytes) -> None:
    """Verify a raw signature over a 32-byte digest (ECDSA) or a message (Ed25519).

    :raises InvalidKeyError: if ``public`` is not a valid key.
    :raises KeyTypeMismatchError: for an X25519 key.
    :raises InvalidSignatureError: if the signature does not verify.
    """
    PublicKey(key_type, public).verify(data, signature)


__all__ = ["Signature", "verify"]
