"""The hardware the module watches, as one interface with two back ends (simulated, Linux)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ...wire.errors import SensorUnavailableError

PERIMETER_CHANNELS = 2


@dataclass(frozen=True)
class AccelSample:
    """One accelerometer reading: time (s) and acceleration per axis (g)."""

    t: float
    x: float
    y: float
    z: float


@dataclass(frozen=True)
class Battery:
    volts: float
    present: bool


class SensorBackend(Protocol):
    """What the module reads and drives. Every method raises :class:`SensorError` when the
    device does not answer."""

    name: str

    def rtc_time(self) -> float:
        """The real-time clock, epoch seconds (uncorrected)."""

    def accel_samples(self) -> list[AccelSample]:
        """Samples since the last call (at least the current reading)."""

    def perimeter_closed(self) -> tuple[bool, ...]:
        """Whether each perimeter loop is closed now."""

    def latched_breaches(self) -> tuple[float | None, ...]:
        """The first-breach time latched by each channel's hardware (kept while the host is off)."""

    def clear_latch(self, channel: int) -> None:
        """Re-arm a channel's latch."""

    def cpu_temp(self) -> float:
        """CPU temperature, °C."""

    def aux_temps(self) -> list[float]:
        """Auxiliary temperatures, °C."""

    def battery(self) -> Battery: ...

    def main_power_ok(self) -> bool:
        """Whether main power is present and of good quality."""

    def set_led(self, on: bool) -> None:
        """Drive the status LED (a no-op where there is none)."""


class SensorError(SensorUnavailableError):
    """A sensor did not answer: a peripheral failure for the self test, a typed
    :class:`~softscm.wire.errors.SensorUnavailableError` for a command that read it."""
