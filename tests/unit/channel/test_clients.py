"""The module's client registry on a real keystore, and the session gate that consults it:
enrolled keys get a session that knows who is on the other end; others are refused and logged."""

from __future__ import annotations

import sqlite3

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from softscm.module.access.clients import ClientRecord, ClientRegistry, channel_static_key
from softscm.module import commands, lifecycle
from softscm.module.access.caller import Caller, client_peer
from softscm.module.gate import ChannelKeys, SessionGate
from softscm.module.module import Module
from softscm.module.server import Connection
from softscm.wire.channel import ClientHandshake, SecureChannel
from softscm.wire.codec import Request, parse_incoming
from softscm.wire.defs import PROTOCOL_VERSION, Command, Event, ModuleState
from softscm.wire.errors import (ChannelError, ChannelRequiredError, ClientKeyError, InvalidArgumentError,
                                 StoreCorruptError)
from softscm.wire.noise import public_bytes


@pytest.fixture(scope="module")
def module(tmp_path_factory) -> Module:
    module = lifecycle.start(tmp_path_factory.mktemp("gate") / "state")
    yield module
    lifecycle.close(module)


@pytest.fixture
def registry(module: Module) -> ClientRegistry:
    registry = ClientRegistry(module.live().store, record=module.events.record, clock=lambda: 1_700_000_000.5)
    for record in registry.list():
        registry.revoke(record.name)
    return registry


def _key() -> tuple[X25519PrivateKey, bytes]:
    key = X25519PrivateKey.generate()
    return key, public_bytes(key)


def _events(module: Module, event: Event) -> list[dict]:
    assert module.events.audit is not None
    return [entry.details for entry in module.events.audit.read(events=[int(event)])]


def test_enrol_list_look_up_and_revoke(module, registry):
    _, laptop = _key()
    _, ci = _key()
    record = registry.enroll("laptop", laptop)
    assert record == ClientRecord("laptop", laptop, 1_700_000_000)
    registry.enroll("ci-runner", ci)
    assert [r.name for r in ClientRegistry(module.live().store).list()] == ["laptop", "ci-runner"]  # persisted
    assert registry.lookup(ci).name == "ci-runner" and registry.require(laptop).name == "laptop"
    assert registry.revoke(laptop).name == "laptop"  # by key
    assert registry.lookup(laptop) is None
    assert registry.revoke("ci-runner").public_key == ci  # by name
    assert registry.list() == []
    enrolled = _events(module, Event.CLIENT_ENROLLED)[-2:]
    assert [e["name"] for e in enrolled] == ["laptop", "ci-runner"] and enrolled[0]["key"] == laptop.hex()
    assert [e["name"] for e in _events(module, Event.CLIENT_REVOKED)[-2:]] == ["laptop", "ci-runner"]


def test_refusals_are_typed(registry):
    _, key = _key()
    registry.enroll("one", key)
    with pytest.raises(ClientKeyError):
        registry.enroll("two", key)  # the same key twice
    with pytest.raises(ClientKeyError):
        registry.enroll("one", _key()[1])  # the same name twice
    with pytest.raises(ClientKeyError):
        registry.revoke("nobody")
    with pytest.raises(ClientKeyError):
        registry.require(_key()[1])
    for name, public in (("", key), ("x" * 65, key), ("with space", key), ("ok", b"short"), ("ok", bytes(32))):
        with pytest.raises(InvalidArgumentError):
            registry.enroll(name, public)


def test_a_registry_changed_outside_the_module_fails_closed(tmp_path):
    module = lifecycle.start(tmp_path / "state")
    try:
        ClientRegistry(module.live().store).enroll("laptop", _key()[1])
    finally:
        lifecycle.close(module)
    db = sqlite3.connect(tmp_path / "state" / "keystore.db")
    db.execute("UPDATE meta SET value=? WHERE name='channel.clients'", (b"\x80",))
    db.commit()
    db.close()
    with pytest.raises(StoreCorruptError):
        lifecycle.start(tmp_path / "state")  # the keystore's MACs catch it at start-up


def test_the_channel_static_key_is_kept_sealed_and_stable(module):
    first = channel_static_key(module.live().store)
    assert public_bytes(channel_static_key(module.live().store)) == public_bytes(first)
    sealed = module.live().store.get_meta("channel.static")
    assert sealed is not None and first.private_bytes_raw() not in sealed


class Wire:
    """Runs a gate with a real Connection; frames it sends are collected."""

    def __init__(self, module: Module, registry: ClientRegistry, *, required: bool = True) -> None:
        self.sent: list[bytes] = []
        self.ended = 0
        self.sessions: list[Connection] = []
        self.callers: list[Caller] = []
        dispatcher = commands.dispatcher(module)

        def session(send, peer):  # as Server.new_session: the enrolled client, or the plain caller
            record = registry.lookup(peer) if peer is not None else None
            caller = client_peer(record.name) if record is not None else Caller("tcp:127.0.0.1")
            connection = Connection(module, dispatcher, send, caller)
            self.callers.append(caller)
            self.sessions.append(connection)
            return connection

        self.gate = SessionGate(ChannelKeys(channel_static_key(module.live().store), registry),
                                module.events.record, transport="tcp", required=required,
                                send_frame=self.sent.append, end=self._end, session_factory=session)

    def _end(self) -> None:
        self.ended += 1

    def exchange(self, payload: bytes) -> bytes:
        self.gate.on_frame(payload)
        return self.sent.pop(0)

    def handshake(self, module: Module, key: X25519PrivateKey) -> SecureChannel:
        client = ClientHandshake(key, public_bytes(channel_static_key(module.live().store)))
        message_2 = self.exchange(client.open_request())
        return client.finish(self.exchange(client.answer(message_2)))


def test_an_enrolled_client_gets_a_session_that_knows_its_key(module, registry):
    key, public = _key()
    registry.enroll("laptop", public)
    wire = Wire(module, registry)
    channel = wire.handshake(module, key)
    assert wire.gate.peer_identity == public and wire.gate.client_name == "laptop"
    assert wire.callers == [client_peer("laptop")]
    hello = channel.seal(Request(1, Command.HELLO, {"version": PROTOCOL_VERSION}).to_bytes())
    reply = parse_incoming(channel.open(wire.exchange(hello)))
    assert reply.id == 1 and reply.result()["state"] == ModuleState.READY


def test_an_unenrolled_or_revoked_client_is_refused_and_logged(module, registry):
    key, public = _key()
    wire = Wire(module, registry)
    with pytest.raises(ClientKeyError):
        wire.handshake(module, key)
    assert wire.ended == 1 and wire.sessions == [] and wire.gate.peer_identity is None
    assert _events(module, Event.CHANNEL_REFUSED)[-1] == {"transport": "tcp", "reason": "client key not enrolled",
                                                         "key": public.hex()}
    registry.enroll("was-here", public)
    Wire(module, registry).handshake(module, key)
    registry.revoke("was-here")
    with pytest.raises(ClientKeyError):
        Wire(module, registry).handshake(module, key)


def test_a_plain_request_is_refused_where_the_channel_is_required(module, registry):
    wire = Wire(module, registry)
    reply = parse_incoming(wire.exchange(Request(1, Command.HELLO, {"version": PROTOCOL_VERSION}).to_bytes()))
    with pytest.raises(ChannelRequiredError):
        reply.result()
    assert wire.ended == 1 and wire.sessions == []
    assert _events(module, Event.CHANNEL_REFUSED)[-1]["reason"] == "plain connection"


def test_a_plain_session_where_the_channel_is_optional_has_no_identity(module, registry):
    wire = Wire(module, registry, required=False)
    assert parse_incoming(wire.exchange(Request(1, Command.HELLO, {"version": PROTOCOL_VERSION}).to_bytes())).result()
    assert wire.callers == [Caller("tcp:127.0.0.1")]


def test_a_bad_record_ends_the_session_with_a_sealed_error(module, registry):
    key, public = _key()
    registry.enroll("laptop", public)
    wire = Wire(module, registry)
    channel = wire.handshake(module, key)
    record = bytearray(channel.seal(Request(1, Command.HELLO, {"version": PROTOCOL_VERSION}).to_bytes()))
    record[-3] ^= 0x10
    with pytest.raises(ChannelError):
        parse_incoming(channel.open(wire.exchange(bytes(record)))).result()
    assert wire.ended == 1 and wire.gate.peer_identity is None
