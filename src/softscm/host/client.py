"""The synchronous client and ``connect(url)``."""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..wire.address import default_socket_path
from ..wire.codec import EventMessage, Reply, Request, parse_incoming
from ..wire.defs import PROTOCOL_VERSION
from ..wire.errors import ProtocolError, ScmError
from ..wire.messages import Message
from ..wire.messages import Request as RequestMessage
from ..wire.messages.admin import Hello, HelloRequest, SubscribeRequest
from .api import ModuleApi
from .api.base import R, same
from .transport import SocketTransport, Transport

T = TypeVar("T")


def default_url() -> str:
    """``$SOFTSCM_URL`` if set, else the default Unix socket."""
    return os.environ.get("SOFTSCM_URL") or f"unix:{default_socket_path()}"


def open_transport(url: str, timeout: float | None = None, *, busy_poll: bool = True) -> Transport:
    """Open a socket transport for ``unix:PATH`` or ``tcp:HOST:PORT`` (``busy_poll``: see
    :class:`~softscm.host.transport.SocketTransport`).

    :raises ValueError: for an unknown scheme. :raises TransportError: if unreachable.
    """
    scheme, _, rest = url.partition(":")
    if scheme == "unix":
        return SocketTransport.unix(rest, timeout, busy_poll=busy_poll)
    if scheme == "tcp":
        parts = urlsplit("//" + rest.lstrip("/"))
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"a TCP URL is tcp:HOST:PORT, not {url!r}")
        return SocketTransport.tcp(parts.hostname, parts.port, timeout, busy_poll=busy_poll)
    raise ValueError(f"unknown transport in {url!r}; use unix:, tcp: or embedded:")


class Client(ModuleApi):
    """A blocking client. Safe to share between threads (one request at a time).

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, transport: Transport, *, timeout: float | None = 30.0) -> None:
        """Open the session with the version handshake.

        :raises UnsupportedVersionError: if the module speaks another protocol version.
        """
        self._transport = transport
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._events: deque[dict[str, Any]] = deque()
        self.hello: Hello = self._call(HelloRequest(PROTOCOL_VERSION), same)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def _receive(self, timeout: float | None) -> Reply:
        while True:
            message = parse_incoming(self._transport.recv(timeout))
            if isinstance(message, EventMessage):
                self._events.append(message.event)
                continue
            return message

    def _call(self, request: RequestMessage[R], then: Callable[[R], T]) -> T:
        frame = Request(next(self._ids), request.COMMAND, request.to_wire())
        with self._lock:
            self._transport.send(frame.to_bytes())
            reply = self._receive(self._timeout)
        if reply.id not in (frame.id, 0):
            raise ProtocolError(f"reply {reply.id} does not answer request {frame.id}")
        result = reply.result()  # an id-0 reply is an error the module could not attribute
        return then(request.parse_reply(result))

    def pipeline(self, requests: list[RequestMessage[Any]]) -> list[Message | ScmError]:
        """Send several requests before reading any reply; returns their replies (or errors) in order."""
        frames = [Request(next(self._ids), request.COMMAND, request.to_wire()) for request in requests]
        with self._lock:
            for frame in frames:
                self._transport.send(frame.to_bytes())
            replies: dict[int, Reply] = {}
            while len(replies) < len(frames):
                reply = self._receive(self._timeout)
                replies[reply.id] = reply
        results: list[Message | ScmError] = []
        for request, frame in zip(requests, frames):
            try:
                results.append(request.parse_reply(replies[frame.id].result()))
            except ScmError as exc:
                results.append(exc)
        return results

    def events(self, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Subscribe and yield module events as they arrive (forever, or until ``timeout`` passes
        with no event: then :class:`~softscm.wire.errors.ScmTimeoutError`)."""
        self._call(SubscribeRequest(), same)
        while True:
            while self._events:
                yield self._events.popleft()
            with self._lock:
                message = parse_incoming(self._transport.recv(timeout))
            if isinstance(message, EventMessage):
                yield message.event


def connect(url: str | None = None, *, timeout: float | None = 30.0, busy_poll: bool = True) -> Client:
    """Connect to a module at ``unix:PATH`` or ``tcp:HOST:PORT`` (default: :func:`default_url`).

    ``busy_poll`` lets a waiting call poll for its reply for up to 100 us before it sleeps, which
    roughly halves the round trip when a core is free; it backs off by itself on a busy CPU.

    ``softscm.connect`` also accepts ``embedded:STATE_DIR``.

    :raises TransportError: if the module cannot be reached.
    """
    url = url or default_url()
    return Client(open_transport(url, timeout=10.0, busy_poll=busy_poll), timeout=timeout)


__all__ = ["Client", "ScmError", "connect", "default_socket_path", "default_url"]
