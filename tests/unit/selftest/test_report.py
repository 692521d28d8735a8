"""Self-test reports: typed, validated, and round-trip through their wire maps and CBOR."""

from __future__ import annotations

import cbor2
import pytest

from softscm.wire.messages.selftest import SelfTestReport, TestResult
from softscm.wire.errors import InvalidArgumentError

REPORT = SelfTestReport("commanded", (TestResult("sha256", "kat", True, 0.001),
                                      TestResult("code_digest", "integrity", False, 0.01, "mismatch")), 1.5e9, 0.5)


def test_round_trip_through_a_dict_and_cbor():
    data = REPORT.to_wire()
    assert SelfTestReport.from_wire(data) == REPORT
    assert SelfTestReport.from_wire(cbor2.loads(cbor2.dumps(data))) == REPORT
    assert data["passed"] is False and data["results"][1] == {
        "name": "code_digest", "category": "integrity", "passed": False, "duration_s": 0.01, "detail": "mismatch"}


def test_only_plain_types_go_on_the_wire():
    def walk(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and walk(v) for k, v in value.items())
        if isinstance(value, list):
            return all(walk(v) for v in value)
        return type(value) in (str, int, float, bool)

    assert walk(REPORT.to_wire())


def test_passed_and_failures():
    assert not REPORT.passed and [r.name for r in REPORT.failures] == ["code_digest"]
    good = SelfTestReport("power-on", (TestResult("sha256", "kat", True, 0.0),), 0.0, 0.0)
    assert good.passed and not good.failures
    assert not SelfTestReport("background", (), 0.0, 0.0).passed  # nothing tested is not a pass


def test_integer_times_are_accepted():
    data = REPORT.to_wire()
    data["started"], data["results"][0]["duration_s"] = 1_500_000_000, 0
    assert SelfTestReport.from_wire(data).started == 1.5e9


@pytest.mark.parametrize("change", [
    lambda d: d.pop("kind"),
    lambda d: d.update(kind="hourly"),
    lambda d: d.update(started="now"),
    lambda d: d.update(duration_s=True),
    lambda d: d.update(results="none"),
    lambda d: d.update(results=[1]),
    lambda d: d.update(passed=True),
    lambda d: d["results"][0].update(category="magic"),
    lambda d: d["results"][0].update(passed=1),
    lambda d: d["results"][0].update(detail=5),
])
def test_malformed_reports_are_refused(change):
    data = REPORT.to_wire()
    change(data)
    with pytest.raises(InvalidArgumentError):
        SelfTestReport.from_wire(data)
