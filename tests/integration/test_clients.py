"""Enrolling, listing and revoking channel clients through scmctl and the API, on a real scmd
that also listens on TCP: an enrolled host gets in over TCP, a revoked one no longer does."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import softscm
from softscm.host.cli.main import cli
from softscm.wire.errors import ClientKeyError, InvalidArgumentError


@pytest.fixture(scope="module")
def clients_daemon(tmp_path_factory):
    from tests.conftest import Daemon

    root = tmp_path_factory.mktemp("clients")
    daemon = Daemon(root / "scm", root / "scm.sock", ["--tcp", "127.0.0.1:0"]).start()
    yield daemon, next(u for u in (root / "scm.ready").read_text().split() if u.startswith("tcp:"))
    daemon.stop()


@pytest.fixture
def setup(tmp_path, clients_daemon, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # this host's keys live here
    daemon, tcp = clients_daemon

    def run(*args: str, url: str = daemon.url):
        result = CliRunner().invoke(cli, ["--url", url, "--json", *args])
        return result, (json.loads(result.stdout) if result.exit_code == 0 and result.stdout else None)

    return daemon, tcp, run, tmp_path / "config" / "softscm"


def test_enrol_this_host_then_use_tcp_then_revoke(setup):
    daemon, tcp, run, config = setup
    assert run("keys", "list", url=tcp)[0].exit_code == 3  # no client key yet: the channel cannot start
    result, enrolled = run("clients", "enroll", "this-host")
    assert result.exit_code == 0, result.stderr
    assert (config / "client.key").stat().st_mode & 0o777 == 0o600 and config.stat().st_mode & 0o777 == 0o700
    assert (config / "module.pub").read_text().strip() == enrolled["module_key"]
    result, slots = run("keys", "list", url=tcp)
    assert result.exit_code == 0, result.stderr
    _, listing = run("clients", "list")
    mine = [c for c in listing["clients"] if c["name"] == "this-host"]
    assert mine[0]["public_key"] == enrolled["public_key"] == run("clients", "keygen")[1]["public_key"]
    assert run("clients", "enroll", "again")[0].exit_code == 6  # the same key twice: CLIENT_KEY
    assert run("clients", "revoke", "this-host")[0].exit_code == 0
    result, _ = run("keys", "list", url=tcp)
    assert result.exit_code == 6 and "ClientKeyError" in result.stderr
    entries, _ = softscm.connect(daemon.url).read_log(events=["CLIENT_ENROLLED", "CLIENT_REVOKED", "CHANNEL_REFUSED"])
    assert [e.event_name for e in entries][-3:] == ["CLIENT_ENROLLED", "CLIENT_REVOKED", "CHANNEL_REFUSED"]


def test_enrol_another_host_by_its_public_key_and_pin_there(setup, tmp_path):
    daemon, tcp, run, _ = setup
    other_key, other_pin = tmp_path / "other" / "client.key", tmp_path / "other" / "module.pub"
    _, generated = run("clients", "keygen", "--key", str(other_key))
    result, enrolled = run("clients", "enroll", "board-host", "--public-key", generated["public_key"])
    assert result.exit_code == 0 and enrolled["pinned"] is None
    assert run("clients", "pin", enrolled["module_key"], "--pin", str(other_pin))[0].exit_code == 0
    assert run("clients", "pin", "00" * 32, "--pin", str(other_pin))[0].exit_code == 6  # another module: refused
    with softscm.connect(tcp, client_key=other_key, module_key=other_pin) as scm:
        assert len(scm.get_random(8)) == 8
    assert run("clients", "revoke", "--public-key", generated["public_key"])[0].exit_code == 0
    assert run("clients", "revoke", "board-host")[0].exit_code == 6  # gone already
    assert run("clients", "revoke")[0].exit_code == 2


def test_the_api(setup):
    daemon, _, _, _ = setup
    with softscm.connect(daemon.url) as scm:
        enrolled = scm.enroll_client("api", bytes(range(1, 33)))
        assert enrolled.client.name == "api" and len(enrolled.module_key) == 32
        listing = scm.list_clients()
        assert listing.module_key == enrolled.module_key and enrolled.client in listing.clients
        with pytest.raises(ClientKeyError):
            scm.enroll_client("api", bytes(range(2, 34)))
        with pytest.raises(InvalidArgumentError):
            scm.enroll_client("short", b"\x01" * 31)
        assert scm.revoke_client(bytes(range(1, 33))).name == "api"
        assert enrolled.client not in scm.list_clients().clients
