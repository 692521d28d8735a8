"""Blocking transports a :class:`~softscm.host.client.Client` talks through.

A transport moves whole frame payloads: ``send(payload)`` and ``recv() -> payload``.
"""

from __future__ import annotations

import os
import queue
import socket
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


class SocketTransport:
    """A stream socket (Unix or TCP) carrying length-prefixed frames."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()
        self._scratch = bytearray(1 << 16)

    @classmethod
    def unix(cls, path: str | Path, timeout: float | None = None) -> SocketTransport:
        """:raises TransportError: if the socket cannot be reached."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(timeout)
            sock.connect(os.fspath(path))
        except OSError as exc:
            sock.close()
            raise TransportError(f"cannot reach the module at unix:{path} ({exc.strerror or exc})") from None
        return cls(sock)

    @classmethod
    def tcp(cls, host: str, port: int, timeout: float | None = None) -> SocketTransport:
        """:raises TransportError: if the address cannot be reached."""
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise TransportError(f"cannot reach the module at tcp:{host}:{port} ({exc.strerror or exc})") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock)

    def send(self, payload: bytes) -> None:
        try:
            self._sock.sendall(frame(payload))
        except OSError as exc:
            raise TransportError(f"connection to the module failed ({exc})") from None

    def recv(self, timeout: float | None = None) -> bytes:
        """One frame, reading as much as the socket has so later frames come from the buffer."""
        buffer = self._buffer
        if timeout != self._sock.gettimeout():
            self._sock.settimeout(timeout)
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
                received = self._sock.recv_into(self._scratch)
                if received == 0:
                    raise TransportError("connection closed by the module")
                buffer += memoryview(self._scratch)[:received]
        except TimeoutError:
            raise ScmTimeoutError("no reply from the module in time") from None
        except OSError as exc:
            raise TransportError(f"connection to the module failed ({exc})") from None

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
