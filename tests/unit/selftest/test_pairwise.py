"""The pair-wise consistency test on each key type."""

from __future__ import annotations

import os

import pytest

from softscm.module.crypto import generate
from softscm.module.selftest.pairwise import pairwise_check
from softscm.wire.defs import KeyType
from softscm.wire.errors import SelfTestError

TYPES = [KeyType.NISTP256, KeyType.SECP256K1, KeyType.ED25519, KeyType.X25519]


@pytest.mark.parametrize("key_type", TYPES, ids=lambda t: t.name)
def test_a_consistent_pair_passes(key_type):
    key = generate(key_type, os.urandom)
    pairwise_check(key, os.urandom)
    pairwise_check(key, os.urandom, public=key.public)


@pytest.mark.parametrize("key_type", TYPES, ids=lambda t: t.name)
def test_a_mismatched_public_key_is_caught(key_type):
    key, other = generate(key_type, os.urandom), generate(key_type, os.urandom)
    with pytest.raises(SelfTestError, match="pair-wise"):
        pairwise_check(key, os.urandom, public=other.public)


@pytest.mark.parametrize("key_type", TYPES[:3], ids=lambda t: t.name)
def test_a_public_key_that_does_not_parse_is_caught(key_type):
    key = generate(key_type, os.urandom)
    broken = bytes([key.public[0] ^ 1]) + key.public[1:]  # off the curve (EC) or another key (Ed25519)
    with pytest.raises(SelfTestError):
        pairwise_check(key, os.urandom, public=broken)
