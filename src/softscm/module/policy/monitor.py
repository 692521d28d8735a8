"""The sensor monitor: reads the hardware, detects taps and faults, applies the policies.

``poll()`` runs on the module's event loop (every ~50 ms, and right after a simulated event).
Destructive actions happen only in production mode; in development mode the module shows the
LED code, records the event and carries on.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

from ...wire.defs import BatteryAction, Event, Mode
from ...wire.errors import InvalidArgumentError, ScmTimeoutError
from ...wire.messages.sensors import Accelerometer
from ..audit.recorder import Recorder
from ..sensors.hal import PERIMETER_CHANNELS, AccelSample, SensorBackend, SensorError
from ..sensors.led import FatalCode, LedCode, tamper_code
from ..sensors.tap import Tap, TapDetector
from .settings import Policy

log = logging.getLogger(__name__)


RECENT_TAPS = 64


class Guarded(Protocol):
    """What the monitor reads and does to the module it guards."""

    sensors: SensorBackend
    policy: Policy
    events: Recorder

    @property
    def destroyed(self) -> bool: ...

    @property
    def mode(self) -> Mode: ...

    def save_policy(self) -> None: ...

    def destroy(self, *, reason: str) -> None: ...

    def show_led_code(self, code: LedCode, *, reason: str) -> None: ...

    def suspend(self, reason: str, message: str) -> None: ...

    def resume(self, reason: str) -> None: ...


class Monitor:
    """Reads the sensors and enforces the tamper, temperature, battery and power policies."""

    def __init__(self, module: Guarded) -> None:
        self._module = module
        self.taps = TapDetector(module.policy.tap_sensitivity)
        self.last_sample: AccelSample | None = None
        self.last_tap: Tap | None = None
        self.recent_taps: deque[Tap] = deque(maxlen=RECENT_TAPS)  # for tap codes
        self.tap_count = 0
        self._tap_waiters: list[asyncio.Future[None]] = []
        self._perimeter_waiters: list[asyncio.Future[None]] = []
        self._temperature: str | None = None
        self._battery_low = False
        self._battery_present = True
        self._power_ok = True
        self._faults: set[str] = set()

    # -- polling --------------------------------------------------------------------------------

    def poll(self) -> None:
        """Read every sensor once and act on what changed. Never raises."""
        module = self._module
        if module.destroyed:
            return
        for name, check in (("perimeter", self._perimeter), ("temperature", self._temperature_check),
                            ("battery", self._battery_check), ("power", self._power_check),
                            ("accelerometer", self._accelerometer)):
            try:
                check()
                self._faults.discard(name)
            except SensorError as exc:
                if name not in self._faults:
                    self._faults.add(name)
                    log.warning("sensor %s did not answer: %s", name, exc)
            if module.destroyed:
                return

    def _act(self, code: LedCode, destructive: bool, reason: str) -> None:
        module = self._module
        if destructive and module.mode is Mode.PRODUCTION:
            module.destroy(reason=reason)
        elif destructive:
            module.show_led_code(code, reason=reason)

    def _perimeter(self) -> None:
        module = self._module
        latched = module.sensors.latched_breaches()
        changed = False
        for channel in range(PERIMETER_CHANNELS):
            when = latched[channel]
            settings = module.policy.perimeter[channel]
            if when is None or settings.first_breach:
                continue
            settings.first_breach = when
            changed = True
            module.events.record(Event.TAMPER, channel=channel, time=when, self_destruct=settings.self_destruct)
            if settings.notify:
                _release(self._perimeter_waiters)
            if settings.self_destruct:
                module.save_policy()
                self._act(tamper_code(channel + 1), True, f"tamper on perimeter channel {channel}")
                if module.destroyed:
                    return
        if changed:
            module.save_policy()

    def _temperature_check(self) -> None:
        module, policy = self._module, self._module.policy
        celsius = module.sensors.cpu_temp()
        state = "low" if celsius < policy.temp_low else "high" if celsius > policy.temp_high else None
        if state == self._temperature:
            return
        self._temperature = state
        module.events.record(Event.TEMPERATURE, celsius=celsius, state=state or "normal")
        if state is None:
            module.resume("temperature")
        elif policy.temp_suspend:
            module.suspend("temperature", f"temperature {celsius:.1f} °C is out of range")
        if state is not None:
            code = FatalCode.LOW_TEMPERATURE if state == "low" else FatalCode.HIGH_TEMPERATURE
            self._act(code.value, policy.temp_self_destruct, f"temperature {celsius:.1f} °C is {state}")

    def _battery_check(self) -> None:
        module, policy = self._module, self._module.policy
        battery = module.sensors.battery()
        if battery.present != self._battery_present:
            self._battery_present = battery.present
            module.events.record(Event.BATTERY, present=battery.present, volts=battery.volts)
        low = battery.present and battery.volts < policy.battery_threshold
        if low == self._battery_low:
            return
        self._battery_low = low
        module.events.record(Event.BATTERY, volts=battery.volts, state="low" if low else "normal")
        action = BatteryAction(policy.battery_action)
        if not low:
            module.resume("battery")
        elif action is BatteryAction.SLEEP:
            module.suspend("battery", "battery voltage below threshold")
        elif action is BatteryAction.SELF_DESTRUCT:
            self._act(FatalCode.LOW_BATTERY.value, True, f"battery at {battery.volts:.2f} V")

    def _power_check(self) -> None:
        module = self._module
        ok = module.sensors.main_power_ok()
        if ok == self._power_ok:
            return
        self._power_ok = ok
        module.events.record(Event.POWER, main_power_ok=ok)
        if ok:
            module.resume("power")
        else:
            module.suspend("power", "main power quality dropped")

    def _accelerometer(self) -> None:
        samples = self._module.sensors.accel_samples()
        if samples:
            self.last_sample = samples[-1]
        for tap in self.taps.feed(samples):
            self.last_tap = tap
            self.recent_taps.append(tap)
            self.tap_count += 1
            if self._module.policy.log_taps:
                self._module.events.record(Event.TAP, direction=list(tap.direction), peak_g=round(tap.peak_g, 3))
            else:
                self._module.events.publish(Event.TAP, direction=list(tap.direction), peak_g=round(tap.peak_g, 3))
            _release(self._tap_waiters)

    def peripheral_checks(self) -> dict[str, Callable[[], object]]:
        """The self test's peripheral checks: each reads one sensor and raises if it does not answer."""
        sensors = self._module.sensors
        return {f"sensor_{name}": read for name, read in (
            ("rtc", sensors.rtc_time), ("perimeter", sensors.perimeter_closed), ("temperature", sensors.cpu_temp),
            ("battery", sensors.battery), ("power", sensors.main_power_ok), ("accelerometer", sensors.accel_samples))}

    # -- waits ------------------------------------------------------------------------------------

    async def wait_tap(self, timeout_ms: int) -> None:
        """:raises ScmTimeoutError: if no tap comes in time."""
        await _wait(self._tap_waiters, timeout_ms, "no tap")

    async def wait_perimeter(self, timeout_ms: int) -> None:
        """:raises InvalidArgumentError: if no channel notifies. :raises ScmTimeoutError: on timeout."""
        if not any(c.notify for c in self._module.policy.perimeter):
            raise InvalidArgumentError("no perimeter channel has the notify action")
        await _wait(self._perimeter_waiters, timeout_ms, "no perimeter event")

    def accelerometer(self) -> Accelerometer:
        """The latest sample and the last tap."""
        sample = self.last_sample
        direction = self.last_tap.direction if self.last_tap else (0, 0, 0)
        values = (sample.x, sample.y, sample.z) if sample else (0.0, 0.0, 0.0)
        return Accelerometer(values, direction, self.last_tap.t if self.last_tap else None)


def _release(waiters: list[asyncio.Future[None]]) -> None:
    for future in waiters:
        if not future.done():
            future.set_result(None)
    waiters.clear()


async def _wait(waiters: list[asyncio.Future[None]], timeout_ms: int, what: str) -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiters.append(future)
    try:
        await asyncio.wait_for(future, None if timeout_ms < 0 else timeout_ms / 1000)
    except asyncio.TimeoutError:
        raise ScmTimeoutError(f"{what} within {timeout_ms} ms") from None
    finally:
        if future in waiters:
            waiters.remove(future)
