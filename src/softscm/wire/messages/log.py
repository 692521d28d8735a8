"""The audit log: read (in every state), checkpoint, keys, host events."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum, unique
from typing import Annotated

from ..defs import Command
from .base import Done, MaxLen, Message, Range, Request, Text, command

MAX_READ = 10_000


@unique
class HostEventKind(StrEnum):
    POWER_CYCLE = "power_cycle"
    NETWORK_UP = "network_up"
    NETWORK_DOWN = "network_down"
    TIME_JUMP = "time_jump"
    BOOT = "boot"
    SHUTDOWN = "shutdown"
    CUSTOM = "custom"


@dataclass(frozen=True)
class LogPage(Message):
    """Entries and every checkpoint, each as its JSON line."""

    entries: tuple[Text, ...]
    checkpoints: tuple[Text, ...]


@command(Command.LOG_READ, LogPage)
@dataclass(frozen=True)
class LogReadRequest(Request[LogPage]):
    """Entries from ``since_seq`` (at most ``limit``; only the named ``events`` if any)."""

    since_seq: Annotated[int, Range(0, 2**63 - 1)] = 0
    limit: Annotated[int, Range(1, MAX_READ)] = MAX_READ
    events: Annotated[tuple[Annotated[str, MaxLen(32)], ...], MaxLen(64)] = ()


@dataclass(frozen=True)
class CheckpointReply(Message):
    checkpoint: Text | None = None


@command(Command.LOG_CHECKPOINT, CheckpointReply)
@dataclass(frozen=True)
class LogCheckpointRequest(Request[CheckpointReply]):
    """Sign the log's current head now."""


@dataclass(frozen=True)
class LogKeys(Message):
    """The checkpoint public key, the head, the unlogged count and (claimed once) the initial MAC key."""

    public_key: bytes
    head_seq: int
    unlogged: int
    initial_mac_key: bytes | None = None


@command(Command.LOG_PUBLIC_KEY, LogKeys)
@dataclass(frozen=True)
class LogKeysRequest(Request[LogKeys]):
    claim: bool = False


MAX_DETAIL = 1024
"""Characters of one text detail of a host event (32 details at most): an audit entry stays small,
and recording it stays quick (4 MiB of details took 220 ms on the event loop)."""


@command(Command.LOG_HOST_EVENT, Done)
@dataclass(frozen=True)
class HostEventRequest(Request[Done]):
    """Record a host-side event with a small map of scalar details."""

    kind: HostEventKind
    details: Annotated[dict[str, Annotated[str, MaxLen(MAX_DETAIL)] | int | float | bool], MaxLen(32)]
