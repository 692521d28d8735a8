"""Every refusal is a typed error with a clear message (issue 17, defect 8): out-of-range
integers, wrong types and huge command numbers through a real scmd with raw frames, and state
directories the daemon cannot write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cbor2
import pytest

from softscm.wire.defs import Command, ErrorCode, KeyType

from ...conftest import run_scmd
from ...campaign.rawclient import RawClient

ROOT = Path(__file__).resolve().parents[3]

BAD = [
    ("find-slot-master-2^63", Command.WALLET_FIND_SLOT, {"node_addr": "m/0", "master_slot": 2**63},
     ErrorCode.INVALID_SLOT),
    ("log-read-since-2^63", Command.LOG_READ, {"since_seq": 2**63}, ErrorCode.INVALID_ARGUMENT),
    ("public-key-slot-10^5000", Command.GET_PUBLIC_KEY, {"slot": 10**5000}, ErrorCode.INVALID_SLOT),
    ("sign-slot--2^64", Command.SIGN, {"slot": -(2**64), "data": bytes(32)}, ErrorCode.INVALID_SLOT),
    ("tap-direction-bytes", Command.SIM_SET, {"action": "tap", "direction": b"\x01"}, ErrorCode.INVALID_ARGUMENT),
    ("tap-g-10^5000", Command.SIM_SET, {"action": "tap", "g": 10**5000}, ErrorCode.INVALID_ARGUMENT),
    ("accel-sample-text", Command.SIM_SET, {"action": "accel", "samples": [[0, "x", 1, 1]]},
     ErrorCode.INVALID_ARGUMENT),
    ("temperature-10^5000", Command.SIM_SET, {"action": "temperature", "celsius": 10**5000},
     ErrorCode.INVALID_ARGUMENT),
    ("random-size-2^64", Command.RANDOM, {"size": 2**64}, ErrorCode.INVALID_ARGUMENT),
    ("ecdh-iterations-10^5000", Command.ECDH, {"slot": 0, "peer_public_key": bytes(64), "kdf": 3,
                                               "iterations": 10**5000}, ErrorCode.INVALID_ARGUMENT),
    ("kdf-10^5000", Command.ECDH, {"slot": 0, "peer_public_key": bytes(64), "kdf": 10**5000},
     ErrorCode.INVALID_ARGUMENT),
    ("key-type-10^5000", Command.GEN_KEY, {"key_type": 10**5000}, ErrorCode.INVALID_ARGUMENT),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from ...conftest import Daemon

    base = tmp_path_factory.mktemp("refusals")
    daemon = Daemon(base / "scm", base / "scm.sock", [], env={**os.environ}).start()
    with daemon.connect() as scm:
        scm.create_wallet(KeyType.SECP256K1, "w")
    yield daemon
    daemon.stop()


@pytest.mark.parametrize("command,args,code", [pytest.param(c, a, e, id=n) for n, c, a, e in BAD])
def test_out_of_range_and_mistyped_arguments_get_typed_errors(served, command, args, code):
    raw = RawClient(str(served.socket))
    raw.hello()
    reply = raw.call(command, args, 5)
    assert (reply.id, reply.status) == (5, code), reply.body
    assert isinstance(reply.body, str) and 0 < len(reply.body) < 300 and "internal" not in reply.body.lower()
    assert raw.call(Command.RANDOM, {"size": 4}, 6).status == 0
    raw.close()


@pytest.mark.parametrize("number", [10**5000, 2**64, -1, 2**31], ids=["10^5000", "2^64", "-1", "2^31"])
def test_a_huge_command_number_gets_a_reply_and_the_connection_stays(served, number):
    raw = RawClient(str(served.socket))
    raw.hello()
    raw.send(cbor2.dumps({0: 8, 1: number, 2: {}}))
    reply = raw.reply(timeout=10)
    assert (reply.id, reply.status) == (8, ErrorCode.UNKNOWN_COMMAND) and len(reply.body) < 100
    assert raw.call(Command.RANDOM, {"size": 4}, 9).status == 0
    raw.close()


@pytest.fixture
def read_only_state(tmp_path):
    """An initialised module on a file system mounted read-only (needs root, as CI has)."""
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    from softscm.embedded import open_embedded

    mount = tmp_path / "ro"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], check=True)
    try:
        open_embedded(mount / "state").close()
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield mount / "state"
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_read_only_state_directory_is_refused_clearly(read_only_state):
    result = run_scmd(read_only_state)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "read-only" in result.stderr and str(read_only_state) in result.stderr, result.stderr


@pytest.fixture
def reachable_dir():
    """A directory every user can reach (pytest's own are root-only)."""
    import shutil
    import tempfile

    if os.geteuid() != 0:
        pytest.skip("changing owners needs root")
    directory = Path(tempfile.mkdtemp(prefix="softscm-refusal-"))
    os.chmod(directory, 0o755)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_a_directory_the_daemon_cannot_write_is_refused_clearly(reachable_dir):
    """A 0500 state directory for a non-root owner: before, "the audit log cannot be read"."""
    from softscm.embedded import open_embedded

    from ...conftest import SCMD

    state = reachable_dir / "state"
    open_embedded(state).close()
    for path in [reachable_dir, state, *state.rglob("*")]:
        os.chown(path, 65534, 65534)
    os.chmod(state, 0o500)
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *SCMD, "--state-dir", str(state),
         "--socket", str(reachable_dir / "scmd.sock")],
        capture_output=True, text=True, timeout=30, env={**os.environ, "HOME": str(reachable_dir)})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "not writable" in result.stderr and str(state) in result.stderr, result.stderr


def test_a_service_users_empty_state_directory_in_roots_parent_serves(reachable_dir):
    """systemd's StateDirectory= for User=softscm: /var/lib/softscm (empty, the user's) in /var/lib
    (root's). The module initialises inside it, keeps its lock inside, and leaves its mode alone."""
    state = reachable_dir / "state"
    state.mkdir(mode=0o700)
    os.chown(state, 65534, 65534)
    code = ("import sys; from softscm.embedded import open_embedded\n"
            "with open_embedded(sys.argv[1]) as scm: print(scm.status().state.name, len(scm.list_slots().slots))\n")
    for _ in range(2):  # initialise, then open again
        result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                                 code, str(state)], capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert result.stdout.split() == ["READY", "16"], result.stderr
    assert state.stat().st_uid == 65534 and state.stat().st_mode & 0o777 == 0o700
    assert reachable_dir.stat().st_mode & 0o777 == 0o755 and os.listdir(reachable_dir) == ["state"]
