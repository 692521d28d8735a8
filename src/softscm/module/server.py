"""Serving the module over byte streams (Unix socket, TCP loopback), a serial line and in-process.

Every connection may first open the encrypted channel (:mod:`softscm.module.gate`; required on
TCP and serial), then starts with a HELLO handshake. A malformed frame gets an error reply (id 0 when
the id could not be read) and the connection keeps serving; only an oversize length, which makes
the stream impossible to resynchronise, closes it. Nothing a client sends can stop the server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import random
import socket
import threading
import typing
from collections.abc import Awaitable, Callable
from pathlib import Path
from time import monotonic
from typing import Any, Protocol

from ..wire.codec import EventMessage, Reply, Request
from ..wire.defs import MAX_FRAME_SIZE, Command, ModuleState
from ..wire.errors import (
    BusyError,
    ChannelError,
    InternalError,
    LimitExceededError,
    ProtocolError,
    ScmError,
    TransportError,
)
from ..wire.framing import HEADER, SPLIT_FROM, FrameTooLargeError, frame, frame_parts
from ..wire.messages import Done, Message
from ..wire.messages.selftest import SelfTestKind
from . import commands, lifecycle
from .access.caller import EMBEDDED, Caller, Session, client_peer, tcp_peer, unix_peer
from .access.clients import channel_static_key
from .direct_read import BUDGET, DirectReader
from .dispatch import Dispatcher
from .endpoints import Listener, UnixEndpoint, bind
from .gate import ChannelKeys, SessionGate
from .module import Module
from .offload import Deferred
from .serial_line import SerialLine

log = logging.getLogger(__name__)

Sender = Callable[[bytes], None]

OUTPUT_LIMIT = 1024 * 1024  # replies queued for one connection before its frames wait
MAX_UNREAD = 64 * 1024 * 1024  # output a connection may leave unread before it is closed
MAX_CONNECTIONS = 256  # stream connections served at once; one more is refused with BUSY
MAX_BUFFERED = 48 * 1024 * 1024  # partial request frames held for all connections together
FAIR_SHARE = 256 * 1024  # what one connection may always hold, whatever the others hold
MAX_REPLY = MAX_FRAME_SIZE - 1024  # a reply payload, with room for the channel's sealing


async def run_monitor(module: Module, interval: float = 0.05) -> None:
    """Poll the sensors, and run the background integrity checks at randomised intervals, for ever
    (cancel the task to stop)."""
    low, high = module.config.background_interval
    loop = asyncio.get_running_loop()
    next_check = loop.time() + random.uniform(low, high)
    while (services := module.services) is not None:
        before = module.changes
        services.monitor.poll()
        if loop.time() >= next_check and module.state is ModuleState.READY:
            services.selftests.run(SelfTestKind.BACKGROUND, full=False)
            next_check = loop.time() + random.uniform(low, high)
        if module.services is not None and module.changes != before:
            module.sync()  # what the sensors changed (breach times, log entries) is durable now
        await asyncio.sleep(interval)


class Connection:
    """One client's session: handshake state, subscriptions and requests in flight.

    ``send`` takes one reply or event payload (the transport frames and, on the channel, seals it).
    ``caller`` is who the transport proved is at the other end (the kernel's peer credentials, or
    the enrolled client key of the channel); the access control decides from it.
    """

    def __init__(self, module: Module, dispatcher: Dispatcher, send: Sender, caller: Caller) -> None:
        self._module = module
        self._dispatcher = dispatcher
        self._send = send
        self._session = Session(caller)
        self._greeted = False
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._special = dispatcher.blocking_commands | {Command.SUBSCRIBE}  # not a plain request and reply

    def on_frame(self, payload: bytes) -> None:
        """Handle one request frame; the reply (now, or later for a wait) goes to ``send``."""
        try:
            request = Request.parse(payload)
        except ScmError as exc:
            self._reply(Reply.failure(getattr(exc, "request_id", 0), exc))
            return
        command = request.command
        if not self._greeted:
            if command is not Command.HELLO:
                self._reply(Reply.failure(request.id, ProtocolError("the connection must open with HELLO")))
                return
            reply = self._dispatcher.handle(request, self._session)
            self._greeted = reply.status == 0
            self._reply(reply)
            return
        if command in self._special:
            if command is Command.SUBSCRIBE:
                self._subscribe(request)
            else:
                self._start_wait(request)
            return
        reply = self._dispatcher.handle(request, self._session)
        if isinstance(reply.body, Deferred):
            self._start_task(request, reply.body.result())
            return
        self._reply(reply)

    @property
    def owes_replies(self) -> bool:
        """Whether a reply is still to come (a wait, or offloaded work)."""
        return bool(self._tasks)

    def _reply(self, reply: Reply) -> None:
        """Send ``reply``; one too large for a frame goes out as a LIMIT_EXCEEDED error instead (the
        connection must not end for what a legal request asked)."""
        payload = reply.to_bytes()
        if len(payload) > MAX_REPLY:
            log.warning("a reply of %d bytes did not fit a frame", len(payload))
            payload = Reply.failure(reply.id, LimitExceededError(
                f"the reply of {len(payload):,} bytes exceeds the {MAX_FRAME_SIZE:,}-byte frame limit: ask for less "
                "(a smaller limit or range)")).to_bytes()
        self._send(payload)

    def _subscribe(self, request: Request) -> None:
        if self._unsubscribe is None:
            def push(event: dict[str, Any]) -> None:
                try:
                    self._send(EventMessage(event).to_bytes())
                except (TransportError, ProtocolError, OSError):
                    pass

            self._unsubscribe = self._module.events.subscribe(push)
        self._reply(Reply.success(request.id, Done().to_wire()))

    def _start_wait(self, request: Request) -> None:
        try:
            awaitable: Awaitable[Message] = self._dispatcher.execute(request, self._session)
        except ScmError as exc:
            self._reply(Reply.failure(request.id, exc))
            return
        self._start_task(request, awaitable)

    def _start_task(self, request: Request, awaitable: Awaitable[Message]) -> None:
        """Reply to ``request`` when ``awaitable`` (a wait, or offloaded work) completes."""

        async def finish() -> None:
            module = self._module
            try:
                before = module.changes
                result = await awaitable
                if module.services is not None and module.changes != before:
                    module.sync()  # a wait that wrote (a boot verification, an authorisation): durable first
                self._reply(Reply.success(request.id, result.to_wire()))
            except ScmError as exc:
                self._reply(Reply.failure(request.id, exc))
            except (OSError, TransportError):
                pass
            except Exception:
                log.exception("internal error in %s", request.command.name)
                self._reply(Reply.failure(request.id, InternalError("internal error")))

        task = asyncio.get_running_loop().create_task(finish())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in self._tasks:
            task.cancel()


def _peer(transport: asyncio.BaseTransport) -> Caller:
    """Who is on the other end of a plain session: a Unix peer's uid and gid from the kernel; a
    TCP peer's address (on the channel, the enrolled client key says who it is instead)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family == socket.AF_UNIX:
        return unix_peer(sock, os.geteuid())
    return tcp_peer(transport.get_extra_info("peername"))


class _StreamProtocol(asyncio.Protocol):
    """One stream connection. Replies to read-only requests go out at the end of each read; once a
    request has written, this connection's replies wait for the server's next flush to disk.

    The only connection is read directly after each reply (:mod:`softscm.module.direct_read`)
    while nothing else of it waits: a single client's next request then skips the loop's poll.

    Flow control: a client that does not read its replies stops being read. Frames are taken
    only while less than :data:`OUTPUT_LIMIT` bytes of replies wait here and the transport's own
    buffer is below its high-water mark; the rest wait, unread, until the output drains.

    Memory: the bytes of a partial frame count against the server's :data:`MAX_BUFFERED`; a
    connection holding more than :data:`FAIR_SHARE` while that pool is spent is closed (logged).
    """

    def __init__(self, server: Server, transport: str, *, require_channel: bool) -> None:
        self._server = server
        self._transport_name = transport
        self._require_channel = require_channel
        self._buffer = bytearray()
        self._counted = 0  # bytes of this buffer counted in the server's pool
        self._out: list[bytes] = []
        self._out_size = 0
        self._transport: asyncio.Transport | None = None
        self._gate: SessionGate | None = None
        self.holding = False
        self._reading = False
        self._blocked = False  # the transport is over its high-water mark
        self._stalled = False  # frames wait in the buffer and reading is paused
        self._direct: DirectReader | None = None
        self.lone = False  # the server's only connection (the server says)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = typing.cast(asyncio.Transport, transport)  # a stream server's (uvloop's too)
        if not self._server.admit(self):
            log.warning("refusing a connection: %d are open already", MAX_CONNECTIONS)
            self._transport.write(frame(Reply.failure(0, BusyError(
                f"the module serves at most {MAX_CONNECTIONS} connections at once")).to_bytes()))
            self._transport.close()
            return
        peer = _peer(transport)
        self._gate = SessionGate(
            self._server.channel_keys(), self._server.module.events.record, transport=self._transport_name,
            required=self._require_channel, send_frame=self._emit_frame, end=self._end,
            session_factory=lambda send, key: self._server.new_session(send, key, peer))
        self._direct = DirectReader.of(transport.get_extra_info("socket"))

    def _end(self) -> None:
        """Send what is queued (a refusal) and close the connection."""
        self.holding = False
        self.flush()
        if self._transport is not None:
            self._transport.close()
        self._buffer.clear()

    def _emit_frame(self, payload: bytes) -> None:
        """Queue a frame; outside a read (a wait's answer, a pushed event) send it now, unless a
        flush to disk is pending: then it waits for that flush like everything else."""
        for data in frame_parts(payload):
            self._out.append(data)
            self._out_size += len(data)
        if self._reading or self.holding:
            return
        if self._server.flush_pending:
            self.holding = True
            self._server.hold(self)
        else:
            self.flush()

    def data_received(self, data: bytes) -> None:
        if self._take(data) and (reader := self._direct) is not None:
            reader.begin()
            try:
                deadline = monotonic() + BUDGET
                while data := reader.read():
                    if not self._take(data) or monotonic() >= deadline:
                        break
            finally:
                if (transport := self._transport) is not None and not transport.is_closing():
                    reader.end()  # a closed transport's descriptor is not touched (it may be another's now)

    def _take(self, data: bytes) -> bool:
        """Serve the whole frames of what has arrived while the output has room; keep the rest for
        the next read. If any of them wrote (a refusal's audit entry too), the replies wait for
        the next flush to disk.

        Returns whether to wait for the next request in a read of this connection's own: it is
        the server's only connection (``lone``), its transport is open, and nothing of it waits (a
        flush to disk, frames held back, a reply still to come).
        """
        gate = self._gate
        if gate is None:
            return False  # refused or closed: nothing it sends is kept
        buffer = self._buffer
        buffer += data
        module = self._server.module
        before = module.changes
        waiting = False  # a whole frame waits for the output to drain
        self._reading = True
        try:
            while len(buffer) >= HEADER.size:
                (length,) = HEADER.unpack_from(buffer)
                if length > MAX_FRAME_SIZE:
                    self._out.append(frame(Reply.failure(0, FrameTooLargeError(
                        f"frame of {length} bytes exceeds the {MAX_FRAME_SIZE}-byte limit")).to_bytes()))
                    self.holding = False
                    self.flush()
                    assert self._transport is not None
                    self._transport.close()
                    buffer.clear()
                    break
                end = HEADER.size + length
                if len(buffer) < end:
                    break
                if self._blocked or self._out_size >= OUTPUT_LIMIT:
                    waiting = True
                    break
                if length < SPLIT_FROM:
                    payload = bytes(buffer[HEADER.size:end])
                else:
                    with memoryview(buffer) as view:  # one copy of a large frame, not two
                        payload = bytes(view[HEADER.size:end])
                del buffer[:end]
                gate.deliver(payload)
                if self._gate is None or (transport := self._transport) is None or transport.is_closing():
                    break
        finally:
            if module.changes != before and not self.holding:
                self.holding = True
                self._server.hold(self)
            self._reading = False
        if (buffer or self._counted) and not self._account():
            return False
        if waiting and (transport := self._transport) is not None and not transport.is_closing():
            self._stalled = True
            transport.pause_reading()
        if self.holding:
            return False
        self.flush()
        return self.lone and not (self._stalled or self._blocked or gate.owes_replies) and (
            (transport := self._transport) is not None and not transport.is_closing())

    def _account(self) -> bool:
        """Count this connection's buffered bytes in the server's pool; close it (and return
        False) if it holds more than its fair share while the pool is spent."""
        held = len(self._buffer)
        self._server.buffered += held - self._counted
        self._counted = held
        if held > FAIR_SHARE and self._server.buffered > MAX_BUFFERED:
            log.warning("closing a connection holding a %d-byte partial frame: %d bytes are buffered for all "
                        "connections (limit %d)", held, self._server.buffered, MAX_BUFFERED)
            self._release()
            self.abort()
            return False
        return True

    def _release(self) -> None:
        self._server.buffered -= self._counted
        self._counted = 0
        self._buffer = bytearray()

    def flush(self) -> None:
        self.holding = False
        transport = self._transport
        if self._out and transport is not None and not transport.is_closing():
            if len(self._out) == 1:
                transport.write(self._out[0])  # may call pause_writing
            else:
                transport.writelines(self._out)
            # events to a client that never reads (over MAX_UNREAD it is long over its high-water mark)
            if self._blocked and (unread := transport.get_write_buffer_size()) > MAX_UNREAD:
                log.warning("closing a connection that has left %d bytes unread", unread)
                transport.abort()
        self._out.clear()
        self._out_size = 0
        if self._stalled and not self._blocked:
            asyncio.get_running_loop().call_soon(self._resume)

    def _resume(self) -> None:
        """Take the frames that waited (a later loop turn, so other connections go first)."""
        transport = self._transport
        if not self._stalled or self._blocked or self.holding or transport is None or transport.is_closing():
            return
        self._stalled = False
        transport.resume_reading()
        self.data_received(b"")

    def pause_writing(self) -> None:
        self._blocked = True

    def resume_writing(self) -> None:
        self._blocked = False
        if self._stalled:
            asyncio.get_running_loop().call_soon(self._resume)

    def abort(self) -> None:
        self._out.clear()
        self._out_size = 0
        self.holding = False
        if self._transport is not None:
            self._transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        if self._gate is not None:
            self._gate.close()
            self._server.leave(self)
        self._gate = None
        self._transport = None


class Held(Protocol):
    """A connection whose replies wait for the next flush to disk."""

    holding: bool

    def flush(self) -> None: ...

    def abort(self) -> None: ...


class Server:
    """Serves one module on any number of stream listeners, and polls its sensors."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.dispatcher = commands.dispatcher(module)
        self._servers: list[asyncio.base_events.Server] = []
        self._loop = asyncio.get_running_loop()
        self._monitor = self._loop.create_task(run_monitor(module))
        self._held: list[Held] = []
        self._keys: ChannelKeys | None = None
        self._serial: list[SerialLine] = []
        self._open: set[_StreamProtocol] = set()
        self.buffered = 0  # bytes of partial frames held for all connections
        module.defer_sync(True)  # durability comes from _flush, before any reply depends on it

    def channel_keys(self) -> ChannelKeys | None:
        """The channel's keys (created on first use), or ``None`` once the module is destroyed."""
        services = self.module.services
        if services is None:  # destroyed (perhaps while serving): the keys are gone
            self._keys = None
        elif self._keys is None:
            self._keys = ChannelKeys(channel_static_key(services.store), services.clients)
        return self._keys

    def new_session(self, send: Sender, peer_identity: bytes | None, plain: Caller | None = None) -> Connection:
        """A session for a client that proved ``peer_identity`` on the channel (an enrolled key: its
        principal is ``client:NAME``), or for a plain session's ``plain`` caller."""
        services = self.module.services
        record = services.clients.lookup(peer_identity) if peer_identity is not None and services else None
        if record is not None:
            caller = client_peer(record.name)
        elif plain is not None and peer_identity is None:
            caller = plain
        else:
            caller = Caller("unknown")
        return Connection(self.module, self.dispatcher, send, caller)

    def admit(self, protocol: _StreamProtocol) -> bool:
        """Count a new connection in; False if :data:`MAX_CONNECTIONS` are open already."""
        if len(self._open) >= MAX_CONNECTIONS:
            return False
        self._open.add(protocol)
        self._mark_lone()
        return True

    def leave(self, protocol: _StreamProtocol) -> None:
        self._open.discard(protocol)
        self._mark_lone()

    def _mark_lone(self) -> None:
        """Tell the stream connections whether one of them is all the server serves."""
        lone = len(self._open) == 1 and not self._serial
        for protocol in self._open:
            protocol.lone = lone

    @property
    def flush_pending(self) -> bool:
        return bool(self._held)

    def hold(self, protocol: Held) -> None:
        """``protocol`` has a reply that depends on a write: release it after the next flush."""
        if not self._held:
            self._loop.call_soon(self._flush)
        self._held.append(protocol)

    def _flush(self) -> None:
        held, self._held = self._held, []
        try:
            self.module.sync()
        except OSError:
            # the disk would not flush: no reply may claim a durable change; the clients see the
            # connection drop and the module stops serving key operations
            log.critical("the state directory failed to flush; closing the connections waiting on it")
            self.module.enter_error("the state directory failed to flush to disk")
            for protocol in held:
                protocol.abort()
            return
        for protocol in held:
            protocol.flush()

    async def serve(self, listener: Listener) -> None:
        """Serve on a socket bound by :func:`~softscm.module.endpoints.bind` (closed with the
        server): the channel is optional on a Unix socket and required on TCP.

        :raises ChannelError: for TCP on a module without channel keys (destroyed).
        """
        loop = asyncio.get_running_loop()
        if listener.sock.family == socket.AF_UNIX:
            server = await loop.create_unix_server(
                lambda: _StreamProtocol(self, "unix", require_channel=False), sock=listener.sock)
        else:
            if self.channel_keys() is None:
                raise ChannelError("refusing to listen on TCP without the encrypted channel")
            server = await loop.create_server(
                lambda: _StreamProtocol(self, "tcp", require_channel=True), sock=listener.sock)
        self._servers.append(server)

    async def listen_unix(self, path: Path, *, group: int | None = None) -> Listener:
        """Listen on a Unix socket with owner-only permissions (socket 0600; a missing directory
        0700), or open to ``group`` (0660).

        :raises EndpointInUseError: if a live process serves on ``path``.
        :raises InvalidArgumentError: if ``path`` holds anything but a stale socket.
        """
        listener = bind(UnixEndpoint(path, group))
        await self.serve(listener)
        return listener

    def listen_serial(self, path: Path) -> None:
        """Serve a serial line (a USB gadget's ``/dev/ttyGS0``), encrypted channel required; the
        line is reopened whenever it drops.

        :raises ChannelError: without channel keys.
        """
        if self.channel_keys() is None:
            raise ChannelError("refusing to serve a serial line without the encrypted channel")
        line = SerialLine(self, path)
        line.start()
        self._serial.append(line)
        self._mark_lone()

    async def close(self) -> None:
        self._monitor.cancel()
        self._flush()
        self.module.defer_sync(False)
        for line in self._serial:
            line.close()
        self._serial.clear()
        for server in self._servers:
            server.close()
            await server.wait_closed()
        self._servers.clear()


class InProcessHost:
    """Runs a module and its event loop on a background thread, for the ``embedded:`` transport.

    Requests pass through the same codec and :class:`Connection` as a socket client's.
    """

    def __init__(self, module: Module) -> None:
        self.module = module
        self.dispatcher = commands.dispatcher(module)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="softscm-embedded", daemon=True)
        self._thread.start()
        self._monitor = asyncio.run_coroutine_threadsafe(run_monitor(module), self.loop)

    def connect(self) -> tuple[Callable[[bytes], None], queue.Queue[bytes], Callable[[], None]]:
        """Open a session: returns ``(send, replies, close)``; replies arrive as payloads."""
        replies: queue.Queue[bytes] = queue.Queue()
        connection = Connection(self.module, self.dispatcher, replies.put, EMBEDDED)

        def send(payload: bytes) -> None:
            self.loop.call_soon_threadsafe(connection.on_frame, payload)

        def close() -> None:
            self.loop.call_soon_threadsafe(connection.close)

        return send, replies, close

    def call(self, function: Callable[[], Any]) -> Any:
        """Run ``function`` on the module's thread and return its result."""

        async def run() -> Any:
            return function()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result()

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self._monitor.cancel()
        self.call(lambda: lifecycle.close(self.module))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()
