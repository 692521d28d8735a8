"""Request, reply and event messages round-trip; malformed ones raise ProtocolError."""

from __future__ import annotations

import cbor2
import pytest

from softscm.wire.codec import EventMessage, Reply, Request, parse_incoming
from softscm.wire.defs import MAX_FRAME_SIZE, Command
from softscm.wire.errors import InvalidSignatureError, ProtocolError, UnknownCommandError
from softscm.wire.framing import HEADER, frame


def test_request_round_trip():
    request = Request(42, Command.SIGN, {"slot": 16, "data": b"\x01" * 32, "deterministic": True})
    assert Request.parse(request.to_bytes()) == request


def test_reply_round_trip_success_and_error():
    ok = Reply.success(3, {"x": b"y"})
    assert parse_incoming(ok.to_bytes()) == ok
    failed = parse_incoming(Reply.failure(4, InvalidSignatureError("no")).to_bytes())
    with pytest.raises(InvalidSignatureError, match="no"):
        failed.result()


def test_event_round_trip():
    event = EventMessage({"event": 20, "name": "TAMPER", "details": {"channel": 1}})
    assert parse_incoming(event.to_bytes()) == event


def test_unknown_command_keeps_the_request_id():
    with pytest.raises(UnknownCommandError) as info:
        Request.parse(cbor2.dumps({0: 77, 1: 12345, 2: {}}))
    assert info.value.request_id == 77


@pytest.mark.parametrize("payload", [b"", b"\xff", cbor2.dumps(1), cbor2.dumps({0: 1, 1: 100, 2: {1: 2}}),
                                     cbor2.dumps({0: True, 1: 100})])
def test_malformed_requests(payload):
    with pytest.raises(ProtocolError):
        Request.parse(payload)


def test_frame_prefix_and_limit():
    assert frame(b"abc") == HEADER.pack(3) + b"abc"
    with pytest.raises(ProtocolError):
        frame(b"\x00" * (MAX_FRAME_SIZE + 1))
