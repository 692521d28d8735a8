"""Policy settings, their limits and the production-mode freeze rules.

Development mode: everything can be changed; destructive actions are only simulated.
Production mode (after ``lock_binding``): temperature, battery and digital perimeter parameters
are frozen, the perimeter channel actions may be changed exactly once, the boot policy freely.
"""

from __future__ import annotations

import json
from typing import TypeVar

from dataclasses import asdict, dataclass, field

from ...wire.defs import BatteryAction, BootPolicy, Mode
from ...wire.errors import InvalidArgumentError, PolicyFrozenError
from ..sensors.hal import PERIMETER_CHANNELS

BATTERY_THRESHOLD_MAX = 2.5
LP_PERIOD_US = (100, 1_000_000)
LP_MAX_BITS = (1, 64)
DELAY_NS = (0, 10_000_000)
TEMP_RANGE = (-60.0, 150.0)


@dataclass
class PerimeterChannel:
    notify: bool = True
    self_destruct: bool = False
    first_breach: float = 0.0  # epoch seconds of the first breach since the last clear; 0: none


@dataclass
class Policy:
    perimeter: list[PerimeterChannel] = field(default_factory=lambda: [PerimeterChannel() for _ in range(PERIMETER_CHANNELS)])
    perimeter_changes_after_lock: int = 0
    lp_period_us: int = 10_000
    lp_max_bits: int = 8
    min_delay_ns: int = 100
    max_delay_ns: int = 10_000
    battery_threshold: float = 2.3
    battery_action: int = int(BatteryAction.NONE)
    temp_low: float = -10.0
    temp_high: float = 65.0
    temp_self_destruct: bool = False
    temp_suspend: bool = False  # suspend key operations while the temperature is out of range
    boot_policy: int = int(BootPolicy.NONE)
    tap_sensitivity: dict[str, float] = field(default_factory=lambda: {"x": 50.0, "y": 50.0, "z": 50.0})
    log_taps: bool = False

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Policy:
        raw = json.loads(data)
        raw["perimeter"] = [PerimeterChannel(**c) for c in raw["perimeter"]]
        return cls(**raw)

    # -- changes (each checks the mode's rules) ----------------------------------------------------

    def set_perimeter_actions(self, channel: int, notify: bool, self_destruct: bool, mode: Mode) -> None:
        """:raises PolicyFrozenError: for a second change in production mode."""
        _channel(channel)
        if mode is Mode.PRODUCTION:
            if self.perimeter_changes_after_lock >= 1:
                raise PolicyFrozenError("the perimeter action can be changed only once in production mode")
            self.perimeter_changes_after_lock += 1
        self.perimeter[channel].notify, self.perimeter[channel].self_destruct = notify, self_destruct

    def set_perimeter_params(self, mode: Mode, *, lp_period_us: int | None = None, lp_max_bits: int | None = None,
                             min_delay_ns: int | None = None, max_delay_ns: int | None = None) -> None:
        """:raises InvalidArgumentError: outside the documented ranges. :raises PolicyFrozenError: in production."""
        _frozen(mode, "digital perimeter parameters")
        if lp_period_us is not None:
            self.lp_period_us = _within(lp_period_us, LP_PERIOD_US, "lp period (µs)")
        if lp_max_bits is not None:
            self.lp_max_bits = _within(lp_max_bits, LP_MAX_BITS, "lp max bits")
        low = self.min_delay_ns if min_delay_ns is None else _within(min_delay_ns, DELAY_NS, "min delay (ns)")
        high = self.max_delay_ns if max_delay_ns is None else _within(max_delay_ns, DELAY_NS, "max delay (ns)")
        if low >= high:
            raise InvalidArgumentError("the minimum delay must be below the maximum delay")
        self.min_delay_ns, self.max_delay_ns = low, high

    def set_battery(self, mode: Mode, *, threshold: float | None = None, sleep: bool | None = None,
                    self_destruct: bool | None = None) -> None:
        """:raises InvalidArgumentError: for a threshold of 2.5 V or more, or sleep and self-destruct
        together. :raises PolicyFrozenError: in production mode."""
        _frozen(mode, "battery settings")
        if threshold is not None:
            if not 0.0 < threshold < BATTERY_THRESHOLD_MAX:
                raise InvalidArgumentError(f"the battery threshold must be below {BATTERY_THRESHOLD_MAX} V")
            self.battery_threshold = threshold
        if sleep is not None or self_destruct is not None:
            if sleep and self_destruct:
                raise InvalidArgumentError("the battery action is sleep or self-destruct, not both")
            self.battery_action = int(BatteryAction.SLEEP if sleep else
                                      BatteryAction.SELF_DESTRUCT if self_destruct else BatteryAction.NONE)

    def set_temperature(self, mode: Mode, *, low: float | None = None, high: float | None = None,
                        self_destruct: bool | None = None, suspend: bool | None = None) -> None:
        """:raises InvalidArgumentError: for thresholds out of range or low >= high.
        :raises PolicyFrozenError: in production mode."""
        _frozen(mode, "temperature settings")
        new_low = self.temp_low if low is None else float(_within(low, TEMP_RANGE, "low temperature"))
        new_high = self.temp_high if high is None else float(_within(high, TEMP_RANGE, "high temperature"))
        if new_low >= new_high:
            raise InvalidArgumentError("the low temperature threshold must be below the high one")
        self.temp_low, self.temp_high = new_low, new_high
        if self_destruct is not None:
            self.temp_self_destruct = self_destruct
        if suspend is not None:
            self.temp_suspend = suspend

    def set_boot_policy(self, policy: int) -> None:
        """Allowed in every mode. :raises InvalidArgumentError: for an unknown policy."""
        try:
            self.boot_policy = int(BootPolicy(policy))
        except ValueError:
            raise InvalidArgumentError("the boot policy is 0 (none), 1 (self-destruct) or 2 (hold)") from None


def _channel(channel: int) -> None:
    if not 0 <= channel < PERIMETER_CHANNELS:
        raise InvalidArgumentError(f"perimeter channels are 0..{PERIMETER_CHANNELS - 1}")


def _frozen(mode: Mode, what: str) -> None:
    if mode is Mode.PRODUCTION:
        raise PolicyFrozenError(f"{what} are frozen in production mode")


T = TypeVar("T", int, float)


def _within(value: T, bounds: tuple[float, float], what: str) -> T:
    if not bounds[0] <= value <= bounds[1]:
        raise InvalidArgumentError(f"{what} must be within {bounds[0]}..{bounds[1]}")
    return value
