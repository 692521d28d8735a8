"""Power-on self test duration, and module cold start (scmd launch) to the first served request.

    .venv/bin/python bench/startup.py
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import softscm

RUNS = 5


def cold_start(base: Path) -> tuple[float, float]:
    socket = base / "s.sock"
    started = time.perf_counter()
    daemon = subprocess.Popen([sys.executable, "-m", "softscm.module.daemon", "--state-dir", str(base / "state"),
                               "--socket", str(socket), "--log-level", "WARNING"])
    try:
        while True:
            try:
                with softscm.connect(f"unix:{socket}") as scm:
                    scm.get_random(1)
                    first = time.perf_counter() - started
                    post = scm.status().self_test["power-on"].seconds
                    return first, post
            except softscm.ScmError:
                time.sleep(0.005)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        first_init, _ = cold_start(base)  # initialises the module
        runs = [cold_start(base) for _ in range(RUNS)]
    python = min(_interpreter_start() for _ in range(RUNS))
    print(f"first start (initialisation) to first request: {first_init * 1e3:8.1f} ms")
    print(f"cold start to first served request (best of {RUNS}): {min(r[0] for r in runs) * 1e3:8.1f} ms")
    print(f"power-on self test (best of {RUNS}):            {min(r[1] for r in runs) * 1e3:8.2f} ms")
    print(f"baseline: bare python interpreter start:       {python * 1e3:8.1f} ms")


def _interpreter_start() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
