"""SP 800-90B health tests: cutoffs from the standard, failures at the exact sample."""

from __future__ import annotations

import os
from fractions import Fraction

import pytest

from softscm.module.selftest.faults import FaultPlan
from softscm.module.selftest.health import STARTUP_SAMPLES, WINDOW, HealthTestedRng, apt_cutoff, rct_cutoff
from softscm.wire.defs import Mode
from softscm.wire.errors import InvalidArgumentError, SelfTestError

DISTINCT = bytes(range(256)) * 2  # one window: no repeats in a row, each value twice


def _feeder(*chunks: bytes):
    """A source that hands out ``chunks`` joined, in order, whatever sizes are asked."""
    stream = bytearray(b"".join(chunks))

    def source(n: int) -> bytes:
        out = bytes(stream[:n])
        del stream[:n]
        assert len(out) == n, "test source ran dry"
        return out
    return source


def test_apt_cutoffs_match_sp800_90b_table_2():
    # SP 800-90B (January 2018) section 4.4.2, Table 2, alpha = 2^-20, non-binary W = 512
    assert [apt_cutoff(h) for h in (0.5, 1, 2, 4, 8)] == [410, 311, 177, 62, 13]
    assert apt_cutoff(1, window=1024) == 589  # binary samples, W = 1024, H = 1


def test_rct_cutoffs_follow_the_formula():
    assert [rct_cutoff(h) for h in (0.5, 1, 2, 4, 8)] == [41, 21, 11, 6, 4]
    assert rct_cutoff(Fraction(1, 5)) == rct_cutoff(0.2) == 101  # 20 / 0.2 exactly, not a float below 100
    assert (rct_cutoff(8, 40), apt_cutoff(8, alpha_exponent=40)) == (6, 19)


def test_the_default_declares_4_bits_per_byte_at_alpha_2_to_the_minus_20():
    rng = HealthTestedRng(os.urandom)
    assert (rng.rct_cutoff, rng.apt_cutoff) == (6, 62)


@pytest.mark.parametrize("h, alpha", [(0, 20), (8.5, 20), (-1, 20), (4, 19), (4, 41)])
def test_out_of_range_parameters_are_refused(h, alpha):
    with pytest.raises(InvalidArgumentError):
        HealthTestedRng(os.urandom, h, alpha_exponent=alpha)


@pytest.mark.parametrize("h", [1, 4, 8])
def test_stuck_source_fails_at_exactly_the_rct_cutoff(h):
    rng = HealthTestedRng(_feeder(bytes(range(100)), b"\xff" * 64), h)
    rng(100)
    with pytest.raises(SelfTestError, match="repetition count"):
        rng(64)
    assert rng.failed_at == 100 + rng.rct_cutoff


def test_stuck_source_across_single_byte_draws():
    seen = []
    rng = HealthTestedRng(lambda n: b"\x00" * n, on_failure=seen.append)
    for _ in range(rng.rct_cutoff - 1):
        rng(1)
    with pytest.raises(SelfTestError):
        rng(1)
    assert rng.failed_at == rng.rct_cutoff == 6 and seen == [rng.failure]


def test_a_run_one_short_of_the_cutoff_passes():
    run = b"\x07" * 5
    rng = HealthTestedRng(_feeder(run, b"\x08", run, b"\x09"))
    for size in (5, 1, 5, 1):
        rng(size)
    assert rng.failure is None and rng.samples == 12


def _biased_window(first: int, occurrences: int) -> bytes:
    """A 512-sample window starting with ``first`` that holds it ``occurrences`` times, every
    other sample, never twice in a row (the RCT stays quiet)."""
    others = [v for v in range(256) if v != first]
    out = []
    for i in range(WINDOW):
        out.append(first if i % 2 == 0 and i // 2 < occurrences else others[i % 255])
    return bytes(out)


def test_biased_source_fails_at_exactly_the_apt_cutoff_within_a_later_window():
    rng = HealthTestedRng(_feeder(DISTINCT, _biased_window(0x42, 200)))
    rng(300)  # a healthy first window, drawn in two uneven pieces
    rng(212)
    with pytest.raises(SelfTestError, match="adaptive proportion"):
        rng(WINDOW)
    # the 62nd occurrence of the window's first sample is sample 2 * 62 - 1 of the second window
    assert rng.failed_at == WINDOW + 2 * rng.apt_cutoff - 1


def test_one_occurrence_short_of_the_apt_cutoff_passes_and_the_count_restarts_each_window():
    windows = [_biased_window(v, 61) for v in (1, 1, 2)]
    rng = HealthTestedRng(_feeder(*windows))
    for _ in windows:
        for size in (100, 300, 112):
            rng(size)
    assert rng.failure is None and rng.samples == 3 * WINDOW


def test_the_apt_counts_across_draws_of_one_sample():
    rng = HealthTestedRng(_feeder(_biased_window(3, 200)))
    with pytest.raises(SelfTestError):
        for _ in range(WINDOW):
            rng(1)
    assert rng.failed_at == 2 * 62 - 1


def test_after_a_failure_the_generator_stays_failed():
    rng = HealthTestedRng(lambda n: bytes(n))
    with pytest.raises(SelfTestError):
        rng(32)
    rng.source = os.urandom
    for attempt in (lambda: rng(1), rng.startup_test, lambda: rng.check(b"\x01")):
        with pytest.raises(SelfTestError):
            attempt()
    assert rng.failed_at == 6


def test_startup_test_checks_1024_samples_before_any_is_used():
    drawn = []

    def source(n: int) -> bytes:
        drawn.append(n)
        return os.urandom(n)

    rng = HealthTestedRng(source)
    rng.startup_test()
    assert drawn == [STARTUP_SAMPLES] and rng.samples == STARTUP_SAMPLES


def test_startup_test_catches_a_stuck_source():
    rng = HealthTestedRng(lambda n: b"\x55" * n)
    with pytest.raises(SelfTestError):
        rng.startup_test()
    assert rng.failed_at == 6


def test_healthy_source_passes_a_long_run():
    rng = HealthTestedRng(os.urandom)
    rng.startup_test()
    total = 0
    for size in (1, 31, 512, 16384) * 63:
        total += len(rng(size))
    assert total > 1_000_000 and rng.failure is None and rng.samples == STARTUP_SAMPLES + total


@pytest.mark.parametrize("kind, test", [("stuck", "repetition count"), ("biased", "adaptive proportion")])
def test_an_armed_entropy_fault_replaces_the_samples(kind, test):
    plan = FaultPlan()
    rng = HealthTestedRng(os.urandom, faults=plan)
    rng(64)
    plan.add(Mode.DEVELOPMENT, True, entropy=kind)
    with pytest.raises(SelfTestError, match=test):
        rng.startup_test()


def test_a_module_refuses_to_start_on_a_stuck_entropy_source(tmp_path):
    from softscm.module import lifecycle

    with pytest.raises(SelfTestError, match="repetition count"):
        lifecycle.start(tmp_path / "state", rng=lambda n: bytes(n))
    assert not (tmp_path / "state").exists()  # nothing was drawn, nothing was written
