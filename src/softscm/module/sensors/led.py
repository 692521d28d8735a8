"""The status LED: the current pattern, and the fatal code sequences (the SCM's status channel).

A fatal sequence is a preamble of fast flashes, the main code as slow flashes, an optional
sub-code after a pause, the whole repeated three times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ...wire.messages.admin import LedStatus


@dataclass(frozen=True)
class LedCode:
    main: int
    sub: int | None = None

    @property
    def text(self) -> str:
        return f"{self.main}/{self.sub}" if self.sub is not None else str(self.main)


class FatalCode(Enum):
    """The codes and what they mean (6/n is a tamper on channel n in development mode)."""

    LOW_BATTERY = LedCode(4, 1)
    BOOT_SIGNATURE = LedCode(4, 2)
    SECURE_ELEMENT_MISMATCH = LedCode(5)
    KEY_AREA_DIGEST = LedCode(6)
    HOST_NOT_ANSWERING = LedCode(8)
    LOW_TEMPERATURE = LedCode(20, 1)
    HIGH_TEMPERATURE = LedCode(20, 2)
    BOOT_PROCESS = LedCode(22, 9)


def tamper_code(channel: int) -> LedCode:
    """6/n: a tamper on channel ``n`` reported in development mode."""
    return LedCode(6, channel)


PREAMBLE = (5, 80, 80)  # flashes, on ms, off ms
SLOW = (400, 400)
PAUSE_MS = 1200
REPEATS = 3


def expand(code: LedCode) -> list[tuple[int, int]]:
    """The code as (on ms, off ms) pairs."""
    flashes, fast_on, fast_off = PREAMBLE
    once = [(fast_on, fast_off)] * flashes
    once[-1] = (fast_on, PAUSE_MS)
    once += [SLOW] * code.main
    if code.sub is not None:
        once[-1] = (SLOW[0], PAUSE_MS)
        once += [SLOW] * code.sub
    once[-1] = (once[-1][0], PAUSE_MS * 2)
    return once * REPEATS


@dataclass
class LedModel:
    """What the LED shows now, and every fatal code it has shown."""

    pattern: str = "off"  # off | on | flash | code
    on_ms: int = 0
    off_ms: int = 0
    flashes: int = 0
    code: LedCode | None = None
    history: list[tuple[float, LedCode]] = field(default_factory=list)

    def set(self, pattern: str, on_ms: int = 0, off_ms: int = 0, flashes: int = 0) -> None:
        self.pattern, self.on_ms, self.off_ms, self.flashes, self.code = pattern, on_ms, off_ms, flashes, None

    def show(self, code: LedCode, at: float) -> None:
        self.pattern, self.code = "code", code
        self.history.append((at, code))

    def describe(self) -> LedStatus:
        """The pattern, the fatal code shown (if any) and the last 20 codes."""
        return LedStatus(self.pattern, self.on_ms, self.off_ms, self.flashes, self.code.text if self.code else None,
                         tuple((t, c.text) for t, c in self.history[-20:]))
