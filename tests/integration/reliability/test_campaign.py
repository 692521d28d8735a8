"""The short version of the reliability campaign (issue 17; scripts/reliability.sh runs the full
one): SIGKILLs over a mixed workload, 20,000 fuzz cases, a soak of 16 clients, secret hygiene.
Each fails on any loss, crash, rollback, untyped answer, request over 1 s or leak."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from softscm.wire.defs import Command

from ...campaign import crash, faults, fuzz, hygiene, soak
from ...campaign.rawclient import RawClient

KILLS = 60
DECODER_CASES = 10_000
COMMAND_CASES = 10_000
SOAK_SECONDS = 20.0


@pytest.fixture
def fast_dir(tmp_path):
    """tmpfs when there is one: a SIGKILL loses nothing the page cache holds, so fsync latency
    would only slow the kills down."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        yield tmp_path
        return
    directory = Path(tempfile.mkdtemp(prefix="softscm-campaign-", dir=shm))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_sigkill_over_a_mixed_workload_loses_nothing_acknowledged(fast_dir):
    report = crash.run(fast_dir / "state", KILLS, seed=17)
    assert report.failures == []
    assert report.kills == KILLS and report.acknowledged > KILLS and report.checked > 10 * KILLS


def test_torn_state_files_are_refused_typed_or_start_whole(fast_dir):
    """Found by this campaign: a torn simulated-device or RTC file raised JSONDecodeError."""
    report = faults.torn_writes(fast_dir, 8, seed=17)
    assert report.failures == [] and report.tried >= 40 and report.refused and report.intact


def test_fuzzed_frames_get_a_request_or_a_typed_error():
    report = fuzz.fuzz_decoder(DECODER_CASES, seed_value=17)
    assert report.cases >= DECODER_CASES and report.failures == []


def test_fuzzed_arguments_of_every_command_get_typed_answers_from_a_real_scmd(daemon):
    report = fuzz.fuzz_commands(str(daemon.socket), COMMAND_CASES, seed_value=17)
    assert report.cases >= COMMAND_CASES and report.failures == [], "\n".join(map(str, report.failures))
    assert report.slowest < 1.0 and len(report.statuses) > 5
    slowest = report.slowest_cases
    assert len(slowest) == fuzz.SLOWEST and slowest[0].seconds == report.slowest
    assert [case.seconds for case in slowest] == sorted((case.seconds for case in slowest), reverse=True)
    assert daemon.process.poll() is None


def test_a_failed_fuzz_case_is_kept_with_its_command_abbreviated_arguments_and_time(daemon):
    """A reply that names another request's id is a finding, kept with what was sent."""
    raw = RawClient(str(daemon.socket), timeout=10)
    raw.hello()
    report = fuzz.FuzzReport()
    args = {"size": 3, "data": bytes(range(200)), "name": "n" * 100}
    reply = raw.call(int(Command.RANDOM), args, request_id=5)
    raw.close()
    fuzz.judge(report, Command.RANDOM, args, 6, reply, 0.25, "seed 1, case 2")
    (case,) = report.failures
    assert case.command == "RANDOM" and case.seconds == 0.25 and case.where == "seed 1, case 2"
    assert "misattributed" in case.outcome and "late" not in case.outcome
    assert "<200 bytes>" in case.args and "<100 chars>" in case.args and len(case.args) < 200
    (slow,) = report.slowest_cases
    assert (slow.command, slow.args, slow.outcome, slow.seconds) == ("RANDOM", case.args, "status OK", 0.25)


def test_sixteen_clients_soak_without_errors_stalls_or_growth(daemon):
    report = soak.run(daemon.url, daemon.process.pid, SOAK_SECONDS, interval=SOAK_SECONDS / 5)
    assert report.errors == []
    assert report.requests > 1000 and report.slowest < 1.0
    assert report.rss_growth_mib < 16, report.intervals


def test_no_secret_in_state_files_logs_exports_or_a_core(daemon_factory, tmp_path):
    report = hygiene.run(daemon_factory, tmp_path)
    assert report.found == [] and report.places >= 6 and not report.core_written
