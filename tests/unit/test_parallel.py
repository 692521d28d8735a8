"""Batch signing and verification over the cores: same answers as one at a time, in order."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from softscm.module.crypto import PublicKey, generate
from softscm.module.crypto import parallel
from softscm.module.crypto.parallel import MIN_PARALLEL, parallel_map, sign_many, verify_many
from softscm.wire.defs import KeyType
from softscm.wire.errors import InvalidArgumentError

DIGESTS = [hashlib.sha256(bytes([i])).digest() for i in range(40)]
needs_two_cores = pytest.mark.skipif(parallel.WORKERS < 1, reason="one CPU: batches run on the calling thread")


def test_results_come_back_in_order_for_every_size():
    for count in (0, 1, MIN_PARALLEL - 1, MIN_PARALLEL, 41):
        assert parallel_map(lambda i: i * i, count, KeyType.NISTP256) == [i * i for i in range(count)]


@needs_two_cores
def test_gil_free_types_use_a_worker_thread_and_ed25519_does_not():
    def threads(key_type: KeyType) -> set[str]:
        names = parallel_map(lambda i: threading.current_thread().name, 64, key_type)
        return {name.split("_")[0] for name in names}

    assert threads(KeyType.NISTP256) == {threading.current_thread().name, "softscm-crypto"}
    assert threads(KeyType.SECP256K1) == {threading.current_thread().name, "softscm-crypto"}
    assert threads(KeyType.ED25519) == {threading.current_thread().name}


def test_an_error_in_any_chunk_is_raised_after_every_chunk_finished():
    finished = []

    def fn(i: int) -> int:
        if i == 39:
            raise InvalidArgumentError("item 39")
        finished.append(i)
        return i

    with pytest.raises(InvalidArgumentError, match="item 39"):
        parallel_map(fn, 40, KeyType.NISTP256)
    assert sorted(finished) == list(range(39))


@pytest.mark.parametrize("key_type", [KeyType.NISTP256, KeyType.SECP256K1, KeyType.ED25519])
def test_batch_signatures_verify_and_deterministic_ones_match_single_signing(key_type):
    key = generate(key_type)
    public = PublicKey(key_type, key.public)
    signatures = sign_many(key, DIGESTS, deterministic=False, recid=False, rng=os.urandom)
    assert verify_many(public, [(d, s.raw) for d, s in zip(DIGESTS, signatures)]) == [True] * len(DIGESTS)
    if key_type is not KeyType.ED25519:
        deterministic = sign_many(key, DIGESTS, deterministic=True, recid=True, rng=os.urandom)
        assert deterministic == [key.sign(d, deterministic=True, recid=True) for d in DIGESTS]


def test_hedged_signing_draws_its_entropy_once_on_the_calling_thread():
    key = generate(KeyType.SECP256K1)
    draws = []

    def rng(size: int) -> bytes:
        draws.append((size, threading.current_thread().name))
        return os.urandom(size)

    first = sign_many(key, DIGESTS[:1] * 20, deterministic=False, recid=False, rng=rng)
    assert draws == [(32 * 20, threading.current_thread().name)]
    assert len({s.raw for s in first}) == 20  # a fresh nonce for every item of the same digest
    sign_many(key, DIGESTS, deterministic=True, recid=False, rng=rng)
    assert len(draws) == 1  # deterministic signing draws nothing


def test_a_bad_item_fails_the_batch_with_its_typed_error_and_verifies_as_false():
    key = generate(KeyType.NISTP256)
    with pytest.raises(InvalidArgumentError):
        sign_many(key, DIGESTS[:20] + [b"short"], deterministic=False, recid=False, rng=os.urandom)
    sig = key.sign(DIGESTS[0]).raw
    pairs = [(DIGESTS[0], sig)] * 10 + [(b"short", sig), (DIGESTS[1], sig), (DIGESTS[0], sig[:-1] + bytes([sig[-1] ^ 1]))]
    assert verify_many(PublicKey(KeyType.NISTP256, key.public), pairs) == [True] * 10 + [False] * 3
