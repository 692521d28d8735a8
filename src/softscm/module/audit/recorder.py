"""Where the module's events go: the sealed audit log, then every subscriber."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ...wire.defs import Event
from .log import AuditLog

log = logging.getLogger(__name__)

Listener = Callable[[dict[str, Any]], None]


class Recorder:
    """Records events in the audit log (while it is open) and publishes them to subscribers."""

    def __init__(self, audit: AuditLog | None) -> None:
        self.audit = audit
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every event; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def record(self, event: Event, **details: Any) -> None:
        """Write an event to the audit log and publish it to subscribers. Never raises."""
        if self.audit is not None:
            self.audit.append(event, details)
        self.publish(event, **details)

    def record_many(self, events: list[tuple[Event, dict[str, Any]]]) -> None:
        """Write several events in one durable log append, then publish them. Never raises."""
        if self.audit is not None:
            self.audit.append_many(events)
        for event, details in events:
            self.publish(event, **details)

    def publish(self, event: Event, **details: Any) -> None:
        """Publish an event to subscribers only. Never raises."""
        message = {"event": int(event), "name": event.name, "time": time.time(), "details": details}
        for listener in list(self._listeners):
            try:
                listener(message)
            except Exception:  # a subscriber's failure must not affect the module
                log.exception("event listener failed")
