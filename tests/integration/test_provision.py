"""The provisioning station against real scmd processes: parallel units, interruptions, inputs, records."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.x509.oid import NameOID

from softscm.certchain import parse_der, raw_public_key, verify_chain
from softscm.host.cli.main import cli
from softscm.host.provision import Phase, RecordBook, Station, StationConfig, Status, UnitSpec
from softscm.host.provision.state import StationState
from softscm.wire.errors import ProvisioningError

REPO = Path(__file__).resolve().parents[2]
BOOT_FILES = {"bootcode4.bin": b"\x01" * 52_000, "start4.elf": b"\x02" * 300_000}
NOW = datetime.datetime.now(datetime.timezone.utc)


def image(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(bytes(64 * 1024))
    return path


def test_two_units_in_parallel_each_get_their_own_certificate_and_a_signed_record(tmp_path, daemon_factory):
    ca, first, second = daemon_factory("ca"), daemon_factory("u1"), daemon_factory("u2")
    station_dir = tmp_path / "station"
    seen = []
    config = StationConfig(station_dir, ca.url, production=True, organization="Example Devices", boot_files=BOOT_FILES)
    with Station(config, on_progress=seen.append) as station:
        outcomes = station.run([UnitSpec(first.url, image(tmp_path, "a.img")), UnitSpec(second.url, image(tmp_path, "b.img"))])
        ca_cert = station.ca_certificate
    assert [o.completed for o in outcomes] == [True, True]
    assert {p.unit for p in seen} == {o.serial for o in outcomes}
    assert outcomes[0].statuses[Phase.DISK] is Status.SKIPPED and outcomes[0].statuses[Phase.LOCK] is Status.DONE
    book = RecordBook(station_dir)
    records = {r.record.serial: r.record for r in book}
    assert [c.ok for c in book.check_all([ca_cert])] == [True, True]
    book.close()
    leaves = []
    for outcome, daemon in zip(outcomes, (first, second)):
        record = records[outcome.serial]
        with daemon.connect() as unit:
            assert unit.get_binding_info()[0] is True  # production
            assert record.signing_key == unit.get_public_key(0)
            assert unit.get_certificate_chain(0) == list(record.certificate_chain)
            assert unit.verify_certificate_chain(0) == "station"
            assert unit.get_file("boot/start4.elf") == BOOT_FILES["start4.elf"]
            assert set(record.boot_files) == {"boot/bootcode4.bin", "boot/start4.elf"}
        chain = [parse_der(d) for d in record.certificate_chain]
        assert verify_chain(chain, [ca_cert], at=NOW, public_key=record.signing_key) == ca_cert
        assert chain[0].subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == outcome.serial
        assert chain[0].subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Example Devices"
        leaves.append(chain[0])
        assert record.production and record.self_test["passed"] and record.token_digest is None
    assert raw_public_key(leaves[0].public_key()) != raw_public_key(leaves[1].public_key())
    assert stat_mode(station_dir) == 0o700 and stat_mode(station_dir / "station.db") == 0o600
    assert stat_mode(station_dir / "records.db") == 0o600

    result = CliRunner().invoke(cli, ["--json", "provision", "report", "--station-dir", str(station_dir),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    assert sorted(r["serial"] for r in json.loads(result.stdout) if r["verified"]) == sorted(records)

    book = RecordBook(station_dir)  # a row edited behind the station's back
    body = bytes(book._db.execute("SELECT body FROM records WHERE serial=?", (outcomes[0].serial,)).fetchone()[0])
    book._db.execute("UPDATE records SET body=? WHERE serial=?",
                     (body.replace(b"softscm-SCM", b"softscm-XXX"), outcomes[0].serial))
    book.close()
    result = CliRunner().invoke(cli, ["provision", "report", "--station-dir", str(station_dir)])
    assert result.exit_code == 4 and f"{outcomes[0].serial}: the record" in result.output
    assert outcomes[1].serial not in result.output.split("do not verify")[1]


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def harness(station_dir: Path, ca_url: str, unit_url: str, image_path: Path, *kill_at: str) -> int:
    return subprocess.run([sys.executable, "-m", "tests.integration.station_harness", str(station_dir), ca_url,
                           unit_url, str(image_path), *kill_at], cwd=REPO, capture_output=True, timeout=60).returncode


KILL_POINTS = [("configure", "files"), ("disk", "start"), ("boot", "start"), ("certificate", "issued"),
               ("lock", "locked"), ("record", "signed"), ("record", "inserted")]


def test_station_killed_in_each_phase_resumes_to_one_complete_consistent_unit(tmp_path, daemon_factory):
    ca, unit = daemon_factory("ca"), daemon_factory("u1")
    station_dir, img = tmp_path / "station", image(tmp_path, "a.img")
    with unit.connect() as client:
        serial, factory_key = client.info().serial, client.get_public_key(0)
    issued = None
    for phase, step in KILL_POINTS:
        assert harness(station_dir, ca.url, unit.url, img, phase, step) == -9  # SIGKILL, mid-phase
        state = StationState(station_dir)
        rows = state.phases(serial)
        state.close()
        assert rows[Phase[phase.upper()]].status is Status.RUNNING
        if (phase, step) == ("certificate", "issued"):
            issued = rows[Phase.CERTIFICATE].partial["chain"]
    assert harness(station_dir, ca.url, unit.url, img) == 0
    assert harness(station_dir, ca.url, unit.url, img) == 0  # a rerun of a finished unit changes nothing
    state = StationState(station_dir)
    rows = state.phases(serial)
    ca_cert = parse_der(state.setting("ca_certificate"))
    state.close()
    assert all(row.status is Status.DONE for row in rows.values())
    book = RecordBook(station_dir)
    assert len(book) == 1
    [signed] = list(book)
    assert [c.ok for c in book.check_all([ca_cert])] == [True]
    book.close()
    record = signed.record
    assert list(record.certificate_chain) == issued  # issued once, before the kill; never again
    assert record.signing_key == factory_key and record.production and record.manifest_version == 1
    with unit.connect() as client:
        assert client.get_binding_info()[0] is True
        assert client.get_certificate_chain(0) == issued and client.verify_certificate_chain(0, root="station")
        assert [f.name for f in client.list_files()] == ["boot/bootcode4.bin", "boot/start4.elf"]
        assert tuple((s, t.label) for s, t in client.list_slots().slots) == record.keyslot_layout


def test_inputs_are_checked_before_anything_changes(tmp_path, daemon_factory):
    ca, first, second = daemon_factory("ca"), daemon_factory("u1"), daemon_factory("u2")
    station_dir, img = tmp_path / "station", image(tmp_path, "a.img")
    with Station(StationConfig(station_dir, ca.url)) as station:
        with pytest.raises(ProvisioningError, match="not a file"):
            station.run([UnitSpec(first.url, tmp_path / "missing.img")])
        with pytest.raises(ProvisioningError, match="same disk image"):
            station.run([UnitSpec(first.url, img), UnitSpec(second.url, img)])
        with pytest.raises(ProvisioningError, match="same module"):
            station.run([UnitSpec(first.url, img), UnitSpec(first.url, image(tmp_path, "b.img"))])
        with pytest.raises(ProvisioningError, match="boot file"), \
                Station(StationConfig(tmp_path / "other", ca.url, boot_files={"boot/start4.elf": b"x"})) as other:
            other.check([UnitSpec(first.url, img)])
        with pytest.raises(ProvisioningError, match="station's own module"):
            station.run([UnitSpec(ca.url, img)])
        with second.connect() as client:
            client.lock_binding()
        with pytest.raises(ProvisioningError, match="production mode already"):
            station.run([UnitSpec(first.url, img), UnitSpec(second.url, image(tmp_path, "b.img"))])
        assert station.state.setting("ca_slot") is None  # nothing was set up, not even the CA
        assert len(station.book) == 0
    with first.connect() as client:
        assert client.get_binding_info()[0] is False
    boot_file = tmp_path / "start4.elf"
    boot_file.write_bytes(b"\x02" * 4000)
    result = CliRunner().invoke(cli, ["--json", "provision", "run", "--station-dir", str(station_dir), "--ca-url",
                                      ca.url, "--unit", f"{first.url}={img}", "--boot-file", str(boot_file)])
    assert result.exit_code == 0, result.output
    with first.connect() as client:
        assert client.get_file("boot/start4.elf") == boot_file.read_bytes()
    [unit] = json.loads(result.stdout)
    assert unit["completed"] and unit["phases"] == {"configure": "done", "disk": "skipped", "boot": "skipped",
                                                    "certificate": "done", "lock": "skipped", "record": "done"}
    result = CliRunner().invoke(cli, ["provision", "run", "--station-dir", str(station_dir), "--ca-url", ca.url,
                                      "--unit", f"{first.url}={image(tmp_path, 'c.img')}"])
    assert result.exit_code == 1 and "was started with image" in result.output
