"""A scriptable simulated device: tests, demos and users drive it through the module
(``scmctl sim ...``) or, while the module is stopped, with :func:`apply_offline`.

Its state lives in ``<state>/sensors/simulated.json`` (owner-only, replaced atomically), so a
perimeter breach applied while scmd is down is latched like real hardware and found at start.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ...wire.errors import InvalidArgumentError, StoreCorruptError
from ..store.atomic import atomic_write, ensure_private_dir
from ..store.lock import StateLock
from .hal import PERIMETER_CHANNELS, AccelSample, Battery

STATE_FILE = "simulated.json"
GRAVITY = (0.0, 0.0, 1.0)


@dataclass
class SimulatedState:
    loops_closed: list[bool] = field(default_factory=lambda: [True] * PERIMETER_CHANNELS)
    latched: list[float | None] = field(default_factory=lambda: [None] * PERIMETER_CHANNELS)
    cpu_temp: float = 40.0
    aux_temps: list[float] = field(default_factory=lambda: [30.0])
    battery_volts: float = 3.0
    battery_present: bool = True
    main_power_ok: bool = True
    rtc_drift_ppm: float = 0.0
    rtc_reference: float = 0.0  # reference (host) time at which rtc_value was read
    rtc_value: float = 0.0
    led_on: bool = False


class SimulatedDevice:
    """Implements :class:`~softscm.module.sensors.hal.SensorBackend` from a persisted state."""

    name = "simulated"

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self._dir = ensure_private_dir(directory)
        self._clock = clock
        self.state = load_state(self._dir)
        if not self.state.rtc_reference:
            now = clock()
            self.state.rtc_reference = self.state.rtc_value = now
            self._save()
        self._pending: list[AccelSample] = []

    def _save(self) -> None:
        save_state(self._dir, self.state)

    # -- the backend interface -------------------------------------------------------------------

    def rtc_time(self) -> float:
        s = self.state
        return s.rtc_value + (self._clock() - s.rtc_reference) * (1 + s.rtc_drift_ppm * 1e-6)

    def accel_samples(self) -> list[AccelSample]:
        samples, self._pending = self._pending, []
        return samples or [AccelSample(self._clock(), *GRAVITY)]

    def perimeter_closed(self) -> tuple[bool, ...]:
        return tuple(self.state.loops_closed)

    def latched_breaches(self) -> tuple[float | None, ...]:
        return tuple(self.state.latched)

    def clear_latch(self, channel: int) -> None:
        self.state.latched[channel] = None
        self._save()

    def cpu_temp(self) -> float:
        return self.state.cpu_temp

    def aux_temps(self) -> list[float]:
        return list(self.state.aux_temps)

    def battery(self) -> Battery:
        return Battery(self.state.battery_volts, self.state.battery_present)

    def main_power_ok(self) -> bool:
        return self.state.main_power_ok

    def set_led(self, on: bool) -> None:
        self.state.led_on = on

    # -- driving it -------------------------------------------------------------------------------

    def apply(self, action: str, **args: Any) -> None:
        """Apply a simulated event (see :data:`ACTIONS`).

        :raises InvalidArgumentError: for an unknown action or bad arguments.
        """
        if action in ("accel", "tap"):
            self._pending.extend(_samples(action, args, self._clock()))
            return
        _apply(self.state, action, args, self._clock())
        self._save()


ACTIONS = ("perimeter_open", "perimeter_close", "temperature", "aux_temperature", "battery", "battery_removed",
           "battery_inserted", "power_lost", "power_restored", "rtc_drift", "rtc_set", "accel", "tap")


def _channel(args: dict[str, Any]) -> int:
    channel = args.get("channel")
    if not isinstance(channel, int) or not 0 <= channel < PERIMETER_CHANNELS:
        raise InvalidArgumentError(f"channel is 0..{PERIMETER_CHANNELS - 1}")
    return channel


def _number(args: dict[str, Any], name: str) -> float:
    return _finite(args.get(name), name)


def _finite(value: Any, name: str) -> float:
    """:raises InvalidArgumentError: unless ``value`` is a finite int or float (as a float)."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    except OverflowError:  # an int too large for a float
        pass
    raise InvalidArgumentError(f"{name} must be a finite number")


def _apply(state: SimulatedState, action: str, args: dict[str, Any], now: float) -> None:
    if action == "perimeter_open":
        channel = _channel(args)
        state.loops_closed[channel] = False
        if state.latched[channel] is None:
            state.latched[channel] = now
    elif action == "perimeter_close":
        state.loops_closed[_channel(args)] = True
    elif action == "temperature":
        state.cpu_temp = _number(args, "celsius")
    elif action == "aux_temperature":
        state.aux_temps = [_number(args, "celsius")]
    elif action == "battery":
        state.battery_volts = _number(args, "volts")
    elif action == "battery_removed":
        state.battery_present = False
    elif action == "battery_inserted":
        state.battery_present = True
    elif action == "power_lost":
        state.main_power_ok = False
    elif action == "power_restored":
        state.main_power_ok = True
    elif action in ("rtc_drift", "rtc_set"):
        current = state.rtc_value + (now - state.rtc_reference) * (1 + state.rtc_drift_ppm * 1e-6)
        state.rtc_reference, state.rtc_value = now, _number(args, "time") if action == "rtc_set" else current
        if action == "rtc_drift":
            state.rtc_drift_ppm = _number(args, "ppm")
    else:
        raise InvalidArgumentError(f"unknown simulated action {action!r}; one of {', '.join(ACTIONS)}")


def _samples(action: str, args: dict[str, Any], now: float) -> list[AccelSample]:
    if action == "accel":
        rows = args.get("samples")
        if not isinstance(rows, list) or not all(isinstance(r, list) and len(r) == 4 for r in rows):
            raise InvalidArgumentError("samples is a list of [t, x, y, z]")
        return [AccelSample(*(_finite(v, "a sample value") for v in row)) for row in rows]
    axis = args.get("axis", "z")
    if axis not in ("x", "y", "z"):
        raise InvalidArgumentError("axis is x, y or z")
    g = _number(args, "g") if "g" in args else 2.0
    direction = 1 if _finite(args.get("direction", 1), "direction") >= 0 else -1
    return synthetic_tap(now, axis, direction * g)


def synthetic_tap(start: float, axis: str, peak: float, rate: float = 400.0) -> list[AccelSample]:
    """A tap as a sample stream: rest, a sharp spike of ``peak`` g on ``axis``, ringing, rest."""
    shape = [0.0] * 8 + [0.4, 1.0, 0.6, -0.3, 0.15, -0.05] + [0.0] * 8
    samples = []
    for i, k in enumerate(shape):
        values = dict(zip("xyz", GRAVITY))
        values[axis] += k * peak
        samples.append(AccelSample(start + i / rate, values["x"], values["y"], values["z"]))
    return samples


def load_state(directory: Path) -> SimulatedState:
    path = directory / STATE_FILE
    if not path.exists():
        return SimulatedState()
    try:
        return SimulatedState(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        raise StoreCorruptError(f"the simulated device's state file {path} is damaged") from None


def save_state(directory: Path, state: SimulatedState) -> None:
    atomic_write(directory / STATE_FILE, json.dumps(asdict(state), indent=1).encode())


def apply_offline(state_dir: Path, action: str, params: dict[str, Any], *,
                  clock: Callable[[], float] = time.time) -> None:
    """Apply a simulated event (``action`` with its ``params``) while the module is stopped (the
    hardware latches it). Holds the module's state lock meanwhile, so a module cannot start
    half-way through.

    :raises BusyError: if a module is running on ``state_dir``.
    :raises StateDirError: if ``state_dir`` is open to other users.
    """
    lock = StateLock(Path(state_dir))
    try:
        directory = ensure_private_dir(Path(state_dir) / "sensors")
        state = load_state(directory)
        _apply(state, action, params, clock())
        save_state(directory, state)
    finally:
        lock.release()
