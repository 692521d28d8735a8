"""One module per state directory: an exclusive lock held for the module's lifetime."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ...wire.errors import BusyError
from .atomic import ensure_private_dir

LOCK_SUFFIX = ".lock"


class StateLock:
    """An exclusive ``flock`` on ``.<dir>.lock`` beside the state directory (beside, so that an
    empty directory stays empty until the module initialises it)."""

    def __init__(self, state_dir: Path) -> None:
        """:raises BusyError: if another module (scmd or an embedded one) holds the directory."""
        ensure_private_dir(state_dir.parent)
        self._fd: int | None = os.open(state_dir.parent / f".{state_dir.name}{LOCK_SUFFIX}",
                                       os.O_RDWR | os.O_CREAT, 0o600)
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
