"""The socket transport: kernel timeouts, busy polling and its back-off, on a real socket pair."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from softscm.host.transport import MAX_BACKOFF, SocketTransport
from softscm.wire.errors import ScmTimeoutError, TransportError
from softscm.wire.framing import frame


@pytest.fixture
def pair():
    near, far = socket.socketpair()
    yield SocketTransport(near), far
    near.close()
    far.close()


def _reply_later(far: socket.socket, payload: bytes, delay: float) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        far.sendall(frame(payload))

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_reply_inside_the_poll_window_keeps_busy_polling_on(pair):
    transport, far = pair
    far.sendall(frame(b"one") + frame(b"two"))
    assert transport.recv(1.0) == b"one" and transport.recv(1.0) == b"two"
    assert transport._backoff == 0 and transport._skip == 0


def test_a_slow_reply_arrives_after_polling_gives_up_and_polling_backs_off(pair):
    transport, far = pair
    for expected_backoff in (1, 2, 4):
        thread = _reply_later(far, b"late", 0.02)
        assert transport.recv(5.0) == b"late"
        thread.join()
        assert transport._backoff == expected_backoff
        while transport._skip:  # the skipped reads sleep at once
            far.sendall(frame(b"x"))
            assert transport.recv(1.0) == b"x"
    far.sendall(frame(b"fast"))
    assert transport.recv(1.0) == b"fast" and transport._backoff == 0


def test_the_back_off_is_bounded(pair):
    transport, _ = pair
    transport._backoff = MAX_BACKOFF
    with pytest.raises(ScmTimeoutError):
        transport.recv(0.01)
    assert transport._backoff == MAX_BACKOFF


@pytest.mark.parametrize("busy_poll", [True, False])
def test_the_read_timeout_is_the_kernel_s_and_raises_a_typed_error(pair, busy_poll):
    transport, far = pair
    transport.busy_poll = busy_poll
    started = time.monotonic()
    with pytest.raises(ScmTimeoutError):
        transport.recv(0.2)
    assert 0.15 < time.monotonic() - started < 2
    far.sendall(frame(b"after"))  # the connection still works, with no timeout as well
    assert transport.recv(None) == b"after"


def test_a_closed_peer_is_a_transport_error(pair):
    transport, far = pair
    far.close()
    with pytest.raises(TransportError):
        transport.recv(1.0)


def test_a_large_frame_is_read_whole_and_a_timeout_inside_it_loses_nothing(pair):
    """A frame larger than the read buffer is read into its own buffer; when the reply stops half
    way and the read times out, the part already read waits for the next recv."""
    transport, far = pair
    payload = bytes(range(256)) * 4096  # 1 MiB
    whole = frame(payload)
    first = threading.Thread(target=far.sendall, args=(whole[:300_000],))  # more than the socket holds
    first.start()
    with pytest.raises(ScmTimeoutError):
        transport.recv(0.5)
    first.join()
    rest = threading.Thread(target=far.sendall, args=(whole[300_000:] + frame(b"next"),))
    rest.start()
    assert transport.recv(5.0) == payload
    assert transport.recv(5.0) == b"next"
    rest.join()
