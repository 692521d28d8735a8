"""Each sensor path through the simulated device and through the Linux back end on a fake sysfs."""

from __future__ import annotations

from pathlib import Path

import pytest

from softscm.module.sensors.hal import SensorError
from softscm.module.sensors.linux import LinuxPaths, LinuxSensors
from softscm.module.sensors.simulated import SimulatedDevice, apply_offline, load_state
from softscm.wire.errors import InvalidArgumentError

from ...conftest import fake_sysfs


class Clock:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_simulated_paths(tmp_path):
    clock = Clock()
    device = SimulatedDevice(tmp_path, clock)
    assert device.perimeter_closed() == (True, True)
    device.apply("perimeter_open", channel=1)
    assert device.perimeter_closed() == (True, False)
    assert device.latched_breaches() == (None, clock.t)
    clock.t += 5
    device.apply("perimeter_close", channel=1)
    device.apply("perimeter_open", channel=1)
    assert device.latched_breaches()[1] == clock.t - 5  # the first breach stays latched
    device.clear_latch(1)
    assert device.latched_breaches() == (None, None)
    device.apply("temperature", celsius=71.5)
    assert device.cpu_temp() == 71.5
    device.apply("battery", volts=2.1)
    device.apply("battery_removed")
    assert device.battery().volts == 2.1 and not device.battery().present
    device.apply("power_lost")
    assert not device.main_power_ok()
    device.apply("tap", axis="x", direction=-1, g=3.0)
    samples = device.accel_samples()
    assert min(s.x for s in samples) == pytest.approx(-3.0)
    assert len(device.accel_samples()) == 1  # later reads give the resting value
    with pytest.raises(InvalidArgumentError):
        device.apply("perimeter_open", channel=2)
    with pytest.raises(InvalidArgumentError):
        device.apply("explode")


def test_simulated_state_survives_and_latches_offline(tmp_path):
    clock = Clock()
    SimulatedDevice(tmp_path / "sensors", clock)
    apply_offline(tmp_path, "perimeter_open", {"channel": 0}, clock=lambda: 1_700_000_123.0)
    device = SimulatedDevice(tmp_path / "sensors", clock)
    assert device.latched_breaches() == (1_700_000_123.0, None)
    assert (tmp_path / "sensors" / "simulated.json").stat().st_mode & 0o077 == 0
    assert load_state(tmp_path / "sensors").loops_closed == [False, True]


def test_linux_paths_on_afake_sysfs(tmp_path):
    clock = Clock()
    paths = fake_sysfs(tmp_path)
    sensors = LinuxSensors(paths, clock)
    assert sensors.rtc_time() == 1_700_000_000
    sample = sensors.accel_samples()[0]
    assert (sample.x, sample.y, sample.z) == pytest.approx((0.0, -0.5, 1.0))
    assert sensors.cpu_temp() == 47.5 and sensors.aux_temps() == [31.0]
    assert sensors.battery().volts == pytest.approx(2.95) and sensors.battery().present
    assert sensors.main_power_ok()
    assert sensors.perimeter_closed() == (True, True)
    assert sensors.latched_breaches() == (None, None)
    (tmp_path / "sys/class/gpio/gpio27/value").write_text("0\n")
    clock.t += 3
    assert sensors.latched_breaches() == (None, clock.t)
    (tmp_path / "sys/class/power_supply/AC/online").write_text("0\n")
    assert not sensors.main_power_ok()
    (tmp_path / "sys/class/power_supply/BAT0/present").write_text("0\n")
    assert not sensors.battery().present
    sensors.set_led(True)
    assert (tmp_path / "sys/class/leds/softscm/brightness").read_text() == "1"


def test_linux_missing_sensor_is_a_sensor_error(tmp_path):
    paths = fake_sysfs(tmp_path)
    (tmp_path / "sys/class/thermal/thermal_zone0/temp").unlink()
    with pytest.raises(SensorError):
        LinuxSensors(paths).cpu_temp()
    (tmp_path / "sys/class/rtc/rtc0/since_epoch").write_text("not a number")
    with pytest.raises(SensorError):
        LinuxSensors(paths).rtc_time()


def test_linux_gpio_chip_needs_gpiod(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_gpiod(name, *args, **kwargs):
        if name == "gpiod":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gpiod)
    with pytest.raises(SensorError, match="gpiod"):
        LinuxSensors(LinuxPaths(gpio_chip=Path("/dev/gpiochip0"), gpio_lines=(17, 27)))
