"""Whatever a client sends, the daemon answers with a typed error and keeps serving others."""

from __future__ import annotations

import socket
import struct

import cbor2
import pytest

from softscm.wire.codec import Request, parse_incoming
from softscm.wire.defs import MAX_FRAME_SIZE, PROTOCOL_VERSION, Command, ErrorCode
from softscm.host.transport import SocketTransport


class RawClient:
    """Speaks frames by hand so tests can send anything."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)  # blocking: with a timeout set, a full listen backlog is EAGAIN at once
        self.sock.settimeout(10)
        self.transport = SocketTransport(self.sock)

    def send_payload(self, payload: bytes) -> None:
        self.sock.sendall(struct.pack(">I", len(payload)) + payload)

    def reply(self):
        return parse_incoming(self.transport.recv(timeout=10))

    def hello(self) -> None:
        self.send_payload(Request(1, Command.HELLO, {"version": PROTOCOL_VERSION}).to_bytes())
        assert self.reply().status == 0

    def call(self, payload: bytes):
        self.send_payload(payload)
        return self.reply()

    def close(self) -> None:
        self.sock.close()


def _request(command: int, args, request_id: int = 7) -> bytes:
    return cbor2.dumps({0: request_id, 1: command, 2: args})


BAD_REQUESTS = [
    ("not-cbor", b"\xff\xfe this is not cbor", ErrorCode.PROTOCOL),
    ("cbor-but-not-a-map", cbor2.dumps([1, 2, 3]), ErrorCode.PROTOCOL),
    ("truncated-cbor", cbor2.dumps({0: 5, 1: 100, 2: {"key_type": 0}})[:-3], ErrorCode.PROTOCOL),
    ("missing-id", cbor2.dumps({1: 100, 2: {}}), ErrorCode.PROTOCOL),
    ("negative-id", _request(100, {}, request_id=-4), ErrorCode.PROTOCOL),
    ("command-is-text", cbor2.dumps({0: 3, 1: "GEN_KEY", 2: {}}), ErrorCode.PROTOCOL),
    ("args-not-a-map", _request(100, [0]), ErrorCode.PROTOCOL),
    ("unknown-command", _request(31337, {}), ErrorCode.UNKNOWN_COMMAND),
    ("missing-argument", _request(Command.GEN_KEY, {}), ErrorCode.INVALID_ARGUMENT),
    ("wrong-type-key-type", _request(Command.GEN_KEY, {"key_type": [1]}), ErrorCode.INVALID_ARGUMENT),
    ("unknown-key-type", _request(Command.GEN_KEY, {"key_type": 9}), ErrorCode.INVALID_ARGUMENT),
    ("bool-as-slot", _request(Command.SIGN, {"slot": True, "data": bytes(32)}), ErrorCode.INVALID_ARGUMENT),
    ("slot-out-of-range", _request(Command.SIGN, {"slot": 10**6, "data": bytes(32)}), ErrorCode.INVALID_SLOT),
    ("huge-slot", _request(Command.SIGN, {"slot": 2**70, "data": bytes(32)}), ErrorCode.INVALID_SLOT),
    ("empty-slot", _request(Command.SIGN, {"slot": 400, "data": bytes(32)}), ErrorCode.SLOT_EMPTY),
    ("digest-wrong-length", _request(Command.SIGN, {"slot": 0, "data": bytes(31)}), ErrorCode.INVALID_ARGUMENT),
    ("data-is-text", _request(Command.SIGN, {"slot": 0, "data": "abc"}), ErrorCode.INVALID_ARGUMENT),
    ("bad-peer-key", _request(Command.ECDH, {"slot": 0, "peer_public_key": bytes(64)}), ErrorCode.INVALID_KEY),
    ("bad-foreign-key", _request(Command.STORE_FOREIGN, {"key_type": 0, "public_key": b"\x04" * 65}),
     ErrorCode.INVALID_KEY),
    ("garbage-blob", _request(Command.UNLOCK, {"blob": b"SCL1" + bytes(100)}), ErrorCode.AUTHENTICATION_FAILED),
    ("random-too-large", _request(Command.RANDOM, {"size": 10**9}), ErrorCode.INVALID_ARGUMENT),
    ("batch-not-bytes", _request(Command.SIGN_BATCH, {"slot": 0, "data": [1, 2]}), ErrorCode.INVALID_ARGUMENT),
    ("deep-nesting", b"\x81" * 100_000 + b"\x00", ErrorCode.PROTOCOL),
    ("remove-factory-slot", _request(Command.REMOVE_KEY, {"slot": 2}), ErrorCode.INVALID_SLOT),
]


@pytest.mark.parametrize("payload,code", [pytest.param(p, c, id=name) for name, p, c in BAD_REQUESTS])
def test_bad_request_gets_typed_error_and_daemon_keeps_serving(daemon, payload, code):
    bystander = daemon.connect()
    raw = RawClient(str(daemon.socket))
    raw.hello()
    reply = raw.call(payload)
    assert reply.status == code, (reply.status, reply.body)
    assert isinstance(reply.body, str) and reply.body
    # the same connection and another client both keep working
    assert raw.call(_request(Command.RANDOM, {"size": 8}, request_id=9)).status == 0
    assert len(bystander.get_random(16)) == 16
    raw.close()
    bystander.close()


def test_commands_before_hello_are_refused(daemon):
    raw = RawClient(str(daemon.socket))
    reply = raw.call(_request(Command.GEN_KEY, {"key_type": 0}))
    assert reply.status == ErrorCode.PROTOCOL
    raw.hello()
    assert raw.call(_request(Command.GEN_KEY, {"key_type": 0})).status == 0


def test_wrong_protocol_version_is_refused(daemon):
    raw = RawClient(str(daemon.socket))
    reply = raw.call(_request(Command.HELLO, {"version": 99}))
    assert reply.status == ErrorCode.UNSUPPORTED_VERSION


def test_oversize_frame_is_refused_before_reading_it(daemon):
    bystander = daemon.connect()
    raw = RawClient(str(daemon.socket))
    raw.hello()
    raw.sock.sendall(struct.pack(">I", MAX_FRAME_SIZE + 1))  # announce, never send the body
    reply = raw.reply()
    assert reply.status == ErrorCode.PROTOCOL and "exceeds" in reply.body
    assert raw.sock.recv(1) == b""  # then the unsynchronisable stream is closed
    assert len(bystander.get_random(4)) == 4


@pytest.mark.parametrize("cut", [1, 3, 10])
def test_client_vanishing_mid_frame_does_not_disturb_the_daemon(daemon, cut):
    bystander = daemon.connect()
    raw = RawClient(str(daemon.socket))
    raw.hello()
    frame = struct.pack(">I", 50) + _request(Command.RANDOM, {"size": 4})
    raw.sock.sendall(frame[:cut])
    raw.close()
    assert len(bystander.get_random(4)) == 4
    assert daemon.process.poll() is None


def test_pipelined_requests_are_answered_by_id(daemon):
    raw = RawClient(str(daemon.socket))
    raw.hello()
    for request_id in range(10, 60):
        raw.send_payload(_request(Command.RANDOM, {"size": request_id}, request_id=request_id))
    replies = [raw.reply() for _ in range(50)]
    assert sorted(r.id for r in replies) == list(range(10, 60))
    assert all(len(r.body["data"]) == r.id for r in replies)


def _rss_bytes(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_a_client_that_does_not_read_its_replies_stops_being_read(daemon):
    """128 requests for a MiB of random bytes each, sent in one write and never read: the daemon
    stops reading them instead of queueing 128 MiB of replies, keeps serving others, and answers
    every one, in order, once the client reads."""
    bystander = daemon.connect()
    raw = RawClient(str(daemon.socket))
    raw.hello()
    size, count = 1024 * 1024, 128
    before = _rss_bytes(daemon.process.pid)
    raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    burst = b"".join(struct.pack(">I", len(p)) + p for p in
                     (_request(Command.RANDOM, {"size": size}, request_id=i) for i in range(2, 2 + count)))
    raw.sock.sendall(burst)
    for _ in range(20):
        assert len(bystander.get_random(16)) == 16
    assert _rss_bytes(daemon.process.pid) - before < 32 * 1024 * 1024
    for request_id in range(2, 2 + count):
        reply = raw.reply()
        assert (reply.id, reply.status, len(reply.body["data"])) == (request_id, 0, size)
    assert _rss_bytes(daemon.process.pid) - before < 32 * 1024 * 1024
    assert daemon.process.poll() is None


def test_held_replies_and_flow_control_together_answer_every_request_in_order(daemon):
    """Key generations (their replies wait for the flush to disk) between big reads, all in one
    unread burst: each reply comes, in order, and each generated key is there."""
    raw = RawClient(str(daemon.socket))
    raw.hello()
    payloads = []
    for request_id in range(2, 66):
        if request_id % 2:
            payloads.append(_request(Command.GEN_KEY, {"key_type": 0}, request_id=request_id))
        else:
            payloads.append(_request(Command.RANDOM, {"size": 512 * 1024}, request_id=request_id))
    raw.sock.sendall(b"".join(struct.pack(">I", len(p)) + p for p in payloads))
    replies = [raw.reply() for _ in payloads]
    assert [r.id for r in replies] == list(range(2, 66)) and all(r.status == 0 for r in replies)
    slots = [r.body["slot"] for r in replies if r.id % 2]
    with daemon.connect() as scm:
        listed = {slot for slot, _ in scm.list_slots().slots}
    assert len(set(slots)) == 32 and set(slots) <= listed
