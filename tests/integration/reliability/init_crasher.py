"""Helper process for the first-initialisation crash test: forks one child per try, each of
which starts a module on a fresh directory and SIGKILLs itself at the N-th Python call made in
softscm's module code (so the kill points cover the whole initialisation, the final renames
included). Prints one JSON line: the number of calls in a full initialisation and the tries.

Usage: ``python -m tests.integration.reliability.init_crasher BASE TRIES MODE SEED`` where MODE
is ``absent`` (the state directory does not exist) or ``empty`` (an empty directory made first).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
from pathlib import Path

from softscm.module import lifecycle

FINAL_STEP = "build_then_rename"


def _run(target: Path, kill_at: int | None, report: Path | None) -> None:
    """In a forked child: start the module, killing this process at call ``kill_at``."""
    calls = 0
    final = 0

    def hook(frame, event, arg):  # noqa: ANN001
        nonlocal calls, final
        if event == "call" and "softscm" in frame.f_code.co_filename:
            calls += 1
            if frame.f_code.co_name == "_build" and not final:
                final = calls
            if kill_at is not None and calls >= kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    sys.setprofile(hook)
    module = lifecycle.start(target)
    sys.setprofile(None)
    lifecycle.close(module)
    if report is not None:
        report.write_text(json.dumps([calls, final]))


def _fork(target: Path, kill_at: int | None, report: Path | None = None) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            _run(target, kill_at, report)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return status


def main() -> None:
    base, tries, mode, seed = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    report = base / "calibration.json"
    _fork(base / "calibration", None, report)
    total, build_end = json.loads(report.read_text())
    rng = random.Random(seed)
    # half anywhere in start-up, half in its last stretch (the end of the build and the renames)
    points = [rng.randrange(1, total) for _ in range(tries // 2)]
    points += [rng.randrange(max(1, build_end - 200), total) for _ in range(tries - tries // 2)]
    results = []
    for i, point in enumerate(points):
        target = base / f"try{i}"
        if mode == "empty":
            target.mkdir(mode=0o700)  # an empty private directory a user (or systemd) made
        status = _fork(target, point)
        results.append({"target": str(target), "kill_at": point, "killed": os.WIFSIGNALED(status)})
    print(json.dumps({"total": total, "build_end": build_end, "tries": results}))


if __name__ == "__main__":
    main()
