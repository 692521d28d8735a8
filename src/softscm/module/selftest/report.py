"""Typed self-test results, CBOR/JSON friendly."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest test class

    name: str
    category: str  # kat | health | integrity | peripheral | pairwise
    passed: bool
    duration_s: float
    detail: str = ""


@dataclass(frozen=True)
class SelfTestReport:
    kind: str  # power-on | background | commanded
    results: tuple[TestResult, ...]
    started: float
    duration_s: float

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[TestResult]:
        return [r for r in self.results if not r.passed]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "started": self.started, "duration_s": self.duration_s, "passed": self.passed,
                "results": [asdict(r) for r in self.results]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SelfTestReport:
        return cls(data["kind"], tuple(TestResult(**r) for r in data["results"]), data["started"], data["duration_s"])
