"""Blocking transports a :class:`~softscm.host.client.Client` talks through.

A transport moves whole frame payloads: ``send(payload)`` and ``recv() -> payload``.
"""

from __future__ import annotations

import os
import queue
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from ..wire.errors import ScmTimeoutError, TransportError
from ..wire.defs import MAX_FRAME_SIZE
from ..wire.framing import HEADER, FrameTooLargeError, frame


class Transport(Protocol):
    def send(self, payload: bytes) -> None: ...

    def recv(self, timeout: float | None = None) -> bytes: ...

    def close(self) -> None: ...


BUSY_POLL_SECONDS = 100e-6
MAX_BACKOFF = 1024
SEND_TIMEOUT = 30.0


def _timeval(seconds: float | None) -> bytes:
    seconds = 0.0 if seconds is None else max(seconds, 1e-6)  # 0: no timeout
    return struct.pack("ll", int(seconds), int(seconds % 1 * 1e6))


class SocketTransport:
    """A stream socket (Unix or TCP) carrying length-prefixed frames.

    The socket stays in blocking mode with kernel timeouts (no poll call before each read). With
    ``busy_poll``, a read first polls without sleeping for up to :data:`BUSY_POLL_SECONDS`,
    yielding the CPU between polls: waking a sleeping process costs more than a fast reply
    takes. A poll that finds nothing backs off for twice as many reads as the last one (up to
    :data:`MAX_BACKOFF`), so a client that shares a busy CPU stops polling.
    """

    def __init__(self, sock: socket.socket, *, busy_poll: bool = True) -> None:
        sock.settimeout(None)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(SEND_TIMEOUT))
        self._sock = sock
        self.busy_poll = busy_poll
        self._timeout: float | None = None
        self._backoff = self._skip = 0
        self._buffer = bytearray()
        self._scratch = bytearray(1 << 16)

    @classmethod
    def unix(cls, path: str | Path, timeout: float | None = None, *, busy_poll: bool = True) -> SocketTransport:
        """:raises TransportError: if the socket cannot be reached."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(os.fspath(path))
        except OSError as exc:
            sock.close()
            raise TransportError(f"cannot reach the module at unix:{path} ({exc.strerror or exc})") from None
        return cls(sock, busy_poll=busy_poll)

    @classmethod
    def tcp(cls, host: str, port: int, timeout: float | None = None, *, busy_poll: bool = True) -> SocketTransport:
        """:raises TransportError: if the address cannot be reached."""
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise TransportError(f"cannot reach the module at tcp:{host}:{port} ({exc.strerror or exc})") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock, busy_poll=busy_poll)

    def send(self, payload: bytes) -> None:
        try:
            self._sock.sendall(frame(payload))
        except OSError as exc:
            raise TransportError(f"connection to the module failed ({exc})") from None

    def recv(self, timeout: float | None = None) -> bytes:
        """One frame, reading as much as the socket has so later frames come from the buffer."""
        buffer = self._buffer
        try:
            while True:
                if len(buffer) >= HEADER.size:
                    (length,) = HEADER.unpack_from(buffer)
                    if length > MAX_FRAME_SIZE:
                        raise FrameTooLargeError(f"frame of {length} bytes exceeds the limit")
                    if len(buffer) >= HEADER.size + length:
                        payload = bytes(buffer[HEADER.size:HEADER.size + length])
                        del buffer[:HEADER.size + length]
                        return payload
                received = self._read(timeout)
                if received == 0:
                    raise TransportError("connection closed by the module")
                buffer += memoryview(self._scratch)[:received]
        except TimeoutError:
            raise ScmTimeoutError("no reply from the module in time") from None
        except OSError as exc:
            raise TransportError(f"connection to the module failed ({exc})") from None

    def _read(self, timeout: float | None) -> int:
        sock, scratch = self._sock, self._scratch
        if self._skip:
            self._skip -= 1
        elif self.busy_poll:
            deadline = time.perf_counter() + BUSY_POLL_SECONDS
            while True:
                try:
                    received = sock.recv_into(scratch, 0, socket.MSG_DONTWAIT)
                    self._backoff = 0
                    return received
                except BlockingIOError:
                    if time.perf_counter() > deadline:
                        break
                    os.sched_yield()
            self._backoff = min(2 * self._backoff or 1, MAX_BACKOFF)
            self._skip = self._backoff
        if timeout != self._timeout:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(timeout))
            self._timeout = timeout
        try:
            return sock.recv_into(scratch)
        except BlockingIOError:  # SO_RCVTIMEO expired
            raise TimeoutError from None

    def close(self) -> None:
        self._sock.close()


class QueueTransport:
    """The in-process transport: frames handed to a callable, replies read from a queue."""

    def __init__(self, send: Callable[[bytes], None], replies: queue.Queue[bytes], close: Callable[[], None]) -> None:
        self._send, self._replies, self._close = send, replies, close

    def send(self, payload: bytes) -> None:
        self._send(payload)

    def recv(self, timeout: float | None = None) -> bytes:
        try:
            return self._replies.get(timeout=timeout)[HEADER.size :]
        except queue.Empty:
            raise ScmTimeoutError("no reply from the module in time") from None

    def close(self) -> None:
        self._close()
