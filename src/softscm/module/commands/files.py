"""Named files in the module's encrypted store."""

from __future__ import annotations

from ...wire.defs import Event, Role
from ...wire.messages import Done
from ...wire.messages.files import (
    FileData,
    FileGetRequest,
    FileList,
    FileListRequest,
    FilePutRequest,
    FileRemoveRequest,
    StoredFile,
)
from ..audit.recorder import Recorder
from ..dispatch import Route, route
from ..store.files import FileStore


class FileCommands:
    def __init__(self, files: FileStore, events: Recorder) -> None:
        self._files = files
        self._events = events

    def routes(self) -> list[Route]:
        return [
            route(FilePutRequest, self.put, role=Role.ADMIN),
            route(FileGetRequest, self.get),
            route(FileRemoveRequest, self.remove, role=Role.ADMIN),
            route(FileListRequest, self.list_files),
        ]

    def put(self, request: FilePutRequest) -> StoredFile:
        """:raises InvalidArgumentError: for a bad name. :raises StorageFullError: past a limit."""
        stored = self._files.put(request.name, request.data)
        self._events.record(Event.FILE_STORED, name=stored.name, size=stored.size, sha256=stored.sha256.hex())
        return stored

    def get(self, request: FileGetRequest) -> FileData:
        """:raises NotFoundError: if no file has that name. :raises StoreCorruptError: if it fails its checks."""
        return FileData(self._files.get(request.name))

    def remove(self, request: FileRemoveRequest) -> Done:
        self._files.remove(request.name)
        self._events.record(Event.FILE_REMOVED, name=request.name)
        return Done()

    def list_files(self, request: FileListRequest) -> FileList:
        return FileList(tuple(self._files.list(request.prefix)))
