"""One module per state directory: an exclusive lock held for the module's lifetime."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ...wire.errors import BusyError
from .atomic import check_writable, ensure_private_dir, is_writable

LOCK_SUFFIX = ".lock"
INSIDE_LOCK = ".softscm.lock"


class StateLock:
    """An exclusive ``flock`` on ``.<dir>.lock`` beside the state directory (beside, so that an
    empty directory stays empty until the module initialises it), or on :data:`INSIDE_LOCK`
    inside it when the parent is not writable (systemd's ``StateDirectory=`` for a service user:
    ``/var/lib`` is root's). Every process decides the same way for the same directory."""

    def __init__(self, state_dir: Path) -> None:
        """:raises BusyError: if another module (scmd or an embedded one) holds the directory.
        :raises StorageUnavailableError: if the directory (or, while it does not exist, its parent)
            cannot be written."""
        beside = state_dir.parent / f".{state_dir.name}{LOCK_SUFFIX}"
        if state_dir.is_dir():
            check_writable(state_dir)
            path = beside if is_writable(state_dir.parent) else state_dir / INSIDE_LOCK
        else:
            ensure_private_dir(state_dir.parent)
            check_writable(state_dir.parent)
            path = beside
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise BusyError(f"another module is already using {state_dir}") from None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
