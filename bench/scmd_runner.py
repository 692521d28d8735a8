"""Start a real scmd for a benchmark and stop it afterwards."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def running_scmd(base: Path, *extra: str, user_capacity: int = 512, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run scmd with its state in ``base`` (and ``env`` as its environment, if given); yields its
    ``unix:`` URL."""
    with running_scmd_process(base, *extra, user_capacity=user_capacity, env=env) as (url, _pid):
        yield url


@contextmanager
def running_scmd_process(base: Path, *extra: str, user_capacity: int = 512,
                         env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """:func:`running_scmd`, yielding the URL and the daemon's process id."""
    socket, ready = base / "scmd.sock", base / "scmd.ready"
    daemon = subprocess.Popen(
        [sys.executable, "-m", "softscm.module.daemon", "--state-dir", str(base / "state"), "--socket", str(socket),
         "--ready-file", str(ready), "--user-capacity", str(user_capacity), "--log-level", "WARNING", *extra],
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("scmd did not start")
            time.sleep(0.02)
        yield f"unix:{socket}", daemon.pid
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
