"""Module information, time, sensors, binding, perimeter and environment policies, supervised boot."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from softscm.wire.errors import ScmTimeoutError

from . import _adapters
from ._base import ZymkeyBase
from ._errors import translated
from .types import ZymkeyAccelAxisData

PERIMETER_SLICE_MS = 250  # between two looks at the latched first-breach times
TAP_SLICE_MS = 10_000  # a wait is re-issued at this interval (each call stays below the client timeout)
CLOCK_SLACK_MS = 5  # the module's timer and ours may differ by this much


def _remaining_ms(deadline: float | None, slice_ms: int) -> int:
    if deadline is None:
        return slice_ms
    return min(slice_ms, max(0, int((deadline - time.monotonic()) * 1000)))


def _deadline(timeout_ms: int) -> float | None:
    return None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000


class DeviceMixin(ZymkeyBase):
    # -- information and time ---------------------------------------------------------------------

    @translated
    def get_model_number(self) -> str:
        return _adapters.info_field(self._scm.info(), "model")

    @translated
    def get_firmware_version(self) -> str:
        return _adapters.info_field(self._scm.info(), "firmware_version")

    @translated
    def get_serial_number(self) -> str:
        return _adapters.info_field(self._scm.info(), "serial")

    @translated
    def get_time(self, precise: bool = False) -> int:
        """The module's clock in whole epoch seconds; ``precise=True`` waits for the next second."""
        return int(self._scm.get_module_time(precise=precise))

    @translated
    def get_rtc_drift(self) -> float:
        """The RTC drift against the host clock (ppm, positive: fast)."""
        return float(self._scm.get_rtc_drift())

    # -- sensors ---------------------------------------------------------------------------------------

    @translated
    def get_cpu_temp(self) -> float:
        """The CPU temperature in °C."""
        return float(self._scm.get_cpu_temp())

    @translated
    def get_aux_temp(self, index: int = 0) -> float:
        """Auxiliary temperature sensor ``index`` in °C. :raises AssertionError: if there is none."""
        return float(self._scm.get_aux_temp(index))

    @translated
    def get_batt_volt(self) -> float:
        """The battery voltage."""
        return _adapters.battery_volts(self._scm.get_battery())

    @translated
    def set_tap_sensitivity(self, axis: str = "all", pct: float = 50.0) -> None:
        """Tap sensitivity of ``axis`` (x, y, z or all, any case) in percent; 0 disables.

        :raises AssertionError: for another axis or a percentage outside 0..100.
        """
        self._scm.set_tap_sensitivity(axis.lower(), pct)

    @translated
    def wait_for_tap(self, timeout_ms: int = -1) -> None:
        """Wait for a tap (``timeout_ms`` -1: for ever).

        :raises ZymkeyTimeoutError: if none comes in time.
        """
        self._wait(self._scm.wait_for_tap, timeout_ms, TAP_SLICE_MS, lambda: False)

    @translated
    def get_accelerometer_data(self) -> tuple[ZymkeyAccelAxisData, ZymkeyAccelAxisData, ZymkeyAccelAxisData]:
        """``(x, y, z)``, each with ``.g_force`` (g) and ``.tap_dir`` (-1, 0, +1: the last tap)."""
        return _adapters.accelerometer_axes(self._scm.get_accelerometer())

    # -- binding -------------------------------------------------------------------------------------------

    @translated
    def lock_binding(self) -> None:
        """Enter production mode and bind the module to this host, for good."""
        self._scm.lock_binding()

    @translated
    def get_current_binding_info(self) -> tuple[bool, bool]:
        """``(binding_is_locked, is_bound)``."""
        return _adapters.binding(self._scm.get_binding_info())

    # -- perimeter ----------------------------------------------------------------------------------------

    @translated
    def set_perimeter_event_actions(self, channel: int, action_notify: bool = True,
                                    action_self_destruct: bool = False) -> None:
        """A perimeter channel's (0 or 1) actions. Self-destruct acts only in production mode.

        :raises AssertionError: for another channel, or a second change in production mode.
        """
        self._scm.set_perimeter_event_actions(channel, notify=action_notify, self_destruct=action_self_destruct)

    @translated
    def set_digital_perimeter_lp_period(self, lp_period: int) -> None:
        """The digital perimeter's low-power period in µs. :raises AssertionError: out of range or frozen."""
        self._scm.set_perimeter_params(lp_period_us=lp_period)

    @translated
    def set_digital_perimeter_lp_max_bits(self, max_num_bits: int) -> None:
        """The digital perimeter's low-power bit count. :raises AssertionError: out of range or frozen."""
        self._scm.set_perimeter_params(lp_max_bits=max_num_bits)

    @translated
    def set_digital_perimeter_delays(self, min_delay_ns: int, max_delay_ns: int) -> None:
        """The digital perimeter's delays in ns. :raises AssertionError: out of range, min >= max, frozen."""
        self._scm.set_perimeter_params(min_delay_ns=min_delay_ns, max_delay_ns=max_delay_ns)

    def _latched_breach(self) -> bool:
        """Whether a notifying channel holds a first breach that has not been cleared."""
        first = self._scm.get_perimeter_detect_info()
        notify = _adapters.notifying_channels(self._scm.get_policy())
        return any(t and n for t, n in zip(first, notify, strict=False))

    @translated
    def wait_for_perimeter_event(self, timeout_ms: int = -1) -> None:
        """Wait for a breach on a channel with the notify action (``timeout_ms`` -1: for ever).
        A breach that is latched and not yet cleared returns at once.

        :raises ZymkeyTimeoutError: if none comes in time.
        :raises AssertionError: if no channel has the notify action.
        """
        self._wait(self._scm.wait_for_perimeter_event, timeout_ms, PERIMETER_SLICE_MS, self._latched_breach)

    def _wait(self, wait: Callable[[int], Any], timeout_ms: int, slice_ms: int, happened: Callable[[], bool]) -> None:
        """Wait in slices until the module reports the event or ``happened()`` says it is there.

        :raises ScmTimeoutError: when ``timeout_ms`` has passed.
        """
        deadline = _deadline(timeout_ms)
        while True:
            if happened():
                return
            try:
                wait(_remaining_ms(deadline, slice_ms))
                return
            except ScmTimeoutError:
                if deadline is not None and _remaining_ms(deadline, slice_ms) < CLOCK_SLACK_MS:
                    raise ScmTimeoutError(f"no event within {timeout_ms} ms") from None

    @translated
    def get_perimeter_detect_info(self) -> list[int]:
        """The first-breach time of each channel since the last clear, in epoch seconds (0: none)."""
        return [int(t) for t in self._scm.get_perimeter_detect_info()]

    @translated
    def clear_perimeter_detect_info(self) -> None:
        """Clear the first-breach times and re-arm the channels."""
        self._scm.clear_perimeter_detect_info()

    # -- battery and temperature policies ----------------------------------------------------------------

    @translated
    def set_battery_voltage_action(self, sleep: bool = False, self_destruct: bool = False) -> None:
        """The low-battery action. :raises AssertionError: for both actions at once, or frozen."""
        self._scm.set_battery_policy(sleep=sleep, self_destruct=self_destruct)

    @translated
    def set_battery_voltage_threshold(self, threshold: float) -> None:
        """The low-battery threshold (default 2.3 V). :raises AssertionError: at 2.5 V or more, or frozen."""
        self._scm.set_battery_policy(threshold=threshold)

    @translated
    def set_cpu_temp_action(self, self_destruct: bool = False) -> None:
        """The out-of-range temperature action. :raises AssertionError: if frozen."""
        self._scm.set_temperature_policy(self_destruct=self_destruct)

    @translated
    def set_cpu_low_temp_threshold(self, threshold: float) -> None:
        """The low temperature threshold (default -10 °C). :raises AssertionError: out of range or frozen."""
        self._scm.set_temperature_policy(low=threshold)

    @translated
    def set_cpu_high_temp_threshold(self, threshold: float) -> None:
        """The high temperature threshold (default 65 °C). :raises AssertionError: out of range or frozen."""
        self._scm.set_temperature_policy(high=threshold)

    # -- supervised boot -------------------------------------------------------------------------------------

    @translated
    def set_supervised_boot_policy(self, policy_id: int = 0) -> None:
        """0 do nothing, 1 self-destruct, 2 hold the host in reset. :raises AssertionError: otherwise."""
        self._scm.set_supervised_boot_policy(policy_id)

    @translated
    def add_or_update_supervised_boot_file(self, filepath: str = "", slot: int = 15) -> None:
        """Add (or re-sign) ``filepath`` (relative to the boot partition) to the manifest, signed with
        factory ``slot`` (0-15).

        :raises AssertionError: for a missing file, a slot outside 0-15, or a held boot.
        """
        self._scm.add_or_update_supervised_boot_file(filepath, slot)

    @translated
    def remove_supervised_boot_file(self, filepath: str = "") -> None:
        """Remove ``filepath`` from the manifest. :raises AssertionError: if it is not listed."""
        self._scm.remove_supervised_boot_file(filepath)

    @translated
    def get_supervised_boot_file_manifest(self) -> str:
        """The manifest's file paths, separated by whitespace."""
        return _adapters.manifest_text(self._scm.boot_manifest())

    def add_or_update_verified_boot_file(self, slot: int, filepath: str) -> None:
        """The older name of :meth:`add_or_update_supervised_boot_file` (slot first)."""
        self.add_or_update_supervised_boot_file(filepath, slot)

    def remove_verified_boot_file(self, filepath: str = "") -> None:
        """The older name of :meth:`remove_supervised_boot_file`."""
        self.remove_supervised_boot_file(filepath)

    def get_verified_boot_file_manifest(self) -> str:
        """The older name of :meth:`get_supervised_boot_file_manifest`."""
        return self.get_supervised_boot_file_manifest()
