"""First initialisation that a crash cannot leave half done.

A new module's files are built in a work directory and only then put in place, so that a crash
(SIGKILL, power loss) leaves either no module or a complete one, never a half-initialised
directory that refuses forever.

- The target does not exist: the files are built in ``.<name>.init-XXXX`` beside it, which is
  renamed to the target in one step.
- The target is an empty directory someone else made (systemd's ``StateDirectory=``, an admin):
  it is neither replaced nor chmodded. The files are built in ``<target>/.softscm-init``; once the
  build is complete (its ``marker`` file written, last), every entry is renamed up into the
  target, the marker last, and the work directory removed. A crash during those renames is
  rolled forward at the next start, since the complete build says what remains to move.

Leftovers of a crashed build (work directories without the marker) are the module's own, by
their names, and are removed before the next try: they may hold a root key.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ...wire.errors import StoreCorruptError
from .atomic import STATE_DIR_MODE, fsync_dir
from .lock import LOCK_FILE

WORK_DIR = ".softscm-init"


def _sibling_prefix(target: Path) -> str:
    return f".{target.name}.init-"


def needs_initialising(target: Path, marker: str) -> bool:
    """Whether ``target`` holds no module yet: it is missing, empty, or holds only an interrupted
    initialisation (a work directory, and entries already moved from a complete one)."""
    if not target.exists():
        return True
    entries = set(os.listdir(target)) - {LOCK_FILE}
    if entries <= {WORK_DIR}:
        return True
    return WORK_DIR in entries and marker not in entries and (target / WORK_DIR / marker).is_file()


def _sync_tree(root: Path) -> None:
    """fsync every directory below ``root`` (files were synced as they were written)."""
    for directory, _, _ in os.walk(root, topdown=False):
        fsync_dir(Path(directory))


def build_then_rename(target: Path, build: Callable[[Path], None], *, marker: str) -> None:
    """Build a module with ``build(directory)`` (which writes ``marker`` last) and put it at
    ``target`` so that a crash leaves no module or a complete one. Call it only while
    :func:`needs_initialising` says so and while holding the directory's lock.

    :raises StoreCorruptError: if ``build`` did not write ``marker``, or an entry to move in is
        already in the target (something else wrote there meanwhile; nothing is overwritten).
    :raises OSError, ScmError: what ``build`` or the file system raised (the work is removed).
    """
    target = Path(target)
    if target.exists():
        _build_inside(target, build, marker)
        return
    for stale in target.parent.glob(_sibling_prefix(target) + "*"):
        shutil.rmtree(stale)  # a build a crash interrupted: the module's own, with its root key
    work = Path(tempfile.mkdtemp(prefix=_sibling_prefix(target), dir=target.parent))
    os.chmod(work, STATE_DIR_MODE)
    try:
        _build(work, build, marker)
        os.rename(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    fsync_dir(target.parent)


def _build(work: Path, build: Callable[[Path], None], marker: str) -> None:
    build(work)
    if not (work / marker).is_file():
        raise StoreCorruptError("initialisation did not complete")
    _sync_tree(work)


def _build_inside(target: Path, build: Callable[[Path], None], marker: str) -> None:
    work = target / WORK_DIR
    if work.exists() and not (work / marker).is_file():
        shutil.rmtree(work)  # an interrupted build: nothing was moved out of it yet
    if not work.exists():
        work.mkdir(mode=STATE_DIR_MODE)
        os.chmod(work, STATE_DIR_MODE)
        try:
            _build(work, build, marker)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    _move_up(work, target, marker)


def _move_up(work: Path, target: Path, marker: str) -> None:
    """Rename every entry of the complete build ``work`` into ``target``, ``marker`` last."""
    names = sorted(set(os.listdir(work)) - {marker, LOCK_FILE}) + [marker]
    for name in names:
        if (target / name).exists():
            raise StoreCorruptError(f"{target / name} appeared during initialisation; nothing was overwritten")
        os.rename(work / name, target / name)
        if name == marker:
            fsync_dir(target)
    os.rmdir(work)
    fsync_dir(target)
