"""The ``embedded:`` transport: a module running inside this process, for tests and scripts.

It sits above both sides of the boundary: it starts a :class:`~softscm.module.module.Module` on
a background thread and hands a normal :class:`~softscm.host.client.Client` to the caller, so
requests still pass through the wire codec.
"""

from __future__ import annotations

from pathlib import Path

from .host.client import Client
from .host.transport import QueueTransport
from .module import lifecycle
from .module.module import ModuleConfig
from .module.server import InProcessHost


class EmbeddedClient(Client):
    """A client that owns its in-process module; closing it stops the module."""

    def __init__(self, host: InProcessHost, *, timeout: float | None = 30.0) -> None:
        self.host = host
        super().__init__(QueueTransport(*host.connect()), timeout=timeout)

    def close(self) -> None:
        super().close()
        self.host.close()


def open_embedded(state_dir: str | Path, *, config: ModuleConfig = ModuleConfig(),
                  timeout: float | None = 30.0) -> EmbeddedClient:
    """Start a module on ``state_dir`` in this process and connect to it.

    :raises StoreCorruptError: if the state directory cannot be verified.
    """
    return EmbeddedClient(InProcessHost(lifecycle.start(state_dir, config=config)), timeout=timeout)
