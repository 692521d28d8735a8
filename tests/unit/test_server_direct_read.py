"""The server's direct reads of a lone connection (module/direct_read.py): the socket is blocking
only for a stretch of reads, with timeouts that bound every wait; a lone client's requests come by
direct reads and are answered right; a client that streams requests does not keep the loop from
its other work; and a second connection ends the direct reads."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import softscm
from softscm.module import direct_read, lifecycle
from softscm.module import server as server_module
from softscm.module.direct_read import DirectReader
from softscm.module.server import Server

DIGEST = hashlib.sha256(b"direct").digest()


def _nonblocking(sock: socket.socket) -> bool:
    return not os.get_blocking(sock.fileno())


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    yield a, b
    a.close()
    b.close()


@pytest.fixture
def stretch(pair):
    """A reader of ``pair``'s first socket in a stretch of direct reads; the stretch ends after the
    test, and the socket must be non-blocking again."""
    ours, peer = pair
    reader = DirectReader.of(ours)
    assert reader is not None
    reader.begin()
    yield reader, ours, peer
    reader.end()
    assert _nonblocking(ours)


def test_a_read_returns_what_arrives(stretch) -> None:
    reader, ours, peer = stretch
    assert not _nonblocking(ours)
    threading.Timer(0.0002, peer.sendall, (b"request",)).start()
    assert reader.read() == b"request"


def test_a_read_gives_up_after_the_wait(stretch) -> None:
    reader, _ours, _peer = stretch
    started = time.monotonic()
    assert reader.read() == b""
    assert time.monotonic() - started >= direct_read.WAIT * 0.9


def test_the_end_of_the_stream_reads_as_nothing(stretch) -> None:
    reader, _ours, peer = stretch
    peer.close()
    assert reader.read() == b""


def test_a_write_to_a_peer_that_does_not_read_waits_no_longer_than_the_wait(stretch) -> None:
    """While the socket is blocking, its send timeout ends a write that finds no room (as a
    non-blocking write would, a millisecond later): the module is never held by a client."""
    _reader, ours, _peer = stretch
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    outcome: list[BaseException] = []

    def fill() -> None:
        try:
            for _ in range(10_000):  # far more than the peer's buffers hold
                os.write(ours.fileno(), b"x" * 4096)
        except OSError as exc:
            outcome.append(exc)

    writer = threading.Thread(target=fill, daemon=True)  # without the timeout it would block for good
    writer.start()
    writer.join(5.0)
    assert not writer.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], BlockingIOError)


def test_only_a_stream_socket_is_read_directly() -> None:
    assert DirectReader.of(None) is None
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as datagram:
        assert DirectReader.of(datagram) is None


def _serve(tmp_path: Path, client: Callable[[Path, asyncio.AbstractEventLoop], Any]) -> Any:
    """Run ``client(path, loop)`` in a thread against an in-process server on a Unix socket."""
    module = lifecycle.start(tmp_path / "state")
    path = tmp_path / "s.sock"

    async def scenario() -> Any:
        server = Server(module)
        await server.listen_unix(path)
        try:
            return await asyncio.to_thread(client, path, asyncio.get_running_loop())
        finally:
            await server.close()

    try:
        return asyncio.run(scenario())
    finally:
        lifecycle.close(module)


@pytest.fixture
def counted_reads(monkeypatch) -> list[bytes]:
    """Every direct read's result; each read waits up to half a second (a client thread always
    sends its next request in time)."""
    monkeypatch.setattr(direct_read, "WAIT", 0.5)
    reads: list[bytes] = []
    real = DirectReader.read

    def read(self: DirectReader) -> bytes:
        data = real(self)
        reads.append(data)
        return data

    monkeypatch.setattr(DirectReader, "read", read)
    return reads


def test_a_lone_clients_requests_come_by_direct_reads_and_are_answered(tmp_path, monkeypatch, counted_reads) -> None:
    monkeypatch.setattr(server_module, "BUDGET", 60.0)

    def client(path: Path, loop: asyncio.AbstractEventLoop) -> int:
        with softscm.connect(f"unix:{path}") as scm:
            slot = scm.gen_key_pair("nistp256")  # a write: its reply waits for the flush, as ever
            for _ in range(30):
                scm.verify(slot, DIGEST, scm.sign(slot, DIGEST).raw)
            return slot

    slot = _serve(tmp_path, client)
    assert slot >= 0
    assert sum(1 for data in counted_reads if data) >= 55  # 30 signatures and 30 verifications, less a few


@pytest.mark.parametrize("budget, fired", [(None, True), (60.0, False)])
def test_a_client_streaming_requests_leaves_the_loop_its_other_work(tmp_path, monkeypatch, counted_reads,
                                                                     budget, fired) -> None:
    """A timer due 20 ms into a stream of signatures runs while the stream goes on. The
    negative case shows the budget is what does it: without one, the timer waits for the client
    to stop (after a second here)."""
    if budget is not None:
        monkeypatch.setattr(server_module, "BUDGET", budget)
    timer = threading.Event()

    def client(path: Path, loop: asyncio.AbstractEventLoop) -> bool:
        with softscm.connect(f"unix:{path}") as scm:
            scm.sign(0, DIGEST)
            loop.call_soon_threadsafe(loop.call_later, 0.02, timer.set)
            deadline = time.monotonic() + 1.0
            while not timer.is_set() and time.monotonic() < deadline:
                scm.sign(0, DIGEST)
            return timer.is_set()

    assert _serve(tmp_path, client) is fired
    assert any(counted_reads)


def test_a_second_connection_ends_the_direct_reads(tmp_path, monkeypatch, counted_reads) -> None:
    monkeypatch.setattr(server_module, "BUDGET", 60.0)

    def client(path: Path, loop: asyncio.AbstractEventLoop) -> int:
        with softscm.connect(f"unix:{path}") as first:
            first.sign(0, DIGEST)
            with softscm.connect(f"unix:{path}") as second:
                before = len(counted_reads)
                for _ in range(10):
                    first.sign(0, DIGEST)
                    second.sign(0, DIGEST)
                return sum(1 for data in counted_reads[before:] if data)

    assert _serve(tmp_path, client) == 0
