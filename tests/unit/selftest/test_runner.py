"""Power-on, background and commanded runs: every test timed, every failure a result."""

from __future__ import annotations

import os

import pytest

from softscm.module.selftest.faults import FaultPlan
from softscm.module.selftest.health import HealthTestedRng
from softscm.module.selftest.integrity import compute_code_digest, integrity_checks
from softscm.module.selftest.kat import KAT_NAMES
from softscm.module.selftest.runner import run_background, run_checks, run_commanded, run_power_on
from softscm.wire.defs import Mode
from softscm.wire.errors import StoreCorruptError

RECORDED = {"code": compute_code_digest(), "keystore": b"k" * 32}


def _integrity(plan: FaultPlan | None = None, recorded=RECORDED):
    return integrity_checks({k: (lambda k=k: recorded.get(k)) for k in RECORDED},
                            {"code": compute_code_digest, "keystore": lambda: b"k" * 32}, plan)


def _ok() -> None:
    pass


def _no_answer() -> None:
    raise OSError("/dev/i2c-1: no such device")


def test_power_on_runs_everything_in_order_and_times_each():
    report = run_power_on(peripherals={"sensor_rtc": _ok, "sensor_accel": _ok}, integrity_checks=_integrity(),
                          rng=HealthTestedRng(os.urandom))
    assert report.passed and report.kind == "power-on"
    assert [r.name for r in report.results] == [*KAT_NAMES, "rng_health", "sensor_rtc", "sensor_accel",
                                                "code_digest", "keystore_digest"]
    assert [r.category for r in report.results][len(KAT_NAMES):] == ["health", "peripheral", "peripheral",
                                                                     "integrity", "integrity"]
    assert all(r.duration_s >= 0 for r in report.results)
    assert report.duration_s >= sum(r.duration_s for r in report.results) and report.started > 1.7e9


def test_a_plain_callable_rng_gets_a_startup_test():
    drawn = []
    report = run_power_on(peripherals={}, integrity_checks={}, rng=lambda n: drawn.append(n) or os.urandom(n))
    assert report.passed and drawn == [1024]


def test_failures_are_results_with_a_safe_detail():
    report = run_power_on(peripherals={"sensor_rtc": _no_answer}, rng=lambda n: bytes(n),
                          integrity_checks=_integrity(recorded={"code": b"\x00" * 32, "keystore": None}))
    failed = {r.name: r.detail for r in report.failures}
    assert not report.passed and set(failed) == {"rng_health", "sensor_rtc", "code_digest", "keystore_digest"}
    assert failed["sensor_rtc"] == "raised OSError"  # not the OS message
    assert failed["code_digest"] == "code digest does not match the recorded digest"
    assert "repetition count test failed at sample 6" in failed["rng_health"]


def test_run_checks_reports_an_scm_error_s_message():
    def corrupt() -> None:
        raise StoreCorruptError("keystore row 7 fails its MAC")

    [result] = run_checks({"keystore": corrupt}, "integrity")
    assert not result.passed and result.detail == "keystore row 7 fails its MAC"


@pytest.mark.parametrize("fault, failed", [
    ({"kat": "aes-256-gcm-decrypt", "where": "input"}, "aes-256-gcm-decrypt"),
    ({"integrity": "keystore"}, "keystore_digest"),
    ({"entropy": "stuck"}, "rng_health"),
    ({"entropy": "biased"}, "rng_health"),
])
def test_each_armed_fault_fails_exactly_its_test(fault, failed):
    plan = FaultPlan()
    plan.add(Mode.DEVELOPMENT, True, **fault)
    live = HealthTestedRng(os.urandom)
    report = run_power_on(peripherals={"sensor_rtc": _ok}, integrity_checks=_integrity(plan), rng=live, faults=plan)
    assert [r.name for r in report.failures] == [failed]
    assert live.failure is None  # an injected entropy fault is fed to a separate tester


def test_background_runs_the_integrity_checks_only():
    report = run_background(integrity_checks=_integrity())
    assert report.kind == "background" and report.passed
    assert {r.category for r in report.results} == {"integrity"} and len(report.results) == 2


@pytest.mark.parametrize("full", [True, False])
def test_commanded_full_or_quick(full):
    plan = FaultPlan()
    plan.add(Mode.DEVELOPMENT, True, kat="sha512")
    report = run_commanded(full, peripherals={"sensor_rtc": _ok}, integrity_checks=_integrity(),
                           rng=HealthTestedRng(os.urandom), faults=plan)
    assert report.kind == "commanded"
    if full:
        assert len(report.results) == len(KAT_NAMES) + 4 and [r.name for r in report.failures] == ["sha512"]
    else:
        assert report.passed and {r.category for r in report.results} == {"integrity"}
