"""One module per state directory: an exclusive lock held for the module's lifetime."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ...wire.errors import BusyError
from .atomic import STATE_FILE_MODE, check_writable, ensure_private_dir

LOCK_FILE = "lock"
"""The lock file's name inside the state directory (empty; it only carries the ``flock``)."""


class StateLock:
    """An exclusive ``flock`` on :data:`LOCK_FILE` inside the state directory.

    The lock lives inside the directory it guards, so nothing is ever created or changed beside
    it: a missing state directory is created owner-only, an existing one is only checked.
    """

    def __init__(self, state_dir: Path) -> None:
        """:raises BusyError: if another module (scmd or an embedded one) or ``scmsim`` holds the directory.
        :raises StateDirError: if the directory is not a directory or is open to other users.
        :raises StorageUnavailableError: if the directory cannot be written (read-only file system,
            another user's).
        """
        directory = ensure_private_dir(state_dir)
        check_writable(directory)
        self._fd: int | None = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                                       STATE_FILE_MODE)
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
