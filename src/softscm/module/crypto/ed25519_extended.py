"""Ed25519 with an extended secret key ``kL || kR`` (BIP32-Ed25519, Cardano): the public key is
``kL * B`` with ``kL`` used as the scalar as it is (not hashed, not clamped again), and a signature
is ``R || S`` with ``r = H(kR || M)``, ``S = r + H(R || A || M) * kL``: a plain Ed25519 signature
that any verifier checks against ``A``. The point and scalar arithmetic is libsodium's (PyNaCl).
"""

from __future__ import annotations

import hashlib

from nacl import bindings as sodium
from nacl.exceptions import RuntimeError as SodiumRuntimeError

from ...wire.errors import InvalidKeyError

EXTENDED_KEY_BYTES = 64


def reduced(scalar: bytes) -> bytes:
    """A little-endian scalar of up to 64 bytes, reduced modulo the group order."""
    return sodium.crypto_core_ed25519_scalar_reduce(scalar.ljust(64, b"\x00"))


def base_times(scalar: bytes) -> bytes:
    """``scalar * B`` for a little-endian scalar (not clamped).

    :raises InvalidKeyError: if the scalar is a multiple of the group order (the identity).
    """
    try:
        return sodium.crypto_scalarmult_ed25519_base_noclamp(reduced(scalar))
    except SodiumRuntimeError:
        raise InvalidKeyError("the scalar is a multiple of the group order") from None


def public_key(extended_key: bytes) -> bytes:
    """``A = kL * B``.

    :raises InvalidKeyError: if the key is not 64 bytes or ``kL`` is a multiple of the group order.
    """
    if len(extended_key) != EXTENDED_KEY_BYTES:
        raise InvalidKeyError(f"an extended Ed25519 key is {EXTENDED_KEY_BYTES} bytes")
    return base_times(extended_key[:32])


def sign(extended_key: bytes, message: bytes) -> bytes:
    """An Ed25519 signature ``R || S`` of ``message``.

    :raises InvalidKeyError: if the key is not a valid extended key.
    """
    public = public_key(extended_key)
    r = reduced(hashlib.sha512(extended_key[32:] + message).digest())
    big_r = sodium.crypto_scalarmult_ed25519_base_noclamp(r)
    h = reduced(hashlib.sha512(big_r + public + message).digest())
    s = sodium.crypto_core_ed25519_scalar_add(r, sodium.crypto_core_ed25519_scalar_mul(h, reduced(extended_key[:32])))
    return big_r + s
