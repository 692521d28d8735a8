"""Serial framing: COBS, CRC-32 and resynchronisation after garbage."""

from __future__ import annotations

import os
import zlib

import pytest

from softscm.wire.errors import ProtocolError
from softscm.wire.serial_framing import CRC, SerialDecoder, encode, max_encoded_size


@pytest.mark.parametrize("payload", [b"", b"\x00", b"\x00" * 300, bytes(range(256)) * 3, os.urandom(1000)],
                         ids=["empty", "zero", "zeros", "all-bytes", "random"])
def test_round_trip_and_no_zero_inside_a_frame(payload):
    encoded = encode(payload)
    assert encoded[0] == 0 and encoded[-1] == 0 and 0 not in encoded[1:-1]
    assert SerialDecoder().feed(encoded) == [payload]


def test_frames_split_across_reads_at_every_byte():
    stream = encode(b"first") + encode(b"second\x00frame")
    decoder = SerialDecoder()
    frames = [frame for byte in stream for frame in decoder.feed(bytes([byte]))]
    assert frames == [b"first", b"second\x00frame"] and decoder.dropped == 0


def test_garbage_before_between_and_inside_is_skipped():
    decoder = SerialDecoder()
    noise = b"\x13\x37garbage\x00\xff\xfe\x00"
    assert decoder.feed(noise + encode(b"one") + noise + encode(b"two")) == [b"one", b"two"]
    assert decoder.dropped >= 2


def test_a_bad_crc_drops_only_that_frame():
    good, bad = encode(b"kept"), bytearray(encode(b"corrupted payload"))
    bad[5] ^= 0x40 if bad[5] ^ 0x40 else 0x41  # flip a bit, never to a zero byte
    decoder = SerialDecoder()
    assert decoder.feed(bytes(bad) + good) == [b"kept"]
    assert decoder.dropped == 1


def test_a_frame_cut_short_is_dropped_and_the_next_one_read():
    cut = encode(b"a request cut by line noise")[:-9]
    decoder = SerialDecoder()
    assert decoder.feed(cut + encode(b"next")) == [b"next"]
    assert decoder.dropped == 1


def test_an_oversize_run_is_skipped_without_being_buffered():
    decoder = SerialDecoder(max_payload=64)
    limit = max_encoded_size(64)
    assert decoder.feed(b"\x01" * (limit + 1)) == []
    assert len(decoder._buffer) == 0  # nothing held beyond the limit
    assert decoder.feed(b"\x01" * 10_000 + encode(b"after", max_payload=64)) == [b"after"]
    assert decoder.dropped == 1


def test_encode_refuses_oversize_payloads():
    with pytest.raises(ProtocolError):
        encode(b"x" * 65, max_payload=64)


def test_the_crc_is_zlib_crc32_big_endian():
    from cobs import cobs

    payload = b"softscm"
    assert cobs.decode(encode(payload)[1:-1]) == payload + CRC.pack(zlib.crc32(payload))
