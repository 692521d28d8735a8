"""Self-test runs: power-on, background and commanded. Each returns a :class:`SelfTestReport`
with every test timed; a failing test is a failed result, never an exception. Deciding what a
failure does (the module enters ERROR) is the caller's job.

Checks are callables that return on success and raise on failure. Peripheral checks are named by
the caller (e.g. ``"sensor_rtc"``); integrity checks come from :func:`.integrity.integrity_checks`
or any callable that raises (a keystore self-verification, say).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from ...wire.errors import ScmError
from ..crypto.rng import Rng
from .faults import FaultPlan
from .health import DEFAULT_MIN_ENTROPY_PER_BYTE, HealthTestedRng
from .kat import run_kats
from ...wire.messages.selftest import SelfTestKind, SelfTestReport, TestCategory, TestResult

Check = Callable[[], object]  # returns on success (the value is ignored), raises on failure


def run_checks(checks: Mapping[str, Check], category: TestCategory) -> list[TestResult]:
    """Run and time each check; one that raises has failed. The detail is an ScmError's message
    (those never hold secrets) or just the exception's class name."""
    results = []
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure of a check is a failed test, reported
            detail = exc.message if isinstance(exc, ScmError) else f"raised {exc.__class__.__name__}"
            results.append(TestResult(name, category, False, time.perf_counter() - started, detail))
        else:
            results.append(TestResult(name, category, True, time.perf_counter() - started))
    return results


def rng_health_check(rng: Rng, faults: FaultPlan | None = None) -> Check:
    """The on-demand entropy test: the SP 800-90B start-up test (1024 samples) on ``rng`` (its own
    continuous tests if it is a :class:`HealthTestedRng`), or on the faulty stream if ``faults``
    arms one."""
    def run() -> None:
        if isinstance(rng, HealthTestedRng) and (faults is None or faults.entropy is None):
            rng.startup_test()
            return
        min_entropy = rng.min_entropy_per_byte if isinstance(rng, HealthTestedRng) else DEFAULT_MIN_ENTROPY_PER_BYTE
        HealthTestedRng(rng, min_entropy, faults=faults).startup_test()
    return run


def _report(kind: SelfTestKind, run: Callable[[], list[TestResult]]) -> SelfTestReport:
    started, clock = time.time(), time.perf_counter()
    results = run()
    return SelfTestReport(kind, tuple(results), started, time.perf_counter() - clock)


def _full(peripherals: Mapping[str, Check], integrity_checks: Mapping[str, Check], rng: Rng,
          faults: FaultPlan | None) -> list[TestResult]:
    return (run_kats(faults)
            + run_checks({"rng_health": rng_health_check(rng, faults)}, TestCategory.HEALTH)
            + run_checks(peripherals, TestCategory.PERIPHERAL)
            + run_checks(integrity_checks, TestCategory.INTEGRITY))


def run_power_on(*, peripherals: Mapping[str, Check], integrity_checks: Mapping[str, Check], rng: Rng,
                 faults: FaultPlan | None = None) -> SelfTestReport:
    """KATs, the entropy start-up test, peripheral checks, integrity checks; in that order."""
    return _report(SelfTestKind.POWER_ON, lambda: _full(peripherals, integrity_checks, rng, faults))


def run_background(*, integrity_checks: Mapping[str, Check]) -> SelfTestReport:
    """The integrity checks only (run at randomised intervals while the module serves)."""
    return _report(SelfTestKind.BACKGROUND, lambda: run_checks(integrity_checks, TestCategory.INTEGRITY))


def run_commanded(full: bool, *, peripherals: Mapping[str, Check], integrity_checks: Mapping[str, Check],
                  rng: Rng, faults: FaultPlan | None = None) -> SelfTestReport:
    """On request: everything the power-on test runs if ``full``, else the integrity checks."""
    if full:
        return _report(SelfTestKind.COMMANDED, lambda: _full(peripherals, integrity_checks, rng, faults))
    return _report(SelfTestKind.COMMANDED, lambda: run_checks(integrity_checks, TestCategory.INTEGRITY))
