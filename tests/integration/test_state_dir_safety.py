"""The state directory: the module changes nothing it did not create, and one owner at a time.

A real scmd starts and stops on a state directory inside a shared sticky (1777) directory and a
0755 one; the parent keeps its mode, sticky bit and contents. An existing directory open to other
users is refused, not chmod-ed. scmsim refuses a directory a running module holds.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import softscm
from softscm.host.cli.main import cli
from softscm.module.store.lock import LOCK_FILE
from softscm.wire.errors import StateDirError

from ..conftest import Daemon, run_scmd

SCMSIM = [sys.executable, "-m", "softscm.module.sensors.simtool"]


@pytest.mark.parametrize("parent_mode", [0o1777, 0o755], ids=["sticky-1777", "0755"])
def test_start_and_stop_leave_the_parent_directory_as_it_was(tmp_path, parent_mode):
    parent = tmp_path / "shared"
    parent.mkdir()
    os.chmod(parent, parent_mode)
    before = os.stat(parent).st_mode
    daemon = Daemon(parent / "scm", tmp_path / "scm.sock", ready=tmp_path / "scm.ready").start()
    try:
        with daemon.connect() as scm:
            assert scm.status().state.name == "READY"
    finally:
        assert daemon.stop() == 0
    assert os.stat(parent).st_mode == before and stat.S_IMODE(before) == parent_mode
    assert sorted(p.name for p in parent.iterdir()) == ["scm"]  # no lock file beside the state directory
    assert stat.S_IMODE(os.stat(parent / "scm").st_mode) == 0o700  # created by the module: owner-only
    assert (parent / "scm" / LOCK_FILE).is_file()


def test_an_existing_directory_open_to_others_is_refused_not_chmodded(tmp_path):
    state = tmp_path / "mine"
    state.mkdir()
    os.chmod(state, 0o750)
    result = run_scmd(state)
    assert result.returncode == 1, result.stderr
    assert "open to other users" in result.stderr and "chmod 700" in result.stderr
    assert "Traceback" not in result.stderr
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o750 and list(state.iterdir()) == []
    assert not (tmp_path / "mine.refused.sock").exists()
    with pytest.raises(StateDirError):
        softscm.connect(f"embedded:{state}")
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o750 and list(state.iterdir()) == []


def test_an_existing_owner_only_empty_directory_is_initialised_in_place(tmp_path):
    state = tmp_path / "mine"
    state.mkdir(mode=0o700)
    with softscm.connect(f"embedded:{state}") as scm:
        assert scm.status().state.name == "READY"
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    assert (state / "initialised").is_file()


def test_a_directory_of_other_files_gets_no_lock_file(tmp_path):
    junk = tmp_path / "junk"
    junk.mkdir(mode=0o700)
    (junk / "notes.txt").write_text("mine")
    with pytest.raises(softscm.ScmError, match="not a softscm module"):
        softscm.connect(f"embedded:{junk}")
    assert sorted(p.name for p in junk.iterdir()) == ["notes.txt"]


def test_scmsim_refuses_while_the_module_runs_and_works_once_it_stopped(tmp_path):
    daemon = Daemon(tmp_path / "scm", tmp_path / "scm.sock").start()
    try:
        refused = subprocess.run([*SCMSIM, "--state-dir", str(daemon.state_dir), "perimeter-open", "channel=0"],
                                 capture_output=True, text=True, timeout=30)
        assert refused.returncode == 1
        assert "a module is running on" in refused.stderr and "Traceback" not in refused.stderr
        with daemon.connect() as scm:
            assert scm.get_perimeter_detect_info() == [0.0, 0.0]
    finally:
        daemon.stop()
    done = subprocess.run([*SCMSIM, "--state-dir", str(daemon.state_dir), "perimeter-open", "channel=0"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    result = CliRunner().invoke(cli, ["--url", f"embedded:{daemon.state_dir}", "--json", "tamper", "info"])
    assert json.loads(result.stdout)["first_breach"][0] > 0


def test_missing_parents_are_made_and_only_the_state_directory_is_private(tmp_path):
    state = tmp_path / "a" / "b" / "scm"
    with softscm.connect(f"embedded:{state}") as scm:
        assert scm.status().state.name == "READY"
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o777 & ~umask  # as mkdir -p makes it
    assert Path(tmp_path / "a").stat().st_mode == (tmp_path / "a" / "b").stat().st_mode
