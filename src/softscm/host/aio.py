"""The asyncio client: several requests in flight on one connection, and an event stream."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..wire.codec import EventMessage, Request, parse_incoming
from ..wire.defs import PROTOCOL_VERSION, Command
from ..wire.errors import TransportError
from ..wire.framing import frame, read_frame
from .api import ModuleApi
from .client import default_url

T = TypeVar("T")


class AsyncClient(ModuleApi):
    """An asyncio client. Every API method returns an awaitable of the documented result.

    Open with ``await AsyncClient.connect(url)``; use ``async with`` or ``await close()``.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader_task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def connect(cls, url: str | None = None) -> AsyncClient:
        """Connect to ``unix:PATH`` or ``tcp:HOST:PORT`` and do the version handshake.

        :raises TransportError: if unreachable. :raises UnsupportedVersionError: on a version mismatch.
        """
        url = url or default_url()
        scheme, _, rest = url.partition(":")
        try:
            if scheme == "unix":
                reader, writer = await asyncio.open_unix_connection(rest, limit=1 << 23)
            elif scheme == "tcp":
                parts = urlsplit("//" + rest.lstrip("/"))
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port, limit=1 << 23)
            else:
                raise ValueError(f"AsyncClient supports unix: and tcp:, not {url!r}")
        except OSError as exc:
            raise TransportError(f"cannot reach the module at {url} ({exc.strerror or exc})") from None
        client = cls(reader, writer)
        await client._call(Command.HELLO, {"version": PROTOCOL_VERSION})
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
                message = parse_incoming(payload)
                if isinstance(message, EventMessage):
                    self._events.put_nowait(message.event)
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

    async def _request(self, command: Command, args: dict[str, Any], parse: Callable[[Any], T] | None) -> Any:
        request = Request(next(self._ids), command, args)
        payload = frame(request.to_bytes())  # a request too large for a frame fails here, before it is pending
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request.id] = future
        self._writer.write(payload)
        reply = await future
        result = reply.result()
        return parse(result) if parse is not None else result

    def _call(self, command: Command, args: dict[str, Any], parse: Callable[[Any], T] | None = None) -> Any:
        return self._request(command, args, parse)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Subscribe and yield module events as they arrive."""
        await self._call(Command.SUBSCRIBE, {})
        while True:
            yield await self._events.get()
