"""The wire contract (issue 12): one request and one reply record per command, every served
command in it, every message round-trips, and the documents derived from it are current."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from softscm.wire.defs import Command
from softscm.wire.errors import InvalidArgumentError, InvalidSlotError
from softscm.wire.messages import CONTRACT, Done
from softscm.wire.messages.keys import GetPublicKeyRequest
from softscm.wire.messages.log import MAX_DETAIL, HostEventRequest
from softscm.wire.messages.operations import SignRequest, Verifier, VerifyBatchRequest
from softscm.wire.messages.wallet import NewWallet, WalletCreateRequest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("generate", ROOT / "scripts" / "generate.py")
assert _spec is not None and _spec.loader is not None
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)

UNSERVED = {Command.PROVISION_LUKS_KEY}


def test_every_command_has_one_request_and_reply():
    assert set(CONTRACT) == set(Command) - UNSERVED
    for command, (request, reply) in CONTRACT.items():
        assert request.COMMAND is command and request.REPLY is reply


@pytest.mark.parametrize("message", [
    SignRequest(16, b"\x01" * 32, recid=True),
    VerifyBatchRequest(Verifier(slot=3, foreign=True), ((b"a", b"b"),)),
    WalletCreateRequest(NewWallet(1, "w", b"k"), passphrase="p"),
    Done(),
], ids=lambda m: type(m).__name__)
def test_messages_round_trip(message):
    assert type(message).from_wire(message.to_wire()) == message


@pytest.mark.parametrize("wire, error", [
    ({"slot": 16, "data": "text"}, InvalidArgumentError),
    ({"slot": True, "data": b""}, InvalidArgumentError),
    ({"slot": 2**40, "data": b""}, InvalidSlotError),
    ({"data": b""}, InvalidArgumentError),
    ({"slot": 16, "data": b"x" * (1024 * 1024 + 1)}, InvalidArgumentError),
])
def test_bad_fields_are_refused_with_the_field_named(wire, error):
    with pytest.raises(error, match="slot|data"):
        SignRequest.from_wire(wire)


@pytest.mark.parametrize("value", ["x" * (MAX_DETAIL + 1), [1]])
def test_a_value_that_fits_no_form_of_a_union_says_what_each_form_needs(value):
    with pytest.raises(InvalidArgumentError) as refused:
        HostEventRequest.from_wire({"kind": "custom", "details": {"note": value}})
    assert f"text of at most {MAX_DETAIL} characters" in refused.value.message
    assert "an integer" in refused.value.message and "a boolean" in refused.value.message


def test_defaults_fill_missing_fields():
    assert GetPublicKeyRequest.from_wire({"slot": 0}) == GetPublicKeyRequest(0, False, False)


def test_the_protocol_command_table_is_current():
    """A stale table fails: the check compares the document with a freshly generated table."""
    current = generate.PROTOCOL.read_text()
    assert generate.protocol_doc(current) == current
    stale = current.replace("| `SIGN` |", "| `SIGN_RENAMED` |")
    assert generate.protocol_doc(stale) != stale


def test_the_async_api_view_is_current():
    assert generate.STUB.read_text() == generate.async_stub()


def test_async_client_methods_are_awaitables(tmp_path):
    """mypy reads the async client's methods as awaitables of the sync results: awaiting one
    gives a Signature, and using one unawaited as a Signature is an error (the negative case)."""
    snippet = tmp_path / "uses_async.py"
    snippet.write_text(textwrap.dedent("""
        from softscm.host.aio import AsyncClient
        from softscm.wire.messages.operations import Signature

        async def good(scm: AsyncClient) -> Signature:
            return await scm.sign(16, bytes(32))

        async def bad(scm: AsyncClient) -> Signature:
            return scm.sign(16, bytes(32))
    """))
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--follow-imports=silent",
                             str(snippet)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and ":9:" in errors[0] and "Awaitable[Signature]" in errors[0], result.stdout
