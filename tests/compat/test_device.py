"""Information, time, sensors, perimeter, policies, binding and supervised boot through a real
scmd; the simulated device is driven over a second (native) connection, as a test rig would."""

from __future__ import annotations

import errno
import threading
import time

import pytest

import zymkey
from zymkey.exceptions import ZymkeyTimeoutError

from .conftest import URL_VARIABLE, return_code


@pytest.fixture(scope="module")
def rig(scmd):
    with scmd.connect() as scm:
        yield scm


def _in_thread(call) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as exc:  # noqa: BLE001 (handed to the test)
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_information(zk, rig):
    info = rig.info()
    assert zk.get_model_number() == info.model and isinstance(zk.get_model_number(), str)
    assert zk.get_firmware_version() == info.firmware_version
    assert zk.get_serial_number() == info.serial


def test_time_is_integer_epoch_seconds(zk):
    now = zk.get_time()
    assert isinstance(now, int) and abs(now - time.time()) < 5
    start = time.monotonic()
    precise = zk.get_time(precise=True)
    assert isinstance(precise, int) and time.monotonic() - start <= 1.5


def test_temperatures_battery_and_drift(zk, rig):
    rig.simulate("temperature", celsius=47.5)
    rig.simulate("aux_temperature", celsius=31.0)
    rig.simulate("battery", volts=2.9)
    assert zk.get_cpu_temp() == 47.5 and isinstance(zk.get_cpu_temp(), float)
    assert zk.get_aux_temp() == 31.0 and zk.get_aux_temp(0) == 31.0
    assert zk.get_batt_volt() == pytest.approx(2.9)
    assert isinstance(zk.get_rtc_drift(), float)
    with pytest.raises(AssertionError):
        zk.get_aux_temp(5)


def test_taps_and_accelerometer(zk, rig):
    zk.set_tap_sensitivity("X", 30.0)
    zk.set_tap_sensitivity(pct=60.0)
    assert rig.get_policy()["tap_sensitivity"] == {"x": 60.0, "y": 60.0, "z": 60.0}
    zk.set_tap_sensitivity("y", 0)
    assert rig.get_policy()["tap_sensitivity"]["y"] == 0
    zk.set_tap_sensitivity()
    for bad in (lambda: zk.set_tap_sensitivity("w"), lambda: zk.set_tap_sensitivity("all", 101)):
        with pytest.raises(AssertionError):
            bad()
    with pytest.raises(ZymkeyTimeoutError) as info:
        zk.wait_for_tap(100)
    assert "-110" in str(info.value)
    thread, outcome = _in_thread(lambda: zk.wait_for_tap(5000))
    time.sleep(0.2)
    rig.simulate("tap", axis="y", direction=-1, g=2.5)
    thread.join(5)
    assert outcome == [None]
    x, y, z = zk.get_accelerometer_data()
    assert (x.tap_dir, y.tap_dir, z.tap_dir) == (0, -1, 0)
    assert isinstance(z.g_force, float) and z.g_force == pytest.approx(1.0)


def test_perimeter_events(zk, rig):
    zk.clear_perimeter_detect_info()
    zk.set_perimeter_event_actions(0, action_notify=True, action_self_destruct=False)
    zk.set_perimeter_event_actions(1, action_notify=False)
    assert rig.get_policy()["perimeter"][1]["notify"] is False
    with pytest.raises(ZymkeyTimeoutError):
        zk.wait_for_perimeter_event(timeout_ms=300)
    rig.simulate("perimeter_open", channel=1)  # a channel without notify does not end the wait
    with pytest.raises(ZymkeyTimeoutError):
        zk.wait_for_perimeter_event(timeout_ms=300)
    thread, outcome = _in_thread(lambda: zk.wait_for_perimeter_event(timeout_ms=5000))
    time.sleep(0.3)
    rig.simulate("perimeter_open", channel=0)
    thread.join(5)
    assert outcome == [None]
    first = zk.get_perimeter_detect_info()
    assert all(isinstance(t, int) for t in first) and first[0] > 0 and first[1] > 0
    start = time.monotonic()
    zk.wait_for_perimeter_event()  # latched and not cleared: returns at once, even with no timeout
    assert time.monotonic() - start < 1
    rig.simulate("perimeter_close", channel=0)
    rig.simulate("perimeter_close", channel=1)
    zk.clear_perimeter_detect_info()
    assert zk.get_perimeter_detect_info() == [0, 0]
    with pytest.raises(ZymkeyTimeoutError):
        zk.wait_for_perimeter_event(timeout_ms=300)
    zk.set_perimeter_event_actions(0, action_notify=False)
    with pytest.raises(AssertionError) as info:  # the wait needs a notifying channel
        zk.wait_for_perimeter_event(100)
    assert return_code(info.value) == -errno.EINVAL
    with pytest.raises(AssertionError):
        zk.set_perimeter_event_actions(2)
    zk.set_perimeter_event_actions(0)


def test_digital_perimeter_and_environment_policies(zk, rig):
    zk.set_digital_perimeter_lp_period(20_000)
    zk.set_digital_perimeter_lp_max_bits(16)
    zk.set_digital_perimeter_delays(200, 20_000)
    zk.set_battery_voltage_threshold(2.4)
    zk.set_battery_voltage_action(sleep=True)
    zk.set_cpu_temp_action(True)
    zk.set_cpu_low_temp_threshold(-20)
    zk.set_cpu_high_temp_threshold(70.5)
    zk.set_supervised_boot_policy(2)
    policy = rig.get_policy()
    assert (policy["lp_period_us"], policy["lp_max_bits"], policy["min_delay_ns"], policy["max_delay_ns"]) == \
        (20_000, 16, 200, 20_000)
    assert (policy["battery_threshold"], policy["temp_self_destruct"], policy["temp_low"], policy["temp_high"],
            policy["boot_policy"]) == (2.4, True, -20, 70.5, 2)
    assert policy["battery_action"] == 1
    for bad in (lambda: zk.set_battery_voltage_action(sleep=True, self_destruct=True),
                lambda: zk.set_battery_voltage_threshold(2.5), lambda: zk.set_digital_perimeter_delays(500, 100),
                lambda: zk.set_digital_perimeter_lp_max_bits(0), lambda: zk.set_supervised_boot_policy(3)):
        with pytest.raises(AssertionError) as info:
            bad()
        assert return_code(info.value) == -errno.EINVAL
    zk.set_battery_voltage_action()
    zk.set_cpu_temp_action()
    zk.set_supervised_boot_policy()
    assert rig.get_policy()["boot_policy"] == 0


def test_binding_and_production_freeze(daemon_factory, monkeypatch):
    daemon = daemon_factory("bound")
    monkeypatch.setenv(URL_VARIABLE, daemon.url)
    zk = zymkey.Zymkey()
    try:
        locked, bound = zk.get_current_binding_info()
        assert locked is False and isinstance(bound, bool)
        zk.lock_binding()
        assert zk.get_current_binding_info() == (True, True)
        with pytest.raises(AssertionError) as info:
            zk.set_cpu_low_temp_threshold(-15)
        assert return_code(info.value) == -errno.EPERM
        zk.set_perimeter_event_actions(0, action_self_destruct=True)  # once after the lock
        with pytest.raises(AssertionError):
            zk.set_perimeter_event_actions(0)
        zk.set_supervised_boot_policy(1)  # the boot policy stays free
        zk.set_supervised_boot_policy(0)
        daemon.stop()
        with pytest.raises(AssertionError) as info:  # the module went away
            zk.get_random(8)
        assert return_code(info.value) < 0
    finally:
        zk.close()
