"""scmd checks its arguments and endpoints before it creates anything, and never takes over a socket.

Two real scmd processes: the second refuses a socket the first answers on, and the first keeps
serving its own keys. A stale socket (nobody answers) is replaced; any other file is refused.
"""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

import softscm
from softscm.module.endpoints import TcpEndpoint
from softscm.wire.errors import InvalidArgumentError

from ..conftest import SCMD, Daemon, run_scmd
from .channel_setup import enrolled_state


def _assert_refused_cleanly(result: subprocess.CompletedProcess[str], status: int, *phrases: str) -> None:
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) <= 3, result.stderr  # click's usage line, hint and the one-line error at most
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


def test_a_second_scmd_refuses_a_socket_a_live_module_answers_on(tmp_path):
    sock = tmp_path / "scm.sock"
    first = Daemon(tmp_path / "first", sock).start()
    try:
        with first.connect() as scm:
            serial = scm.info().serial
        second = run_scmd(tmp_path / "second", "--socket", str(sock))
        _assert_refused_cleanly(second, 1, "serving on", str(sock))
        assert not (tmp_path / "second").exists()  # refused before the state directory was made
        with first.connect() as scm:
            assert scm.info().serial == serial  # the socket is still the first module's
    finally:
        assert first.stop() == 0
    assert not sock.exists()  # the first removed its own socket on exit


def test_a_stale_socket_is_replaced(tmp_path):
    path = tmp_path / "scm.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens: a crashed daemon's leftover
    daemon = Daemon(tmp_path / "scm", path).start()
    try:
        with daemon.connect() as scm:
            assert scm.status().state.name == "READY"
    finally:
        daemon.stop()


@pytest.mark.parametrize("kind", ["regular file", "symlink"])
def test_a_file_that_is_not_a_socket_is_never_removed(tmp_path, kind):
    path = tmp_path / "scm.sock"
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    if kind == "regular file":
        path.write_text("keep me")
    else:
        path.symlink_to(target)
    result = run_scmd(tmp_path / "scm", "--socket", str(path))
    _assert_refused_cleanly(result, 1, "is not a socket")
    assert path.read_text() == "keep me" and path.is_symlink() == (kind == "symlink")
    assert not (tmp_path / "scm").exists()


def test_stopping_does_not_remove_a_socket_that_is_no_longer_its_own(tmp_path):
    path = tmp_path / "scm.sock"
    daemon = Daemon(tmp_path / "scm", path).start()
    path.unlink()
    path.write_text("someone else's file now")
    assert daemon.stop() == 0
    assert path.read_text() == "someone else's file now"


@pytest.mark.parametrize(("args", "phrases"), [
    (["--tcp", "0.0.0.0:7071"], ["not a loopback address", "not encrypted"]),
    (["--tcp", "192.0.2.1:7071"], ["not a loopback address"]),
    (["--tcp", "localhost"], ["is not HOST:PORT"]),
    (["--tcp", "127.0.0.1:99999"], ["is not HOST:PORT"]),
    (["--no-unix"], ["--no-unix leaves nothing to listen on"]),
    (["--no-unix", "--socket", "x.sock", "--tcp", "127.0.0.1:0"], ["contradict"]),
    (["--log-level", "chatty"], ["--log-level"]),
    (["--tcp", "127.0.0.1:0", "--ready-file", "/nonexistent/dir/ready"], ["is not a directory"]),
], ids=["any-address", "remote-address", "no-port", "port-range", "no-endpoint", "contradiction", "log-level",
        "ready-file"])
def test_bad_arguments_are_refused_before_anything_is_created(tmp_path, args, phrases):
    state = tmp_path / "state"
    result = subprocess.run([*SCMD, "--state-dir", str(state), *args], capture_output=True, text=True, timeout=30,
                            cwd=tmp_path)
    _assert_refused_cleanly(result, 2, *phrases)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_port_in_use_is_refused_before_anything_is_created(tmp_path):
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        result = run_scmd(tmp_path / "state", "--tcp", f"127.0.0.1:{port}")
    finally:
        taken.close()
    _assert_refused_cleanly(result, 1, f"tcp:127.0.0.1:{port} is already in use")
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no state directory, no socket


def test_a_state_dir_that_is_a_file_is_refused_before_binding(tmp_path):
    state = tmp_path / "state"
    state.write_text("not a directory")
    result = run_scmd(state)
    _assert_refused_cleanly(result, 1, "is not a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state"]


def test_tcp_only_serves_and_localhost_means_loopback(tmp_path):
    enrolled = enrolled_state(tmp_path / "state", tmp_path)  # TCP carries only the encrypted channel
    ready = tmp_path / "ready"
    process = subprocess.Popen([*SCMD, "--state-dir", str(tmp_path / "state"), "--no-unix", "--tcp", "localhost:0",
                                "--ready-file", str(ready), "--log-level", "WARNING"], stderr=subprocess.PIPE)
    try:
        Daemon.wait_ready(process, ready)
        (url,) = ready.read_text().split()
        assert url.startswith("tcp:127.0.0.1:")
        with softscm.connect(url, client_key=enrolled.client_key, module_key=enrolled.module_key) as scm:
            assert scm.status().state.name == "READY"
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0


@pytest.mark.parametrize(("text", "expected"), [
    (":7070", TcpEndpoint("127.0.0.1", 7070)),
    ("127.0.0.2:0", TcpEndpoint("127.0.0.2", 0)),
    ("[::1]:7070", TcpEndpoint("::1", 7070)),
    ("localhost:1", TcpEndpoint("127.0.0.1", 1)),
])
def test_tcp_endpoints_parse(text, expected):
    assert TcpEndpoint.parse(text) == expected
    assert str(expected).startswith("tcp:")


@pytest.mark.parametrize("text", ["example.com:80", "10.0.0.1:1", "[::]:1", "127.0.0.1:", "127.0.0.1:-1", "7070"])
def test_tcp_endpoints_refused(text):
    with pytest.raises(InvalidArgumentError):
        TcpEndpoint.parse(text)


def test_the_socket_is_owner_only_under_any_umask(tmp_path):
    old = os.umask(0)
    try:
        daemon = Daemon(tmp_path / "scm", tmp_path / "run" / "scm.sock").start()
    finally:
        os.umask(old)
    try:
        assert daemon.socket.stat().st_mode & 0o777 == 0o600
        assert daemon.socket.parent.stat().st_mode & 0o777 == 0o700
    finally:
        daemon.stop()


def test_a_socket_path_that_cannot_be_made_is_a_clear_refusal(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    result = run_scmd(tmp_path / "state", "--socket", str(blocked / "scm.sock"))
    _assert_refused_cleanly(result, 1, "cannot listen on")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
