"""Time, LED, accelerometer, temperature, battery, perimeter (tamper), policies and the simulator."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum, unique
from typing import Annotated, Any

from ..defs import Command
from .base import Done, MaxLen, Message, Range, Request, command

Timeout = Annotated[int, Range(-1, 2**31 - 1)]  # milliseconds; -1 waits for ever


@unique
class LedPattern(StrEnum):
    ON = "on"
    OFF = "off"
    FLASH = "flash"


@dataclass(frozen=True)
class Time(Message):
    time: float


@command(Command.TIME, Time)
@dataclass(frozen=True)
class TimeRequest(Request[Time]):
    """Module time (drift-corrected RTC); ``precise`` waits for the next second boundary."""

    precise: bool = False


@dataclass(frozen=True)
class Drift(Message):
    ppm: float


@command(Command.RTC_DRIFT, Drift)
@dataclass(frozen=True)
class RtcDriftRequest(Request[Drift]):
    """Measure the RTC drift against the host's reference clock (positive: fast)."""


@command(Command.LED_SET, Done)
@dataclass(frozen=True)
class LedSetRequest(Request[Done]):
    """``pattern`` on, off or flash (``on_ms``, ``off_ms`` (0: same as on), ``flashes`` (0: forever))."""

    pattern: LedPattern
    on_ms: Annotated[int, Range(0, 60_000)] = 0
    off_ms: Annotated[int, Range(0, 60_000)] = 0
    flashes: Annotated[int, Range(0, 1_000_000)] = 0


@dataclass(frozen=True)
class Accelerometer(Message):
    """The latest acceleration per axis (g), the direction of the last tap per axis (-1, 0, +1)
    and when it came."""

    g_force: tuple[float, float, float]
    tap_direction: tuple[int, int, int]
    last_tap: float | None = None


@command(Command.ACCEL_READ, Accelerometer)
@dataclass(frozen=True)
class AccelReadRequest(Request[Accelerometer]):
    pass


@dataclass(frozen=True)
class TapSensitivity(Message):
    sensitivity: dict[str, float]


@command(Command.TAP_SENSITIVITY, TapSensitivity)
@dataclass(frozen=True)
class TapSensitivityRequest(Request[TapSensitivity]):
    """Set ``axis`` (x, y, z or all) to ``pct`` 0..100 (0 disables); ``log`` records taps in the log."""

    axis: Annotated[str, MaxLen(8)] = "all"
    pct: float = 50.0
    log: bool | None = None


@command(Command.WAIT_TAP, Done)
@dataclass(frozen=True)
class WaitTapRequest(Request[Done]):
    timeout_ms: Timeout = -1


@dataclass(frozen=True)
class Temperature(Message):
    celsius: float


@command(Command.CPU_TEMP, Temperature)
@dataclass(frozen=True)
class CpuTempRequest(Request[Temperature]):
    pass


@command(Command.AUX_TEMP, Temperature)
@dataclass(frozen=True)
class AuxTempRequest(Request[Temperature]):
    index: Annotated[int, Range(0, 255)] = 0


@dataclass(frozen=True)
class Battery(Message):
    volts: float
    present: bool


@command(Command.BATTERY_VOLT, Battery)
@dataclass(frozen=True)
class BatteryRequest(Request[Battery]):
    pass


@command(Command.PERIMETER_SET_ACTIONS, Done)
@dataclass(frozen=True)
class PerimeterActionsRequest(Request[Done]):
    """Set a channel's actions. In production mode this can be done once."""

    channel: Annotated[int, Range(0, 1)]
    notify: bool = True
    self_destruct: bool = False


@command(Command.PERIMETER_SET_PARAMS, Done)
@dataclass(frozen=True)
class PerimeterParamsRequest(Request[Done]):
    lp_period_us: int | None = None
    lp_max_bits: int | None = None
    min_delay_ns: int | None = None
    max_delay_ns: int | None = None


@dataclass(frozen=True)
class PerimeterInfo(Message):
    """First-breach epoch time per channel since the last clear (0: none)."""

    first_breach: tuple[float, ...]


@command(Command.PERIMETER_INFO, PerimeterInfo)
@dataclass(frozen=True)
class PerimeterInfoRequest(Request[PerimeterInfo]):
    pass


@command(Command.PERIMETER_CLEAR, Done)
@dataclass(frozen=True)
class PerimeterClearRequest(Request[Done]):
    """Clear the first-breach times and re-arm the latches."""


@command(Command.WAIT_PERIMETER, Done)
@dataclass(frozen=True)
class WaitPerimeterRequest(Request[Done]):
    timeout_ms: Timeout = -1


@command(Command.BATTERY_POLICY, Done)
@dataclass(frozen=True)
class BatteryPolicyRequest(Request[Done]):
    """``threshold`` (< 2.5 V) and the action: ``sleep`` or ``self_destruct``. Frozen in production."""

    threshold: float | None = None
    sleep: bool | None = None
    self_destruct: bool | None = None


@command(Command.TEMP_POLICY, Done)
@dataclass(frozen=True)
class TempPolicyRequest(Request[Done]):
    """``low``/``high`` thresholds (degrees C), ``self_destruct`` and ``suspend`` (key operations
    refused while out of range). Frozen in production."""

    low: float | None = None
    high: float | None = None
    self_destruct: bool | None = None
    suspend: bool | None = None


@command(Command.BOOT_SET_POLICY, Done)
@dataclass(frozen=True)
class BootPolicyRequest(Request[Done]):
    """0 do nothing, 1 self-destruct, 2 hold the host in reset. Allowed in every mode."""

    policy_id: int


@dataclass(frozen=True)
class PolicyReply(Message):
    """Every policy setting, by name (empty on a destroyed module)."""

    policy: dict[str, Any]


@command(Command.POLICY_GET, PolicyReply)
@dataclass(frozen=True)
class PolicyGetRequest(Request[PolicyReply]):
    pass


@command(Command.SIM_SET, Done)
@dataclass(frozen=True)
class SimulateRequest(Request[Done]):
    """Drive the simulated device: ``action`` with its ``params``."""

    action: Annotated[str, MaxLen(32)]
    params: Annotated[dict[str, Any], MaxLen(16)]
