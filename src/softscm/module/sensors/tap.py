"""Tap detection on an accelerometer sample stream, and a tap-code recogniser.

Sensitivity per axis is 0..100 %: 0 disables the axis; otherwise a tap is a deviation from the
axis's resting value of at least ``threshold_g(pct) = 0.1 + 3.9 * (1 - pct / 100)`` g (100 %:
0.1 g, the most sensitive; 1 %: about 4 g). The resting value follows the signal through a slow
low-pass filter, so gravity on any axis is not a tap. After a tap the detector ignores samples
for a debounce period so that the ringing of one tap is not counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ...wire.errors import InvalidArgumentError
from .hal import AccelSample

AXES = ("x", "y", "z")
DEBOUNCE_S = 0.08
BASELINE_ALPHA = 0.02


def threshold_g(pct: float) -> float:
    """The deviation (g) that counts as a tap at sensitivity ``pct`` (> 0)."""
    return 0.1 + 3.9 * (1.0 - pct / 100.0)


@dataclass(frozen=True)
class Tap:
    """A detected tap: time, and direction per axis (-1, 0, +1)."""

    t: float
    direction: tuple[int, int, int]
    peak_g: float


class TapDetector:
    """Feeds on samples; returns the taps they contain."""

    def __init__(self, sensitivity: dict[str, float] | None = None) -> None:
        self.sensitivity = {axis: 50.0 for axis in AXES}
        self._baseline: list[float] | None = None
        self._quiet_until = float("-inf")
        for axis, pct in (sensitivity or {}).items():
            self.set_sensitivity(axis, pct)

    def set_sensitivity(self, axis: str, pct: float) -> None:
        """Set one axis (``x``, ``y``, ``z``) or ``all`` (case-insensitive) to 0..100 %.

        :raises InvalidArgumentError: for another axis name or a value outside 0..100.
        """
        axis = axis.lower()
        if axis not in (*AXES, "all") or not 0.0 <= pct <= 100.0:
            raise InvalidArgumentError("tap sensitivity takes axis x, y, z or all and 0..100 %")
        for name in AXES if axis == "all" else (axis,):
            self.sensitivity[name] = float(pct)

    def feed(self, samples: Iterable[AccelSample]) -> list[Tap]:
        taps = []
        for sample in samples:
            values = (sample.x, sample.y, sample.z)
            if self._baseline is None:
                self._baseline = list(values)
                continue
            deviations = [v - b for v, b in zip(values, self._baseline)]
            if sample.t >= self._quiet_until:
                hits = [
                    i for i, axis in enumerate(AXES)
                    if self.sensitivity[axis] > 0 and abs(deviations[i]) >= threshold_g(self.sensitivity[axis])
                ]
                if hits:
                    x, y, z = ((1 if deviations[i] > 0 else -1) if i in hits else 0 for i in range(3))
                    taps.append(Tap(sample.t, (x, y, z), max(abs(deviations[i]) for i in hits)))
                    self._quiet_until = sample.t + DEBOUNCE_S
                    continue
            if sample.t >= self._quiet_until:
                self._baseline = [b + BASELINE_ALPHA * d for b, d in zip(self._baseline, deviations)]
        return taps


class TapCodeRecognizer:
    """Groups taps into a code: taps closer than ``gap_s`` form a group; e.g. 3 taps, a pause,
    2 taps is the code (3, 2). A code is complete when ``end_s`` passes with no tap."""

    def __init__(self, gap_s: float = 0.6, end_s: float = 1.5) -> None:
        if not 0 < gap_s < end_s:
            raise InvalidArgumentError("the group gap must be shorter than the end pause")
        self.gap_s, self.end_s = gap_s, end_s

    def code(self, tap_times: Sequence[float], now: float | None = None) -> tuple[int, ...] | None:
        """The code in ``tap_times``, or ``None`` while it may still go on (``now`` too close to the
        last tap)."""
        if not tap_times:
            return None
        if now is not None and now - tap_times[-1] < self.end_s:
            return None
        groups = [1]
        for previous, current in zip(tap_times, tap_times[1:]):
            if current - previous < self.gap_s:
                groups[-1] += 1
            else:
                groups.append(1)
        return tuple(groups)

    def matches(self, tap_times: Sequence[float], expected: Sequence[int], now: float | None = None) -> bool:
        return self.code(tap_times, now) == tuple(expected)
