"""The audit log: read (also while in ERROR or DESTROYED), checkpoint, keys, host events."""

from __future__ import annotations

from pathlib import Path

from ...sealedlog.records import Checkpoint, Entry
from ...sealedlog.reader import read_log
from ...wire.defs import Event, Role
from ...wire.errors import InvalidArgumentError, ModuleStateError
from ...wire.messages import Done
from ...wire.messages.log import (
    CheckpointReply,
    HostEventRequest,
    LogCheckpointRequest,
    LogKeys,
    LogKeysRequest,
    LogPage,
    LogReadRequest,
)
from ..audit.log import AuditLog
from ..audit.recorder import Recorder
from ..dispatch import ANY_STATE, READY_OR_HOLD, Route, route
from ..offload import Offloaded, maybe_offload

PAGE_BYTES = 3 * 1024 * 1024
"""What one LOG_READ page holds at most (a frame holds 4 MiB): a page of large entries holds fewer
than its ``limit``, and the client reads on from the seq after its last entry. Checkpoints take at
most half of it, the latest first."""

OFFLOAD_READ = 100
"""A read of more entries than this runs off the event loop (10,000 entries took about 0.5 s)."""


def log_page(entries: list[Entry], checkpoints: list[Checkpoint], budget: int = PAGE_BYTES) -> LogPage:
    """The page for ``entries`` and ``checkpoints`` within ``budget`` bytes of JSON: the latest
    checkpoints in up to half of it, then entries in order while they fit (always the first, so a
    reader paging on always moves)."""
    kept: list[str] = []
    for checkpoint in reversed(checkpoints):
        line = checkpoint.to_json()
        if len(line) > budget // 2 - sum(map(len, kept)):
            break
        kept.append(line)
    room = budget - sum(map(len, kept))
    lines: list[str] = []
    for entry in entries:
        line = entry.to_json()
        if lines and len(line) > room:
            break
        lines.append(line)
        room -= len(line)
    return LogPage(tuple(lines), tuple(reversed(kept)))


class LogCommands:
    """The log is read from the state directory; the open log is the recorder's (None once destroyed)."""

    def __init__(self, state_dir: Path, events: Recorder) -> None:
        self._state_dir = state_dir
        self._events = events

    def routes(self) -> list[Route]:
        return [
            route(LogReadRequest, self.read, states=ANY_STATE),
            route(LogCheckpointRequest, self.checkpoint, states=READY_OR_HOLD, role=Role.ADMIN),
            route(LogKeysRequest, self.keys, states=READY_OR_HOLD, role=Role.ADMIN),
            route(HostEventRequest, self.host_event, states=READY_OR_HOLD),
        ]

    def _audit(self) -> AuditLog:
        if self._events.audit is None:
            raise ModuleStateError("the audit log is closed")
        return self._events.audit

    def read(self, request: LogReadRequest) -> LogPage | Offloaded:
        """Entries from ``since_seq`` and the checkpoints, as JSON lines, in a page of at most
        :data:`PAGE_BYTES` (read off the event loop when large: the reader has its own read-only
        connection). Works in every state, destroyed included.

        :raises InvalidArgumentError: for an unknown event name.
        """
        try:
            events = [int(Event[name.upper()]) for name in request.events]
        except KeyError:
            raise InvalidArgumentError("unknown event name in the filter") from None
        state_dir, since_seq, limit = self._state_dir, request.since_seq, request.limit
        return maybe_offload(lambda: log_page(*read_log(state_dir, since_seq=since_seq, events=events, limit=limit)),
                             limit > OFFLOAD_READ)

    def checkpoint(self, request: LogCheckpointRequest) -> CheckpointReply:
        """Sign the log's current head now."""
        checkpoint = self._audit().checkpoint()
        return CheckpointReply(checkpoint.to_json() if checkpoint else None)

    def keys(self, request: LogKeysRequest) -> LogKeys:
        """The checkpoint public key; with ``claim`` also the initial MAC key, handed out once."""
        audit = self._audit()
        return LogKeys(audit.public_key, audit.head_seq, audit.unlogged,
                       audit.claim_verifier_key() if request.claim else None)

    def host_event(self, request: HostEventRequest) -> Done:
        """Record a host-side event in the audit log."""
        self._events.record(Event.HOST_EVENT, kind=request.kind.value,
                            **{f"host_{k}": v for k, v in request.details.items()})
        return Done()



