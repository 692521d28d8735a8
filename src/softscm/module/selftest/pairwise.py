"""The pair-wise consistency test run on every generated, imported or derived key pair."""

from __future__ import annotations

import hashlib

from ...wire.defs import KeyType
from ...wire.errors import InvalidSignatureError, SelfTestError
from ..crypto import generate
from ..crypto.keys import PrivateKey, PublicKey
from ..crypto.rng import Rng

_DIGEST = hashlib.sha256(b"softscm pair-wise consistency").digest()


def pairwise_check(key: PrivateKey, rng: Rng) -> None:
    """Sign and verify (signing keys), or agree with a fresh key both ways (X25519).

    :raises SelfTestError: if the pair is not consistent.
    """
    try:
        if key.key_type is KeyType.X25519:
            other = generate(KeyType.X25519, rng)
            if key.exchange(other.public) != other.exchange(key.public):
                raise SelfTestError("pair-wise consistency test failed")
            return
        data = _DIGEST if key.key_type is not KeyType.ED25519 else b"softscm pair-wise consistency"
        PublicKey(key.key_type, key.public).verify(data, key.sign(data, rng=rng).raw)
    except InvalidSignatureError:
        raise SelfTestError("pair-wise consistency test failed") from None
