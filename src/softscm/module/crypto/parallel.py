"""Batches of independent signatures and verifications spread over the CPU's cores.

OpenSSL (through cryptography) and libsecp256k1 (through coincurve's cffi calls) release the GIL
while they sign or verify on P-256 and secp256k1, so worker threads run those in parallel.
Ed25519 holds the GIL, so its batches stay on the calling thread. Workers never touch module
state: they get a key object and bytes, and the randomness they need is drawn beforehand.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from ...wire.defs import KeyType
from ...wire.errors import InternalError
from .keys import PrivateKey, PublicKey
from .rng import Rng
from ...wire.messages.operations import Signature

R = TypeVar("R")

PARALLEL_TYPES = frozenset({KeyType.NISTP256, KeyType.SECP256K1})
MIN_PARALLEL = 8  # below this a batch is not worth the hand-off
WORKERS = len(os.sched_getaffinity(0)) - 1
_pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="softscm-crypto") if WORKERS > 0 else None


def parallel_map(fn: Callable[[int], R], count: int, key_type: KeyType) -> list[R]:
    """``[fn(0), ..., fn(count - 1)]``, in one contiguous chunk per core when ``key_type``'s
    library releases the GIL. ``fn`` must not touch module state.

    Raises what ``fn`` raised for the first failing chunk, once every chunk has finished.
    """
    if _pool is None or count < MIN_PARALLEL or key_type not in PARALLEL_TYPES:
        return [fn(i) for i in range(count)]
    size = -(-count // (WORKERS + 1))
    bounds = [(start, min(start + size, count)) for start in range(0, count, size)]

    def chunk(start: int, end: int) -> list[R]:
        return [fn(i) for i in range(start, end)]

    futures = [_pool.submit(chunk, start, end) for start, end in bounds[1:]]
    try:
        results = chunk(*bounds[0])
    finally:
        done = [future.exception() for future in futures]  # wait for every worker
    for error in done:
        if error is not None:
            raise error
    for future in futures:
        results += future.result()
    return results


def sign_many(key: PrivateKey, items: Sequence[bytes], *, deterministic: bool, recid: bool, rng: Rng) -> list[Signature]:
    """Sign each of ``items`` with ``key``. A hedged signature's 32 bytes of entropy are drawn
    from ``rng`` here, on the calling thread, for all items at once.

    :raises ScmError: what signing one item raises (see :meth:`PrivateKey.sign`).
    """
    per_item = 32 if key.hedged and not deterministic else 0
    entropy = rng(per_item * len(items)) if per_item else b""

    def one(i: int) -> Signature:
        def item_rng(size: int) -> bytes:
            if size > per_item:
                raise InternalError("a batch signature asked for more entropy than was drawn for it")
            return entropy[i * per_item:i * per_item + size]

        return key.sign(items[i], deterministic=deterministic, recid=recid, rng=item_rng)

    return parallel_map(one, len(items), key.key_type)


def predrawn_rng(key: PrivateKey, count: int, *, deterministic: bool, rng: Rng) -> Rng:
    """The entropy :func:`sign_many` will ask for when signing ``count`` items with ``key``, drawn
    now from ``rng`` (on the module's thread), for a batch signed on another thread."""
    size = 32 * count if key.hedged and not deterministic else 0
    drawn = rng(size) if size else b""

    def serve(requested: int) -> bytes:
        if requested != size:
            raise InternalError("a batch asked for other entropy than was drawn for it")
        return drawn

    return serve


def verify_many(public: PublicKey, pairs: Sequence[tuple[bytes, bytes]]) -> list[bool]:
    """Whether each ``(data, signature)`` pair verifies with ``public``; a malformed item (a
    digest of the wrong size, say) does not verify."""

    def one(i: int) -> bool:
        try:
            public.verify(*pairs[i])
        except Exception:  # noqa: BLE001 - whatever is wrong with the item, it does not verify
            return False
        return True

    return parallel_map(one, len(pairs), public.key_type)
