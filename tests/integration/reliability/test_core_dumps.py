"""scmd dumps no core whatever limit it inherits (a core would hold unwrapped keys: issue 17,
defect 4), and its systemd unit runs it unprivileged with dumps off."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def unlimited_cores():
    """Let children inherit ``ulimit -c unlimited`` (as the adversarial run did)."""
    saved = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (saved[1], saved[1]))
    yield saved[1]
    resource.setrlimit(resource.RLIMIT_CORE, saved)


def _core_limit(pid: int) -> tuple[str, str]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            soft, hard = line.split()[4:6]
            return soft, hard
    raise AssertionError("no core limit line")


def test_scmd_sets_its_core_limit_to_zero(unlimited_cores, daemon_factory):
    if unlimited_cores == 0:
        pytest.skip("the hard core limit here is already 0")
    daemon = daemon_factory()
    assert _core_limit(daemon.process.pid) == ("0", "0")


def test_the_daemon_hardening_makes_the_process_undumpable(unlimited_cores):
    code = ("from softscm.module.hardening import disable_core_dumps, is_dumpable\n"
            "import resource\n"
            "before = is_dumpable()\n"
            "disable_core_dumps()\n"
            "print(before, is_dumpable(), resource.getrlimit(resource.RLIMIT_CORE))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split(None, 2)
    assert out == ["True", "False", "(0, 0)\n"]


def test_the_unit_runs_scmd_unprivileged_with_dumps_off():
    service: dict[str, list[str]] = {}
    section = ""
    for line in (ROOT / "deploy" / "scmd.service").read_text().splitlines():
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            name, _, value = line.partition("=")
            service.setdefault(name, []).append(value)
    service = {name: " ".join(values) for name, values in service.items()}
    assert service["LimitCORE"] == "0"
    assert service["User"] == "softscm" and service["NoNewPrivileges"] == "yes"
    assert service["CapabilityBoundingSet"] == "" and service["StateDirectory"] == "softscm"
    assert "@system-service" in service["SystemCallFilter"]
    assert "u softscm" in (ROOT / "deploy" / "softscm.sysusers.conf").read_text()


def test_sigabrt_with_unlimited_cores_writes_no_core(unlimited_cores, daemon_factory, tmp_path):
    """The adversarial run's SIGABRT left a 25 MB core holding keys; now nothing is written."""
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    if pattern.startswith("|") or "/" in pattern or unlimited_cores == 0:
        pytest.skip(f"cores are not written to the working directory here (core_pattern {pattern!r})")
    import os
    import signal

    cwd = os.getcwd()
    os.chdir(tmp_path)  # scmd inherits it: a core named by core_pattern would land here
    try:
        daemon = daemon_factory()
    finally:
        os.chdir(cwd)
    with daemon.connect() as scm:
        scm.import_key("secp256k1", bytes(range(1, 33)))
    daemon.process.send_signal(signal.SIGABRT)
    daemon.process.wait(timeout=10)
    assert daemon.process.returncode == -signal.SIGABRT
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("core")]
