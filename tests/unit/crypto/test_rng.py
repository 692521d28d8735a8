"""Randomness drawn on the module's thread for work done on another (crypto/rng.py predrawn)."""

from __future__ import annotations

import pytest

from softscm.module.crypto.rng import predrawn
from softscm.wire.errors import InternalError


def test_predrawn_serves_the_chunks_drawn_up_front_in_order():
    draws = []

    def rng(size: int) -> bytes:
        draws.append(size)
        return bytes([len(draws)]) * size

    serve = predrawn(rng, [12, 12, 32])
    assert draws == [12, 12, 32]  # all drawn now, on the caller's thread
    assert serve(12) == b"\x01" * 12 and serve(12) == b"\x02" * 12 and serve(32) == b"\x03" * 32


@pytest.mark.parametrize("asked", [[16], [12, 12]])
def test_predrawn_refuses_other_sizes_and_more_chunks_than_were_drawn(asked):
    serve = predrawn(lambda size: bytes(size), [12])
    with pytest.raises(InternalError):
        for size in asked:
            serve(size)
