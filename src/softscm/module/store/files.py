"""Named files kept in the module's encrypted store (bootloader files, verified-boot golden copies).

Each file's content is sealed with AES-256-GCM under the keystore's KEK, bound to its name
(:meth:`KeyStore.seal_secret`), and written owner-only and atomically to ``<state>/files/`` under
a fresh random blob name. The index lives in the keystore's MACed module values: ``file:<name>``
holds the blob name, the size and the SHA-256 of the content. Replacing a file writes the new
blob, then commits the index (the one switch point), then removes the old blob; a crash in
between leaves an unreferenced blob that the next start removes. A blob swapped, rolled back,
moved to another name or edited fails closed with :class:`StoreCorruptError`.

Names are slash-separated paths of letters, digits, ``.``, ``_`` and ``-`` (``boot/start4.elf``),
so callers keep namespaces apart (the provisioning station uses ``boot/``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path

import cbor2

from ...wire.errors import InvalidArgumentError, NotFoundError, StorageFullError, StoreCorruptError
from ...wire.messages.files import MAX_FILE_SIZE, MAX_NAME, StoredFile
from ..crypto.rng import Rng, system_rng
from .atomic import atomic_write, ensure_private_dir, fsync_dir
from .keystore import KeyStore

FILES_DIR = "files"
INDEX_PREFIX = "file:"
MAX_TOTAL_SIZE = 32 * 1024 * 1024
MAX_FILES = 128
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")
_BLOB = re.compile(r"[0-9a-f]{32}\.sealed")


@dataclass(frozen=True)
class _IndexEntry:
    blob: str
    size: int
    sha256: bytes

    @classmethod
    def parse(cls, data: bytes) -> _IndexEntry:
        """:raises StoreCorruptError: if the entry is malformed."""
        try:
            blob, size, digest = cbor2.loads(data)
        except (ValueError, TypeError, cbor2.CBORDecodeError):
            raise StoreCorruptError("a file index entry is malformed") from None
        if not (isinstance(blob, str) and _BLOB.fullmatch(blob) and isinstance(size, int)
                and isinstance(digest, bytes) and len(digest) == 32):
            raise StoreCorruptError("a file index entry is malformed")
        return cls(blob, size, digest)

    def to_bytes(self) -> bytes:
        return cbor2.dumps([self.blob, self.size, self.sha256])


def check_name(name: str) -> str:
    """:raises InvalidArgumentError: unless ``name`` is a valid file name (see the module docstring)."""
    if not isinstance(name, str) or len(name) > MAX_NAME or _NAME.fullmatch(name) is None:
        raise InvalidArgumentError(f"a file name is 1..{MAX_NAME} characters: '/'-separated parts of letters, "
                                   "digits, '.', '_' and '-', each starting with a letter or digit")
    return name


class FileStore:
    """Put, get, list and remove named files (same thread rules as the keystore)."""

    def __init__(self, store: KeyStore, state_dir: Path, *, rng: Rng = system_rng,
                 max_file_size: int = MAX_FILE_SIZE, max_total_size: int = MAX_TOTAL_SIZE,
                 max_files: int = MAX_FILES) -> None:
        self._store, self._rng = store, rng
        self._dir = ensure_private_dir(Path(state_dir) / FILES_DIR)
        self.max_file_size, self.max_total_size, self.max_files = max_file_size, max_total_size, max_files
        self._remove_unreferenced()

    def _entry(self, name: str) -> _IndexEntry | None:
        value = self._store.get_meta(INDEX_PREFIX + check_name(name))
        return None if value is None else _IndexEntry.parse(value)

    def _entries(self) -> dict[str, _IndexEntry]:
        names = self._store.meta_names(INDEX_PREFIX)
        return {name[len(INDEX_PREFIX):]: _IndexEntry.parse(self._store.get_meta(name) or b"") for name in names}

    def _remove_unreferenced(self) -> None:
        """Remove blobs (and temp files) this store wrote that no index entry refers to: what a
        crash between writing a blob and committing or cleaning up its index leaves."""
        referenced = {entry.blob for entry in self._entries().values()}
        removed = False
        for path in self._dir.iterdir():
            ours = _BLOB.fullmatch(path.name) or _BLOB.fullmatch(path.name.removeprefix(".").removesuffix(".tmp"))
            if ours and path.name not in referenced:
                path.unlink()
                removed = True
        if removed:
            fsync_dir(self._dir)

    def put(self, name: str, data: bytes) -> StoredFile:
        """Store (or replace) ``name`` durably.

        :raises InvalidArgumentError: for a bad name or a file over the size limit.
        :raises StorageFullError: if the store's file count or total size would pass its limit,
            or the disk is full (the old content stays).
        """
        check_name(name)
        if not isinstance(data, bytes) or len(data) > self.max_file_size:
            raise InvalidArgumentError(f"a stored file holds at most {self.max_file_size} bytes")
        entries = self._entries()
        old = entries.pop(name, None)
        if len(entries) >= self.max_files:
            raise StorageFullError(f"the file store holds {self.max_files} files already")
        if sum(e.size for e in entries.values()) + len(data) > self.max_total_size:
            raise StorageFullError(f"the file store would pass its {self.max_total_size}-byte limit")
        entry = _IndexEntry(f"{self._rng(16).hex()}.sealed", len(data), hashlib.sha256(data).digest())
        atomic_write(self._dir / entry.blob, self._store.seal_secret(INDEX_PREFIX + name, data))
        try:
            self._store.set_meta(INDEX_PREFIX + name, entry.to_bytes())
        except BaseException:
            (self._dir / entry.blob).unlink(missing_ok=True)
            raise
        if old is not None:
            self._discard(old.blob)
        return StoredFile(name, entry.size, entry.sha256)

    def _discard(self, blob: str) -> None:
        (self._dir / blob).unlink(missing_ok=True)
        fsync_dir(self._dir)

    def get(self, name: str) -> bytes:
        """The content of ``name``.

        :raises NotFoundError: if no file has that name.
        :raises StoreCorruptError: if the blob is missing, fails authentication or is not the
            content the index recorded.
        """
        entry = self._entry(name)
        if entry is None:
            raise NotFoundError(f"no stored file named {name!r}")
        try:
            sealed = (self._dir / entry.blob).read_bytes()
        except FileNotFoundError:
            raise StoreCorruptError(f"the stored file {name!r} is missing") from None
        data = self._store.open_secret(INDEX_PREFIX + name, sealed)
        if len(data) != entry.size or not hmac.compare_digest(hashlib.sha256(data).digest(), entry.sha256):
            raise StoreCorruptError(f"the stored file {name!r} is not the content recorded for it")
        return data

    def info(self, name: str) -> StoredFile:
        """Name, size and SHA-256 of ``name``. :raises NotFoundError: if no file has that name."""
        entry = self._entry(name)
        if entry is None:
            raise NotFoundError(f"no stored file named {name!r}")
        return StoredFile(name, entry.size, entry.sha256)

    def remove(self, name: str) -> None:
        """:raises NotFoundError: if no file has that name."""
        entry = self._entry(name)
        if entry is None or not self._store.delete_meta(INDEX_PREFIX + name):
            raise NotFoundError(f"no stored file named {name!r}")
        self._discard(entry.blob)

    def zeroize(self) -> None:
        """Overwrite every blob this store wrote with random bytes, then remove it (self-destruct;
        the index goes with the keystore's own zeroisation)."""
        for path in self._dir.iterdir():
            if _BLOB.fullmatch(path.name.removeprefix(".").removesuffix(".tmp")):
                with path.open("r+b") as blob:
                    blob.write(self._rng(path.stat().st_size))
                    blob.flush()
                    os.fsync(blob.fileno())
                path.unlink()
        fsync_dir(self._dir)

    def list(self, prefix: str = "") -> list[StoredFile]:
        """Every stored file whose name starts with ``prefix``, sorted by name."""
        return [StoredFile(name, e.size, e.sha256) for name, e in self._entries().items() if name.startswith(prefix)]
