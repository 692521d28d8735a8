"""Issue 15: who may use the module is decided in the module. A second local user (uid 65534,
``nobody``) reaches the socket through its group and gets nothing it was not given; an
administrator PIN guards administrator commands, with a retry counter and lock-out; every refusal
is a typed error and an audit entry."""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import softscm
from softscm.host.client import Client
from softscm.wire.defs import Role
from softscm.wire.errors import AccessDeniedError, PinLockedError, ScmError

from ..conftest import Daemon

OTHER_UID = OTHER_GID = 65534  # nobody / nogroup
DIGEST = hashlib.sha256(b"access").digest()
PIN = "correct horse 42"

@pytest.fixture
def shared(tmp_path: Path) -> Iterator[Daemon]:
    """scmd whose socket the group ``nogroup`` may open (its directory is one the test made 0755)."""
    base = Path(tempfile.mkdtemp(prefix="scm-access-"))
    base.chmod(0o755)
    daemon = Daemon(tmp_path / "state", base / "run" / "scmd.sock", args=["--socket-group", str(OTHER_GID)]).start()
    try:
        yield daemon
    finally:
        daemon.stop()
        for path in sorted(base.rglob("*"), reverse=True):
            path.unlink() if not path.is_dir() else path.rmdir()
        base.rmdir()


def as_other_user(url: str, steps: Callable[[Client], Any]) -> Any:
    """Run ``steps`` with a client that connected as uid/gid 65534 (a forked child drops root
    before it connects; the kernel reports its credentials to the module)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read)
        try:
            os.setgroups([])
            os.setgid(OTHER_GID)
            os.setuid(OTHER_UID)
            with softscm.connect(url) as scm:
                outcome: Any = ("ok", steps(scm))
        except ScmError as exc:
            outcome = ("error", type(exc).__name__, exc.message)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, never raised in the child
            outcome = ("crash", repr(exc))
        os.write(write, pickle.dumps(outcome))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return pickle.loads(data)


def test_socket_is_group_accessible_and_owner_only_otherwise(shared):
    mode = shared.socket.stat()
    assert oct(mode.st_mode & 0o777) == "0o660" and mode.st_gid == OTHER_GID


def test_a_second_user_gets_nothing_it_was_not_given(shared):
    with shared.connect() as root:
        slot = root.gen_key_pair("nistp256")
        blob = root.lock(b"root's secret")
        master, _ = root.create_wallet("secp256k1", "roots", bip39=False)
        assert root.whoami().role is Role.ADMIN
    url = shared.url
    assert as_other_user(url, lambda s: (s.whoami().principal, s.whoami().role)) == ("ok", (f"uid:{OTHER_UID}", Role.NONE))
    for attempt in (lambda s: s.sign(slot, DIGEST), lambda s: s.unlock(blob), lambda s: s.get_random(8),
                    lambda s: s.derive_wallet_key(master, 0, hardened=True)):
        assert as_other_user(url, attempt)[:2] == ("error", "AccessDeniedError")

    with shared.connect() as root:
        root.set_role(f"uid:{OTHER_UID}", Role.USER)
    # a user: its own keys and reads, nobody else's keys, no administration
    own = as_other_user(url, lambda s: s.verify(n := s.gen_key_pair("ed25519"), b"m", s.sign(n, b"m").raw) or n)
    assert own[0] == "ok" and own[1] >= 16
    assert as_other_user(url, lambda s: s.unlock(s.lock(b"mine"))) == ("ok", b"mine")
    for attempt in (lambda s: s.sign(slot, DIGEST), lambda s: s.unlock(blob),
                    lambda s: s.derive_wallet_key(master, 0, hardened=True), lambda s: s.remove_key(slot),
                    lambda s: s.set_perimeter_event_actions(0, self_destruct=True), lambda s: s.lock_binding(),
                    lambda s: s.log_keys(claim=True), lambda s: s.set_temperature_policy(high=90.0),
                    lambda s: s.set_role(f"uid:{OTHER_UID}", Role.ADMIN), lambda s: s.grant_key(slot, "uid:65534")):
        assert as_other_user(url, attempt)[:2] == ("error", "AccessDeniedError")

    with shared.connect() as root:  # a grant opens exactly that key
        root.grant_key(slot, f"uid:{OTHER_UID}")
        assert root.get_binding_info() == (False, True)  # lock_binding above was refused
        signature = as_other_user(url, lambda s: s.sign(slot, DIGEST).raw)
        assert signature[0] == "ok"
        root.verify(slot, DIGEST, signature[1])
        root.revoke_key(slot, f"uid:{OTHER_UID}")
        assert as_other_user(url, lambda s: s.sign(slot, DIGEST))[:2] == ("error", "AccessDeniedError")
        entries, _ = root.read_log(events=["ACCESS_DENIED"])
    assert len(entries) >= 15 and all(e.details["principal"] == f"uid:{OTHER_UID}" for e in entries)
    assert {e.details["what"] for e in entries} >= {"SIGN with the key in slot 16", "LOCK_BINDING", "LOG_PUBLIC_KEY"}


def test_a_removed_keys_grant_does_not_carry_over_to_the_next_key_in_its_slot(shared):
    with shared.connect() as root:
        root.set_role(f"uid:{OTHER_UID}", Role.USER)
        slot = root.gen_key_pair("nistp256")
        root.grant_key(slot, f"uid:{OTHER_UID}")
        root.remove_key(slot)
        assert root.gen_key_pair("nistp256") == slot  # the same slot, a new key
    assert as_other_user(shared.url, lambda s: s.sign(slot, DIGEST))[:2] == ("error", "AccessDeniedError")


def test_the_administrator_pin_guards_administration_and_locks_out(shared):
    with shared.connect() as root:
        root.set_pin(PIN)
        with pytest.raises(AccessDeniedError, match="PIN"):
            root.set_temperature_policy(high=70.0)
        root.gen_key_pair("ed25519")  # key use needs no PIN
        root.login(PIN)
        root.set_temperature_policy(high=70.0)
        assert root.whoami().logged_in
    with shared.connect() as root:
        for _ in range(4):
            with pytest.raises(AccessDeniedError, match="wrong PIN"):
                root.login("guess-guess")
        with pytest.raises(PinLockedError):
            root.login("guess-guess")
        with pytest.raises(PinLockedError):  # locked: even the right PIN is refused
            root.login(PIN)
        table_refused = as_other_user(shared.url, lambda s: s.reset_pin("taken over"))
        assert table_refused[:2] == ("error", "AccessDeniedError")  # only the owner may reset
        root.reset_pin("a new pin 7")  # the owner (the uid scmd runs as) resets it
        root.set_temperature_policy(high=71.0)  # and is logged in by the reset
    with shared.connect() as root:
        root.login("a new pin 7")
        table = root.access_table()
        assert table.pin_set and not table.pin_locked and table.pin_failures == 0
        logins, _ = root.read_log(events=["LOGIN"])
    assert [e.details["result"] for e in logins].count("wrong PIN") == 5 and any(
        e.details["result"] == "locked" for e in logins)


def test_roles_and_pin_survive_a_restart(shared):
    with shared.connect() as root:
        root.set_role(f"gid:{OTHER_GID}", Role.USER)
        root.set_pin(PIN)
    shared.stop()
    shared.start()
    assert as_other_user(shared.url, lambda s: len(s.get_random(4))) == ("ok", 4)  # the group's role
    with shared.connect() as root:
        with pytest.raises(AccessDeniedError):
            root.set_role(f"gid:{OTHER_GID}", Role.NONE)
        root.login(PIN)
        root.set_role(f"gid:{OTHER_GID}", Role.NONE)
    assert as_other_user(shared.url, lambda s: s.get_random(4))[:2] == ("error", "AccessDeniedError")
