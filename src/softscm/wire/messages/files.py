"""Named files in the module's encrypted store (bootloader files, verified-boot golden copies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from ..defs import Command
from .base import Done, MaxLen, Message, Request, Size, command

MAX_FILE_SIZE = 4 * 1024 * 1024
MAX_NAME = 128
FileName = Annotated[str, MaxLen(MAX_NAME)]


@dataclass(frozen=True)
class StoredFile(Message):
    """A stored file's name, size and SHA-256."""

    name: str
    size: int
    sha256: Annotated[bytes, Size(32)]


@dataclass(frozen=True)
class FileData(Message):
    data: Annotated[bytes, MaxLen(MAX_FILE_SIZE)]


@dataclass(frozen=True)
class FileList(Message):
    files: tuple[StoredFile, ...]


@command(Command.FILE_PUT, StoredFile)
@dataclass(frozen=True)
class FilePutRequest(Request[StoredFile]):
    """Store (or replace) the file ``name`` ('/'-separated parts of letters, digits, '.', '_', '-')."""

    name: FileName
    data: Annotated[bytes, MaxLen(MAX_FILE_SIZE)]


@command(Command.FILE_GET, FileData)
@dataclass(frozen=True)
class FileGetRequest(Request[FileData]):
    name: FileName


@command(Command.FILE_REMOVE, Done)
@dataclass(frozen=True)
class FileRemoveRequest(Request[Done]):
    name: FileName


@command(Command.FILE_LIST, FileList)
@dataclass(frozen=True)
class FileListRequest(Request[FileList]):
    """Every stored file whose name starts with ``prefix``."""

    prefix: FileName = ""
