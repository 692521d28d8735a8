"""The encrypted, mutually authenticated channel: how it is negotiated and its records.

A client opens the channel with its first frame, before HELLO (``docs/protocol.md``)::

    client -> module   OPEN   = MAGIC || Noise message 1  (e)                     36 bytes
    module -> client   Noise message 2  (e, ee, s, es)                             96 bytes
    client -> module   Noise message 3  (s, se)                                    64 bytes
    module -> client   record 0: empty plaintext when the client key is enrolled, else the
                       error reply (CLIENT_KEY), after which the module closes the connection

``MAGIC`` starts with 0xFF, which no CBOR map (a plain request) starts with, so one frame tells a
channel from a plain session. The prologue binds the negotiation bytes into the handshake.

After the handshake each frame is one **record**: an 8-byte big-endian counter, then the
ChaCha20-Poly1305 ciphertext of the plaintext frame under that counter as nonce (Noise's
transport CipherState with the nonce carried explicitly, as WireGuard does). A receiver accepts a
counter only above the last one it accepted: a replayed or reordered record is refused, and a
modified one fails authentication. On a stream nothing may be missing either (the counter must be
exactly the next one); on a serial line a gap is allowed, since line noise drops whole frames.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from .codec import Reply, parse_incoming
from .defs import MAX_FRAME_SIZE
from .errors import ChannelError, ProtocolError, error_for_code
from .noise import DHLEN, MAX_NONCE, TAGLEN, CipherState, XXHandshake, same_key

MAGIC = b"\xffSCMC\x01"  # 0xFF, "SCMC", channel version 1
PROLOGUE = b"softscm channel v1:" + MAGIC
OPEN_SIZE = len(MAGIC) + XXHandshake.MESSAGE_1
COUNTER = struct.Struct(">Q")
RECORD_OVERHEAD = COUNTER.size + TAGLEN
MAX_PLAINTEXT = MAX_FRAME_SIZE - RECORD_OVERHEAD
KEY_SIZE = DHLEN


def is_open_request(payload: bytes) -> bool:
    """Does this first frame open the channel (rather than start a plain session)?"""
    return payload[:len(MAGIC)] == MAGIC


def is_plain_request(payload: bytes) -> bool:
    """Does this frame start a plain session (a CBOR map)? A record cannot: its counter would
    have to be at least 0xA0 << 56."""
    return payload[:1] in _CBOR_MAPS


_CBOR_MAPS = {bytes([b]) for b in range(0xA0, 0xC0)}


class SecureChannel:
    """The record layer of an established channel: :meth:`seal` outgoing frames, :meth:`open`
    incoming ones. ``allow_gaps`` accepts a counter that skips ahead (serial lines only).
    """

    def __init__(self, send: CipherState, receive: CipherState, *, peer_static: bytes, handshake_hash: bytes,
                 allow_gaps: bool = False) -> None:
        self._send = send
        self._receive = receive
        self._next_in = 0
        self.peer_static = peer_static
        self.handshake_hash = handshake_hash
        self.allow_gaps = allow_gaps

    def seal(self, plaintext: bytes) -> bytes:
        """One record for ``plaintext``.

        :raises ProtocolError: if it is too large. :raises ChannelError: when the counter is used up.
        """
        if len(plaintext) > MAX_PLAINTEXT:
            raise ProtocolError(f"frame of {len(plaintext)} bytes exceeds the {MAX_PLAINTEXT}-byte channel limit")
        n = self._send.n
        if n >= MAX_NONCE:
            raise ChannelError("the channel has used every nonce; reconnect")
        self._send.n = n + 1
        return COUNTER.pack(n) + self._send.encrypt_at(n, b"", plaintext)

    def open(self, record: bytes) -> bytes:
        """The plaintext of one record.

        :raises ChannelError: if it is too short, replayed, reordered, missing one before it (on a
            stream) or fails authentication.
        """
        if len(record) < RECORD_OVERHEAD:
            raise ChannelError("a frame was refused")
        (n,) = COUNTER.unpack_from(record)
        if n < self._next_in or (n > self._next_in and not self.allow_gaps) or n >= MAX_NONCE:
            raise ChannelError("a frame was refused (replayed, reordered or missing)")
        plaintext = self._receive.decrypt_at(n, b"", bytes(memoryview(record)[COUNTER.size:]))
        self._next_in = n + 1
        return plaintext


def raise_refusal(payload: bytes) -> NoReturn:
    """Raise the module's error reply in ``payload``, or :class:`ChannelError` if it is none."""
    try:
        message = parse_incoming(payload)
    except ProtocolError:
        message = None
    if isinstance(message, Reply) and message.status:
        raise error_for_code(message.status, str(message.body))
    raise ChannelError("the module refused the channel")


def _split(handshake: XXHandshake, allow_gaps: bool) -> SecureChannel:
    send, receive = handshake.split()
    assert handshake.remote_static is not None
    return SecureChannel(send, receive, peer_static=bytes(handshake.remote_static),
                         handshake_hash=handshake.handshake_hash, allow_gaps=allow_gaps)


class ClientHandshake:
    """The client's side, without I/O: :meth:`open_request`, then :meth:`answer` the module's
    message 2, then :meth:`finish` with the module's first record.

    ``module_key`` is the module's pinned static public key; a module presenting any other key is
    refused (a man in the middle cannot complete the handshake as the module).
    """

    def __init__(self, static: X25519PrivateKey, module_key: bytes, *, allow_gaps: bool = False,
                 ephemeral: X25519PrivateKey | None = None) -> None:
        if len(module_key) != KEY_SIZE:
            raise ChannelError("the pinned module key is not a 32-byte X25519 key")
        self._module_key = module_key
        self._allow_gaps = allow_gaps
        self._handshake = XXHandshake(initiator=True, static=static, prologue=PROLOGUE, ephemeral=ephemeral)
        self._channel: SecureChannel | None = None

    def open_request(self) -> bytes:
        return MAGIC + self._handshake.write_message_1()

    def answer(self, message_2: bytes) -> bytes:
        """Message 3 for the module's message 2.

        :raises ChannelError: if message 2 does not authenticate or carries another module key.
        """
        if len(message_2) != XXHandshake.MESSAGE_2:
            raise_refusal(message_2)
        self._handshake.read_message_2(message_2)
        assert self._handshake.remote_static is not None
        if not same_key(bytes(self._handshake.remote_static), self._module_key):
            raise ChannelError("the module's key is not the pinned one; refusing the connection")
        message_3 = self._handshake.write_message_3()
        self._channel = _split(self._handshake, self._allow_gaps)
        return message_3

    def finish(self, record: bytes) -> SecureChannel:
        """Check the module's verdict (record 0) and return the channel.

        :raises ChannelError: if the record does not authenticate.
        :raises ClientKeyError: (or another typed error) if the module refused this client key.
        """
        if self._channel is None:
            raise ChannelError("the handshake is not complete")
        verdict = self._channel.open(record)
        if verdict:
            raise_refusal(verdict)
        return self._channel


@dataclass(frozen=True)
class Established:
    """A completed module-side handshake: the channel and the client's static public key."""

    channel: SecureChannel
    peer_static: bytes


class ServerHandshake:
    """The module's side, without I/O: :meth:`answer` the open request with message 2, then
    :meth:`complete` with message 3. Whether the client key is enrolled is the caller's check.
    """

    def __init__(self, static: X25519PrivateKey, *, allow_gaps: bool = False,
                 ephemeral: X25519PrivateKey | None = None) -> None:
        self._allow_gaps = allow_gaps
        self._handshake = XXHandshake(initiator=False, static=static, prologue=PROLOGUE, ephemeral=ephemeral)

    def answer(self, open_request: bytes) -> bytes:
        """:raises ChannelError: for a malformed open request."""
        if len(open_request) != OPEN_SIZE or not is_open_request(open_request):
            raise ChannelError("malformed channel open request")
        self._handshake.read_message_1(open_request[len(MAGIC):])
        return self._handshake.write_message_2()

    def complete(self, message_3: bytes) -> Established:
        """:raises ChannelError: if message 3 is malformed or does not authenticate."""
        if len(message_3) != XXHandshake.MESSAGE_3:
            raise ChannelError("the client did not complete the handshake")
        self._handshake.read_message_3(message_3)
        channel = _split(self._handshake, self._allow_gaps)
        return Established(channel, channel.peer_static)


def client_handshake(exchange: Callable[[bytes], bytes], static: X25519PrivateKey, module_key: bytes, *,
                     allow_gaps: bool = False) -> SecureChannel:
    """Run the client's side over a transport, ``exchange(frame) -> the module's next frame``.

    :raises ChannelError: (or the module's typed refusal) if the channel cannot be set up.
    """
    handshake = ClientHandshake(static, module_key, allow_gaps=allow_gaps)
    message_2 = exchange(handshake.open_request())
    return handshake.finish(exchange(handshake.answer(message_2)))


__all__ = ["MAGIC", "ClientHandshake", "Established", "SecureChannel", "ServerHandshake", "client_handshake",
           "is_open_request", "is_plain_request", "raise_refusal"]
