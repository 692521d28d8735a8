"""Self tests: commanded runs, the latest reports, fault injection (tests only)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum, unique
from typing import Any, TypeVar

from ..defs import Command
from ..errors import InvalidArgumentError
from .base import Done, Message, Request, Text, command


@unique
class TestCategory(StrEnum):
    __test__ = False  # not a pytest test class

    KAT = "kat"
    HEALTH = "health"
    INTEGRITY = "integrity"
    PERIPHERAL = "peripheral"
    PAIRWISE = "pairwise"


@unique
class SelfTestKind(StrEnum):
    POWER_ON = "power-on"
    BACKGROUND = "background"
    COMMANDED = "commanded"


E = TypeVar("E", bound=StrEnum)


def _member(cls: type[E], value: str, what: str) -> E:
    try:
        return cls(value)
    except ValueError:
        raise InvalidArgumentError(f"{what} must be one of {', '.join(m.value for m in cls)}") from None


@dataclass(frozen=True)
class TestResult(Message):
    """One test: its name, category, outcome, duration in seconds and a short detail on failure."""

    __test__ = False  # not a pytest test class

    name: str
    category: TestCategory
    passed: bool
    duration_s: float
    detail: Text = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "category", _member(TestCategory, self.category, "self-test category"))


@dataclass(frozen=True)
class SelfTestReport(Message):
    """One self-test run: its kind, every result, wall-clock start (epoch seconds) and duration."""

    kind: SelfTestKind
    results: tuple[TestResult, ...]
    started: float
    duration_s: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _member(SelfTestKind, self.kind, "self-test kind"))

    @property
    def passed(self) -> bool:
        """True when every test passed (an empty run passes nothing and is not a pass)."""
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def failures(self) -> list[TestResult]:
        return [r for r in self.results if not r.passed]

    def to_wire(self) -> dict[str, Any]:
        wire = super().to_wire()
        wire["passed"] = self.passed
        return wire

    @classmethod
    def from_wire(cls, value: Any) -> SelfTestReport:
        """:raises InvalidArgumentError: if a field is missing or mistyped, or ``passed`` contradicts
        the results."""
        report = super().from_wire(value)
        if value.get("passed", report.passed) is not report.passed:
            raise InvalidArgumentError("self-test report: 'passed' contradicts the results")
        return report

    def summary(self) -> SelfTestSummary:
        return SelfTestSummary(self.passed, self.duration_s, self.started)


@dataclass(frozen=True)
class SelfTestSummary(Message):
    passed: bool
    seconds: float
    started: float


@command(Command.SELFTEST_RUN, SelfTestReport)
@dataclass(frozen=True)
class SelfTestRunRequest(Request[SelfTestReport]):
    """Run the self tests now (``full``: KATs, RNG and peripherals too); a failure is fatal."""

    full: bool = True


@dataclass(frozen=True)
class SelfTestReports(Message):
    """The latest report of each kind, and the error that stopped the module (if any)."""

    reports: dict[str, SelfTestReport]
    error: Text | None = None


@command(Command.SELFTEST_REPORT, SelfTestReports)
@dataclass(frozen=True)
class SelfTestReportRequest(Request[SelfTestReports]):
    pass


@command(Command.FAULT_INJECT, Done)
@dataclass(frozen=True)
class FaultInjectRequest(Request[Done]):
    """Corrupt a KAT's ``input``/``expected``, an ``integrity`` digest or the ``entropy`` source at
    the next self test (tests only)."""

    kat: str | None = None
    where: str = "input"
    integrity: str | None = None
    entropy: str | None = None
