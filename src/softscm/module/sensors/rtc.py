"""Module time: the RTC corrected for its measured drift, calibrated against a reference clock.

The calibration (a pair of RTC and reference readings, and the drift in ppm measured since) is
kept in ``<state>/sensors/rtc.json`` so corrected time survives restarts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from ..store.atomic import atomic_write
from ...wire.errors import StoreCorruptError
from .hal import SensorError

CALIBRATION_FILE = "rtc.json"
MIN_INTERVAL_S = 10.0


class ModuleClock:
    """Drift-corrected time from an RTC reading function."""

    def __init__(self, rtc: Callable[[], float], directory: Path, reference: Callable[[], float] = time.time) -> None:
        """:raises StoreCorruptError: if the saved calibration is damaged."""
        self._rtc, self._reference, self._path = rtc, reference, directory / CALIBRATION_FILE
        try:
            data = json.loads(self._path.read_text()) if self._path.exists() else {}
            if not isinstance(data, dict):
                raise ValueError
        except ValueError:
            raise StoreCorruptError(f"the RTC calibration file {self._path} is damaged") from None
        self.rtc0: float | None = data.get("rtc0")
        self.ref0: float | None = data.get("ref0")
        self.drift_ppm: float = data.get("drift_ppm", 0.0)

    def _save(self) -> None:
        atomic_write(self._path, json.dumps({"rtc0": self.rtc0, "ref0": self.ref0, "drift_ppm": self.drift_ppm}).encode())

    def calibrate(self) -> float:
        """Measure the drift against the reference clock since the first calibration point
        (taken now if there is none); returns the drift in ppm (positive: the RTC runs fast).

        :raises SensorError: if the RTC does not answer.
        """
        rtc_now, ref_now = self._rtc(), self._reference()
        if self.rtc0 is None or self.ref0 is None:
            self.rtc0, self.ref0 = rtc_now, ref_now
        elif ref_now - self.ref0 >= MIN_INTERVAL_S:
            elapsed = ref_now - self.ref0
            self.drift_ppm = ((rtc_now - self.rtc0) - elapsed) / elapsed * 1e6
        self._save()
        return self.drift_ppm

    def now(self) -> float:
        """Module time: the RTC, corrected for the measured drift since calibration; the reference
        clock while the RTC does not answer (the self test reports that RTC as failed), so the log
        can still record what happens."""
        try:
            rtc_now = self._rtc()
        except SensorError:
            return self._reference()
        if self.rtc0 is None or self.ref0 is None:
            return rtc_now
        return self.ref0 + (rtc_now - self.rtc0) / (1 + self.drift_ppm * 1e-6)
