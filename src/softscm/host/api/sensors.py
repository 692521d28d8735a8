"""Time, LED, accelerometer, temperature, battery, perimeter (tamper), policies and the simulator."""

from __future__ import annotations

from typing import Any

from ...wire.messages.sensors import (
    Accelerometer,
    AccelReadRequest,
    AuxTempRequest,
    Battery,
    BatteryPolicyRequest,
    BatteryRequest,
    BootPolicyRequest,
    CpuTempRequest,
    LedPattern,
    LedSetRequest,
    PerimeterActionsRequest,
    PerimeterClearRequest,
    PerimeterInfoRequest,
    PerimeterParamsRequest,
    PolicyGetRequest,
    RtcDriftRequest,
    SimulateRequest,
    TapSensitivityRequest,
    TempPolicyRequest,
    TimeRequest,
    WaitPerimeterRequest,
    WaitTapRequest,
)
from .base import ApiBase, nothing, same


class SensorsApi(ApiBase):
    def get_module_time(self, *, precise: bool = False) -> float:
        """Module time (the drift-corrected RTC); ``precise`` waits for the next second boundary."""
        return self._call(TimeRequest(precise), lambda r: r.time)

    def get_rtc_drift(self) -> float:
        """The RTC's drift against the host's reference clock, in ppm (positive: fast)."""
        return self._call(RtcDriftRequest(), lambda r: r.ppm)

    def led(self, pattern: LedPattern | str, *, on_ms: int = 0, off_ms: int = 0, flashes: int = 0) -> None:
        """``pattern`` is on, off or flash. :raises ValueError: for another pattern."""
        return self._call(LedSetRequest(LedPattern(pattern), on_ms, off_ms, flashes), nothing)

    def get_accelerometer(self) -> Accelerometer:
        """The latest acceleration per axis (g), the last tap's direction per axis and its time."""
        return self._call(AccelReadRequest(), same)

    def set_tap_sensitivity(self, axis: str = "all", pct: float = 50.0, *, log: bool | None = None) -> dict[str, float]:
        """0..100 % per axis (0 disables); ``log=True`` records every tap in the audit log."""
        return self._call(TapSensitivityRequest(axis, pct, log), lambda r: r.sensitivity)

    def wait_for_tap(self, timeout_ms: int = -1) -> None:
        """:raises ScmTimeoutError: if no tap comes within ``timeout_ms`` (-1: wait for ever)."""
        return self._call(WaitTapRequest(timeout_ms), nothing)

    def get_cpu_temp(self) -> float:
        return self._call(CpuTempRequest(), lambda r: r.celsius)

    def get_aux_temp(self, index: int = 0) -> float:
        return self._call(AuxTempRequest(index), lambda r: r.celsius)

    def get_battery(self) -> Battery:
        """Volts, and whether a battery is present."""
        return self._call(BatteryRequest(), same)

    def set_perimeter_event_actions(self, channel: int, *, notify: bool = True, self_destruct: bool = False) -> None:
        """:raises PolicyFrozenError: for a second change in production mode."""
        return self._call(PerimeterActionsRequest(channel, notify, self_destruct), nothing)

    def set_perimeter_params(self, *, lp_period_us: int | None = None, lp_max_bits: int | None = None,
                             min_delay_ns: int | None = None, max_delay_ns: int | None = None) -> None:
        """Digital perimeter parameters. :raises PolicyFrozenError: in production mode."""
        return self._call(PerimeterParamsRequest(lp_period_us, lp_max_bits, min_delay_ns, max_delay_ns), nothing)

    def get_perimeter_detect_info(self) -> list[float]:
        """First-breach epoch time per channel since the last clear (0: none)."""
        return self._call(PerimeterInfoRequest(), lambda r: list(r.first_breach))

    def clear_perimeter_detect_info(self) -> None:
        """Clear the first-breach times and re-arm."""
        return self._call(PerimeterClearRequest(), nothing)

    def wait_for_perimeter_event(self, timeout_ms: int = -1) -> None:
        """:raises ScmTimeoutError: on timeout. :raises InvalidArgumentError: if no channel notifies."""
        return self._call(WaitPerimeterRequest(timeout_ms), nothing)

    def set_battery_policy(self, *, threshold: float | None = None, sleep: bool | None = None,
                           self_destruct: bool | None = None) -> None:
        """:raises PolicyFrozenError: in production mode. :raises InvalidArgumentError: for both actions."""
        return self._call(BatteryPolicyRequest(threshold, sleep, self_destruct), nothing)

    def set_temperature_policy(self, *, low: float | None = None, high: float | None = None,
                               self_destruct: bool | None = None, suspend: bool | None = None) -> None:
        """Thresholds (degrees C); ``self_destruct`` out of range (production mode), or ``suspend``
        key operations while out of range. :raises PolicyFrozenError: in production mode."""
        return self._call(TempPolicyRequest(low, high, self_destruct, suspend), nothing)

    def set_supervised_boot_policy(self, policy_id: int = 0) -> None:
        """0 do nothing, 1 self-destruct, 2 hold the host in reset."""
        return self._call(BootPolicyRequest(policy_id), nothing)

    def get_policy(self) -> dict[str, Any]:
        return self._call(PolicyGetRequest(), lambda r: r.policy)

    def simulate(self, action: str, **params: Any) -> None:
        """Drive the simulated device: ``perimeter_open``/``perimeter_close`` (``channel``),
        ``temperature`` (``celsius``), ``battery`` (``volts``), ``battery_removed``, ``power_lost``,
        ``power_restored``, ``rtc_drift`` (``ppm``), ``tap`` (``axis``, ``direction``, ``g``),
        ``accel`` (``samples``: [[t, x, y, z], ...]).

        :raises NotPermittedError: if the module runs on real sensors.
        """
        return self._call(SimulateRequest(action, params), nothing)
