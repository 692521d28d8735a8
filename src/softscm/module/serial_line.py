"""The module's end of a serial line (a USB CDC-ACM gadget's ``/dev/ttyGS0``).

The tty is opened raw and non-blocking and read on the server's event loop. Frames use the
serial framing (:mod:`softscm.wire.serial_framing`: COBS, CRC-32, resynchronisation), and the
line carries only the encrypted channel, with counter gaps allowed since noise drops whole
frames. A host that reconnects opens a new channel, which replaces the old session. When the
line fails (the device goes away, a read returns EOF or EIO) it is closed and reopened until it
is back: the module keeps listening.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import termios
import tty
from pathlib import Path
from typing import TYPE_CHECKING

from ..wire.serial_framing import SerialDecoder, encode
from .gate import SessionGate

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger(__name__)

REOPEN_DELAY = 0.2
MAX_REOPEN_DELAY = 5.0
READ_SIZE = 1 << 16
MAX_PENDING = 8 * 1024 * 1024  # output a host leaves unread before its session is dropped


def open_raw_tty(path: Path) -> int:
    """Open a tty raw (no echo, no line editing, 8 data bits), non-blocking, not as the
    controlling terminal. :raises OSError: if it cannot be opened or is not a tty."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        tty.setraw(fd, termios.TCSANOW)
    except (OSError, termios.error):
        os.close(fd)
        raise OSError(errno.ENOTTY, "not a tty", str(path)) from None
    return fd


class SerialLine:
    """Serves one serial line through a :class:`SessionGate` (channel required)."""

    def __init__(self, server: Server, path: Path, *, reopen_delay: float = REOPEN_DELAY) -> None:
        self._server = server
        self._path = path
        self._reopen_delay = reopen_delay
        self._delay = reopen_delay  # doubles while the device stays away, up to MAX_REOPEN_DELAY
        self._loop = asyncio.get_running_loop()
        self._fd: int | None = None
        self._decoder = SerialDecoder()
        self._gate: SessionGate | None = None
        self._out = bytearray()
        self._reopen: asyncio.TimerHandle | None = None
        self._closed = False
        self.holding = False
        self.opened = 0  # times the line was (re)opened

    def start(self) -> None:
        self._open()

    def _open(self) -> None:
        self._reopen = None
        if self._closed:
            return
        try:
            fd = open_raw_tty(self._path)
        except OSError as exc:
            if self._delay == self._reopen_delay:  # the first failure in a row is worth a line in the log
                log.warning("serial line %s unavailable (%s); retrying", self._path, exc.strerror or exc)
            self._schedule_reopen()
            self._delay = min(self._delay * 2, MAX_REOPEN_DELAY)
            return
        self._delay = self._reopen_delay
        self._fd = fd
        self.opened += 1
        self._decoder.reset()
        self._gate = self._new_gate()
        self._loop.add_reader(fd, self._readable)

    def _new_gate(self) -> SessionGate:
        return SessionGate(self._server.channel_keys(), self._server.module.events.record, transport="serial",
                           required=True,
                           allow_gaps=True, restartable=True, send_frame=self._emit, end=self._end_session,
                           session_factory=self._server.new_session)

    def _schedule_reopen(self) -> None:
        if not self._closed and self._reopen is None:
            self._reopen = self._loop.call_later(self._delay, self._open)

    def _readable(self) -> None:
        fd = self._fd
        if fd is None:
            return
        try:
            data = os.read(fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO: the other end hung up
            log.info("serial line %s dropped (%s)", self._path, exc.strerror or exc)
            data = b""
        if not data:
            self._drop_line()
            self._schedule_reopen()
            return
        module = self._server.module
        for payload in self._decoder.feed(data):
            if self._gate is None:
                break
            before = module.changes
            self._gate.on_frame(payload)
            if module.changes != before and not self.holding:
                self.holding = True
                self._server.hold(self)
        if not self.holding:
            self.flush()

    def _emit(self, payload: bytes) -> None:
        self._out += encode(payload)
        if not self.holding and not self._server.flush_pending:
            self.flush()
        elif not self.holding:
            self.holding = True
            self._server.hold(self)

    def flush(self) -> None:
        """Write what is queued; the rest goes when the tty can take it."""
        self.holding = False
        fd = self._fd
        if fd is None or not self._out:
            return
        try:
            written = os.write(fd, self._out)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            log.info("serial line %s failed on write (%s)", self._path, exc.strerror or exc)
            self._drop_line()
            self._schedule_reopen()
            return
        del self._out[:written]
        if len(self._out) > MAX_PENDING:
            log.warning("serial host left %d bytes unread; ending its session", len(self._out))
            self._out.clear()
            self._end_session()
        if self._out:
            self._loop.add_writer(fd, self._writable)
        else:
            self._loop.remove_writer(fd)

    def _writable(self) -> None:
        if not self.holding:
            self.flush()

    def abort(self) -> None:
        self._out.clear()
        self.holding = False
        self._end_session()

    def _end_session(self) -> None:
        """The session ends; the line stays open for the next handshake."""
        if self._gate is not None:
            self._gate.close()
        self._gate = self._new_gate()

    def _drop_line(self) -> None:
        if self._gate is not None:
            self._gate.close()
            self._gate = None
        fd, self._fd = self._fd, None
        self._out.clear()
        self.holding = False
        if fd is not None:
            self._loop.remove_reader(fd)
            self._loop.remove_writer(fd)
            os.close(fd)

    def close(self) -> None:
        self._closed = True
        if self._reopen is not None:
            self._reopen.cancel()
        self._drop_line()


__all__ = ["SerialLine", "open_raw_tty"]


