"""Streamed lock and unlock of files of any size through a client, piece by piece.

Nothing is held in memory beyond one piece. Unlocked plaintext goes out chunk by chunk as each
chunk is authenticated; give :func:`unlock_file` a destination that appears only when complete
(:func:`~softscm.host.files.atomic_output`) so that a stream that fails half-way leaves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from ..wire.defs import MAX_STREAM_PIECE, LockKey
from ..wire.errors import ScmError
from ..wire.messages.operations import StreamOutput
from .api.operations import LockKeyLike
from .client import Client

Start = Callable[[bytes, bool], StreamOutput]

STREAM_MAGIC = b"SCS1"
"""The first bytes of a streamed lock (a one-shot lock blob starts with ``SCL1``)."""


def lock_file(scm: Client, source: BinaryIO, destination: BinaryIO, *, key: LockKeyLike = LockKey.MODULE,
              piece: int = MAX_STREAM_PIECE) -> int:
    """Lock everything ``source`` holds into ``destination``; returns the bytes written.

    :raises BusyError: if the module has too many streams open.
    :raises OSError: if a file cannot be read or written (the module's stream is cancelled).
    """
    return _run(scm, source, destination, piece, lambda data, final: scm.lock_stream(data, key=key, final=final))


def unlock_file(scm: Client, source: BinaryIO | Prefixed, destination: BinaryIO, *,
                piece: int = MAX_STREAM_PIECE) -> int:
    """Unlock a streamed lock from ``source`` into ``destination``; returns the plaintext bytes.

    :raises AuthenticationError: if the stream fails anywhere: changed, reordered, cut short or
        extended (``destination`` may then hold the chunks authenticated before the failure).
    :raises OSError: if a file cannot be read or written.
    """
    return _run(scm, source, destination, piece, lambda data, final: scm.unlock_stream(data, final=final))


class Prefixed:
    """A reader that gives ``head`` (bytes already read to tell the format) before the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._stream.read(size)
        if size < 0:
            out, self._head = self._head + self._stream.read(), b""
            return out
        out, self._head = self._head[:size], self._head[size:]
        return out + (self._stream.read(size - len(out)) if len(out) < size else b"")


def _run(scm: Client, source: BinaryIO | Prefixed, destination: BinaryIO, piece: int, start: Start) -> int:
    data = source.read(piece)
    following = source.read(piece)
    step = start(data, not following)
    written = destination.write(step.data)
    handle = step.handle
    try:
        while handle is not None:
            data, following = following, source.read(piece)
            step = scm.stream_update(handle, data, final=not following)
            written += destination.write(step.data)
            handle = step.handle
    except (OSError, KeyboardInterrupt):
        if handle is not None:
            try:
                scm.stream_cancel(handle)
            except ScmError:
                pass
        raise
    return written
