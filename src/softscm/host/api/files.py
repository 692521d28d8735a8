"""Named files in the module's encrypted store (bootloader files, verified-boot golden copies)."""

from __future__ import annotations

from ...wire.messages.files import (
    FileGetRequest,
    FileListRequest,
    FilePutRequest,
    FileRemoveRequest,
    StoredFile,
)
from .base import ApiBase, nothing, same


class FilesApi(ApiBase):
    def put_file(self, name: str, data: bytes) -> StoredFile:
        """Store (or replace) ``name`` (at most 4 MiB); returns its name, size and SHA-256.

        :raises InvalidArgumentError: for a bad name or size. :raises StorageFullError: past the
            store's file count or total size.
        """
        return self._call(FilePutRequest(name, bytes(data)), same)

    def get_file(self, name: str) -> bytes:
        """:raises NotFoundError: if no file has that name. :raises StoreCorruptError: if it fails its checks."""
        return self._call(FileGetRequest(name), lambda r: r.data)

    def remove_file(self, name: str) -> None:
        """:raises NotFoundError: if no file has that name."""
        return self._call(FileRemoveRequest(name), nothing)

    def list_files(self, prefix: str = "") -> list[StoredFile]:
        """Every stored file whose name starts with ``prefix``, sorted by name."""
        return self._call(FileListRequest(prefix), lambda r: list(r.files))
