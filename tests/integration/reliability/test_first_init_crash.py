"""A SIGKILL anywhere in the first initialisation leaves no module or a complete one; either way
the next start serves a READY module (issue 17, defect 7). A directory the user made is kept:
never replaced, never chmodded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import sys
from pathlib import Path

import pytest

from softscm.embedded import open_embedded
from softscm.module.lifecycle import INITIALISED_MARKER
from softscm.wire.defs import ModuleState
from softscm.module.store.lock import LOCK_FILE
from softscm.module.store.initialise import WORK_DIR

ROOT = Path(__file__).resolve().parents[3]


def _crash(base: Path, mode: str, tries: int, seed: int) -> dict:
    done = subprocess.run([sys.executable, "-m", "tests.integration.reliability.init_crasher", str(base), str(tries),
                           mode, str(seed)], capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def fast_dir(tmp_path):
    """A directory on tmpfs when there is one: a SIGKILL loses nothing the page cache holds, so
    the disk's fsync latency only slows the 24 initialisations down."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        yield tmp_path
        return
    directory = Path(tempfile.mkdtemp(prefix="softscm-init-crash-", dir=shm))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize("mode", ["absent", "empty"])
def test_sigkill_during_first_initialisation(fast_dir, mode):
    report = _crash(fast_dir, mode, tries=12, seed=7 if mode == "absent" else 11)
    assert report["total"] > 1000
    killed = [t for t in report["tries"] if t["killed"]]
    assert len(killed) >= 10
    outcomes = {"nothing": 0, "complete": 0, "roll-forward": 0}
    for attempt in report["tries"]:
        target = Path(attempt["target"])
        entries = set(os.listdir(target)) if target.exists() else set()
        if INITIALISED_MARKER in entries:
            outcomes["complete"] += 1
        elif WORK_DIR in entries and (target / WORK_DIR / INITIALISED_MARKER).is_file():
            outcomes["roll-forward"] += 1  # a complete build whose renames were cut short
        else:
            assert entries <= {WORK_DIR, LOCK_FILE}, (attempt, entries)  # nothing of a module
            outcomes["nothing"] += 1
        if mode == "empty":
            assert target.stat().st_mode & 0o777 == 0o700  # the user's directory, left as made
        with open_embedded(target) as scm:
            assert scm.status().state is ModuleState.READY
            assert len(scm.list_slots().slots) == 16
        assert not list(target.parent.glob(f".{target.name}.init-*"))  # no build left beside it
        assert WORK_DIR not in os.listdir(target)
    assert outcomes["nothing"] and outcomes["complete"] + outcomes["roll-forward"], outcomes
