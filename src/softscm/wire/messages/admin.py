"""Session, information, status, randomness, binding and metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from ..defs import Command, Mode, ModuleState
from .base import Done, Message, Range, Request, Text, command
from .selftest import SelfTestSummary

MAX_RANDOM = 1024 * 1024


@dataclass(frozen=True)
class Hello(Message):
    version: int
    serial: str
    state: ModuleState


@command(Command.HELLO, Hello)
@dataclass(frozen=True)
class HelloRequest(Request[Hello]):
    """The version handshake that opens every connection."""

    version: int


@command(Command.SUBSCRIBE, Done)
@dataclass(frozen=True)
class SubscribeRequest(Request[Done]):
    """Push every module event to this connection from now on."""


@dataclass(frozen=True)
class ModuleInfo(Message):
    model: str
    firmware_version: str
    serial: str
    protocol_version: int
    identity_public_key: bytes
    user_capacity: int
    foreign_capacity: int
    wallet_capacity: int


@command(Command.INFO, ModuleInfo)
@dataclass(frozen=True)
class InfoRequest(Request[ModuleInfo]):
    pass


@dataclass(frozen=True)
class LedStatus(Message):
    """The LED pattern, the fatal code shown (if any) and the recent codes ``(time, code)``."""

    pattern: str
    on_ms: int
    off_ms: int
    flashes: int
    code: str | None = None
    history: tuple[tuple[float, str], ...] = ()


@command(Command.LED_GET, LedStatus)
@dataclass(frozen=True)
class LedGetRequest(Request[LedStatus]):
    pass


@dataclass(frozen=True)
class Status(Message):
    state: ModuleState
    mode: Mode
    bound: bool
    uptime: float
    ops: dict[str, int]
    errors: dict[str, int]
    suspended: dict[str, Text]
    led: LedStatus
    self_test: dict[str, SelfTestSummary]
    self_destruct_seconds: float | None = None
    error: Text | None = None


@command(Command.STATUS, Status)
@dataclass(frozen=True)
class StatusRequest(Request[Status]):
    pass


@dataclass(frozen=True)
class RandomBytes(Message):
    data: bytes


@command(Command.RANDOM, RandomBytes)
@dataclass(frozen=True)
class RandomRequest(Request[RandomBytes]):
    size: Annotated[int, Range(0, MAX_RANDOM)]


@command(Command.LOCK_BINDING, Done)
@dataclass(frozen=True)
class LockBindingRequest(Request[Done]):
    """Permanent production mode: the module is bound to this host."""


@dataclass(frozen=True)
class BindingInfo(Message):
    """``binding_is_locked``: production mode; ``is_bound``: the module serves this host."""

    binding_is_locked: bool
    is_bound: bool


@command(Command.BINDING_INFO, BindingInfo)
@dataclass(frozen=True)
class BindingInfoRequest(Request[BindingInfo]):
    pass


@dataclass(frozen=True)
class Metrics(Message):
    state: ModuleState
    mode: Mode
    uptime: float
    boot_count: int
    ops: dict[str, int]
    errors: dict[str, int]
    seconds: dict[str, float]
    gauges: dict[str, float]


@command(Command.METRICS, Metrics)
@dataclass(frozen=True)
class MetricsRequest(Request[Metrics]):
    pass

