"""A boot partition to verify or repair: a mounted directory, or a FAT image read without mounting.

Both kinds answer the same calls: :meth:`BootPartition.files` lists the regular files (relative
POSIX paths and sizes), :meth:`BootPartition.open` streams one file (``readinto`` in chunks, so
memory stays constant whatever the size), and :meth:`BootPartition.write_file` /
:meth:`BootPartition.remove_file` repair it.

FAT images are read and written with GNU mtools (``mdir``, ``mcopy``, ``mmd``, ``mdel``) rather
than a Python FAT library. Tried against images made by ``mkfs.vfat`` + ``mcopy``, ``pyfatfs``
1.1 reported ``kernel8.img`` as ``KERNEL8.IMG``: it ignores the case flags with which Linux and
mtools store lower-case 8.3 names, so every default Raspberry Pi boot file would have a different
name than on the mounted partition. mtools is the FAT implementation the Raspberry Pi image tools
themselves use, streams a file to a pipe at disk speed (C, one process per file, so parallel
reads really run in parallel), writes in place (``mcopy -o``), and needs neither root nor a loop
device. The image may be a whole disk image with the partition at a byte ``offset``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from ...wire.errors import BootVerificationError, InvalidArgumentError
from ..store.atomic import atomic_write
from .manifest import normalise_path

BOOT_FILE_MODE = 0o644


@dataclass(frozen=True)
class PartitionFile:
    """A regular file on the partition."""

    path: str
    size: int


class BootPartition(ABC):
    """A boot partition. Paths are relative, POSIX, normalised (see :func:`normalise_path`)."""

    @abstractmethod
    def files(self) -> list[PartitionFile]:
        """Every regular file, sorted by path.

        :raises BootVerificationError: if the partition cannot be listed.
        """

    @abstractmethod
    def open(self, path: str) -> AbstractContextManager[IO[bytes]]:
        """A context manager yielding an unbuffered binary stream of ``path``.

        :raises FileNotFoundError: if there is no such file.
        :raises BootVerificationError: if an image read fails part way.
        """

    @abstractmethod
    def write_file(self, path: str, data: bytes) -> None:
        """Create or replace ``path`` (creating parent directories) with ``data``.

        :raises BootVerificationError: if the image cannot be written.
        """

    @abstractmethod
    def remove_file(self, path: str) -> None:
        """Delete ``path``. :raises FileNotFoundError: if there is no such file."""

    def read_file(self, path: str) -> bytes:
        """A whole (small) file. :raises FileNotFoundError: if there is no such file."""
        with self.open(path) as stream:
            return stream.read()


class DirectoryPartition(BootPartition):
    """A mounted (or copied) boot partition. Symbolic links are not followed."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        """:raises InvalidArgumentError: if ``root`` is not a directory."""
        self.root = Path(root)
        if not self.root.is_dir():
            raise InvalidArgumentError(f"{self.root} is not a directory")

    def __repr__(self) -> str:
        return f"DirectoryPartition({str(self.root)!r})"

    def _host_path(self, path: str) -> Path:
        return self.root.joinpath(*normalise_path(path).split("/"))

    def files(self) -> list[PartitionFile]:
        found = []
        for top, _dirs, names in os.walk(self.root):
            for name in names:
                full = Path(top, name)
                if full.is_symlink() or not full.is_file():
                    continue
                rel = full.relative_to(self.root).as_posix()
                found.append(PartitionFile(rel, full.stat().st_size))
        return sorted(found, key=lambda f: f.path)

    @contextmanager
    def open(self, path: str) -> Iterator[IO[bytes]]:
        host = self._host_path(path)
        if host.is_symlink():
            raise FileNotFoundError(path)
        with open(host, "rb", buffering=0) as stream:
            yield stream

    def write_file(self, path: str, data: bytes) -> None:
        host = self._host_path(path)
        mode = host.stat().st_mode & 0o777 if host.is_file() else BOOT_FILE_MODE
        host.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(host, data)
        os.chmod(host, mode)

    def remove_file(self, path: str) -> None:
        self._host_path(path).unlink()


# mdir's entry line: 8.3 short name in fixed columns, size or <DIR>, date, time, then the long
# name (if the entry has one) after two spaces; without one, mtools ends the line with a space.
_MDIR_ENTRY = re.compile(r"^(?P<base>.{8}) (?P<ext>.{3}) +(?P<size>\d+|<DIR>) +\S+ +\S+(?: ?$|  (?P<long>.+)$)")
_MDIR_HEADER = re.compile(r"^Directory for ::(?P<dir>/.*)$")


def mtools_env() -> dict[str, str]:
    """The environment mtools runs in: no user configuration, UTF-8 names, no geometry checks."""
    env = dict(os.environ)
    env.update(MTOOLSRC="/dev/null", MTOOLS_SKIP_CHECK="1", LC_ALL="C.UTF-8", LANG="C.UTF-8")
    return env


class FatImagePartition(BootPartition):
    """A FAT12/16/32 image file or block device (or a partition inside a disk image at byte
    ``offset``)."""

    def __init__(self, image: str | os.PathLike[str], offset: int = 0) -> None:
        """:raises InvalidArgumentError: if ``image`` is not a file, mtools is missing or the
        image holds no FAT file system."""
        self.image = Path(image)
        if not (self.image.is_file() or self.image.is_block_device()):
            raise InvalidArgumentError(f"{self.image} is neither a file nor a block device")
        if shutil.which("mcopy") is None:
            raise InvalidArgumentError("reading FAT images needs mtools (mdir, mcopy)")
        self._target = f"{self.image}@@{offset}" if offset else str(self.image)
        self._env = mtools_env()
        self._run("minfo", "-i", self._target, "::", what="is not a FAT file system")

    def __repr__(self) -> str:
        return f"FatImagePartition({str(self.image)!r})"

    def _run(self, *argv: str, what: str) -> str:
        done = subprocess.run(argv, capture_output=True, env=self._env, check=False)
        if done.returncode != 0:
            raise BootVerificationError(f"{self.image.name}: {what}")
        return done.stdout.decode("utf-8", "surrogateescape")

    def _mdir(self, *options: str) -> str:
        """mdir's recursive listing; mdir fails on an empty root directory, which lists nothing."""
        done = subprocess.run(["mdir", "-/", "-a", *options, "-i", self._target, "::"], capture_output=True,
                              env=self._env, check=False)
        if done.returncode != 0:
            if b'File "::" not found' in done.stderr:
                return ""
            raise BootVerificationError(f"{self.image.name}: cannot be listed")
        return done.stdout.decode("utf-8", "surrogateescape")

    def _listing(self) -> tuple[list[PartitionFile], set[str]]:
        text = self._mdir()
        files, dirs, current = [], set(), ""
        for line in text.splitlines():
            header = _MDIR_HEADER.match(line)
            if header:
                current = header["dir"].strip("/")
                continue
            entry = _MDIR_ENTRY.match(line)
            if not entry:
                continue
            if entry["long"]:
                name = entry["long"]
            else:
                base, ext = entry["base"].rstrip(), entry["ext"].rstrip()
                name = f"{base}.{ext}" if ext else base
            if name in (".", ".."):
                continue
            path = f"{current}/{name}" if current else name
            if entry["size"] == "<DIR>":
                dirs.add(path)
            else:
                files.append(PartitionFile(path, int(entry["size"])))
        return sorted(files, key=lambda f: f.path), dirs

    def files(self) -> list[PartitionFile]:
        files, _dirs = self._listing()
        bare = self._mdir("-b")
        names = {line[len("::/"):] for line in bare.splitlines() if line.startswith("::/") and not line.endswith("/")}
        if names != {f.path for f in files}:
            raise BootVerificationError(f"{self.image.name}: the directory listing could not be read")
        return files

    @contextmanager
    def open(self, path: str) -> Iterator[IO[bytes]]:
        path = normalise_path(path)
        process = subprocess.Popen(["mcopy", "-n", "-i", self._target, f"::/{path}", "-"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self._env, bufsize=0)
        stream = cast(IO[bytes], process.stdout)
        finished = False
        try:
            yield stream
            finished = True
        finally:
            stream.close()
            if not finished:
                process.kill()
            code = process.wait()
        if code != 0:  # a missing file is only known once mcopy has failed: list to tell which
            if path not in {f.path for f in self._listing()[0]}:
                raise FileNotFoundError(path)
            raise BootVerificationError(f"{self.image.name}: reading {path} failed")

    def write_file(self, path: str, data: bytes) -> None:
        path = normalise_path(path)
        _files, dirs = self._listing()
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent not in dirs:
                self._run("mmd", "-i", self._target, f"::/{parent}", what=f"cannot create {parent}")
        with tempfile.TemporaryDirectory(prefix="scm-boot-") as tmp:
            staged = Path(tmp, "file")
            atomic_write(staged, data)
            self._run("mcopy", "-o", "-n", "-i", self._target, str(staged), f"::/{path}",
                      what=f"cannot write {path}")

    def remove_file(self, path: str) -> None:
        path = normalise_path(path)
        if path not in {f.path for f in self._listing()[0]}:
            raise FileNotFoundError(path)
        self._run("mdel", "-i", self._target, f"::/{path}", what=f"cannot delete {path}")


def open_partition(*, directory: str | os.PathLike[str] | None = None,
                   image: str | os.PathLike[str] | None = None, offset: int = 0) -> BootPartition:
    """The partition given as exactly one of a directory or a FAT image.

    :raises InvalidArgumentError: for neither or both, or a path that is not usable.
    """
    if (directory is None) == (image is None):
        raise InvalidArgumentError("give a boot partition as a directory or as an image, not both")
    if image is not None:
        return FatImagePartition(image, offset)
    return DirectoryPartition(directory)  # type: ignore[arg-type]
