"""Stream framing: a 4-byte big-endian length, then the payload.

The length is checked against :data:`~softscm.wire.defs.MAX_FRAME_SIZE` before anything is read
or decoded, so an oversize frame costs the reader nothing.
"""

from __future__ import annotations

import asyncio
import struct

from .defs import MAX_FRAME_SIZE
from .errors import ProtocolError, TransportError

HEADER = struct.Struct(">I")


class FrameTooLargeError(ProtocolError):
    """The announced frame exceeds the size limit; the stream cannot be resynchronised."""


def frame(payload: bytes) -> bytes:
    """Prefix ``payload`` with its length.

    :raises ProtocolError: if it exceeds the frame size limit.
    """
    if len(payload) > MAX_FRAME_SIZE:
        raise ProtocolError(f"frame of {len(payload)} bytes exceeds the {MAX_FRAME_SIZE}-byte limit")
    return HEADER.pack(len(payload)) + payload


SPLIT_FROM = 64 * 1024
"""From this payload size a frame goes out as its header and its payload, not joined into one
copy (for large data one more system call is cheaper than copying a megabyte)."""


def frame_parts(payload: bytes) -> tuple[bytes, ...]:
    """:func:`frame` as the pieces to send in order: one joined piece for a small payload, the header
    and the payload itself (not copied) for a large one.

    :raises ProtocolError: if it exceeds the frame size limit.
    """
    if len(payload) < SPLIT_FROM:
        return (frame(payload),)
    if len(payload) > MAX_FRAME_SIZE:
        raise ProtocolError(f"frame of {len(payload)} bytes exceeds the {MAX_FRAME_SIZE}-byte limit")
    return HEADER.pack(len(payload)), payload


def _check_length(length: int) -> int:
    if length > MAX_FRAME_SIZE:
        raise FrameTooLargeError(f"frame of {length} bytes exceeds the {MAX_FRAME_SIZE}-byte limit")
    return length


async def read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """Read one frame; ``None`` at a clean end of stream.

    :raises FrameTooLargeError: for an oversize length.
    :raises TransportError: if the stream ends inside a frame.
    """
    try:
        header = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise TransportError("stream ended inside a frame header") from None
    length = _check_length(HEADER.unpack(header)[0])
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise TransportError("stream ended inside a frame") from None
