"""The audit log through a real module: offline export and verification, full disk, host events,
and extraction from a destroyed module."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys

import cbor2
import pytest

from softscm.host.events import HostWatcher
from softscm.sealedlog.reader import log_path, read_log
from softscm.sealedlog.verify import verify



def scmctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "softscm.host.cli.main", *args], capture_output=True, text=True,
                          timeout=60)


def test_export_and_verify_a_copy_of_a_stopped_module(daemon, tmp_path):
    with daemon.connect() as scm:
        for kind in ("ed25519", "secp256k1"):
            scm.gen_key_pair(kind)
        scm.record_host_event("network_up", interface="eth0")
        keys = scm.log_keys(claim=True)
        trusted = scm.log_checkpoint()
    daemon.stop()
    copy = tmp_path / "copy"
    shutil.copytree(daemon.state_dir, copy)
    (tmp_path / "trusted.json").write_text(trusted.to_json() + "\n")
    exported = scmctl("log", "export", "--state-dir", str(copy), "--out", str(tmp_path / "log.jsonl"))
    assert exported.returncode == 0, exported.stderr
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    names = [json.loads(line).get("name") for line in lines]
    assert names.count("KEY_GENERATED") == 2 and "HOST_EVENT" in names and names[-1] is None  # checkpoints last
    public = keys.public_key.hex()
    ok = subprocess.run([sys.executable, "-m", "softscm.host.cli.main", "log", "verify", str(tmp_path / "log.jsonl"),
                         "--public-key", public, "--mac-key", "--trusted", str(tmp_path / "trusted.json")],
                        input=keys.initial_mac_key.hex() + "\n", capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "MACs checked" in ok.stdout, ok.stderr
    db = sqlite3.connect(log_path(copy))
    db.execute("UPDATE entries SET details=? WHERE seq=3", (cbor2.dumps({"edited": True}, canonical=True),))
    db.commit()
    db.close()
    bad = scmctl("log", "verify", "--state-dir", str(copy), "--public-key", public)
    assert bad.returncode != 0 and "MODIFIED_ENTRY at entry 3" in bad.stderr


def test_module_keeps_serving_on_a_full_disk_and_reports_unlogged_events(tmp_path, small_disk):
    from ..conftest import Daemon, fill_disk

    daemon = Daemon(small_disk / "state", tmp_path / "scm.sock").start()
    try:
        with daemon.connect() as scm:
            slot = scm.gen_key_pair("ed25519")
            filler = fill_disk(small_disk)
            for i in range(20):
                scm.record_host_event("custom", n=i, pad1="x" * 1000, pad2="y" * 1000, pad3="z" * 1000)
            assert scm.log_keys().unlogged >= 15
            scm.verify(slot, b"still serving", scm.sign(slot, b"still serving").raw)
            with pytest.raises(softscm_errors().StorageFullError):
                scm.gen_key_pair("ed25519")
            assert len(scm.list_slots().slots) == 17  # nothing stored was lost
            unlogged = scm.log_keys().unlogged
            filler.unlink()
            scm.record_host_event("custom", n="space is back")
            entries, _ = scm.read_log(events=["LOG_UNLOGGED"])
            assert entries[-1].details["count"] == unlogged
            assert scm.log_keys().unlogged == 0
    finally:
        daemon.stop()


def softscm_errors():
    from softscm.wire import errors

    return errors


def test_destroyed_module_log_is_still_readable(daemon):
    with daemon.connect() as scm:
        scm.set_perimeter_event_actions(0, notify=True, self_destruct=True)
        public = scm.log_keys().public_key
        scm.lock_binding()
        scm.simulate("perimeter_open", channel=0)
        entries, checkpoints = scm.read_log()
    names = [e.event_name for e in entries]
    assert "TAMPER" in names and names[-1] == "SELF_DESTRUCT"
    verify(entries, checkpoints, public)
    assert checkpoints[-1].seq == entries[-1].seq  # signed right after the destruction
    daemon.stop()
    offline, _ = read_log(daemon.state_dir)
    assert [e.event_name for e in offline] == names


def test_host_watcher_sees_power_cycles_network_and_time_jumps(tmp_path):
    boot_id = tmp_path / "boot_id"
    net = tmp_path / "net"
    (net / "eth0").mkdir(parents=True)
    (net / "eth0" / "operstate").write_text("up\n")
    boot_id.write_text("boot-1\n")
    clock = {"wall": 1000.0, "mono": 50.0}
    watcher = HostWatcher(tmp_path / "host.json", boot_id, net, lambda: clock["wall"], lambda: clock["mono"])
    assert watcher.poll() == []
    (net / "eth0" / "operstate").write_text("down\n")
    clock["wall"] += 3600
    clock["mono"] += 1
    found = watcher.poll()
    assert ("network_down", {"interface": "eth0"}) in found
    assert any(kind == "time_jump" and details["seconds"] == pytest.approx(3599) for kind, details in found)
    boot_id.write_text("boot-2\n")
    again = HostWatcher(tmp_path / "host.json", boot_id, net)  # next start, after a power cycle
    assert again.poll()[0] == ("power_cycle", {"previous_boot": "boot-1", "boot": "boot-2"})


def test_a_host_event_detail_over_1024_characters_is_refused(scm):
    scm.record_host_event("custom", note="x" * 1024)
    with pytest.raises(softscm_errors().InvalidArgumentError):
        scm.record_host_event("custom", note="x" * 1025)


def test_events_of_the_issue_are_logged(scm):
    slot = scm.gen_key_pair("nistp256")
    scm.remove_key(slot)
    scm.create_wallet("secp256k1", "w")
    scm.simulate("temperature", celsius=90)
    scm.simulate("battery", volts=1.9)
    scm.simulate("perimeter_open", channel=1)
    scm.record_host_event("power_cycle")
    entries, _ = scm.read_log()
    names = {e.event_name for e in entries}
    for expected in ("MODULE_START", "KEY_GENERATED", "KEY_REMOVED", "WALLET_CREATED", "TEMPERATURE", "BATTERY",
                     "TAMPER", "HOST_EVENT", "STATE_CHANGE"):
        assert expected in names, expected
    before = len(entries)
    digest = bytes(32)
    other = scm.gen_key_pair("nistp256")
    for _ in range(10):
        scm.sign(other, digest)
    assert len(scm.read_log()[0]) == before + 1  # the key generation; signing is counted, not logged
    assert scm.metrics().ops["SIGN"] == 10
