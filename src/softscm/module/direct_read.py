"""Reading a lone connection's socket directly, without a trip through the event loop's poll.

When one client is all the module serves, each request costs the event loop a poll and a read:
on a 2-core machine a server that did nothing but that reached about 0.92 of a thread blocked in
``recv`` with one client (``bench/floor.py`` compares scmd with such a thread server). So after
answering the lone connection the server waits for its next request in a blocking ``read`` of
its own, briefly (:data:`WAIT`), and serves what comes for at most :data:`BUDGET` before it lets
the loop run its other work (the sensor monitor, timers, offloaded results, new connections).

The socket is blocking only during such a stretch of reads (:meth:`DirectReader.begin` to
:meth:`DirectReader.end`), and then its send and receive timeouts bound every wait to
:data:`WAIT`: a reply to a client that does not read holds the module at most that long, and what
did not fit is queued by the transport as ever.
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
    """Blocking reads of one non-blocking socket, each waiting at most :data:`WAIT`, between
    :meth:`begin` and :meth:`end`."""

    def __init__(self, fd: int) -> None:
        """:raises OSError: if ``fd``'s flags cannot be read."""
        self._fd = fd
        self._flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        self._blocking = self._flags & ~os.O_NONBLOCK

    @classmethod
    def of(cls, sock: Any) -> DirectReader | None:
        """A reader of a transport's ``socket`` (its extra info; the send and receive timeouts are
        set on it), or ``None`` without a stream socket."""
        if sock is None or sock.type != socket.SOCK_STREAM:
            return None
        wait = struct.pack("ll", 0, int(WAIT * 1e6))
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, wait)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, wait)
            return cls(sock.fileno())
        except (OSError, ValueError):
            return None

    def begin(self) -> None:
        """Make the socket blocking. :raises OSError: if its flags cannot be set."""
        fcntl.fcntl(self._fd, fcntl.F_SETFL, self._blocking)

    def end(self) -> None:
        """Make the socket non-blocking again; only while it is open (not after its transport
        closed: the descriptor may be gone, or another file's).

        :raises OSError: if its flags cannot be set.
        """
        fcntl.fcntl(self._fd, fcntl.F_SETFL, self._flags)

    def read(self) -> bytes:
        """What the peer sends within :data:`WAIT`: ``b""`` if nothing came, or if the stream
        ended or failed (the loop's own read finds out which, and ends the connection)."""
        try:
            return os.read(self._fd, READ_SIZE)
        except OSError:
            return b""
