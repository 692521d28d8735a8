"""The module's lock/unlock stream service: pieces of any size in, records or authenticated
plaintext out; handles that expire, a bound on open streams, a failed stream closed at once."""

from __future__ import annotations

import os

import pytest

from softscm.module.crypto.stream import StreamHeader
from softscm.module.lockstreams import MAX_PIECE, LockStreams
from softscm.wire.defs import LockKey
from softscm.wire.errors import AuthenticationError, BusyError, InvalidArgumentError

KEYS = {LockKey.MODULE: bytes(range(32)), LockKey.CLOUD: bytes(range(32, 64))}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _service(**kwargs) -> LockStreams:
    return LockStreams(KEYS.__getitem__, os.urandom, **kwargs)


def _lock(service: LockStreams, data: bytes, piece: int, key_id: LockKey = LockKey.MODULE, chunk: int = 100) -> bytes:
    handle = service.open_lock(key_id, chunk)
    pieces = [data[i:i + piece] for i in range(0, len(data), piece)] or [b""]
    return b"".join(service.update(handle, p, final=i == len(pieces) - 1) for i, p in enumerate(pieces))


def _unlock(service: LockStreams, stream: bytes, piece: int) -> bytes:
    handle = service.open_unlock()
    pieces = [stream[i:i + piece] for i in range(0, len(stream), piece)]
    return b"".join(service.update(handle, p, final=i == len(pieces) - 1) for i, p in enumerate(pieces))


@pytest.mark.parametrize("size", [0, 99, 100, 101, 1234])
@pytest.mark.parametrize("piece", [1, 37, 100, 5000])
def test_pieces_in_and_out_round_trip(size, piece):
    service = _service()
    data = os.urandom(size)
    stream = _lock(service, data, piece)
    assert StreamHeader.parse(stream[:StreamHeader.FIXED_SIZE]).chunk_size == 100
    assert _unlock(service, stream, piece) == data == service.unlock_all(stream)
    assert len(service) == 0  # every stream closed by its final piece


def test_the_one_call_forms_interoperate_and_use_the_named_key():
    service = _service()
    stream = service.lock_all(LockKey.CLOUD, b"for the backend", 8)
    assert _unlock(service, stream, 5) == b"for the backend"
    assert service.unlock_all(_lock(service, b"x" * 300, 64, LockKey.CLOUD)) == b"x" * 300
    other = LockStreams({LockKey.MODULE: KEYS[LockKey.MODULE], LockKey.CLOUD: bytes(32)}.__getitem__, os.urandom)
    with pytest.raises(AuthenticationError):
        other.unlock_all(stream)


def test_unknown_finished_and_cancelled_handles_are_refused():
    service = _service()
    with pytest.raises(InvalidArgumentError):
        service.update(12345, b"data")
    handle = service.open_lock(LockKey.MODULE)
    service.update(handle, b"done", final=True)
    with pytest.raises(InvalidArgumentError):
        service.update(handle, b"more")
    handle = service.open_unlock()
    service.cancel(handle)
    with pytest.raises(InvalidArgumentError):
        service.update(handle, b"more")


def test_a_failed_unlock_closes_its_stream():
    service = _service()
    stream = bytearray(_lock(service, os.urandom(500), 500))
    stream[StreamHeader.FIXED_SIZE + 3] ^= 1
    handle = service.open_unlock()
    with pytest.raises(AuthenticationError):
        service.update(handle, bytes(stream))
    assert len(service) == 0
    with pytest.raises(InvalidArgumentError):
        service.update(handle, b"", final=True)


def test_a_truncated_stream_fails_at_its_final_piece():
    service = _service()
    stream = _lock(service, os.urandom(450), 450)
    handle = service.open_unlock()
    assert service.update(handle, stream[:-120])  # earlier records come out authenticated
    with pytest.raises(AuthenticationError):
        service.update(handle, b"", final=True)


def test_open_streams_are_bounded_and_idle_ones_expire():
    clock = Clock()
    service = _service(clock=clock, max_open=3, idle_seconds=10)
    handles = [service.open_lock(LockKey.MODULE) for _ in range(3)]
    assert len(set(handles)) == 3
    with pytest.raises(BusyError):
        service.open_unlock()
    service.cancel(handles[0])
    clock.now = 5
    fresh = service.open_unlock()
    service.update(handles[1], b"keeps it alive")
    clock.now = 12
    service.update(handles[1], b"still here")
    with pytest.raises(InvalidArgumentError):
        service.update(handles[2], b"expired")  # idle since 0
    assert service.update(fresh, b"") == b"" and len(service) == 2


def test_a_piece_over_the_limit_is_refused():
    service = _service()
    with pytest.raises(InvalidArgumentError):
        service.update(service.open_lock(LockKey.MODULE), b"\0" * (MAX_PIECE + 1))


def test_a_handle_serves_only_the_caller_that_opened_it_and_the_owner_is_checked_first():
    service = _service()
    handle = service.open_lock(LockKey.MODULE, 100, caller="uid:1", owner="uid:1")
    with pytest.raises(InvalidArgumentError):
        service.update(handle, b"not mine", caller="uid:2")
    service.cancel(handle, caller="uid:2")  # someone else's: ignored
    stream = service.update(handle, b"secret" * 50, final=True, caller="uid:1")
    assert StreamHeader.parse(stream[:StreamHeader.size_from(stream)]).owner == "uid:1"
    seen = []
    assert service.unlock_all(stream, seen.append) == b"secret" * 50 and seen[0].owner == "uid:1"

    def refuse(header: StreamHeader) -> None:
        raise PermissionError(header.owner)

    handle = service.open_unlock(caller="uid:2", check=refuse)
    with pytest.raises(PermissionError):
        service.update(handle, stream, caller="uid:2")
    assert len(service) == 0  # refused before any plaintext, and closed
