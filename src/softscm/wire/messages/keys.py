"""Key slots: generate, import, remove, export public keys, foreign keys, listing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from ..defs import Command, KeyType
from ..errors import InvalidSlotError
from .base import Done, MaxLen, Message, Range, Request, Size, Text, command

MAX_BATCH_KEYS = 1024
MAX_PUBLIC_KEY = 512
Slot = Annotated[int, Range(-(2**31), 2**31 - 1, InvalidSlotError)]


@dataclass(frozen=True)
class SlotReply(Message):
    slot: int


@dataclass(frozen=True)
class SlotsReply(Message):
    slots: tuple[int, ...]


@dataclass(frozen=True)
class PublicKey(Message):
    """A public key: raw (X||Y for the ECDSA curves, 32 bytes otherwise) and, when asked, as PEM."""

    key_type: KeyType
    public_key: bytes
    pem: Text | None = None


@command(Command.GEN_KEY, SlotReply)
@dataclass(frozen=True)
class GenKeyRequest(Request[SlotReply]):
    key_type: KeyType


@command(Command.GEN_KEYS, SlotsReply)
@dataclass(frozen=True)
class GenKeysRequest(Request[SlotsReply]):
    key_type: KeyType
    count: Annotated[int, Range(1, MAX_BATCH_KEYS)]


@command(Command.GEN_EPHEMERAL, PublicKey)
@dataclass(frozen=True)
class GenEphemeralRequest(Request[PublicKey]):
    key_type: KeyType


@command(Command.INVALIDATE_EPHEMERAL, Done)
@dataclass(frozen=True)
class InvalidateEphemeralRequest(Request[Done]):
    pass


@command(Command.IMPORT_KEY, SlotReply)
@dataclass(frozen=True)
class ImportKeyRequest(Request[SlotReply]):
    key_type: KeyType
    private_key: Annotated[bytes, Size(32)]


@command(Command.REMOVE_KEY, Done)
@dataclass(frozen=True)
class RemoveKeyRequest(Request[Done]):
    slot: Slot
    foreign: bool = False


@command(Command.GET_PUBLIC_KEY, PublicKey)
@dataclass(frozen=True)
class GetPublicKeyRequest(Request[PublicKey]):
    slot: Slot
    foreign: bool = False
    pem: bool = False


@command(Command.DISABLE_EXPORT, Done)
@dataclass(frozen=True)
class DisableExportRequest(Request[Done]):
    slot: Slot
    foreign: bool = False


@command(Command.STORE_FOREIGN, SlotReply)
@dataclass(frozen=True)
class StoreForeignRequest(Request[SlotReply]):
    key_type: KeyType
    public_key: Annotated[bytes, MaxLen(MAX_PUBLIC_KEY)]


@dataclass(frozen=True)
class SlotList(Message):
    """Occupied slots with their key types, and how many slots there are in all."""

    slots: tuple[tuple[int, KeyType], ...]
    capacity: int


@command(Command.LIST_SLOTS, SlotList)
@dataclass(frozen=True)
class ListSlotsRequest(Request[SlotList]):
    foreign: bool = False
