"""The randomness seam: every function that needs random bytes takes an ``rng`` like this."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from ...wire.errors import InternalError

Rng = Callable[[int], bytes]

system_rng: Rng = os.urandom


def predrawn(rng: Rng, sizes: Sequence[int]) -> Rng:
    """An ``rng`` serving, in order, chunks of ``sizes`` bytes drawn from ``rng`` now: for work
    done on another thread, so that the module's health-tested generator is only ever called on
    the module's own.

    The returned function raises :class:`InternalError` if it is asked for another size or for
    more chunks than were drawn.
    """
    chunks = iter([(size, rng(size)) for size in sizes])

    def serve(requested: int) -> bytes:
        size, chunk = next(chunks, (None, b""))
        if size != requested:
            raise InternalError("work asked for other randomness than was drawn for it")
        return chunk

    return serve
