"""The audit log: read (also while in ERROR or DESTROYED), checkpoint, keys, host events."""

from __future__ import annotations

from pathlib import Path

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

    def read(self, request: LogReadRequest) -> LogPage:
        """Entries from ``since_seq`` and every checkpoint, as JSON lines. Works in every state,
        destroyed included. :raises InvalidArgumentError: for an unknown event name."""
        try:
            events = [int(Event[name.upper()]) for name in request.events]
        except KeyError:
            raise InvalidArgumentError("unknown event name in the filter") from None
        entries, checkpoints = read_log(self._state_dir, since_seq=request.since_seq, events=events,
                                        limit=request.limit)
        return LogPage(tuple(e.to_json() for e in entries), tuple(c.to_json() for c in checkpoints))

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



