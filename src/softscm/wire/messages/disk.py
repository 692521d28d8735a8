"""Disk encryption: volume keys the module makes and releases only while READY and past the boot gate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from ..defs import Command
from .base import MaxLen, Message, Range, Request, command

MAX_VOLUME_ID = 64
MAX_DISK_BLOB = 256
VolumeId = Annotated[bytes, MaxLen(MAX_VOLUME_ID)]


@dataclass(frozen=True)
class VolumeKey(Message):
    """A new volume key and the blob only this module opens (for the same volume id)."""

    key: bytes
    blob: bytes


@dataclass(frozen=True)
class DiskKey(Message):
    key: bytes


@command(Command.DISK_NEW_KEY, VolumeKey)
@dataclass(frozen=True)
class DiskNewKeyRequest(Request[VolumeKey]):
    """Make a 32- or 64-byte volume key with the module's generator and seal it to this module and
    ``volume_id`` (the LUKS UUID)."""

    size: Annotated[int, Range(32, 64)] = 64
    volume_id: VolumeId = b""


@command(Command.DISK_UNLOCK, DiskKey)
@dataclass(frozen=True)
class DiskUnlockRequest(Request[DiskKey]):
    """The volume key in a blob this module made for ``volume_id``; only while READY and, when a
    supervised boot policy is set, after the boot partition verified in this boot."""

    blob: Annotated[bytes, MaxLen(MAX_DISK_BLOB)]
    volume_id: VolumeId = b""
