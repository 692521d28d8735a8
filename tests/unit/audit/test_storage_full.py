"""A real full filesystem: nothing is lost silently, and the count is reported when space returns."""

from __future__ import annotations

import os

from softscm.module.audit.log import AuditLog
from softscm.sealedlog.reader import read_log
from softscm.wire.defs import Event

from ...conftest import fill_disk


def test_full_disk_counts_unlogged_events(small_disk):
    audit = AuditLog.create(small_disk, os.urandom(32), os.urandom(32))
    audit.append(Event.MODULE_START, {})
    fill_disk(small_disk)
    lost = [audit.append(Event.HOST_EVENT, {"n": i, "pad": "x" * 2000}) for i in range(30)]
    assert lost.count(None) >= 25 and audit.unlogged == lost.count(None)
    (small_disk / "filler").unlink()
    seq = audit.append(Event.HOST_EVENT, {"n": "after"})
    assert seq is not None and audit.unlogged == 0
    entries, _ = read_log(small_disk)
    report = next(e for e in entries if e.event == Event.LOG_UNLOGGED)
    assert report.details == {"count": lost.count(None)}
    assert entries[-1].details == {"n": "after"}
    audit.close()


def test_unlogged_count_survives_a_restart_and_is_logged_once_there_is_room(small_disk):
    """Issue 17, defect 6: the count was in memory only, so a restart lost it."""
    signing, seal_key = os.urandom(32), os.urandom(32)
    audit = AuditLog.create(small_disk, signing, seal_key)
    audit.append(Event.MODULE_START, {})
    filler = fill_disk(small_disk)
    lost = [audit.append(Event.HOST_EVENT, {"n": i, "pad": "x" * 2000}) for i in range(30)]
    assert lost.count(None) >= 25
    audit.close()  # the daemon stops (or is killed) while the disk is still full
    reopened = AuditLog.open(small_disk, signing, seal_key)
    assert reopened.unlogged == lost.count(None)
    assert reopened.append(Event.HOST_EVENT, {"n": "still full", "pad": "x" * 4000}) is None
    reopened.close()
    filler.unlink()
    again = AuditLog.open(small_disk, signing, seal_key)
    assert again.unlogged == lost.count(None) + 1
    assert again.append(Event.MODULE_START, {}) is not None and again.unlogged == 0
    again.close()
    entries, _ = read_log(small_disk)
    assert [e.details for e in entries if e.event == Event.LOG_UNLOGGED] == [{"count": lost.count(None) + 1}]
    assert AuditLog.open(small_disk, signing, seal_key).unlogged == 0  # reported once, not again


def test_a_torn_or_forged_counter_slot_falls_back_to_the_other(tmp_path):
    from softscm.module.audit.unlogged import UNLOGGED_FILE, UnloggedCounter

    key = os.urandom(32)
    counter = UnloggedCounter(tmp_path, key)
    counter.ensure()
    assert counter.store(3) and counter.store(5)
    data = bytearray((tmp_path / UNLOGGED_FILE).read_bytes())
    data[48 * (2 % 2) + 10] ^= 1  # spoil the newest record (sequence 2 went to slot 0)
    (tmp_path / UNLOGGED_FILE).write_bytes(bytes(data))
    assert UnloggedCounter(tmp_path, key).count == 3
    assert UnloggedCounter(tmp_path, os.urandom(32)).count == 0  # records under another key are ignored
