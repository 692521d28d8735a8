"""scmctl's key types go through the API's one parser (so P-256 works in both), its help names the
argument instead of quoting every choice, and the ephemeral slot has a name."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

import softscm
from softscm.host.cli.main import cli
from softscm.wire.defs import KeyType

NAMES = {"P-256": KeyType.NISTP256, "p256": KeyType.NISTP256, "secp256r1": KeyType.NISTP256,
         "prime256v1": KeyType.NISTP256, "NISTP256": KeyType.NISTP256, "secp256k1": KeyType.SECP256K1,
         "Ed25519": KeyType.ED25519, "x25519": KeyType.X25519}


def _scmctl(url: str, *args: str, status: int = 0):
    result = CliRunner().invoke(cli, ["--url", url, *args])
    assert result.exit_code == status, result.output
    return result


def test_every_name_the_api_accepts_the_cli_accepts(tmp_path):
    url = f"embedded:{tmp_path / 'state'}"
    with softscm.connect(url) as scm:
        slots = {name: scm.gen_key_pair(name) for name in NAMES}
        stored = dict(scm.list_slots().slots)
    api_types = {name: stored[slot] for name, slot in slots.items()}
    cli_types = {}
    for name in NAMES:
        data = json.loads(_scmctl(url, "--json", "keys", "gen", name).stdout)
        cli_types[name] = KeyType.parse(data["key_type"])
    assert api_types == cli_types == NAMES


def test_help_names_the_argument_and_lists_the_types_once():
    result = CliRunner().invoke(cli, ["keys", "gen", "--help"])
    usage = result.output.splitlines()[0]
    assert usage == "Usage: cli keys gen [OPTIONS] KEY_TYPE" and "{" not in result.output
    assert "nistp256 (P-256), secp256k1, ed25519 or x25519" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["keys", "gen", "p384"], "unknown key type 'p384'"),
    (["wallet", "create", "w", "--type", "x25519"], "x25519 is not possible here"),
    (["sign", "sixteen", "--digest", "00" * 32], "not a slot number or 'ephemeral'"),
])
def test_bad_values_are_usage_errors_that_say_what_is_accepted(tmp_path, args, message):
    result = _scmctl(f"embedded:{tmp_path / 'state'}", *args, status=2)
    assert message in result.output


def test_the_ephemeral_slot_by_name(daemon):
    url = daemon.url
    public = _scmctl(url, "keys", "ephemeral", "P-256").stdout.strip()
    assert _scmctl(url, "keys", "pub", "ephemeral").stdout.strip() == public
    digest = hashlib.sha256(b"hello").hexdigest()
    signature = _scmctl(url, "sign", "ephemeral", "--digest", digest).stdout.strip()
    verified = _scmctl(url, "verify", "--pubkey", public, "--type", "P-256", "--digest", digest,
                       "--signature", signature)
    assert "signature is valid" in verified.stdout
    assert "signature is valid" in _scmctl(url, "verify", "ephemeral", "--digest", digest,
                                           "--signature", signature).stdout
