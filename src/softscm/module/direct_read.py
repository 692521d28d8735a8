"""Reading a lone connection's socket directly, without a trip through the event loop's poll.

When one client is all the module serves, each request costs the event loop a poll and a read:
on a 2-core machine a server that did nothing but that reached about 0.92 of a thread blocked in
``recv`` with one client (``bench/floor.py`` compares scmd with such a thread server). So after
answering the lone connection the server waits for its next request in a blocking ``read`` of
its own, briefly (:data:`WAIT`), and serves what comes for at most :data:`BUDGET` before it lets
the loop run its other work (the sensor monitor, timers, offloaded results, new connections).

The socket stays non-blocking whenever the loop has it: it is blocking only inside
:meth:`DirectReader.read`, so a reply can never block the module on a client that does not read.
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
from typing import Any

WAIT = 0.001
"""How long the server waits in ``read`` for the lone connection's next request."""

BUDGET = 0.005
"""The longest the server reads a lone connection directly before its loop's other work runs."""

READ_SIZE = 256 * 1024


class DirectReader:
    """Blocking reads, each waiting at most :data:`WAIT`, of one non-blocking socket."""

    def __init__(self, fd: int) -> None:
        """:raises OSError: if ``fd``'s flags cannot be read."""
        self._fd = fd
        self._flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        self._blocking = self._flags & ~os.O_NONBLOCK

    @classmethod
    def of(cls, sock: Any) -> DirectReader | None:
        """A reader of a transport's ``socket`` (its extra info; the receive timeout is set on
        it), or ``None`` without a stream socket."""
        if sock is None or sock.type != socket.SOCK_STREAM:
            return None
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, int(WAIT * 1e6)))
            return cls(sock.fileno())
        except (OSError, ValueError):
            return None

    def read(self) -> bytes:
        """What the peer sends within :data:`WAIT`: ``b""`` if nothing came, or if the stream
        ended or failed (the loop's own read finds out which, and ends the connection)."""
        fd = self._fd
        try:
            fcntl.fcntl(fd, fcntl.F_SETFL, self._blocking)
            try:
                return os.read(fd, READ_SIZE)
            finally:
                fcntl.fcntl(fd, fcntl.F_SETFL, self._flags)
        except OSError:
            return b""
