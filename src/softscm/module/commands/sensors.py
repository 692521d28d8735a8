"""Time, LED, accelerometer, temperature, battery, perimeter (tamper), policies and the simulator."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable

from ...wire.defs import Event, Mode, Role
from ...wire.errors import InvalidArgumentError, NotPermittedError
from ...wire.messages import Done
from ...wire.messages.sensors import (
    Accelerometer,
    AccelReadRequest,
    AuxTempRequest,
    Battery,
    BatteryPolicyRequest,
    BatteryRequest,
    BootPolicyRequest,
    CpuTempRequest,
    Drift,
    LedPattern,
    LedSetRequest,
    PerimeterActionsRequest,
    PerimeterClearRequest,
    PerimeterInfo,
    PerimeterInfoRequest,
    PerimeterParamsRequest,
    PolicyGetRequest,
    PolicyReply,
    RtcDriftRequest,
    SimulateRequest,
    TapSensitivity,
    TapSensitivityRequest,
    Temperature,
    TempPolicyRequest,
    Time,
    TimeRequest,
    WaitPerimeterRequest,
    WaitTapRequest,
)
from ..audit.recorder import Recorder
from ..dispatch import ANY_STATE, READY_OR_HOLD, Route, route
from ..policy.monitor import Monitor
from ..policy.settings import Policy
from ..sensors.hal import SensorBackend
from ..sensors.led import LedModel
from ..sensors.rtc import ModuleClock
from ..sensors.simulated import SimulatedDevice

SENSOR_STATES = READY_OR_HOLD


class SensorCommands:
    def __init__(self, sensors: SensorBackend, clock: ModuleClock, led: LedModel, monitor: Monitor, policy: Policy,
                 save_policy: Callable[[], None], events: Recorder, mode: Callable[[], Mode]) -> None:
        self._sensors = sensors
        self._clock = clock
        self._led = led
        self._monitor = monitor
        self._policy = policy
        self._save_policy = save_policy
        self._events = events
        self._mode = mode

    def routes(self) -> list[Route]:
        return [
            route(TimeRequest, self.get_time, states=SENSOR_STATES, blocking=True),
            route(RtcDriftRequest, self.rtc_drift, states=SENSOR_STATES),
            route(LedSetRequest, self.led_set, states=SENSOR_STATES),
            route(AccelReadRequest, self.accel_read, states=SENSOR_STATES),
            route(TapSensitivityRequest, self.tap_sensitivity, states=SENSOR_STATES, role=Role.ADMIN),
            route(WaitTapRequest, self.wait_tap, states=SENSOR_STATES, blocking=True),
            route(CpuTempRequest, self.cpu_temp, states=SENSOR_STATES),
            route(AuxTempRequest, self.aux_temp, states=SENSOR_STATES),
            route(BatteryRequest, self.battery, states=SENSOR_STATES),
            route(PerimeterActionsRequest, self.perimeter_set_actions, states=SENSOR_STATES, role=Role.ADMIN),
            route(PerimeterParamsRequest, self.perimeter_set_params, states=SENSOR_STATES, role=Role.ADMIN),
            route(PerimeterInfoRequest, self.perimeter_info, states=ANY_STATE),
            route(PerimeterClearRequest, self.perimeter_clear, states=SENSOR_STATES, role=Role.ADMIN),
            route(WaitPerimeterRequest, self.wait_perimeter, states=SENSOR_STATES, blocking=True),
            route(BatteryPolicyRequest, self.battery_policy, states=SENSOR_STATES, role=Role.ADMIN),
            route(TempPolicyRequest, self.temp_policy, states=SENSOR_STATES, role=Role.ADMIN),
            route(BootPolicyRequest, self.boot_policy, states=SENSOR_STATES, role=Role.ADMIN),
            route(PolicyGetRequest, self.policy_get, states=ANY_STATE),
            route(SimulateRequest, self.simulate, states=SENSOR_STATES, role=Role.ADMIN),
        ]

    async def get_time(self, request: TimeRequest) -> Time:
        """Module time (drift-corrected RTC); ``precise`` waits for the next second boundary."""
        now = self._clock.now()
        if request.precise:
            await asyncio.sleep(math.ceil(now) - now)
            return Time(float(round(self._clock.now())))
        return Time(now)

    def rtc_drift(self, request: RtcDriftRequest) -> Drift:
        """Measure the RTC drift against the host's reference clock; ppm (positive: fast)."""
        return Drift(self._clock.calibrate())

    def led_set(self, request: LedSetRequest) -> Done:
        self._led.set(request.pattern.value, request.on_ms, request.off_ms or request.on_ms, request.flashes)
        self._sensors.set_led(request.pattern is not LedPattern.OFF)
        return Done()

    def accel_read(self, request: AccelReadRequest) -> Accelerometer:
        self._monitor.poll()
        return self._monitor.accelerometer()

    def tap_sensitivity(self, request: TapSensitivityRequest) -> TapSensitivity:
        """Set ``axis`` to ``pct`` (0 disables); ``log`` records taps in the audit log."""
        taps = self._monitor.taps
        taps.set_sensitivity(request.axis, request.pct)
        self._policy.tap_sensitivity = dict(taps.sensitivity)
        if request.log is not None:
            self._policy.log_taps = request.log
        self._save_policy()
        return TapSensitivity(dict(self._policy.tap_sensitivity))

    async def wait_tap(self, request: WaitTapRequest) -> Done:
        """:raises ScmTimeoutError: on timeout."""
        await self._monitor.wait_tap(request.timeout_ms)
        return Done()

    def cpu_temp(self, request: CpuTempRequest) -> Temperature:
        return Temperature(self._sensors.cpu_temp())

    def aux_temp(self, request: AuxTempRequest) -> Temperature:
        """:raises NotPermittedError: without auxiliary sensors. :raises InvalidArgumentError: past the last."""
        temps = self._sensors.aux_temps()
        if not temps:
            raise NotPermittedError("this module has no auxiliary temperature sensor")
        if request.index >= len(temps):
            raise InvalidArgumentError("argument 'index' is out of range")
        return Temperature(temps[request.index])

    def battery(self, request: BatteryRequest) -> Battery:
        reading = self._sensors.battery()
        return Battery(reading.volts, reading.present)

    def perimeter_set_actions(self, request: PerimeterActionsRequest) -> Done:
        """Set a channel's actions. In production mode this can be done once."""
        channel = request.channel
        self._policy.set_perimeter_actions(channel, request.notify, request.self_destruct, self._mode())
        self._save_policy()
        settings = self._policy.perimeter[channel]
        self._events.record(Event.POLICY_CHANGE, perimeter_channel=channel, notify=settings.notify,
                            self_destruct=settings.self_destruct)
        return Done()

    def perimeter_set_params(self, request: PerimeterParamsRequest) -> Done:
        self._policy.set_perimeter_params(self._mode(), lp_period_us=request.lp_period_us,
                                          lp_max_bits=request.lp_max_bits, min_delay_ns=request.min_delay_ns,
                                          max_delay_ns=request.max_delay_ns)
        self._save_policy()
        self._events.record(Event.POLICY_CHANGE, perimeter_params=True)
        return Done()

    def perimeter_info(self, request: PerimeterInfoRequest) -> PerimeterInfo:
        """First-breach time per channel since the last clear (0: none)."""
        self._monitor.poll()
        return PerimeterInfo(tuple(c.first_breach for c in self._policy.perimeter))

    def perimeter_clear(self, request: PerimeterClearRequest) -> Done:
        """Clear the first-breach times and re-arm the latches."""
        for channel, settings in enumerate(self._policy.perimeter):
            self._sensors.clear_latch(channel)
            settings.first_breach = 0.0
        self._save_policy()
        self._events.record(Event.TAMPER_CLEARED)
        return Done()

    async def wait_perimeter(self, request: WaitPerimeterRequest) -> Done:
        """:raises ScmTimeoutError: on timeout. :raises InvalidArgumentError: if no channel notifies."""
        await self._monitor.wait_perimeter(request.timeout_ms)
        return Done()

    def battery_policy(self, request: BatteryPolicyRequest) -> Done:
        """Threshold (< 2.5 V) and the action: sleep or self-destruct. Frozen in production."""
        self._policy.set_battery(self._mode(), threshold=request.threshold, sleep=request.sleep,
                                 self_destruct=request.self_destruct)
        self._save_policy()
        self._events.record(Event.POLICY_CHANGE, battery=True)
        return Done()

    def temp_policy(self, request: TempPolicyRequest) -> Done:
        """Low/high thresholds and self-destruct. Frozen in production."""
        self._policy.set_temperature(self._mode(), low=request.low, high=request.high,
                                     self_destruct=request.self_destruct, suspend=request.suspend)
        self._save_policy()
        self._events.record(Event.POLICY_CHANGE, temperature=True)
        return Done()

    def boot_policy(self, request: BootPolicyRequest) -> Done:
        """0 do nothing, 1 self-destruct, 2 hold the host in reset. Allowed in every mode."""
        self._policy.set_boot_policy(request.policy_id)
        self._save_policy()
        self._events.record(Event.POLICY_CHANGE, boot_policy=self._policy.boot_policy)
        return Done()

    def policy_get(self, request: PolicyGetRequest) -> PolicyReply:
        return PolicyReply(json.loads(self._policy.to_json()))

    def simulate(self, request: SimulateRequest) -> Done:
        """Drive the simulated device; the monitor runs at once.

        :raises NotPermittedError: if the module runs on real sensors.
        """
        if not isinstance(self._sensors, SimulatedDevice):
            raise NotPermittedError("the module runs on real sensors; there is nothing to simulate")
        self._sensors.apply(request.action, **request.params)
        self._monitor.poll()
        return Done()
