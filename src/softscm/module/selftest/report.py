"""Typed self-test results: one :class:`TestResult` per test, one :class:`SelfTestReport` per run.

Both convert to and from plain dicts of str/int/float/bool (and lists of such dicts) for the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...wire.errors import InvalidArgumentError

CATEGORIES = ("kat", "health", "integrity", "peripheral", "pairwise")
KINDS = ("power-on", "background", "commanded")


def _field(data: Mapping[str, Any], name: str, kind: type) -> Any:
    value = data.get(name)
    if kind is float:  # an int is a number too; a bool is not
        valid = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        valid = isinstance(value, kind)
    if not valid:
        raise InvalidArgumentError(f"self-test report: '{name}' is missing or has the wrong type")
    return float(value) if kind is float else value


@dataclass(frozen=True)
class TestResult:
    """One test: its name, category, outcome, duration in seconds and a short detail on failure.

    :raises InvalidArgumentError: for an unknown category.
    """

    __test__ = False  # not a pytest test class

    name: str
    category: str  # one of CATEGORIES
    passed: bool
    duration_s: float
    detail: str = ""

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise InvalidArgumentError(f"self-test category must be one of {', '.join(CATEGORIES)}")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "category": self.category, "passed": self.passed,
                "duration_s": float(self.duration_s), "detail": self.detail}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestResult:
        """:raises InvalidArgumentError: if a field is missing, mistyped or out of range."""
        return cls(_field(data, "name", str), _field(data, "category", str), _field(data, "passed", bool),
                   _field(data, "duration_s", float), _field(data, "detail", str))


@dataclass(frozen=True)
class SelfTestReport:
    """One self-test run: its kind, every result, wall-clock start (epoch seconds) and duration.

    :raises InvalidArgumentError: for an unknown kind.
    """

    kind: str  # one of KINDS
    results: tuple[TestResult, ...]
    started: float
    duration_s: float

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidArgumentError(f"self-test kind must be one of {', '.join(KINDS)}")

    @property
    def passed(self) -> bool:
        """True when every test passed (an empty run passes nothing and is not a pass)."""
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def failures(self) -> list[TestResult]:
        return [r for r in self.results if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "started": float(self.started), "duration_s": float(self.duration_s),
                "passed": self.passed, "results": [r.to_dict() for r in self.results]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SelfTestReport:
        """:raises InvalidArgumentError: if a field is missing or mistyped, or ``passed`` contradicts
        the results."""
        results = _field(data, "results", list)
        if not all(isinstance(r, Mapping) for r in results):
            raise InvalidArgumentError("self-test report: 'results' must be a list of results")
        report = cls(_field(data, "kind", str), tuple(TestResult.from_dict(r) for r in results),
                     _field(data, "started", float), _field(data, "duration_s", float))
        if "passed" in data and data["passed"] is not report.passed:
            raise InvalidArgumentError("self-test report: 'passed' contradicts the results")
        return report
