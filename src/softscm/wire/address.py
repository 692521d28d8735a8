"""Where the module's Unix socket is by default: the one place both sides of the boundary agree on."""

from __future__ import annotations

import os
from pathlib import Path

SOCKET_NAME = "scmd.sock"


def default_socket_path() -> Path:
    """``$XDG_RUNTIME_DIR/softscm/scmd.sock`` for a user with a runtime dir, else ``/run/softscm``."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if os.geteuid() != 0 and runtime:
        return Path(runtime) / "softscm" / SOCKET_NAME
    return Path("/run/softscm") / SOCKET_NAME
