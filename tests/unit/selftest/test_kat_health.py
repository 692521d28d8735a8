"""Known-answer tests and SP 800-90B health tests."""

from __future__ import annotations

import os

import pytest

from softscm.module.selftest.faults import FaultPlan
from softscm.module.selftest.health import HealthTestedRng, apt_cutoff, rct_cutoff
from softscm.module.selftest.integrity import compute_code_digest
from softscm.module.selftest.kat import KAT_NAMES, TABLE, run_kats
from softscm.module.selftest.report import SelfTestReport, TestResult
from softscm.wire.defs import Mode
from softscm.wire.errors import NotPermittedError, SelfTestError


def test_every_kat_passes_and_cites_its_source():
    results = run_kats()
    assert [r.name for r in results] == list(KAT_NAMES) and all(r.passed for r in results)
    assert all(entry["source"] for entry in TABLE)
    assert {e["algorithm"] for e in TABLE} >= {"sha256", "sha512", "hmac-sha256", "ecdsa-nistp256", "ecdsa-secp256k1",
                                               "ed25519", "x25519", "ecdh-nistp256", "aes-gcm", "hkdf-sha256",
                                               "pbkdf2-sha256"}


@pytest.mark.parametrize("where", ["input", "expected"])
@pytest.mark.parametrize("name", KAT_NAMES)
def test_each_kat_fails_with_one_byte_flipped(name, where):
    results = {r.name: r for r in run_kats({name: where})}
    assert not results[name].passed
    assert all(r.passed for n, r in results.items() if n != name)


def test_cutoffs_follow_the_standard():
    # SP 800-90B table 2 (alpha = 2^-20): binary W=1024, H=1 -> 589; non-binary W=512, H=8 -> 13
    assert apt_cutoff(1.0, window=1024, alpha_exponent=20) == 589
    assert apt_cutoff(8.0, alpha_exponent=20) == 13
    assert rct_cutoff(8.0, alpha_exponent=20) == 4
    assert (rct_cutoff(8.0), apt_cutoff(8.0)) == (6, 19)  # alpha = 2^-40, as the module uses


def test_stuck_source_fails_at_exactly_the_rct_cutoff():
    rng = HealthTestedRng(lambda n: bytes(range(n)))  # 0, 1, ..., 99: no value repeats
    rng(100)
    drawn = rng.samples
    rng._source = lambda n: b"\xff" * n  # the source sticks on a value it never gave before
    with pytest.raises(SelfTestError, match=f"repetition count test failed at sample {drawn + rng.rct_cutoff}"):
        rng(50)
    with pytest.raises(SelfTestError):  # and stays failed
        rng._source = os.urandom
        rng(1)


def test_stuck_source_across_calls():
    rng = HealthTestedRng(lambda n: b"\x00" * n)
    for _ in range(rng.rct_cutoff - 1):
        rng(1)
    with pytest.raises(SelfTestError, match=f"at sample {rng.rct_cutoff}"):
        rng(1)


def test_biased_source_fails_at_exactly_the_apt_cutoff():
    # the first sample of the window recurs every other sample, never twice in a row (RCT stays quiet)
    biased = bytes(0 if i % 2 == 0 else 1 + (i % 200) for i in range(4096))
    rng = HealthTestedRng(lambda n: biased[:n])
    cutoff = rng.apt_cutoff
    with pytest.raises(SelfTestError, match=f"adaptive proportion test failed at sample {2 * cutoff - 1}"):
        rng(512)


def test_healthy_source_passes_a_long_run():
    rng = HealthTestedRng(os.urandom)
    rng.startup_test()
    for _ in range(64):
        rng(16384)
    assert rng.samples == 1024 + 64 * 16384 and rng.failure is None


def test_code_digest_changes_with_one_byte(tmp_path):
    import shutil

    import softscm

    copy = tmp_path / "softscm"
    shutil.copytree(os.path.dirname(softscm.__file__), copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = compute_code_digest(copy)
    target = copy / "module" / "commands" / "keys.py"
    data = bytearray(target.read_bytes())
    data[100] ^= 0x20
    target.write_bytes(bytes(data))
    assert compute_code_digest(copy) != before


def test_report_round_trip():
    report = SelfTestReport("commanded", (TestResult("sha256", "kat", True, 0.001),
                                          TestResult("code_digest", "integrity", False, 0.01, "mismatch")), 1.0, 0.5)
    assert SelfTestReport.from_dict(report.to_dict()) == report
    assert not report.passed and report.failures[0].name == "code_digest"


def test_fault_injection_is_refused_in_production_and_when_disabled():
    plan = FaultPlan()
    with pytest.raises(NotPermittedError):
        plan.add(Mode.PRODUCTION, True, kat="sha256")
    with pytest.raises(NotPermittedError):
        plan.add(Mode.DEVELOPMENT, False, kat="sha256")
    plan.add(Mode.DEVELOPMENT, True, kat="sha256", where="expected", integrity="code", entropy="stuck")
    assert plan.kat == {"sha256": "expected"} and plan.integrity == {"code"} and plan.entropy == "stuck"


def test_a_module_refuses_to_start_on_a_stuck_entropy_source(tmp_path):
    from softscm.module.module import Module

    with pytest.raises(SelfTestError, match="repetition count"):
        Module.start(tmp_path / "state", rng=lambda n: bytes(n))
    assert not (tmp_path / "state").exists()  # nothing was drawn, nothing was written
