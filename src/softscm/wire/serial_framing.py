"""Serial-line framing: COBS byte stuffing, a CRC-32 on each frame and a 0x00 delimiter.

One frame on the line is ``0x00 || COBS(payload || CRC-32(payload), 4 bytes big-endian) || 0x00``.
COBS leaves no zero byte inside a frame, so a reader that meets garbage, a cut-off frame or a
corrupted one drops what it has and starts again at the next delimiter: the line resynchronises
by itself. A frame whose CRC does not match is dropped whole. Sizes are checked before anything
is decoded: a run of bytes longer than the largest possible frame is skipped up to the next
delimiter. (The stream framing in :mod:`softscm.wire.framing` is the one reader for byte
streams; this is the serial line's.)
"""

from __future__ import annotations

import struct
import zlib

from cobs import cobs

from .defs import MAX_FRAME_SIZE
from .errors import ProtocolError

DELIMITER = b"\x00"
CRC = struct.Struct(">I")


def max_encoded_size(max_payload: int) -> int:
    """The longest COBS encoding of a payload of ``max_payload`` bytes and its CRC."""
    data = max_payload + CRC.size
    return data + data // 254 + 1


def encode(payload: bytes, *, max_payload: int = MAX_FRAME_SIZE) -> bytes:
    """One delimited frame.

    :raises ProtocolError: if ``payload`` exceeds ``max_payload``.
    """
    if len(payload) > max_payload:
        raise ProtocolError(f"frame of {len(payload)} bytes exceeds the {max_payload}-byte limit")
    encoded: bytes = cobs.encode(payload + CRC.pack(zlib.crc32(payload)))
    return DELIMITER + encoded + DELIMITER


class SerialDecoder:
    """Feed it bytes as they arrive; it returns the payloads of the good frames among them.

    :attr:`dropped` counts frames thrown away (bad CRC, bad stuffing, oversize, garbage).
    """

    def __init__(self, *, max_payload: int = MAX_FRAME_SIZE) -> None:
        self._max_encoded = max_encoded_size(max_payload)
        self._buffer = bytearray()
        self._skipping = False  # inside an oversize run: discard up to the next delimiter
        self.dropped = 0

    def feed(self, data: bytes) -> list[bytes]:
        frames: list[bytes] = []
        start = 0
        while True:
            end = data.find(DELIMITER, start)
            if end < 0:
                self._take(data[start:])
                return frames
            self._take(data[start:end])
            if self._skipping:
                self._skipping = False
            elif self._buffer:
                payload = self._decode(bytes(self._buffer))
                if payload is None:
                    self.dropped += 1
                else:
                    frames.append(payload)
            self._buffer.clear()
            start = end + 1

    def _take(self, chunk: bytes) -> None:
        if self._skipping or not chunk:
            return
        if len(self._buffer) + len(chunk) > self._max_encoded:
            self._buffer.clear()
            self._skipping = True
            self.dropped += 1
            return
        self._buffer += chunk

    @staticmethod
    def _decode(encoded: bytes) -> bytes | None:
        try:
            data: bytes = cobs.decode(encoded)
        except cobs.DecodeError:
            return None
        if len(data) < CRC.size:
            return None
        payload, (crc,) = data[:-CRC.size], CRC.unpack(data[-CRC.size:])
        return payload if zlib.crc32(payload) == crc else None

    def reset(self) -> None:
        """Forget a partial frame (the line was closed and reopened)."""
        self._buffer.clear()
        self._skipping = False
