"""What stands between a transport and a :class:`~softscm.module.server.Connection`: the channel.

A :class:`SessionGate` takes a connection's frames. The first one decides: the channel's open
request starts the Noise handshake (``softscm.wire.channel``); a plain request starts a plain
session, where the listener allows one (the Unix socket), and is refused with
``CHANNEL_REQUIRED`` where it does not (TCP, serial). Only a client whose static key is enrolled
in the :class:`~softscm.module.access.clients.ClientRegistry` gets a session; its key is the
connection's :attr:`peer_identity`. Every refusal is a typed error to the client and a
``CHANNEL_REFUSED`` audit entry, and ends the session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from ..wire.channel import SecureChannel, ServerHandshake, is_open_request, is_plain_request
from ..wire.codec import Reply
from ..wire.defs import Event
from ..wire.errors import ChannelError, ChannelRequiredError, ClientKeyError, ScmError
from .access.clients import ClientRegistry, RecordEvent

log = logging.getLogger(__name__)

FrameSender = Callable[[bytes], None]


class Session(Protocol):
    """A session's request handling (:class:`~softscm.module.server.Connection`)."""

    def on_frame(self, payload: bytes) -> None: ...

    @property
    def owes_replies(self) -> bool: ...

    def close(self) -> None: ...


SessionFactory = Callable[[FrameSender, "bytes | None"], Session]


@dataclass(frozen=True)
class ChannelKeys:
    """The module's channel static key and the registry of clients allowed in."""

    static: X25519PrivateKey
    clients: ClientRegistry


class SessionGate:
    """One session's negotiation and record layer. ``record`` writes the audit entry for a
    refusal; ``send_frame`` sends one frame payload on the
    transport; ``end`` closes the connection (a stream) or ends the session (a serial line, which
    stays open for the next handshake: ``restartable``).
    """

    def __init__(self, keys: ChannelKeys | None, record: RecordEvent, *, transport: str, required: bool,
                 allow_gaps: bool = False, restartable: bool = False, send_frame: FrameSender,
                 end: Callable[[], None], session_factory: SessionFactory) -> None:
        self._record = record
        self._keys = keys
        self._transport = transport
        self._required = required
        self._allow_gaps = allow_gaps
        self._restartable = restartable
        self._send_frame = send_frame
        self._end = end
        self._new_session = session_factory
        self.deliver: FrameSender = self.on_frame
        """Where the transport hands each frame: :meth:`on_frame`, or straight to the session once
        a plain session runs on a stream (nothing can change what the frames are then)."""
        self._handshake: ServerHandshake | None = None
        self._channel: SecureChannel | None = None
        self.connection: Session | None = None
        self.peer_identity: bytes | None = None
        self.client_name: str | None = None

    @property
    def secure(self) -> bool:
        return self._channel is not None

    @property
    def owes_replies(self) -> bool:
        """Whether the session still owes a reply (a wait, or offloaded work)."""
        return self.connection is not None and self.connection.owes_replies

    def on_frame(self, payload: bytes) -> None:
        if self._restartable and ((self._channel or self._handshake) and is_open_request(payload)
                                  or self._channel and is_plain_request(payload)):
            self.close()  # a serial host reconnected: a new session replaces the old one
        if self._channel is not None:
            try:
                plaintext = self._channel.open(payload)
            except ChannelError as exc:
                self._refuse(exc, "frame refused")
                return
            assert self.connection is not None
            self.connection.on_frame(plaintext)
        elif self._handshake is not None:
            self._complete(payload)
        elif self.connection is not None:
            self.connection.on_frame(payload)
        elif is_open_request(payload):
            self._open(payload)
        elif self._required:
            self._refuse(ChannelRequiredError(f"the {self._transport} transport carries only the encrypted "
                                              "channel; connect with a client key"), "plain connection")
        else:
            self.connection = self._new_session(self._send_frame, None)
            if not self._restartable:
                self.deliver = self.connection.on_frame
            self.connection.on_frame(payload)

    def _open(self, payload: bytes) -> None:
        if self._keys is None:
            self._refuse(ChannelError("the channel is not available on this module"), "no channel")
            return
        self._handshake = ServerHandshake(self._keys.static, allow_gaps=self._allow_gaps)
        try:
            message_2 = self._handshake.answer(payload)
        except ChannelError as exc:
            self._refuse(exc, "handshake failed")
            return
        self._send_frame(message_2)

    def _complete(self, payload: bytes) -> None:
        assert self._handshake is not None and self._keys is not None
        try:
            established = self._handshake.complete(payload)
        except ChannelError as exc:
            self._refuse(exc, "handshake failed")
            return
        self._handshake = None
        channel = established.channel
        try:
            client = self._keys.clients.require(established.peer_static)
        except ClientKeyError as exc:
            self._channel = channel  # the refusal goes out sealed: only this client can read it
            self._refuse(exc, "client key not enrolled", key=established.peer_static)
            return
        self._channel = channel
        self.peer_identity = established.peer_static
        self.client_name = client.name
        self._send_frame(channel.seal(b""))  # record 0: accepted
        self.connection = self._new_session(self._send_sealed, self.peer_identity)

    def _send_sealed(self, payload: bytes) -> None:
        if self._channel is None:  # the session ended; a late reply (a wait's answer) is dropped
            return
        self._send_frame(self._channel.seal(payload))

    def _refuse(self, error: ScmError, reason: str, *, key: bytes | None = None) -> None:
        details = {"transport": self._transport, "reason": reason}
        if key is not None or self.peer_identity is not None:
            details["key"] = (key or self.peer_identity or b"").hex()
        log.warning("channel refused on %s: %s", self._transport, reason)
        self._record(Event.CHANNEL_REFUSED, **details)
        reply = Reply.failure(0, error).to_bytes()
        try:
            self._send_frame(self._channel.seal(reply) if self._channel is not None else reply)
        except ScmError:
            pass
        self.close()
        self._end()

    def close(self) -> None:
        """End the session (its subscriptions and waits go with it)."""
        if self.connection is not None:
            self.connection.close()
        self.connection = None
        self.deliver = self.on_frame
        self._channel = None
        self._handshake = None
        self.peer_identity = None
        self.client_name = None
