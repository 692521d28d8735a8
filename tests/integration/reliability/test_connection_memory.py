"""Memory per connection is bounded: partial frames share one pool, a connection over its share
is closed, and a frame of many tiny items is refused before it is decoded (issue 17, defect 5)."""

from __future__ import annotations

import socket
import struct
import time

from softscm.module.server import MAX_BUFFERED, MAX_CONNECTIONS
from softscm.wire.codec import MAX_REQUEST_ITEMS, Request
from softscm.wire.defs import PROTOCOL_VERSION, Command, ErrorCode

from ...campaign.rawclient import RawClient

MiB = 1024 * 1024


def _rss(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _peak(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_sixty_connections_holding_4_mib_partial_frames_stay_bounded(daemon):
    """Before: +234 MB. Now the pool (48 MiB) and 256 KiB per connection bound it."""
    with daemon.connect() as scm:
        scm.get_random(8)
    before = _rss(daemon.process.pid)
    clients = []
    closed = 0
    chunk = b"\0" * MiB
    for _ in range(60):
        raw = RawClient(str(daemon.socket))
        raw.hello()
        raw.sock.sendall(struct.pack(">I", 4 * MiB + 100))
        try:
            for _ in range(4):
                raw.sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        clients.append(raw)
    time.sleep(0.3)
    growth = _rss(daemon.process.pid) - before
    with daemon.connect() as scm:  # a newcomer is still served
        assert len(scm.get_random(16)) == 16
    for raw in clients:
        raw.sock.settimeout(0.05)
        try:
            closed += raw.sock.recv(1) == b""
        except ConnectionResetError:
            closed += 1
        except socket.timeout:
            pass
        raw.close()
    assert growth < MAX_BUFFERED + 48 * MiB, growth / MiB
    assert closed >= 40, closed  # those beyond the pool were closed, not buffered
    assert daemon.process.poll() is None
    daemon.stop()
    stderr_tail = daemon.process.stderr.read()
    assert b"closing a connection holding" in stderr_tail


def test_a_frame_of_empty_maps_is_refused_before_decoding(daemon):
    """4 MiB of empty CBOR maps in one array: before, decoding it peaked at 358 MB."""
    raw = RawClient(str(daemon.socket))
    raw.hello()
    count = 4 * MiB - 64
    payload = b"\xa3\x00\x18\x2a\x01\x18\xc8\x02\xa1\x64data" + b"\x9a" + count.to_bytes(4, "big") + b"\xa0" * count
    before = _peak(daemon.process.pid)
    started = time.monotonic()
    raw.send(payload)
    reply = raw.reply()
    elapsed = time.monotonic() - started
    assert reply.status == ErrorCode.PROTOCOL and str(MAX_REQUEST_ITEMS) in reply.body
    assert elapsed < 1.0
    assert _peak(daemon.process.pid) - before < 32 * MiB
    assert raw.call(Command.RANDOM, {"size": 4}, 9).status == 0  # the connection keeps serving
    raw.close()


def test_connections_over_the_limit_are_refused_with_busy(daemon):
    socks = []
    try:
        for _ in range(MAX_CONNECTIONS):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(str(daemon.socket))
            socks.append(sock)
        extra = RawClient(str(daemon.socket))
        reply = extra.reply(timeout=10)
        assert reply.status == ErrorCode.BUSY and str(MAX_CONNECTIONS) in reply.body
        extra.close()
        socks.pop().close()
        deadline = time.monotonic() + 10  # the daemon sees the close on its next turn (later on a loaded machine)
        while True:
            later = RawClient(str(daemon.socket))
            later.send(Request(1, Command.HELLO, {"version": PROTOCOL_VERSION}).to_bytes())
            status = later.reply(timeout=10).status
            later.close()
            if status != ErrorCode.BUSY or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == 0  # a slot freed: served again
    finally:
        for sock in socks:
            sock.close()
