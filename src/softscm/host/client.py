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
from .client_keys import ClientKeySource, ModuleKeySource, load_client_key, load_module_key
from .gadget import find_module_port
from .transport import ChannelTransport, SerialTransport, SocketTransport, Transport

T = TypeVar("T")


def default_url() -> str:
    """``$SOFTSCM_URL`` if set, else the default Unix socket."""
    return os.environ.get("SOFTSCM_URL") or f"unix:{default_socket_path()}"


def open_transport(url: str, timeout: float | None = None, *, busy_poll: bool = True,
                   channel: bool | None = None, client_key: ClientKeySource = None,
                   module_key: ModuleKeySource = None) -> Transport:
    """Open the transport for ``unix:PATH``, ``tcp:HOST:PORT`` or ``serial:DEVICE`` (``serial:auto``:
    the one module board attached over USB; ``busy_poll``: see
    :class:`~softscm.host.transport.SocketTransport`).

    TCP and serial always carry the encrypted channel; a Unix socket does when ``channel`` is true
    or a ``client_key`` is given. The keys default to the files in
    :mod:`softscm.host.client_keys`.

    :raises ValueError: for an unknown scheme. :raises TransportError: if unreachable.
    :raises ChannelError: (or the module's typed refusal) if the channel cannot be set up.
    """
    scheme, _, rest = url.partition(":")
    allow_gaps = False
    if scheme == "unix":
        inner: Transport = SocketTransport.unix(rest, timeout, busy_poll=busy_poll)
        if not (channel if channel is not None else client_key is not None):
            return inner
    elif scheme == "tcp":
        parts = urlsplit("//" + rest.lstrip("/"))
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"a TCP URL is tcp:HOST:PORT, not {url!r}")
        _required(channel, "tcp")
        inner = SocketTransport.tcp(parts.hostname, parts.port, timeout, busy_poll=busy_poll)
    elif scheme == "serial":
        if not rest:
            raise ValueError(f"a serial URL is serial:DEVICE, not {url!r}")
        _required(channel, "serial")
        device = find_module_port().device if rest == "auto" else rest
        inner, allow_gaps = SerialTransport(device), True
    else:
        raise ValueError(f"unknown transport in {url!r}; use unix:, tcp:, serial: or embedded:")
    try:
        static, pinned = load_client_key(client_key), load_module_key(module_key)
    except ScmError:
        inner.close()
        raise
    return ChannelTransport(inner, static, pinned, allow_gaps=allow_gaps, handshake_timeout=timeout or 10.0)


def _required(channel: bool | None, scheme: str) -> None:
    if channel is False:
        raise ValueError(f"the {scheme} transport carries only the encrypted channel")


class Client(ModuleApi):
    """A blocking client. Safe to share between threads (one request at a time).

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, transport: Transport, *, timeout: float | None = 30.0) -> None:
        """Open the session with the version handshake.

        Request ids are never reused on a client, so a late reply (to a request that timed out)
        is told apart and dropped. A transport that went :attr:`stale` (a serial line that
        dropped) is reopened before the next request, with a new channel and HELLO.

        :raises UnsupportedVersionError: if the module speaks another protocol version.
        """
        self._transport = transport
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._events: deque[dict[str, Any]] = deque()
        with self._lock:
            self.hello: Hello = self._hello()

    def _hello(self) -> Hello:
        request = HelloRequest(PROTOCOL_VERSION)
        return request.parse_reply(self._exchange(Request(next(self._ids), request.COMMAND, request.to_wire())))

    def _renew(self) -> None:
        """Reopen a stale transport (with the lock held). :raises TransportError:"""
        if getattr(self._transport, "stale", False):
            self._transport.reopen()  # type: ignore[attr-defined]
            self.hello = self._hello()

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
        with self._lock:
            self._renew()
            result = self._exchange(Request(next(self._ids), request.COMMAND, request.to_wire()))
        return then(request.parse_reply(result))

    def _exchange(self, frame: Request) -> Any:
        """Send ``frame`` and return its result (with the lock held); replies to earlier requests
        (which timed out) are dropped."""
        self._transport.send(frame.to_bytes())
        while True:
            reply = self._receive(self._timeout)
            if reply.id in (frame.id, 0):
                return reply.result()  # an id-0 reply is an error the module could not attribute
            if reply.id > frame.id:
                raise ProtocolError(f"reply {reply.id} does not answer request {frame.id}")

    def pipeline(self, requests: list[RequestMessage[Any]]) -> list[Message | ScmError]:
        """Send several requests before reading any reply; returns their replies (or errors) in order."""
        with self._lock:
            self._renew()
            frames = [Request(next(self._ids), request.COMMAND, request.to_wire()) for request in requests]
            for frame in frames:
                self._transport.send(frame.to_bytes())
            replies: dict[int, Reply] = {}
            while len(replies) < len(frames):
                reply = self._receive(self._timeout)
                if reply.id == 0:
                    reply.result()  # an error the module could not attribute (it raises)
                if reply.id >= frames[0].id:  # not a late reply to an earlier request
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


def connect(url: str | None = None, *, timeout: float | None = 30.0, busy_poll: bool = True,
            channel: bool | None = None, client_key: ClientKeySource = None,
            module_key: ModuleKeySource = None) -> Client:
    """Connect to a module at ``unix:PATH``, ``tcp:HOST:PORT`` or ``serial:DEVICE`` (default:
    :func:`default_url`).

    TCP and serial carry only the encrypted channel (:func:`open_transport`): ``client_key`` is
    this host's enrolled key (an ``X25519PrivateKey`` or a file; default
    ``~/.config/softscm/client.key``) and ``module_key`` the module's pinned public key (bytes or
    a file; default ``~/.config/softscm/module.pub``). On a Unix socket the channel is optional.

    ``busy_poll`` lets a waiting call poll for its reply for up to 100 us before it sleeps, which
    roughly halves the round trip when a core is free; it backs off by itself on a busy CPU.

    ``softscm.connect`` also accepts ``embedded:STATE_DIR``.

    :raises TransportError: if the module cannot be reached.
    :raises ChannelError: (or :class:`~softscm.wire.errors.ClientKeyError`) if the channel is refused.
    """
    url = url or default_url()
    transport = open_transport(url, timeout=10.0, busy_poll=busy_poll, channel=channel, client_key=client_key,
                               module_key=module_key)
    try:
        return Client(transport, timeout=timeout)
    except BaseException:
        transport.close()
        raise


__all__ = ["Client", "ScmError", "connect", "default_socket_path", "default_url"]
