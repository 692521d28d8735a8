"""Self tests through a real module: a failure is fatal, typed, logged and visible."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import softscm
from softscm.embedded import open_embedded
from softscm.module.module import ModuleConfig
from softscm.module.selftest.kat import KAT_NAMES
from softscm.module.sensors.linux import LinuxPaths
from softscm.wire.errors import ModuleStateError, NotPermittedError, SensorUnavailableError

from ..conftest import Daemon, fake_sysfs

DIGEST = bytes(32)


@pytest.fixture
def faulty(tmp_path):
    with open_embedded(tmp_path / "state", config=ModuleConfig(fault_injection=True)) as scm:
        yield scm


def _assert_error_state(scm, reason: str) -> None:
    status = scm.status()
    assert status.state.name == "ERROR" and reason in status.error
    with pytest.raises(ModuleStateError):
        scm.sign(0, DIGEST)
    with pytest.raises(ModuleStateError):
        scm.gen_key_pair("ed25519")
    entries, _ = scm.read_log(events=["SELF_TEST_FAILED"])  # log export keeps working
    assert entries and reason in entries[-1].details["reason"]
    assert scm.get_led().code in ("6", "7")


@pytest.mark.parametrize("where", ["input", "expected"])
@pytest.mark.parametrize("kat", KAT_NAMES[::3])
def test_a_failed_kat_puts_the_module_in_error(faulty, kat, where):
    faulty.sign(0, DIGEST)
    faulty.inject_fault(kat=kat, where=where)
    report = faulty.run_self_test()
    assert not report.passed and [r.name for r in report.results if not r.passed] == [kat]
    _assert_error_state(faulty, kat)


@pytest.mark.parametrize("target", ["code", "keystore", "key_material"])
def test_a_failed_integrity_check_puts_the_module_in_error(faulty, target):
    faulty.inject_fault(integrity=target)
    assert not faulty.run_self_test(full=False).passed
    _assert_error_state(faulty, "self test failed")
    assert faulty.get_led().code == "6"


@pytest.mark.parametrize("kind", ["stuck", "biased"])
def test_a_bad_entropy_source_puts_the_module_in_error(faulty, kind):
    faulty.inject_fault(entropy=kind)
    assert not faulty.run_self_test().passed
    _assert_error_state(faulty, "rng_health")


def test_fault_injection_is_unreachable_in_production_and_by_default(tmp_path, faulty):
    with softscm.connect(f"embedded:{tmp_path / 'plain'}") as plain:
        with pytest.raises(NotPermittedError):
            plain.inject_fault(kat="sha256")
    faulty.lock_binding()
    with pytest.raises(NotPermittedError):
        faulty.inject_fault(kat="sha256")


def test_power_on_self_test_time_is_reported(daemon):
    result = subprocess.run([sys.executable, "-m", "softscm.host.cli.main", "--url", daemon.url, "--json", "admin",
                             "status"], capture_output=True, text=True, timeout=30)
    import json

    post = json.loads(result.stdout)["self_test"]["power-on"]
    assert post["passed"] and 0 < post["seconds"] < 5


def _wait_for_error(scm, seconds: float = 10) -> None:
    """Until a background check puts the module in ERROR (or ``seconds`` pass)."""
    deadline = time.monotonic() + seconds
    while scm.status().state.name != "ERROR" and time.monotonic() < deadline:
        time.sleep(0.1)


def _copied_package(tmp_path: Path) -> dict[str, str]:
    copy = tmp_path / "pkg"
    shutil.copytree(Path(softscm.__file__).parent, copy / "softscm", ignore=shutil.ignore_patterns("__pycache__"))
    return {**os.environ, "PYTHONPATH": str(copy)}


def _touch_source(env: dict[str, str]) -> None:
    target = Path(env["PYTHONPATH"]) / "softscm" / "module" / "commands" / "admin.py"
    target.write_text(target.read_text() + "\n# one more line\n")


def test_changed_source_file_is_caught_at_the_next_start(tmp_path):
    env = _copied_package(tmp_path)
    daemon = Daemon(tmp_path / "state", tmp_path / "s.sock", env=env).start()
    with daemon.connect() as scm:
        assert scm.status().state.name == "READY"
    daemon.stop()
    _touch_source(env)
    daemon.start()
    try:
        with daemon.connect() as scm:
            _assert_error_state(scm, "code_digest")
    finally:
        daemon.stop()


def test_changed_source_file_is_caught_by_the_background_check(tmp_path):
    env = _copied_package(tmp_path)
    daemon = Daemon(tmp_path / "state", tmp_path / "s.sock", ["--selftest-interval", "0.2", "0.4"], env=env).start()
    try:
        with daemon.connect() as scm:
            assert scm.status().state.name == "READY"
            _touch_source(env)
            _wait_for_error(scm)
            _assert_error_state(scm, "code_digest")
    finally:
        daemon.stop()


def test_changed_wrapped_key_is_caught_by_the_background_check(tmp_path):
    daemon = Daemon(tmp_path / "state", tmp_path / "s.sock", ["--selftest-interval", "0.2", "0.4"]).start()
    try:
        with daemon.connect() as scm:
            slot = scm.gen_key_pair("ed25519")
            db = sqlite3.connect(daemon.state_dir / "keystore.db")
            wrapped = bytearray(db.execute("SELECT wrapped FROM keys WHERE slot=?", (slot,)).fetchone()[0])
            wrapped[15] ^= 1
            db.execute("UPDATE keys SET wrapped=? WHERE slot=?", (bytes(wrapped), slot))
            db.commit()
            db.close()
            _wait_for_error(scm)
            _assert_error_state(scm, "keystore")
    finally:
        daemon.stop()


def test_a_sensor_that_does_not_answer_fails_the_power_on_self_test(tmp_path):
    config = ModuleConfig(linux_sensors=LinuxPaths.under(tmp_path / "empty-root"))
    with open_embedded(tmp_path / "state", config=config) as scm:
        report = scm.status().self_test["power-on"]
        assert not report.passed
        _assert_error_state(scm, "sensor_rtc")


def test_production_drops_faults_armed_in_development(faulty):
    faulty.inject_fault(kat=KAT_NAMES[0])
    faulty.lock_binding()
    assert faulty.run_self_test().passed
    assert faulty.status().state.name == "READY"


def test_a_sensor_that_stops_answering_is_a_typed_error_and_the_module_keeps_serving(tmp_path):
    fake_sysfs(tmp_path / "root")
    thermal = tmp_path / "root/sys/class/thermal/thermal_zone0/temp"
    config = ModuleConfig(linux_sensors=LinuxPaths.under(tmp_path / "root"))
    with open_embedded(tmp_path / "state", config=config) as scm:
        assert scm.status().state.name == "READY" and scm.get_cpu_temp() == 47.5
        thermal.unlink()
        with pytest.raises(SensorUnavailableError, match="thermal_zone0"):
            scm.get_cpu_temp()
        (tmp_path / "root/sys/class/rtc/rtc0/since_epoch").unlink()
        with pytest.raises(SensorUnavailableError):
            scm.get_rtc_drift()
        assert abs(scm.get_module_time() - time.time()) < 60  # the host's clock while the RTC is out
        scm.sign(0, DIGEST)
        thermal.write_text("51000\n")
        assert scm.get_cpu_temp() == 51.0
