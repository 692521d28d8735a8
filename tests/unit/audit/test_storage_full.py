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
