"""The serial transport on a real scmd over a real pseudo-terminal pair: every core operation,
line noise (garbage, dropped bytes, a late reply), a line closed and reopened on either side, and
never a reply matched to the wrong request."""

from __future__ import annotations

import time

import pytest

import softscm
from softscm.wire.errors import ChannelRequiredError, ScmTimeoutError, TransportError
from softscm.wire.serial_framing import encode

from .channel_setup import enrolled_state
from .pty_line import PtyLine

DIGEST = bytes(range(32))


@pytest.fixture(scope="module")
def serial_module(tmp_path_factory):
    from tests.conftest import Daemon

    root = tmp_path_factory.mktemp("serial")
    line = PtyLine(root)
    enrolled = enrolled_state(root / "scm", root)
    daemon = Daemon(root / "scm", root / "scm.sock", ["--listen", f"serial:{line.module_path}"]).start()
    yield daemon, enrolled, line
    daemon.stop()
    line.close()


@pytest.fixture
def serial(serial_module):
    daemon, enrolled, line = serial_module
    line.mutate.update(to_module=None, to_host=None)
    with softscm.connect(f"serial:{line.host_path}", client_key=enrolled.client_key,
                         module_key=enrolled.module_key, timeout=1.5) as scm:
        yield scm, line, daemon


def _random_sizes_match(scm, sizes) -> None:
    """Each request asks for a different size, so a reply given to the wrong request shows."""
    for size in sizes:
        assert len(scm.get_random(size)) == size


def test_core_operations_over_the_serial_line(serial):
    scm, _, _ = serial
    assert scm.hello.state.name == "READY"
    for key_type in ("nistp256", "secp256k1", "ed25519"):
        slot = scm.gen_key_pair(key_type)
        signature = scm.sign(slot, DIGEST)
        scm.verify(slot, DIGEST, signature.raw)
        assert len(scm.get_public_key(slot)) in (32, 64)
    blob = scm.lock(b"sealed over the serial line")
    assert scm.unlock(blob) == b"sealed over the serial line"
    _random_sizes_match(scm, [1, 100, 4000])
    big = scm.get_random(200_000)  # many serial reads per frame
    assert len(big) == 200_000


def test_a_plain_client_is_refused_on_the_serial_line(serial_module, tmp_path):
    from softscm.host.transport import SerialTransport
    from softscm.wire.codec import Request, parse_incoming
    from softscm.wire.defs import Command

    _, _, line = serial_module
    raw = SerialTransport(line.host_path)
    try:
        raw.send(Request(1, Command.RANDOM, {"size": 8}).to_bytes())
        while (payload := raw.recv(3))[:1] != b"\xa3":  # frames an earlier session left on the line
            pass
        with pytest.raises(ChannelRequiredError):
            parse_incoming(payload).result()
    finally:
        raw.close()


def test_garbage_between_frames_is_skipped_without_losing_a_request(serial):
    scm, line, _ = serial
    for _ in range(3):
        line.send("to_module", b"\x00\x17noise\xff\x00\x00\x42")
        line.send("to_host", b"\xde\xad\x00\xbe\xef\x00")
        _random_sizes_match(scm, [7, 9])
    assert scm._transport._inner.dropped >= 3  # the host's reader dropped the garbage runs


def _corrupt_next(direction_bytes_seen: list[int]):
    """A mutation that drops one byte from the middle of the next chunk, once."""

    def mutate(data: bytes) -> bytes:
        if direction_bytes_seen:
            return data
        direction_bytes_seen.append(len(data))
        middle = len(data) // 2
        return data[:middle] + data[middle + 1:]

    return mutate


@pytest.mark.parametrize("direction", ["to_module", "to_host"])
def test_a_frame_cut_by_dropped_bytes_is_a_typed_timeout_and_the_line_goes_on(serial, direction):
    scm, line, _ = serial
    line.mutate[direction] = _corrupt_next([])
    with pytest.raises(ScmTimeoutError):
        scm.get_random(11)  # the request (or its reply) failed its CRC and was dropped
    line.mutate[direction] = None
    _random_sizes_match(scm, [12, 13, 14])


def test_a_late_reply_is_never_taken_for_the_next_request(serial):
    scm, line, _ = serial
    line.hold("to_host")
    with pytest.raises(ScmTimeoutError):
        scm.get_random(21)
    line.release("to_host")  # the answer to 21 arrives now, before the next request's
    _random_sizes_match(scm, [22, 23])


def test_garbage_inside_a_frame_drops_only_that_frame(serial):
    scm, line, _ = serial
    done: list[int] = []

    def mutate(data: bytes) -> bytes:
        if done:
            return data
        done.append(1)
        return data[:5] + b"\x55\xaa" + data[5:]

    line.mutate["to_module"] = mutate
    with pytest.raises(ScmTimeoutError):
        scm.get_random(31)
    _random_sizes_match(scm, [32])


def test_the_host_side_closed_and_reopened(serial):
    scm, line, _ = serial
    _random_sizes_match(scm, [41])
    line.unplug("host")
    with pytest.raises(TransportError):
        scm.get_random(42)
    line.plug("host")
    _random_sizes_match(scm, [43, 44])  # the client reopened the device, a new channel, a new HELLO
    assert scm.hello.state.name == "READY"


def test_the_module_side_closed_and_reopened(serial):
    scm, line, daemon = serial
    line.unplug("module")
    time.sleep(0.3)  # scmd sees the line drop and retries opening it
    line.plug("module")
    deadline = time.monotonic() + 5
    while True:  # the first request may meet the module before it has reopened, or without a session
        try:
            _random_sizes_match(scm, [51])
            break
        except (ScmTimeoutError, TransportError):
            if time.monotonic() > deadline:
                raise
    _random_sizes_match(scm, [52, 53])
    with daemon.connect() as admin:
        assert admin.status().state.name == "READY"


def test_a_second_host_session_replaces_the_first(serial_module):
    _, enrolled, line = serial_module
    url = f"serial:{line.host_path}"
    first = softscm.connect(url, client_key=enrolled.client_key, module_key=enrolled.module_key, timeout=1.5)
    _random_sizes_match(first, [61])
    first.close()
    with softscm.connect(url, client_key=enrolled.client_key, module_key=enrolled.module_key, timeout=1.5) as second:
        _random_sizes_match(second, [62])


def test_a_forged_frame_with_a_good_crc_ends_the_session_with_a_typed_error(serial):
    scm, line, _ = serial
    line.send("to_module", encode(bytes(8) + b"\x00" * 40))  # a record with counter 0: a replay
    deadline = time.monotonic() + 5
    while True:  # the module refuses it and ends the session; the client sees that, then reconnects
        try:
            _random_sizes_match(scm, [71])
            break
        except TransportError:
            assert time.monotonic() < deadline
    _random_sizes_match(scm, [72])


def test_scmd_waits_for_a_serial_device_that_is_not_there_yet(tmp_path, daemon_factory):
    daemon = daemon_factory("waiting", "--listen", f"serial:{tmp_path / 'ttyGS9'}")
    with daemon.connect() as admin:  # the Unix socket serves while the line is retried
        assert admin.status().state.name == "READY"


def test_scmd_refuses_an_unknown_listen_url(tmp_path):
    from tests.conftest import run_scmd

    result = run_scmd(tmp_path / "bogus", "--listen", "bogus:1")
    assert result.returncode == 2 and "serial:/dev/ttyGS0" in result.stderr
