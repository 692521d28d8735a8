"""The provisioning station against real scmd processes, real cryptsetup and real FAT images:
units in parallel from one baseline, a station killed in every phase, inputs checked first,
signed records and their report."""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.x509.oid import NameOID

from softscm.certchain import parse_der, raw_public_key, verify_chain
from softscm.host.cli.main import cli
from softscm.host.luks import ClientCustody, Cryptsetup, Enroller, EnrolState
from softscm.host.provision import Phase, RecordBook, Station, StationConfig, Status, UnitSpec
from softscm.host.provision.plugins import BOOT_IMAGE, ROOT_IMAGE, LuksDisk, SignedBootPartition
from softscm.host.provision.state import StationState
from softscm.module.boot.partition import mtools_env
from softscm.wire.errors import LuksKeyError, ProvisioningError

from .station_harness import DEFAULT_PASSPHRASE

REPO = Path(__file__).resolve().parents[2]
BOOT_FILES = {"bootcode4.bin": b"\x01" * 52_000, "start4.elf": b"\x02" * 300_000}


def now() -> datetime.datetime:
    """The time to verify at: read when the check runs (the suite may collect minutes earlier)."""
    return datetime.datetime.now(datetime.timezone.utc)
CHEAP_PBKDF = ["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"]
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mkfs on loop devices needs root (CI runs as root)")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """What a factory flashes to every unit: a FAT boot partition with boot files and an ext4 root
    encrypted in place under one default passphrase (cheap PBKDF for the test)."""
    directory = tmp_path_factory.mktemp("baseline")
    boot = directory / BOOT_IMAGE
    subprocess.run(["mkfs.vfat", "-C", str(boot), "2048"], check=True, capture_output=True)
    for name, data in {"start4.elf": b"\x02" * 70_000, "config.txt": b"[all]\narm_64bit=1\n",
                       "kernel8.img": b"\x03" * 200_000}.items():
        (directory / name).write_bytes(data)
        subprocess.run(["mcopy", "-i", str(boot), str(directory / name), f"::/{name}"], check=True,
                       capture_output=True, env=mtools_env())
        (directory / name).unlink()
    root = directory / ROOT_IMAGE
    with open(root, "wb") as out:
        out.truncate(10 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(root), "6M"], check=True)
    subprocess.run(["cryptsetup", "reencrypt", "--encrypt", "--type", "luks2", "--batch-mode", "--reduce-device-size",
                    "4M", "--luks2-metadata-size", "16k", "--luks2-keyslots-size", "2m", *CHEAP_PBKDF, "--key-file",
                    "-", str(root)], input=DEFAULT_PASSPHRASE, check=True, capture_output=True)
    return directory


def unit_image(baseline: Path, path: Path) -> Path:
    """A unit's copy of the baseline."""
    shutil.copytree(baseline, path)
    return path


@needs_root
def test_two_units_from_one_baseline_in_parallel(tmp_path, daemon_factory, baseline):
    baseline_key = Cryptsetup().metadata(baseline / ROOT_IMAGE).segment_digest().value
    images = [unit_image(baseline, tmp_path / "unit1"), unit_image(baseline, tmp_path / "unit2")]
    ca = daemon_factory("ca")
    units = [daemon_factory(f"u{i}", "--boot-partition", str(image / BOOT_IMAGE)) for i, image in enumerate(images)]
    station_dir = tmp_path / "station"
    config = StationConfig(station_dir, ca.url, disk=LuksDisk(DEFAULT_PASSPHRASE), boot=SignedBootPartition(),
                           boot_files=BOOT_FILES, production=True, organization="Example Devices")
    with pytest.raises(LuksKeyError), \
            Station(dataclasses.replace(config, directory=tmp_path / "wrong", disk=LuksDisk(b"wrong"))) as wrong:
        wrong.check([UnitSpec(units[0].url, images[0])])  # inputs first: a wrong passphrase changes nothing
    seen = []
    with Station(config, on_progress=seen.append) as station:
        outcomes = station.run([UnitSpec(u.url, image) for u, image in zip(units, images)])
        ca_cert = station.ca_certificate
        assert [o.completed for o in outcomes] == [True, True], [o.error for o in outcomes]
        assert all(set(o.statuses.values()) == {Status.DONE} for o in outcomes)
        assert [c.ok for c in station.book.check_all([ca_cert])] == [True, True]
        records = {r.record.serial: r.record for r in station.book}
    assert {(p.phase, p.step) for p in seen} >= {(Phase.DISK, "rekey-data"), (Phase.BOOT, "sign")}
    volume_keys, uuids, leaves = set(), set(), []
    for outcome, daemon, image in zip(outcomes, units, images):
        record = records[outcome.serial]
        with daemon.connect() as unit:
            status = Enroller(ClientCustody(unit)).status(image / ROOT_IMAGE)
            assert status.state is EnrolState.REKEYED and status.serial == outcome.serial
            assert not status.default_keyslots and record.luks_keyslots == status.keyslots
            volume_keys.add(status.volume_key_digest)
            uuids.add(status.uuid)
            with pytest.raises(LuksKeyError):
                Cryptsetup().test_key(image / ROOT_IMAGE, DEFAULT_PASSPHRASE)  # the baseline passphrase is gone
            Enroller(ClientCustody(unit)).unlock_key(image / ROOT_IMAGE)  # the unit's own key opens the volume
            assert unit.boot_verify(image=str(image / BOOT_IMAGE)).ok
            manifest = unit.boot_manifest()
            assert record.manifest_version == manifest.security_version == 1
            assert {f.path for f in manifest.files} >= {"start4.elf", "kernel8.img", "config.txt"}
            assert unit.get_binding_info()[0] is True and record.production  # production
            assert record.signing_key == unit.get_public_key(0)
            assert unit.get_certificate_chain(0) == list(record.certificate_chain)
            assert unit.verify_certificate_chain(0) == "station"
            assert unit.get_file("boot/start4.elf") == BOOT_FILES["start4.elf"]
        chain = [parse_der(d) for d in record.certificate_chain]
        assert verify_chain(chain, [ca_cert], at=now(), public_key=record.signing_key) == ca_cert
        assert chain[0].subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == outcome.serial
        assert chain[0].subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Example Devices"
        assert record.self_test["passed"] and set(record.boot_files) == {"boot/bootcode4.bin", "boot/start4.elf"}
        leaves.append(raw_public_key(chain[0].public_key()))
    assert len(volume_keys) == 2 and baseline_key not in volume_keys  # each unit its own volume key
    assert len(uuids) == 2 and leaves[0] != leaves[1]
    assert {stat_mode(station_dir), stat_mode(station_dir / "station.db"), stat_mode(station_dir / "records.db")} \
        == {0o700, 0o600}

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
                           unit_url, str(image_path), *kill_at], input=DEFAULT_PASSPHRASE, cwd=REPO,
                          capture_output=True, timeout=120).returncode


KILL_POINTS = [("configure", "files"), ("disk", "add-key"), ("disk", "rekey-data"), ("boot", "verify"),
               ("certificate", "issued"), ("lock", "locked"), ("record", "signed"), ("record", "inserted")]


@needs_root
def test_station_killed_in_each_phase_resumes_to_one_complete_consistent_unit(tmp_path, daemon_factory, baseline):
    img = unit_image(baseline, tmp_path / "unit")
    ca, unit = daemon_factory("ca"), daemon_factory("u1", "--boot-partition", str(img / BOOT_IMAGE))
    station_dir = tmp_path / "station"
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
    result = CliRunner().invoke(cli, ["--json", "provision", "run", "--station-dir", str(station_dir), "--ca-url", ca.url,
                                      "--unit", f"{unit.url}={img}", "--disk", "--boot", "1", "--production"],
                                input=DEFAULT_PASSPHRASE + b"\n")  # the last run, through scmctl
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["phases"]["disk"] == "done"
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
        status = Enroller(ClientCustody(client)).status(img / ROOT_IMAGE)
        assert status.state is EnrolState.REKEYED and status.keyslots == record.luks_keyslots
        Enroller(ClientCustody(client)).unlock_key(img / ROOT_IMAGE)
        assert client.boot_verify(image=str(img / BOOT_IMAGE)).ok


def test_inputs_are_checked_before_anything_changes(tmp_path, daemon_factory):
    ca, first, second = daemon_factory("ca"), daemon_factory("u1"), daemon_factory("u2")
    station_dir = tmp_path / "station"
    img, other = tmp_path / "a.img", tmp_path / "b.img"
    img.write_bytes(bytes(4096))
    other.write_bytes(bytes(4096))
    with Station(StationConfig(station_dir, ca.url)) as station:
        with pytest.raises(ProvisioningError, match="does not exist"):
            station.run([UnitSpec(first.url, tmp_path / "missing.img")])
        with pytest.raises(ProvisioningError, match="same disk image"):
            station.run([UnitSpec(first.url, img), UnitSpec(second.url, img)])
        with pytest.raises(ProvisioningError, match="same module"):
            station.run([UnitSpec(first.url, img), UnitSpec(first.url, other)])
        with pytest.raises(ProvisioningError, match="boot file"), \
                Station(StationConfig(tmp_path / "other", ca.url, boot_files={"boot/start4.elf": b"x"})) as bad:
            bad.check([UnitSpec(first.url, img)])
        with pytest.raises(ProvisioningError, match="has no root.img"), \
                Station(StationConfig(tmp_path / "other", ca.url, disk=LuksDisk(b"x"))) as bad:
            bad.check([UnitSpec(first.url, img)])
        with pytest.raises(ProvisioningError, match="station's own module"):
            station.run([UnitSpec(ca.url, img)])
        with second.connect() as client:
            client.lock_binding()
        with pytest.raises(ProvisioningError, match="production mode already"):
            station.run([UnitSpec(first.url, img), UnitSpec(second.url, other)])
        assert station.state.setting("ca_slot") is None  # nothing was set up, not even the CA
        assert len(station.book) == 0
    with first.connect() as client:
        assert client.get_binding_info()[0] is False
    boot_file = tmp_path / "start4.elf"
    boot_file.write_bytes(b"\x02" * 4000)
    result = CliRunner().invoke(cli, ["--json", "provision", "run", "--station-dir", str(station_dir), "--ca-url",
                                      ca.url, "--unit", f"{first.url}={img}", "--boot-file", str(boot_file)])
    assert result.exit_code == 0, result.output
    [unit] = json.loads(result.stdout)
    assert unit["completed"] and unit["phases"] == {"configure": "done", "disk": "skipped", "boot": "skipped",
                                                    "certificate": "done", "lock": "skipped", "record": "done"}
    with first.connect() as client:
        assert client.get_file("boot/start4.elf") == boot_file.read_bytes()
    result = CliRunner().invoke(cli, ["provision", "run", "--station-dir", str(station_dir), "--ca-url", ca.url,
                                      "--unit", f"{first.url}={other}"])
    assert result.exit_code == 1 and "was started with image" in result.output
