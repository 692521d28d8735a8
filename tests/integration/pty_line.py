"""A serial line made of two real pseudo-terminals joined by a relay thread.

The module opens ``module_path`` (its ``/dev/ttyGS0``), the host ``host_path`` (its
``/dev/ttyACM0``); both are symlinks to pty slaves, so a side can be unplugged (its pty closed:
reads there fail with EIO) and plugged back (a new pty behind the same path). The relay can
inject garbage, drop or hold back bytes in either direction, as line noise and a slow line do.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Callable
from pathlib import Path

Mutate = Callable[[bytes], bytes]


class _End:
    def __init__(self, link: Path) -> None:
        self.link = link
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo or line editing before the real user sets it raw too
        temp = link.with_name(link.name + ".new")
        temp.unlink(missing_ok=True)
        temp.symlink_to(os.ttyname(self.slave))
        temp.replace(link)

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


class PtyLine:
    def __init__(self, directory: Path) -> None:
        self.module_path = directory / "ttyGS0"
        self.host_path = directory / "ttyACM0"
        self._ends = {"module": _End(self.module_path), "host": _End(self.host_path)}
        self._lock = threading.Lock()
        self.mutate: dict[str, Mutate | None] = {"to_module": None, "to_host": None}
        self.held: dict[str, bytearray | None] = {"to_module": None, "to_host": None}
        self._stop = False
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            with self._lock:
                ends = dict(self._ends)
            masters = {end.master: name for name, end in ends.items()}
            try:
                readable, _, _ = select.select([*masters, self._wake_r], [], [], 0.5)
            except (OSError, ValueError):
                continue
            for fd in readable:
                if fd == self._wake_r:
                    os.read(fd, 64)
                    continue
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    continue
                source = masters[fd]
                direction = "to_host" if source == "module" else "to_module"
                self._forward(direction, data)

    def _forward(self, direction: str, data: bytes) -> None:
        mutate = self.mutate[direction]
        if mutate is not None:
            data = mutate(data)
        held = self.held[direction]
        if held is not None:
            held += data
            return
        self.send(direction, data)

    def send(self, direction: str, data: bytes) -> None:
        """Write ``data`` into the line as if it came from the other side (garbage, a release)."""
        with self._lock:
            end = self._ends["module" if direction == "to_module" else "host"]
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(end.master, view):]
                except BlockingIOError:
                    select.select([], [end.master], [], 1)
                except OSError:
                    return

    def hold(self, direction: str) -> None:
        self.held[direction] = bytearray()

    def release(self, direction: str) -> None:
        held, self.held[direction] = self.held[direction], None
        if held:
            self.send(direction, bytes(held))

    def unplug(self, side: str) -> None:
        """Close that side's pty: its user's reads and writes fail, as when a USB device goes away."""
        with self._lock:
            self._ends[side].close()
            del self._ends[side]
        os.write(self._wake_w, b"x")

    def plug(self, side: str) -> None:
        with self._lock:
            self._ends[side] = _End(self.module_path if side == "module" else self.host_path)
        os.write(self._wake_w, b"x")

    def close(self) -> None:
        self._stop = True
        os.write(self._wake_w, b"x")
        self._thread.join(2)
        with self._lock:
            for end in self._ends.values():
                end.close()
            self._ends.clear()
        os.close(self._wake_r)
        os.close(self._wake_w)
