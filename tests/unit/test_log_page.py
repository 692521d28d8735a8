"""LOG_READ pages (module/commands/log.py): bounded by size, the latest checkpoints first, paging on
from the last entry; and a reply too large for a frame is a typed error, not a closed connection."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from softscm.module.access.caller import EMBEDDED
from softscm.module.commands.log import log_page
from softscm.module.server import MAX_REPLY, Connection
from softscm.sealedlog.reader import read_log
from softscm.wire.codec import Reply, parse_incoming
from softscm.wire.defs import ErrorCode


def test_a_page_stays_within_its_budget_and_paging_on_reads_every_entry(scm, tmp_path: Path):
    for i in range(30):
        scm.record_host_event("custom", n=i, pad="x" * 1000)
    for _ in range(3):
        scm.log_checkpoint()
    state = tmp_path / "embedded"
    entries, checkpoints = read_log(state)
    page = log_page(entries, checkpoints, budget=8_000)
    assert sum(map(len, page.checkpoints)) <= 4_000 and sum(map(len, page.entries + page.checkpoints)) <= 8_000
    assert page.checkpoints[-1] == checkpoints[-1].to_json()  # the latest kept
    assert 0 < len(page.entries) < len(entries)
    seen, since = [], 0
    while True:
        page = log_page(*read_log(state, since_seq=since), budget=8_000)
        if not page.entries:
            break
        seen += page.entries
        since = entries[len(seen) - 1].seq + 1
    assert seen == [e.to_json() for e in entries]


def test_a_reply_too_large_for_a_frame_becomes_limit_exceeded():
    sent: list[bytes] = []
    no_routes = SimpleNamespace(blocking_commands=frozenset())
    connection = Connection(None, no_routes, sent.append, EMBEDDED)  # type: ignore[arg-type]  # _reply uses neither
    connection._reply(Reply.success(7, {"data": b"x" * (MAX_REPLY + 1)}))
    reply = parse_incoming(sent[0])
    assert isinstance(reply, Reply) and (reply.id, reply.status) == (7, ErrorCode.LIMIT_EXCEEDED)
    assert "frame limit" in reply.body
