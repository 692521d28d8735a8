"""Tap detection, tap codes, RTC drift and LED codes."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from softscm.module.sensors.hal import AccelSample
from softscm.module.sensors.led import FatalCode, LedCode, expand, tamper_code
from softscm.module.sensors.rtc import ModuleClock
from softscm.module.sensors.simulated import synthetic_tap
from softscm.module.sensors.tap import TapCodeRecognizer, TapDetector, threshold_g
from softscm.wire.errors import InvalidArgumentError

DATA = Path(__file__).parent / "data"


def _rest(start: float, seconds: float, noise: float, seed: int = 1, rate: float = 400.0) -> list[AccelSample]:
    rng = random.Random(seed)
    return [AccelSample(start + i / rate, rng.gauss(0, noise), rng.gauss(0, noise), 1 + rng.gauss(0, noise))
            for i in range(int(seconds * rate))]


def test_synthetic_taps_give_direction_and_respect_sensitivity():
    detector = TapDetector({"x": 80, "y": 80, "z": 80})
    stream = _rest(0, 0.5, 0.01) + synthetic_tap(0.5, "x", 2.0) + _rest(0.6, 0.5, 0.01, seed=2) + \
        synthetic_tap(1.1, "z", -2.0) + _rest(1.2, 0.3, 0.01, seed=3)
    taps = detector.feed(stream)
    assert [t.direction for t in taps] == [(1, 0, 0), (0, 0, -1)]
    quiet = TapDetector({"x": 5, "y": 5, "z": 5})  # 5 %: about 3.8 g needed
    assert quiet.feed(stream) == []


def test_zero_sensitivity_disables_an_axis():
    detector = TapDetector({"x": 0, "y": 90, "z": 90})
    assert detector.feed(_rest(0, 0.2, 0.01) + synthetic_tap(0.2, "x", 3.0)) == []


def test_noise_below_threshold_gives_no_taps():
    detector = TapDetector({"x": 100, "y": 100, "z": 100})  # the most sensitive: 0.1 g
    assert threshold_g(100) == pytest.approx(0.1)
    assert detector.feed(_rest(0, 10, 0.02)) == []


def test_recorded_stream():
    """tests/unit/sensors/data/taps_recorded.csv: a 400 Hz capture-style stream made for this test
    (synthetic, not from a real device): gravity on z, sensor noise, a slow tilt, and four taps
    (+x, +x, -y, +z) annotated in the file's 'tap' column."""
    with open(DATA / "taps_recorded.csv") as fh:
        rows = list(csv.DictReader(fh))
    samples = [AccelSample(float(r["t"]), float(r["x"]), float(r["y"]), float(r["z"])) for r in rows]
    expected = [tuple(int(v) for v in r["tap"].split()) for r in rows if r["tap"]]
    taps = TapDetector({"x": 70, "y": 70, "z": 70}).feed(samples)
    assert [t.direction for t in taps] == expected


def test_tap_codes():
    recognizer = TapCodeRecognizer(gap_s=0.6, end_s=1.5)
    times = [0.0, 0.3, 0.55, 1.6, 1.9]
    assert recognizer.code(times, now=2.0) is None  # may still go on
    assert recognizer.code(times, now=4.0) == (3, 2)
    assert recognizer.matches(times, [3, 2], now=4.0)
    assert not recognizer.matches(times[:-1], [3, 2], now=4.0)
    with pytest.raises(InvalidArgumentError):
        TapCodeRecognizer(gap_s=2, end_s=1)


def test_sensitivity_validation():
    detector = TapDetector()
    detector.set_sensitivity("ALL", 30)
    assert detector.sensitivity == {"x": 30, "y": 30, "z": 30}
    for axis, pct in (("w", 10), ("x", 101), ("y", -1)):
        with pytest.raises(InvalidArgumentError):
            detector.set_sensitivity(axis, pct)


def test_rtc_drift_measured_and_corrected(tmp_path):
    reference = [1_000.0]
    rtc_start, ppm = 5_000.0, 42.0

    def rtc() -> float:
        return rtc_start + (reference[0] - 1_000.0) * (1 + ppm * 1e-6)

    clock = ModuleClock(rtc, tmp_path, reference=lambda: reference[0])
    clock.calibrate()
    reference[0] += 86_400
    assert clock.calibrate() == pytest.approx(42.0, abs=1e-6)
    assert clock.now() == pytest.approx(reference[0], abs=1e-6)  # drift removed: back on the reference
    reference[0] += 3_600
    assert clock.now() == pytest.approx(reference[0], abs=1e-6)
    again = ModuleClock(rtc, tmp_path, reference=lambda: reference[0])  # survives a restart
    assert again.drift_ppm == pytest.approx(42.0, abs=1e-6)


def test_led_codes():
    assert FatalCode.LOW_BATTERY.value.text == "4/1" and FatalCode.HOST_NOT_ANSWERING.value.text == "8"
    assert tamper_code(2) == LedCode(6, 2)
    sequence = expand(LedCode(20, 2))
    per_repeat = len(sequence) // 3
    assert per_repeat == 5 + 20 + 2 and sequence[:per_repeat] * 3 == sequence
    assert len(expand(LedCode(5))) == 3 * (5 + 5)
