"""Durable file replacement: temp file, fsync, rename, fsync the directory."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ...wire.errors import StateDirError, StorageFullError, StorageUnavailableError

STATE_FILE_MODE = 0o600
STATE_DIR_MODE = 0o700


def fsync_dir(path: Path) -> None:
    """Flush a directory entry so a rename inside it survives power loss."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves either the old or the new file.

    The file is created owner-only (0600).

    :raises StorageFullError: if the disk is full; the old file is left as it was.
    :raises OSError: for any other I/O failure, also leaving the old file intact.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write_synced(tmp, data)
    except StorageFullError:
        raise StorageFullError(f"no space left to write {path.name}") from None
    try:
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write_synced(path: Path, data: bytes) -> None:
    """Write ``data`` to a new owner-only (0600) file ``path`` (replacing one there) and flush it
    to disk; the first half of :func:`atomic_write`, whose rename may follow later.

    :raises StorageFullError: if the disk is full (nothing is left at ``path``).
    :raises OSError: for any other I/O failure (nothing is left at ``path``).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, STATE_FILE_MODE)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        Path(path).unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFullError(f"no space left to write {Path(path).name}") from None
        raise


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` owner-only (0700) if it is missing, or check an existing one.

    Missing parents are made as ``mkdir -p`` makes them (default mode); an existing directory,
    ``path`` or a parent, is never chmod-ed: the module does not change what it did not create.

    :raises StateDirError: if ``path`` exists but is not a directory, or is open to other users
        (any group or world permission bit), naming the fix.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=STATE_DIR_MODE)
    except FileExistsError:
        check_private_dir(path)
        return path
    os.chmod(path, STATE_DIR_MODE)  # created just now: the umask has no say over its mode
    return path


def check_private_dir(path: Path) -> None:
    """:raises StateDirError: if ``path`` is not a directory or other users may use it."""
    info = os.stat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise StateDirError(f"{path} exists and is not a directory")
    if info.st_mode & 0o077:
        raise StateDirError(
            f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):04o}); softscm does not change the "
            f"mode of a directory it did not create: make it owner-only (chmod 700 {path}) or name a directory "
            "that does not exist yet"
        )


def fsync_file(path: Path) -> None:
    """Flush a file (e.g. a SQLite WAL) to stable storage; a missing file has nothing to flush."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_writable(directory: Path) -> bool:
    """Whether this process may create files in ``directory`` (a read-only mount says no)."""
    try:
        return not os.statvfs(directory).f_flag & os.ST_RDONLY and os.access(directory, os.W_OK | os.X_OK)
    except OSError:
        return False


def check_writable(directory: Path) -> None:
    """Refuse, with a clear message, a directory the module could not write its state in.

    :raises StorageUnavailableError: if ``directory`` is on a read-only file system, or this
        process's user may not create files in it.
    """
    directory = Path(directory)
    if os.statvfs(directory).f_flag & os.ST_RDONLY:
        raise StorageUnavailableError(f"{directory} is on a read-only file system; the module needs to write there")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise StorageUnavailableError(
            f"{directory} is not writable by this user (uid {os.geteuid()}, mode {directory.stat().st_mode & 0o777:o}); "
            "the module needs to write there")
