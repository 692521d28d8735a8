"""The module's open lock and unlock streams (the service behind the streamed LOCK/UNLOCK commands).

A client opens a stream, sends the data in pieces (each piece one request, so data of any size
goes through frames of bounded size) and gets back the locked records, or the authenticated
plaintext, piece by piece; the keys stay in the module. Streams are named by unguessable handles,
at most :data:`MAX_OPEN` are open at once, and one left idle for :data:`IDLE_SECONDS` is dropped.
A stream that fails authentication is closed at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..wire.defs import MAX_STREAM_PIECE, LockKey
from ..wire.errors import BusyError, InvalidArgumentError
from .crypto.rng import Rng
from .crypto.stream import DEFAULT_CHUNK_SIZE, StreamHeader, StreamLocker, StreamUnlocker, lock_stream, unlock_stream

MAX_OPEN = 64
IDLE_SECONDS = 300.0
MAX_PIECE = MAX_STREAM_PIECE  # bytes one update may carry (a frame holds 4 MiB)


@dataclass
class _Open:
    stream: StreamLocker | StreamUnlocker
    caller: str  # the principal that opened it: only it may go on with it
    used: float = field(default=0.0)


Check = Callable[[StreamHeader], None]


class LockStreams:
    """Open streams of one module. Not thread-safe: the module's owner drives it."""

    def __init__(self, key_for: Callable[[LockKey], bytes], rng: Rng, *, clock: Callable[[], float] = time.monotonic,
                 max_open: int = MAX_OPEN, idle_seconds: float = IDLE_SECONDS) -> None:
        """``key_for`` gives the module's lock or cloud key."""
        self._key_for = key_for
        self._rng = rng
        self._clock = clock
        self._max_open = max_open
        self._idle = idle_seconds
        self._open: dict[int, _Open] = {}

    def __len__(self) -> int:
        return len(self._open)

    def open_lock(self, key_id: LockKey, chunk_size: int = DEFAULT_CHUNK_SIZE, *, caller: str = "",
                  owner: str = "") -> int:
        """A new lock stream under ``key_id``'s key for ``owner`` (in its header), usable by ``caller``
        alone; returns its handle.

        :raises InvalidArgumentError: for a chunk size out of range.
        :raises BusyError: while :data:`MAX_OPEN` streams are open.
        """
        header = StreamHeader.new(LockKey(key_id), chunk_size, self._rng, owner=owner)
        return self._add(StreamLocker(self._key_for(header.key_id), header), caller)

    def open_unlock(self, *, caller: str = "", check: Check = lambda header: None) -> int:
        """A new unlock stream (its header names the key) usable by ``caller`` alone; ``check`` sees
        the header before any plaintext; returns its handle.

        :raises BusyError: while :data:`MAX_OPEN` streams are open.
        """
        return self._add(StreamUnlocker(self._key_for, check), caller)

    def update(self, handle: int, data: bytes, *, final: bool = False, caller: str = "") -> bytes:
        """Feed the next piece; returns what is ready: locked bytes (the header first) for a lock
        stream, authenticated plaintext for an unlock stream. ``final`` ends and closes the stream.

        :raises InvalidArgumentError: for an unknown, finished or expired handle (or one another
            caller opened), or a piece over :data:`MAX_PIECE` bytes.
        :raises AuthenticationError: if an unlock stream fails (the stream is closed).
        """
        if len(data) > MAX_PIECE:
            raise InvalidArgumentError(f"a stream piece holds at most {MAX_PIECE} bytes")
        entry = self._get(handle, caller)
        try:
            out = entry.stream.update(data)
            if final:
                del self._open[handle]
                out += entry.stream.finish()
        except Exception:  # a stream that failed (authentication, its owner check) is over; the error goes on
            self._open.pop(handle, None)
            raise
        entry.used = self._clock()
        return out

    def start_lock(self, key_id: LockKey, chunk_size: int, data: bytes, *, final: bool, caller: str = "",
                   owner: str = "") -> tuple[int | None, bytes]:
        """Open a lock stream with its first piece: ``(handle, locked bytes)``; with ``final`` the
        whole stream at once and no handle.

        :raises InvalidArgumentError: for a chunk size out of range or a piece over :data:`MAX_PIECE`.
        :raises BusyError: while :data:`MAX_OPEN` streams are open.
        """
        if final:
            return None, self.lock_all(key_id, data, chunk_size, owner=owner)
        handle = self.open_lock(key_id, chunk_size, caller=caller, owner=owner)
        return handle, self.update(handle, data, caller=caller)

    def start_unlock(self, data: bytes, *, final: bool, caller: str = "",
                     check: Check = lambda header: None) -> tuple[int | None, bytes]:
        """Open an unlock stream with its first piece: ``(handle, plaintext)``; with ``final`` the
        whole stream at once and no handle.

        :raises AuthenticationError: if what was given fails (an open stream is closed then).
        :raises InvalidArgumentError: for a piece over :data:`MAX_PIECE`.
        :raises BusyError: while :data:`MAX_OPEN` streams are open.
        """
        if final:
            return None, self.unlock_all(data, check)
        handle = self.open_unlock(caller=caller, check=check)
        return handle, self.update(handle, data, caller=caller)

    def cancel(self, handle: int, *, caller: str = "") -> None:
        """Drop ``caller``'s stream (nothing happens for an unknown handle or another caller's)."""
        entry = self._open.get(handle)
        if entry is not None and entry.caller == caller:
            del self._open[handle]

    def lock_all(self, key_id: LockKey, data: bytes, chunk_size: int = DEFAULT_CHUNK_SIZE, *, owner: str = "") -> bytes:
        """A whole stream for data given at once (no handle), for ``owner``.

        :raises InvalidArgumentError: for a chunk size out of range.
        """
        header = StreamHeader.new(LockKey(key_id), chunk_size, self._rng, owner=owner)
        return lock_stream(self._key_for(header.key_id), header, data)

    def unlock_all(self, stream: bytes, check: Check = lambda header: None) -> bytes:
        """The data of a whole stream given at once. :raises AuthenticationError: if it fails."""
        return unlock_stream(self._key_for, stream, check)

    def _add(self, stream: StreamLocker | StreamUnlocker, caller: str) -> int:
        self._expire()
        if len(self._open) >= self._max_open:
            raise BusyError(f"{self._max_open} lock streams are open; finish or cancel one")
        handle = self._new_handle()
        while handle in self._open:
            handle = self._new_handle()
        self._open[handle] = _Open(stream, caller, self._clock())
        return handle

    def _new_handle(self) -> int:
        return (int.from_bytes(self._rng(8), "big") >> 1) or 1  # 1..2^63-1: an int64 on the wire

    def _get(self, handle: int, caller: str) -> _Open:
        self._expire()
        entry = self._open.get(handle)
        if entry is None or entry.caller != caller:
            raise InvalidArgumentError("no such lock stream (finished, cancelled or idle too long)")
        return entry

    def _expire(self) -> None:
        now = self._clock()
        for handle in [h for h, entry in self._open.items() if now - entry.used > self._idle]:
            del self._open[handle]
