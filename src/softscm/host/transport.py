"""Blocking transports a :class:`~softscm.host.client.Client` talks through.

A transport moves whole frame payloads: ``send(payload)`` and ``recv() -> payload``: a socket
(Unix or TCP), a serial line, the encrypted channel over either, or a queue (in-process).
"""

from __future__ import annotations

import os
import queue
import select
import socket
import struct
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import serial
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from ..wire.channel import SecureChannel, client_handshake, is_plain_request, raise_refusal
from ..wire.codec import Reply, parse_incoming
from ..wire.defs import MAX_FRAME_SIZE, ErrorCode
from ..wire.errors import ChannelError, ProtocolError, ScmTimeoutError, TransportError
from ..wire.framing import HEADER, FrameTooLargeError, frame_parts
from ..wire.noise import XXHandshake
from ..wire.serial_framing import SerialDecoder, encode


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
            for part in frame_parts(payload):
                self._sock.sendall(part)
        except OSError as exc:
            raise TransportError(f"connection to the module failed ({exc})") from None

    def recv(self, timeout: float | None = None) -> bytes:
        """One frame, reading as much as the socket has so later frames come from the buffer; a
        large frame is read straight into its own buffer."""
        buffer = self._buffer
        try:
            while True:
                if len(buffer) >= HEADER.size:
                    (length,) = HEADER.unpack_from(buffer)
                    if length > MAX_FRAME_SIZE:
                        raise FrameTooLargeError(f"frame of {length} bytes exceeds the limit")
                    end = HEADER.size + length
                    if len(buffer) >= end:
                        with memoryview(buffer) as view:
                            payload = bytes(view[HEADER.size:end])
                        del buffer[:end]
                        return payload
                    if length > len(self._scratch):
                        return self._read_large(length, timeout)
                received = self._read(timeout)
                if received == 0:
                    raise TransportError("connection closed by the module")
                buffer += memoryview(self._scratch)[:received]
        except TimeoutError:
            raise ScmTimeoutError("no reply from the module in time") from None
        except OSError as exc:
            raise TransportError(f"connection to the module failed ({exc})") from None

    def _read_large(self, length: int, timeout: float | None) -> bytes:
        """The rest of a frame larger than the read buffer, read into its own buffer."""
        payload = bytearray(length)
        have = len(self._buffer) - HEADER.size
        payload[:have] = memoryview(self._buffer)[HEADER.size:]
        self._buffer.clear()
        try:
            with memoryview(payload) as view:
                while have < length:
                    received = self._read(timeout, view[have:])
                    if received == 0:
                        raise TransportError("connection closed by the module")
                    have += received
        except BaseException:  # a timeout: what came of the frame waits for the next recv
            self._buffer += HEADER.pack(length) + payload[:have]
            raise
        return payload  # a bytearray: decoded like bytes, and not copied once more

    def _read(self, timeout: float | None, into: memoryview | None = None) -> int:
        """Read what the socket has into ``into`` (by default the read buffer)."""
        sock = self._sock
        scratch: bytearray | memoryview = self._scratch if into is None else into
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
            return self._replies.get(timeout=timeout)
        except queue.Empty:
            raise ScmTimeoutError("no reply from the module in time") from None

    def close(self) -> None:
        self._close()


class SerialTransport:
    """A serial line (the module's USB CDC-ACM gadget, ``/dev/ttyACM0`` on the host) carrying
    COBS/CRC frames (:mod:`softscm.wire.serial_framing`).

    ``pyserial`` opens and configures the port (raw, 8N1, exclusive); reads wait with ``select``
    so each has its own deadline. A failed line is closed and reported as
    :class:`~softscm.wire.errors.TransportError`; :meth:`reopen` opens the device again.
    """

    def __init__(self, path: str | Path, *, baudrate: int = 115200) -> None:
        """:raises TransportError: if the device cannot be opened."""
        self.path = os.fspath(path)
        self._baudrate = baudrate
        self._port: serial.Serial | None = None
        self._decoder = SerialDecoder()
        self._frames: deque[bytes] = deque()
        self.reopen()

    @property
    def dropped(self) -> int:
        """Frames dropped on this line (bad CRC, garbage) since it was created."""
        return self._decoder.dropped

    def reopen(self) -> None:
        """(Re)open the device, discarding anything half-received. :raises TransportError:"""
        self.close()
        try:
            self._port = serial.Serial(self.path, self._baudrate, timeout=0, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(f"cannot open the serial line {self.path} ({exc})") from None
        self._port.reset_input_buffer()
        self._decoder.reset()
        self._frames.clear()

    def _down(self, exc: BaseException) -> TransportError:
        self.close()
        return TransportError(f"the serial line {self.path} failed ({exc}); it is reopened on the next call")

    def send(self, payload: bytes) -> None:
        port = self._port
        if port is None:
            raise TransportError(f"the serial line {self.path} is closed")
        data = memoryview(encode(payload))
        try:
            while data:
                try:
                    data = data[os.write(port.fileno(), data):]
                except BlockingIOError:
                    pass
                if data and not select.select([], [port.fileno()], [], SEND_TIMEOUT)[1]:
                    raise self._down(TimeoutError("the line took nothing for 30 s"))
        except (OSError, serial.SerialException) as exc:
            raise self._down(exc) from None

    def recv(self, timeout: float | None = None) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._frames:
            port = self._port
            if port is None:
                raise TransportError(f"the serial line {self.path} is closed")
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                readable, _, _ = select.select([port.fileno()], [], [], remaining)
                data = os.read(port.fileno(), 1 << 16) if readable else None
            except BlockingIOError:
                continue
            except (OSError, serial.SerialException) as exc:
                raise self._down(exc) from None
            if data is None:
                raise ScmTimeoutError("no reply from the module in time")
            if not data:
                raise self._down(EOFError("end of file"))
            self._frames.extend(self._decoder.feed(data))
        return self._frames.popleft()

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            port.close()


class ChannelTransport:
    """The encrypted channel over another transport (:mod:`softscm.wire.channel`).

    The handshake runs when it is created: the module must present ``module_key`` (the pinned
    key) and accept ``static`` (this client's enrolled key). After a failure the transport is
    :attr:`stale`; :meth:`reopen` reopens the line beneath (a serial line) and shakes hands again.
    """

    def __init__(self, inner: Transport, static: X25519PrivateKey, module_key: bytes, *,
                 allow_gaps: bool = False, handshake_timeout: float = 10.0) -> None:
        """:raises ChannelError: (or the module's typed refusal) if the channel is not set up."""
        self._inner = inner
        self._static = static
        self._module_key = module_key
        self._allow_gaps = allow_gaps
        self._handshake_timeout = handshake_timeout
        self._channel: SecureChannel | None = None
        self.stale = False
        try:
            self._handshake()
        except BaseException:
            inner.close()
            raise

    @property
    def handshake_hash(self) -> bytes:
        assert self._channel is not None
        return self._channel.handshake_hash

    def _handshake(self) -> None:
        deadline = time.monotonic() + self._handshake_timeout
        steps = iter((self._message_2, self._inner_recv))

        def exchange(payload: bytes) -> bytes:
            self._inner.send(payload)
            return next(steps)(deadline)

        self._channel = client_handshake(exchange, self._static, self._module_key, allow_gaps=self._allow_gaps)
        self.stale = False

    def _inner_recv(self, deadline: float) -> bytes:
        try:
            return self._inner.recv(max(0.0, deadline - time.monotonic()))
        except ScmTimeoutError:
            raise ChannelError("the module did not complete the handshake in time") from None

    def _message_2(self, deadline: float) -> bytes:
        """The module's message 2; on a serial line, frames left from an earlier session (which
        cannot be message 2 or an error reply) are skipped."""
        while True:
            payload = self._inner_recv(deadline)
            if not self._allow_gaps or len(payload) == XXHandshake.MESSAGE_2 or is_plain_request(payload):
                return payload

    def reopen(self) -> None:
        """Reopen the line beneath (if it can) and set up a new channel.

        :raises TransportError: if the line cannot be reopened. :raises ChannelError:
        """
        self._channel = None
        self.stale = True
        reopen = getattr(self._inner, "reopen", None)
        if reopen is None:
            raise TransportError("the connection to the module was closed; connect again")
        reopen()
        self._handshake()

    def send(self, payload: bytes) -> None:
        if self._channel is None:
            raise TransportError("the channel is closed")
        try:
            self._inner.send(self._channel.seal(payload))
        except TransportError:
            self._lose()
            raise

    def recv(self, timeout: float | None = None) -> bytes:
        if self._channel is None:
            raise TransportError("the channel is closed")
        try:
            record = self._inner.recv(timeout)
        except ScmTimeoutError:
            raise
        except TransportError:
            self._lose()
            raise
        try:
            plaintext = self._channel.open(record)
        except ChannelError:  # a refused frame ends the session
            self._lose()
            if record[:3] == _SESSION_ENDED:  # a module that lost the session (its line was replugged) says why
                raise_refusal(record)
            raise
        if plaintext[:3] == _SESSION_ENDED and _ends_session(plaintext):
            self.stale = True
        return plaintext

    def _lose(self) -> None:
        self.stale = True
        self._channel = None

    def close(self) -> None:
        self._channel = None
        self._inner.close()


_SESSION_ENDED = b"\xa3\x00\x00"  # a CBOR reply map with id 0: an error the module could not attribute
_CHANNEL_CODES = {ErrorCode.CHANNEL, ErrorCode.CHANNEL_REQUIRED, ErrorCode.CLIENT_KEY}


def _ends_session(payload: bytes) -> bool:
    """Is this the module's refusal that ended the channel session (after which it is gone)?"""
    try:
        message = parse_incoming(payload)
    except ProtocolError:
        return False
    return isinstance(message, Reply) and message.status in _CHANNEL_CODES
