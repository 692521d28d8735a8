"""The Linux back end: RTC, IIO accelerometer, GPIO perimeter loops, thermal zones, power supply
and LED from sysfs (and libgpiod for GPIO lines). Every path is configurable, so tests point it
at a fake sysfs tree in a temp dir.

Real hardware latches a breach while the host is off; a plain GPIO loop cannot, so here a breach
is latched by the module when it first sees the loop open (and persisted by the policy store).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .hal import PERIMETER_CHANNELS, AccelSample, Battery, SensorError

STANDARD_GRAVITY = 9.80665


@dataclass(frozen=True)
class LinuxPaths:
    """Where each sensor lives. ``gpio_values`` are sysfs ``value`` files (1 = loop closed); with
    ``gpio_chip`` set, the lines ``gpio_lines`` of that chip are read through libgpiod instead."""

    rtc: Path = Path("/sys/class/rtc/rtc0/since_epoch")
    iio_device: Path | None = None
    thermal_zones: Sequence[Path] = (Path("/sys/class/thermal/thermal_zone0/temp"),)
    battery: Path | None = None  # a power_supply directory with voltage_now and present
    mains: Path | None = None  # a power_supply directory with online
    gpio_values: Sequence[Path] = ()
    gpio_chip: Path | None = None
    gpio_lines: Sequence[int] = ()
    led: Path | None = None  # a leds/<name> directory with brightness

    @classmethod
    def under(cls, root: Path, *, iio: str = "iio:device0", battery: str = "BAT0", mains: str = "AC",
              gpio: Sequence[int] = (17, 27), led: str | None = "softscm") -> LinuxPaths:
        """The standard layout below ``root`` (``/`` on a real host, a temp dir in tests)."""
        sys = Path(root) / "sys"
        return cls(
            rtc=sys / "class/rtc/rtc0/since_epoch",
            iio_device=sys / "bus/iio/devices" / iio,
            thermal_zones=tuple(sorted((sys / "class/thermal").glob("thermal_zone*/temp"))),
            battery=sys / "class/power_supply" / battery,
            mains=sys / "class/power_supply" / mains,
            gpio_values=tuple(sys / f"class/gpio/gpio{n}/value" for n in gpio),
            led=sys / "class/leds" / led if led else None,
        )


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise SensorError(f"cannot read {path}: {exc.strerror}") from None


def _number(path: Path) -> float:
    text = _read(path)
    try:
        return float(text)
    except ValueError:
        raise SensorError(f"{path} does not hold a number") from None


@dataclass
class LinuxSensors:
    """Implements :class:`~softscm.module.sensors.hal.SensorBackend` on sysfs and libgpiod."""

    paths: LinuxPaths
    clock: Callable[[], float] = time.time
    name: str = "linux"
    _latched: list[float | None] = field(default_factory=lambda: [None] * PERIMETER_CHANNELS)
    _gpio_request: object | None = None

    def __post_init__(self) -> None:
        if self.paths.gpio_chip is not None:
            try:
                import gpiod  # optional dependency (the `linux` extra)
            except ImportError:
                raise SensorError("GPIO perimeter lines need the gpiod package (pip install softscm[linux])") from None
            settings = {tuple(self.paths.gpio_lines): gpiod.LineSettings(direction=gpiod.line.Direction.INPUT)}
            self._gpio_request = gpiod.request_lines(str(self.paths.gpio_chip), consumer="softscm", config=settings)

    def rtc_time(self) -> float:
        return _number(self.paths.rtc)

    def accel_samples(self) -> list[AccelSample]:
        device = self.paths.iio_device
        if device is None:
            raise SensorError("no accelerometer configured")
        scale = _number(device / "in_accel_scale") / STANDARD_GRAVITY
        x, y, z = (_number(device / f"in_accel_{axis}_raw") * scale for axis in "xyz")
        return [AccelSample(self.clock(), x, y, z)]

    def perimeter_closed(self) -> tuple[bool, ...]:
        if self._gpio_request is not None:
            values = self._gpio_request.get_values()  # type: ignore[attr-defined]  # gpiod (optional extra) ships no types
            closed = tuple(int(v) == 1 for v in values)
        else:
            if len(self.paths.gpio_values) < PERIMETER_CHANNELS:
                raise SensorError("perimeter loops are not configured")
            closed = tuple(_read(p) == "1" for p in self.paths.gpio_values[:PERIMETER_CHANNELS])
        now = self.clock()
        for channel, is_closed in enumerate(closed):
            if not is_closed and self._latched[channel] is None:
                self._latched[channel] = now
        return closed

    def latched_breaches(self) -> tuple[float | None, ...]:
        self.perimeter_closed()
        return tuple(self._latched)

    def clear_latch(self, channel: int) -> None:
        self._latched[channel] = None

    def cpu_temp(self) -> float:
        if not self.paths.thermal_zones:
            raise SensorError("no thermal zone found")
        return _number(self.paths.thermal_zones[0]) / 1000.0

    def aux_temps(self) -> list[float]:
        return [_number(p) / 1000.0 for p in self.paths.thermal_zones[1:]]

    def battery(self) -> Battery:
        if self.paths.battery is None:
            raise SensorError("no battery configured")
        present = _read(self.paths.battery / "present") == "1"
        volts = _number(self.paths.battery / "voltage_now") / 1e6 if present else 0.0
        return Battery(volts, present)

    def main_power_ok(self) -> bool:
        if self.paths.mains is None:
            return True
        return _read(self.paths.mains / "online") == "1"

    def set_led(self, on: bool) -> None:
        if self.paths.led is None:
            return
        try:
            (self.paths.led / "brightness").write_text("1" if on else "0")
        except OSError as exc:
            raise SensorError(f"cannot drive the LED: {exc.strerror}") from None
