"""The streamed, chunked AEAD format: round trips at every size boundary and in pieces of any size,
and every way of rearranging a stream fails authentication: reordered, truncated, extended,
spliced from another stream, a changed header, the wrong key."""

from __future__ import annotations

import itertools
import os

import pytest

from softscm.module.crypto.stream import (
    MAX_CHUNK_SIZE,
    RecordOpener,
    RecordSealer,
    StreamHeader,
    StreamLocker,
    StreamUnlocker,
    lock_stream,
    unlock_stream,
)
from softscm.wire.defs import LockKey
from softscm.wire.errors import AuthenticationError, InvalidArgumentError

KEY = bytes(range(32))
OTHER = bytes(32)
CHUNK = 64


def keys(key_id: LockKey) -> bytes:
    return KEY if key_id is LockKey.MODULE else OTHER


def _stream(data: bytes, chunk: int = CHUNK, key_id: LockKey = LockKey.MODULE) -> tuple[StreamHeader, bytes]:
    header = StreamHeader.new(key_id, chunk)
    return header, lock_stream(keys(key_id), header, data)


def _records(header: StreamHeader, stream: bytes) -> list[bytes]:
    body = stream[header.size:]
    return [body[i:i + header.record_size] for i in range(0, len(body), header.record_size)]


def _join(header: StreamHeader, records: list[bytes]) -> bytes:
    return header.to_bytes() + b"".join(records)


def test_the_header_round_trips_with_its_owner():
    header = StreamHeader(LockKey.CLOUD, 4096, b"s" * 16, b"p" * 8)
    data = header.to_bytes()
    assert len(data) == header.size == StreamHeader.FIXED_SIZE == 35 and data[:4] == b"SCS1"
    assert StreamHeader.parse(data) == header
    owned = StreamHeader(LockKey.MODULE, 4096, b"s" * 16, b"p" * 8, "uid:1000")
    assert StreamHeader.size_from(owned.to_bytes()[:35]) == owned.size == 43
    assert StreamHeader.parse(owned.to_bytes()) == owned
    with pytest.raises(InvalidArgumentError):
        StreamHeader(LockKey.MODULE, 4096, b"s" * 16, b"p" * 8, "x" * 256)
    assert header.nonce(7) == b"p" * 8 + b"\0\0\0\x07"
    assert header.aad(7, True) == data + b"\0\0\0\x07\x01" and header.aad(7, False)[-1] == 0


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 5 * CHUNK + 17])
def test_round_trip_at_every_size_boundary(size):
    data = os.urandom(size)
    header, stream = _stream(data)
    assert len(stream) == header.locked_size(size)
    assert unlock_stream(keys, stream) == data
    records = _records(header, stream)
    assert all(len(r) == header.record_size for r in records[:-1]) and len(records) == max(1, -(-size // CHUNK))


@pytest.mark.parametrize("piece", [1, 7, CHUNK, CHUNK + 16, 1000])
def test_pieces_of_any_size_give_the_same_stream_and_data(piece):
    data = os.urandom(10 * CHUNK + 5)
    header = StreamHeader.new(LockKey.MODULE, CHUNK)
    locker = StreamLocker(KEY, header)
    stream = b"".join(locker.update(data[i:i + piece]) for i in range(0, len(data), piece)) + locker.finish()
    assert stream == lock_stream(KEY, header, data)
    unlocker = StreamUnlocker(keys)
    out = b"".join(unlocker.update(stream[i:i + piece]) for i in range(0, len(stream), piece)) + unlocker.finish()
    assert out == data


def test_plaintext_comes_out_chunk_by_chunk_before_the_end():
    data = os.urandom(4 * CHUNK)
    _, stream = _stream(data)
    unlocker = StreamUnlocker(keys)
    early = unlocker.update(stream[:-1])
    assert early == data[:3 * CHUNK]  # the last record is held back until the end says it is the final one
    assert early + unlocker.update(stream[-1:]) + unlocker.finish() == data


def test_reordered_records_fail():
    header, stream = _stream(os.urandom(4 * CHUNK + 3))
    records = _records(header, stream)
    for order in itertools.permutations(range(len(records) - 1)):
        if list(order) == sorted(order):
            continue
        with pytest.raises(AuthenticationError):
            unlock_stream(keys, _join(header, [records[i] for i in order] + records[-1:]))


@pytest.mark.parametrize("cut", ["last record", "half a record", "one byte", "all records", "header"])
def test_truncated_streams_fail(cut):
    header, stream = _stream(os.urandom(4 * CHUNK))
    records = _records(header, stream)
    truncated = {
        "last record": _join(header, records[:-1]),
        "half a record": stream[:-(header.record_size // 2)],
        "one byte": stream[:-1],
        "all records": header.to_bytes(),
        "header": stream[:header.size - 1],
    }[cut]
    with pytest.raises(AuthenticationError):
        unlock_stream(keys, truncated)


@pytest.mark.parametrize("size", [CHUNK * 3, CHUNK * 3 - 5], ids=["full-final", "short-final"])
def test_extended_streams_fail(size):
    header, stream = _stream(os.urandom(size))
    records = _records(header, stream)
    other_header, other = _stream(os.urandom(2 * CHUNK))
    for extended in (stream + records[-1], stream + records[0], stream + b"\0", stream + _records(other_header, other)[0]):
        with pytest.raises(AuthenticationError):
            unlock_stream(keys, extended)


def test_records_spliced_from_another_stream_fail_even_at_the_same_index():
    header, stream = _stream(os.urandom(3 * CHUNK))
    other_header, other = _stream(os.urandom(3 * CHUNK))
    mixed = _records(header, stream)
    mixed[1] = _records(other_header, other)[1]
    with pytest.raises(AuthenticationError):
        unlock_stream(keys, _join(header, mixed))
    with pytest.raises(AuthenticationError):  # the other stream's header over this stream's records
        unlock_stream(keys, _join(other_header, _records(header, stream)))


@pytest.mark.parametrize("field", ["key_id", "chunk_size", "salt", "nonce_prefix", "magic", "version"])
def test_a_changed_header_fails(field):
    header, stream = _stream(os.urandom(2 * CHUNK + 1))
    raw = bytearray(stream)
    offset = {"magic": 0, "version": 4, "key_id": 5, "chunk_size": 9, "salt": 10, "nonce_prefix": 26}[field]
    raw[offset] ^= 1
    with pytest.raises(AuthenticationError):
        unlock_stream(keys, bytes(raw))


def test_a_flipped_bit_anywhere_in_a_record_fails():
    header, stream = _stream(os.urandom(2 * CHUNK + 9))
    for position in range(header.size, len(stream), 13):
        raw = bytearray(stream)
        raw[position] ^= 0x80
        with pytest.raises(AuthenticationError):
            unlock_stream(keys, bytes(raw))


def test_the_key_is_the_one_the_header_names():
    header, stream = _stream(b"cloud data", key_id=LockKey.CLOUD)
    assert unlock_stream(keys, stream) == b"cloud data"
    with pytest.raises(AuthenticationError):
        unlock_stream(lambda key_id: KEY, stream)


def test_each_stream_has_its_own_key_and_nonces():
    data = b"same data" * 20
    first, second = _stream(data)[1], _stream(data)[1]
    assert first[StreamHeader.FIXED_SIZE:] != second[StreamHeader.FIXED_SIZE:]


def _seal(sealer: RecordSealer, chunk: bytes, *, final: bool) -> bytes:
    out = bytearray(len(chunk) + 16)
    sealer.seal_into(chunk, memoryview(out), final=final)
    return bytes(out)


def _open(opener: RecordOpener, record: bytes, *, final: bool) -> bytes:
    out = bytearray(max(0, len(record) - 16))
    opener.open_into(record, memoryview(out), final=final)
    return bytes(out)


def test_the_sealer_and_opener_enforce_sizes_and_the_end():
    header = StreamHeader.new(LockKey.MODULE, CHUNK)
    sealer = RecordSealer(KEY, header)
    with pytest.raises(InvalidArgumentError):
        _seal(sealer, b"short", final=False)
    with pytest.raises(InvalidArgumentError):
        _seal(sealer, b"x" * (CHUNK + 1), final=True)
    first = _seal(sealer, b"a" * CHUNK, final=False)
    last = _seal(sealer, b"end", final=True)
    with pytest.raises(InvalidArgumentError):
        _seal(sealer, b"more", final=True)
    opener = RecordOpener(KEY, header)
    with pytest.raises(AuthenticationError):
        opener.finish()  # nothing opened yet: truncated
    assert _open(opener, first, final=False) == b"a" * CHUNK
    with pytest.raises(AuthenticationError):
        _open(opener, last, final=False)  # the final record presented as not final
    opener = RecordOpener(KEY, header)
    _open(opener, first, final=False)
    assert _open(opener, last, final=True) == b"end"
    opener.finish()
    with pytest.raises(AuthenticationError):
        _open(opener, last, final=True)


@pytest.mark.parametrize("chunk", [0, MAX_CHUNK_SIZE + 1])
def test_chunk_sizes_out_of_range_are_refused(chunk):
    with pytest.raises(InvalidArgumentError):
        StreamHeader.new(LockKey.MODULE, chunk)


def test_a_locker_cannot_be_used_after_finish():
    locker = StreamLocker(KEY, StreamHeader.new(LockKey.MODULE, CHUNK))
    locker.finish()
    with pytest.raises(InvalidArgumentError):
        locker.update(b"late")
    with pytest.raises(InvalidArgumentError):
        locker.finish()


def test_the_owner_cannot_be_changed_and_is_seen_before_any_plaintext():
    header = StreamHeader.new(LockKey.MODULE, CHUNK, owner="uid:1000")
    stream = lock_stream(KEY, header, os.urandom(3 * CHUNK))
    other = StreamHeader(header.key_id, header.chunk_size, header.salt, header.nonce_prefix, "uid:1001")
    with pytest.raises(AuthenticationError):
        unlock_stream(keys, other.to_bytes() + stream[header.size:])
    seen = []
    unlocker = StreamUnlocker(keys, seen.append)
    assert unlocker.update(stream[:header.size - 1]) == b"" and seen == []
    unlocker.update(stream[header.size - 1:header.size + 5])
    assert seen == [header]

    def refuse(_: StreamHeader) -> None:
        raise PermissionError("not yours")

    with pytest.raises(PermissionError):
        unlock_stream(keys, stream, refuse)
