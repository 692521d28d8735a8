"""The full reliability campaign (``scripts/reliability.sh``): crash consistency, faults, fuzzing,
a soak and secret hygiene against real daemons, with RELIABILITY.md rewritten from the figures.

Usage: ``python -m tests.campaign.run [--kills N] [--fuzz N] [--soak SECONDS] [--out FILE]``.
Exits 1 if anything was lost, crashed, rolled back, answered untyped, stalled or leaked. Every
failure found is printed and listed in RELIABILITY.md's findings, with the slowest fuzzed commands.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import crash, faults, fuzz, hygiene, soak

ROOT = Path(__file__).resolve().parents[2]
SHOWN = 50
"""Failures of one part listed in full (the rest are counted)."""


class Findings:
    """The failures of each part, printed as they are found, and the slowest served commands."""

    def __init__(self) -> None:
        self.failed: list[tuple[str, list[str]]] = []
        self.slowest: list[fuzz.Case] = []

    def add(self, part: str, failures: list[Any]) -> None:
        """Record (and print) ``part``'s failures, if any."""
        if not failures:
            return
        self.failed.append((part, [str(failure) for failure in failures]))
        print(f"  {len(failures)} failed in {part}:", flush=True)
        for failure in failures[:SHOWN]:
            print(f"    {failure}", flush=True)

    def lines(self) -> list[str]:
        """The findings section of RELIABILITY.md."""
        lines = ["## Findings of this run", ""]
        for part, failures in self.failed:
            lines.append(f"- **{len(failures)} failed in {part}**:")
            lines += [f"  - `{_code(failure)}`" for failure in failures[:SHOWN]]
            if len(failures) > SHOWN:
                lines.append(f"  - and {len(failures) - SHOWN} more")
        if not self.failed:
            lines.append("- None: nothing was lost, crashed, rolled back, answered untyped, late or leaked.")
        if self.slowest:
            lines += ["", f"The {len(self.slowest)} slowest commands of the command fuzzing (what came closest to "
                      f"the {fuzz.LATE:.0f} s limit):", "", "| ms | command | arguments | reply | when | case |",
                      "|---|---|---|---|---|---|",
                      *[f"| {c.seconds * 1000:.0f} | {c.command} | `{_code(c.args)}` | {_code(c.outcome)} | {c.when} | "
                        f"{c.where} |" for c in self.slowest]]
        return lines + [""]


def _code(text: str) -> str:
    """``text`` fit for a Markdown code span in a table (no backticks, no pipes, no newlines)."""
    return text.replace("`", "'").replace("|", "\\|").replace("\n", " ")


class Daemons:
    """Start real scmd processes (the test suite's Daemon) and stop them all at the end."""

    def __init__(self, base: Path) -> None:
        from tests.conftest import Daemon

        self._base, self._cls, self.started = base, Daemon, []

    def __call__(self, name: str = "scm", *args: str) -> Any:
        daemon = self._cls(self._base / name, self._base / f"{name}.sock", list(args), env={**os.environ}).start()
        self.started.append(daemon)
        return daemon

    def stop(self) -> None:
        for daemon in self.started:
            daemon.stop()


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           cwd=ROOT).stdout.strip()
    return done.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def _fault_tests() -> tuple[int, list[str], float]:
    """The fault tests of the suite (rollback, corrupt index, full/read-only disks, memory...):
    how many passed, the failed ones (pytest's short summary lines) and the seconds they took."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider",
                           "tests/integration/reliability", "tests/unit/audit/test_storage_full.py",
                           "--ignore", "tests/integration/reliability/test_campaign.py"],
                          capture_output=True, text=True, cwd=ROOT)
    lines = done.stdout.strip().splitlines()
    last = (lines or [""])[-1]
    passed = int(last.split(" passed")[0].split()[-1]) if " passed" in last else 0
    failed = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    if done.returncode != 0 and not failed:
        failed = [f"pytest exited with {done.returncode}: {last}"]
    return passed, failed, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--fuzz", type=int, default=1_000_000, help="fuzz cases in all (decoder and commands)")
    parser.add_argument("--command-fuzz", type=int, default=None,
                        help="of those, cases through the real scmd (default: half)")
    parser.add_argument("--soak", type=float, default=600.0, help="soak seconds")
    parser.add_argument("--torn", type=int, default=50, help="torn writes per state file")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--out", type=Path, default=ROOT / "RELIABILITY.md")
    options = parser.parse_args()

    commit = _commit()  # what the figures are measured at (the tree may move on while it runs)
    work = Path(tempfile.mkdtemp(prefix="softscm-reliability-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK)
                                 else None))
    daemons = Daemons(work)
    rows: list[tuple[str, str, str]] = []
    findings = Findings()
    ok = True
    try:
        print(f"crash consistency: {options.kills} kills ...", flush=True)
        kills = crash.run(work / "crash", options.kills, seed=options.seed)
        ok &= not kills.failures
        findings.add("crash consistency", kills.failures)
        rows.append(("crash consistency (SIGKILL over a mixed workload)",
                     f"{kills.kills} kills, {kills.acknowledged} acknowledged operations, {kills.checked} checks after "
                     f"restarts, {kills.seconds:.0f} s", f"{len(kills.failures)} lost or resurrected"))
        print("faults ...", flush=True)
        torn = faults.torn_writes(work / "torn", options.torn, seed=options.seed)
        passed, failed, seconds = _fault_tests()
        ok &= not torn.failures and not failed
        findings.add("torn writes", torn.failures)
        findings.add("the fault tests", failed)
        rows.append(("torn writes of each state file", f"{torn.tried} cuts: {torn.refused} refused (typed), "
                     f"{torn.intact} started whole", f"{len(torn.failures)} untyped or short"))
        rows.append(("fault tests (WAL deleted/truncated/flipped, old keystore copy, corrupt index pages, "
                     "ENOSPC, read-only and unwritable directories, 60 x 4 MiB partial frames, core dumps, "
                     "first-init kills, typed refusals)", f"{passed} tests, {seconds:.0f} s", f"{len(failed)} failed"))
        through_scmd = options.fuzz // 2 if options.command_fuzz is None else min(options.command_fuzz, options.fuzz)
        print(f"fuzzing: {options.fuzz} cases ...", flush=True)
        started = time.monotonic()
        decoder = fuzz.fuzz_decoder(options.fuzz - through_scmd, seed_value=options.seed)
        daemon = daemons("fuzz")
        commands = fuzz.fuzz_commands(str(daemon.socket), through_scmd, seed_value=options.seed)
        ok &= not decoder.failures and not commands.failures and daemon.process.poll() is None
        findings.add("frame decoder fuzzing", decoder.failures)
        findings.add("command fuzzing (untyped, late, lost or misattributed)", commands.failures)
        findings.slowest = commands.slowest_cases
        print("  slowest fuzzed commands:", flush=True)
        for case in findings.slowest:
            print(f"    {case}", flush=True)
        rows.append(("fuzzing (hypothesis): frame decoder", f"{decoder.cases} cases",
                     f"{len(decoder.failures)} untyped"))
        rows.append(("fuzzing (hypothesis): every command's arguments through a real scmd",
                     f"{commands.cases} cases, slowest reply {commands.slowest * 1000:.0f} ms, "
                     f"{time.monotonic() - started:.0f} s in all",
                     f"{len(commands.failures)} untyped, late or lost"))
        print(f"soak: {options.soak:.0f} s ...", flush=True)
        daemon = daemons("soak")
        soaked = soak.run(daemon.url, daemon.process.pid, options.soak, interval=max(5.0, options.soak / 20))
        ok &= not soaked.errors and soaked.slowest < 1.0 and soaked.rss_growth_mib < 16
        findings.add("the soak", soaked.errors + ([f"a request took {soaked.slowest * 1000:.0f} ms"]
                                                  if soaked.slowest >= 1.0 else []))
        rows.append((f"soak: {soak.CLIENTS} clients", f"{soaked.seconds:.0f} s, {soaked.requests} requests, slowest "
                     f"{soaked.slowest * 1000:.0f} ms, RSS growth after warm-up {soaked.rss_growth_mib:+.1f} MiB",
                     f"{len(soaked.errors)} errors"))
        print("secret hygiene ...", flush=True)
        clean = hygiene.run(daemons, work)
        ok &= not clean.found and not clean.core_written
        findings.add("secret hygiene", clean.found + (["a core was written"] if clean.core_written else []))
        rows.append(("secret hygiene", f"{clean.needles} secret patterns in {clean.places} files (state, DEBUG log, "
                     "log export, client errors), and a forced core",
                     f"{len(clean.found)} found, core {'written' if clean.core_written else 'none'}"))
    finally:
        daemons.stop()
        shutil.rmtree(work, ignore_errors=True)
    _write(options.out, rows, soaked.intervals if "soaked" in locals() else [], findings, ok, options, commit)
    print(f"{'PASS' if ok else 'FAIL'}: {options.out}")
    return 0 if ok else 1


def _write(path: Path, rows: list[tuple[str, str, str]], intervals: list[dict[str, float]], findings: Findings,
           ok: bool, options: argparse.Namespace, commit: str) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Reliability campaign",
        "",
        "Regenerated by `scripts/reliability.sh` (issue 17). The test suite runs a short version of each part",
        "(`tests/integration/reliability/test_campaign.py`: 60 kills, 20,000 fuzz cases, a 20 s soak).",
        "",
        f"Measured {now} at commit {commit}, on {os.cpu_count()} cores, seed {options.seed}: "
        f"**{'no loss, no crash, no rollback, no untyped answer, no stall, no leak' if ok else 'FAILURES, see below'}**.",
        "",
        "| part | what ran | result |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
    ]
    if intervals:
        lines += ["Soak over time (resident memory of scmd, p99 latency of the requests in each interval):", "",
                  "| t (s) | RSS (MiB) | p99 (ms) | requests |", "|---|---|---|---|",
                  *[f"| {i['t']} | {i['rss_mib']} | {i['p99_ms']} | {i['requests']} |" for i in intervals], ""]
    lines += findings.lines()
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
