"""CPU-heavy request work, run off the event loop so one request cannot stall the others.

The module is single-threaded: its state is touched from the loop's thread only. A handler whose
request would hold the loop for long (a large batch, many PBKDF2 iterations) does its state work
first (load the key, draw randomness) and returns an :class:`Offloaded` holding the remaining pure
computation (which returns the reply message). The dispatcher passes it through; the server runs
it on a worker thread and sends its result (or its error) as the reply; the loop goes on serving other clients and the sensor monitor meanwhile. The work must
not touch module state and must not write: its reply does not wait for a flush to disk.

The work releases the GIL where it matters (OpenSSL signing and verifying, hashlib's PBKDF2), so
the loop keeps running while it computes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

OFFLOAD_ITEMS = 32
"""A batch of this many signatures or verifications runs off the loop (about 5 ms of P-256 work)."""

OFFLOAD_PBKDF2_WORK = 20_000
"""PBKDF2 work (iterations x output blocks) from which a derivation runs off the loop (~5 ms)."""

WORKERS = 2
_pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="softscm-offload")


@dataclass(frozen=True)
class Offloaded:
    """A handler's result still to be computed: ``work()`` on a worker thread gives the reply."""

    work: Callable[[], Any]

    async def result(self) -> Any:
        """Run the work on the offload pool. :raises: whatever the work raises."""
        return await asyncio.get_running_loop().run_in_executor(_pool, self.work)


def maybe_offload(work: Callable[[], Any], heavy: bool) -> Any:
    """``work()`` now for light work, or an :class:`Offloaded` for the server to run elsewhere."""
    return Offloaded(work) if heavy else work()
