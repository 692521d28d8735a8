"""The pair-wise consistency test (a conditional self test) run on every generated, imported or
derived key pair before it is used or stored."""

from __future__ import annotations

import hashlib
import hmac

from ...wire.defs import KeyType
from ...wire.errors import InvalidKeyError, InvalidSignatureError, SelfTestError
from ..crypto import PrivateKey, PublicKey, generate
from ..crypto.rng import Rng

_MESSAGE = b"softscm pair-wise consistency"
_DIGEST = hashlib.sha256(_MESSAGE).digest()


def pairwise_check(key: PrivateKey, rng: Rng, *, public: bytes | None = None) -> None:
    """Check that ``key`` and its public key (``public``, by default ``key.public``) belong
    together: sign and verify for a signing key; for X25519, agree on a secret with a fresh key
    pair from ``rng`` both ways.

    :raises SelfTestError: if the pair is not consistent (a public key that does not parse counts).
    """
    public = key.public if public is None else public
    try:
        if key.key_type is KeyType.X25519:
            other = generate(KeyType.X25519, rng)
            if not hmac.compare_digest(key.exchange(other.public), other.exchange(public)):
                raise SelfTestError(f"pair-wise consistency test failed for a {key.key_type.label} key")
            return
        data = _MESSAGE if key.key_type is KeyType.ED25519 else _DIGEST
        PublicKey(key.key_type, public).verify(data, key.sign(data, rng=rng).raw)
    except (InvalidSignatureError, InvalidKeyError):
        raise SelfTestError(f"pair-wise consistency test failed for a {key.key_type.label} key") from None
