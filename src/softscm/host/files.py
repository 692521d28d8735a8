"""Files the host side writes: owner-only (0600) and complete, or not there at all."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600


@contextmanager
def atomic_output(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file that becomes ``path`` only when the ``with`` block completes.

    The bytes go to a temp file created 0600 beside ``path``, are flushed to disk and renamed over
    it; if the block raises, the temp file is removed and ``path`` is left as it was (a reader never
    sees half a file, and plaintext is never world-readable under any umask). A symlink is
    followed; an existing file that is not a regular file (a FIFO, ``/dev/null``, a terminal) is
    written in place, never replaced.

    :raises OSError: if the directory cannot be written (the temp file is gone again).
    """
    target = Path(path)
    if target.is_symlink():
        target = target.resolve()
    try:
        special = not stat.S_ISREG(os.stat(target).st_mode)
    except FileNotFoundError:
        special = False
    if special:
        with open(target, "wb") as stream:
            yield stream
        return
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            os.fchmod(stream.fileno(), FILE_MODE)
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def write_file(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_output` (0600, all or nothing).

    :raises OSError: as :func:`atomic_output`.
    """
    with atomic_output(path) as stream:
        stream.write(data)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
