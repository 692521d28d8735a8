"""The asyncio client: several requests in flight on one connection, and an event stream."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from ..wire.channel import ClientHandshake, SecureChannel
from ..wire.codec import EventMessage, Request, parse_incoming
from ..wire.defs import PROTOCOL_VERSION
from ..wire.errors import ChannelError, TransportError, error_for_code
from ..wire.framing import frame, read_frame
from ..wire.messages import Request as RequestMessage
from ..wire.messages.admin import HelloRequest, SubscribeRequest
from .api import ModuleApi
from .api.base import R, same
from .client_keys import ClientKeySource, ModuleKeySource, load_client_key, load_module_key
from .client import default_url

T = TypeVar("T")


if TYPE_CHECKING:
    from .api.asynchronous import AsyncModuleApi as _Api  # the same methods, each an awaitable
else:
    _Api = ModuleApi


class AsyncClient(_Api):
    """An asyncio client. Every API method returns an awaitable of the documented result.

    Open with ``await AsyncClient.connect(url)``; use ``async with`` or ``await close()``.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 channel: SecureChannel | None = None) -> None:
        self._reader, self._writer = reader, writer
        self._channel = channel
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader_task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def connect(cls, url: str | None = None, *, channel: bool | None = None,
                      client_key: ClientKeySource = None, module_key: ModuleKeySource = None) -> AsyncClient:
        """Connect to ``unix:PATH`` or ``tcp:HOST:PORT`` and do the version handshake. TCP carries
        only the encrypted channel; on a Unix socket it is used when ``channel`` is true or a
        ``client_key`` is given (keys as for :func:`softscm.host.client.connect`).

        :raises TransportError: if unreachable. :raises UnsupportedVersionError: on a version mismatch.
        :raises ChannelError: (or :class:`~softscm.wire.errors.ClientKeyError`) if the channel is refused.
        """
        url = url or default_url()
        scheme, _, rest = url.partition(":")
        try:
            if scheme == "unix":
                reader, writer = await asyncio.open_unix_connection(rest, limit=1 << 23)
                secure = channel if channel is not None else client_key is not None
            elif scheme == "tcp":
                if channel is False:
                    raise ValueError("the tcp transport carries only the encrypted channel")
                secure = True
                parts = urlsplit("//" + rest.lstrip("/"))
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port, limit=1 << 23)
            else:
                raise ValueError(f"AsyncClient supports unix: and tcp:, not {url!r}")
        except OSError as exc:
            raise TransportError(f"cannot reach the module at {url} ({exc.strerror or exc})") from None
        session = None
        if secure:
            try:
                session = await _handshake(reader, writer, load_client_key(client_key), load_module_key(module_key))
            except BaseException:
                writer.close()
                raise
        client = cls(reader, writer, session)
        await client._request(HelloRequest(PROTOCOL_VERSION), same)
        return client

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._reader_task.cancel()
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass

    async def _read_loop(self) -> None:
        error: Exception = TransportError("connection to the module closed")
        try:
            while (payload := await read_frame(self._reader)) is not None:
                if self._channel is not None:
                    payload = self._channel.open(payload)
                message = parse_incoming(payload)
                if isinstance(message, EventMessage):
                    self._events.put_nowait(message.event)
                    continue
                if message.id == 0 and message.status:  # the module's refusal before it closes the connection
                    error = error_for_code(message.status, str(message.body))
                    continue
                future = self._pending.pop(message.id, None)
                if future is not None and not future.done():
                    future.set_result(message)
        except (TransportError, ConnectionError, asyncio.IncompleteReadError) as exc:
            error = exc if isinstance(exc, TransportError) else TransportError(str(exc))
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(error)
            self._pending.clear()

    async def _request(self, request: RequestMessage[R], then: Callable[[R], T]) -> T:
        message = Request(next(self._ids), request.COMMAND, request.to_wire())
        payload = message.to_bytes()
        # a request too large for a frame fails here, before it is pending
        framed = frame(self._channel.seal(payload) if self._channel is not None else payload)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[message.id] = future
        self._writer.write(framed)
        reply = await future
        return then(request.parse_reply(reply.result()))

    def _call(self, request: RequestMessage[R], then: Callable[[R], T]) -> Awaitable[T]:
        return self._request(request, then)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Subscribe and yield module events as they arrive."""
        await self._request(SubscribeRequest(), same)
        while True:
            yield await self._events.get()


async def _handshake(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, static: X25519PrivateKey,
                     module_key: bytes, timeout: float = 10.0) -> SecureChannel:
    """The channel's client side (:mod:`softscm.wire.channel`) over an asyncio stream."""
    handshake = ClientHandshake(static, module_key)

    async def exchange(payload: bytes) -> bytes:
        writer.write(frame(payload))
        try:
            reply = await asyncio.wait_for(read_frame(reader), timeout)
        except TimeoutError:
            raise ChannelError("the module did not complete the handshake in time") from None
        if reply is None:
            raise TransportError("the module closed the connection during the handshake")
        return reply

    message_2 = await exchange(handshake.open_request())
    return handshake.finish(await exchange(handshake.answer(message_2)))
