"""The audit log: read, checkpoint, keys, host events."""

from __future__ import annotations

from collections.abc import Sequence

from ...sealedlog.records import Checkpoint, Entry
from ...wire.messages.log import (
    HostEventKind,
    HostEventRequest,
    LogCheckpointRequest,
    LogKeys,
    LogKeysRequest,
    LogReadRequest,
)
from .base import ApiBase, nothing, same


class LogApi(ApiBase):
    def read_log(self, *, since_seq: int = 0, limit: int = 10_000,
                 events: Sequence[str] = ()) -> tuple[list[Entry], list[Checkpoint]]:
        """Log entries (and every checkpoint); works even on a destroyed module."""
        return self._call(LogReadRequest(since_seq, limit, tuple(events)),
                          lambda r: ([Entry.from_json(e) for e in r.entries],
                                     [Checkpoint.from_json(c) for c in r.checkpoints]))

    def log_checkpoint(self) -> Checkpoint | None:
        """Sign the log's head now; keep the result to detect later truncation."""
        return self._call(LogCheckpointRequest(),
                          lambda r: Checkpoint.from_json(r.checkpoint) if r.checkpoint else None)

    def log_keys(self, *, claim: bool = False) -> LogKeys:
        """The checkpoint public key, the head and the unlogged count; with ``claim=True`` the
        initial MAC key too, the one time it is handed out."""
        return self._call(LogKeysRequest(claim), same)

    def record_host_event(self, kind: HostEventKind | str, **details: str | int | float | bool) -> None:
        """Record a host event (power_cycle, network_up, network_down, time_jump, boot, shutdown, custom).

        :raises ValueError: for another kind.
        """
        return self._call(HostEventRequest(HostEventKind(kind), details), nothing)
