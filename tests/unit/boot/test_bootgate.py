"""The boot gate's decision, and the initramfs hook and script run under dash."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from softscm.host.bootgate import GateExit, run_gate
from softscm.wire.defs import BootOutcome, ModuleState
from softscm.wire.errors import TransportError

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
SCRIPT = DEPLOY / "initramfs" / "scripts" / "init-premount" / "scm-bootgate"
HOOK = DEPLOY / "initramfs" / "hooks" / "scm-bootgate"
DASH = shutil.which("dash") or "/bin/dash"  # installed by scripts/setup.sh


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.mark.parametrize("outcome", [BootOutcome.VERIFIED, BootOutcome.LOGGED, BootOutcome.ALLOWED_DEVELOPMENT,
                                     BootOutcome.NOT_CONFIGURED])
def test_the_boot_goes_on(outcome):
    assert run_gate(lambda: outcome, lambda: ModuleState.READY, wait=True) is GateExit.CONTINUE


def test_a_hold_waits_until_the_module_releases_it():
    clock, states = FakeClock(), iter([ModuleState.HOLD, ModuleState.HOLD, ModuleState.READY])
    said = []
    result = run_gate(lambda: BootOutcome.HELD, lambda: next(states), wait=True, poll_s=2, sleep=clock.sleep,
                      clock=clock, say=said.append)
    assert result is GateExit.CONTINUE and clock.now == 4
    assert said[-1] == "the module released the boot"


def test_a_hold_without_waiting_or_past_the_timeout_holds():
    assert run_gate(lambda: BootOutcome.HELD, lambda: ModuleState.HOLD, wait=False) is GateExit.HOLD
    clock = FakeClock()
    assert run_gate(lambda: BootOutcome.HELD, lambda: ModuleState.HOLD, wait=True, timeout=10, poll_s=3,
                    sleep=clock.sleep, clock=clock) is GateExit.HOLD
    assert clock.now == 12


def test_destroyed_and_unreachable():
    assert run_gate(lambda: BootOutcome.DESTROYED, lambda: ModuleState.DESTROYED, wait=True) is GateExit.DESTROYED

    def unreachable():
        raise TransportError("no module")
    assert run_gate(unreachable, lambda: ModuleState.READY, wait=True) is GateExit.UNREACHABLE
    states = iter([ModuleState.HOLD, ModuleState.DESTROYED])
    result = run_gate(lambda: BootOutcome.HELD, lambda: next(states), wait=True, sleep=lambda s: None)
    assert result is GateExit.DESTROYED


def _stub_gate(tmp_path: Path, exits: list[int]) -> Path:
    """A stand-in scm-bootgate (sh) that exits with the given codes in turn and logs its arguments."""
    counter = tmp_path / "count"
    counter.write_text("0")
    codes = " ".join(str(c) for c in exits)
    stub = tmp_path / "scm-bootgate"
    stub.write_text(f"""#!/bin/sh
n=$(cat {counter}); n=$((n + 1)); echo $n > {counter}
echo "$@ url=$SOFTSCM_URL" >> {tmp_path}/calls
set -- {codes}
shift $((n - 1))
exit ${{1:-0}}
""")
    stub.chmod(0o755)
    return stub


def _run_script(tmp_path, exits, **env):
    stub = _stub_gate(tmp_path, exits)
    config = tmp_path / "scm-bootgate.conf"
    config.write_text(f"SCM_BOOTGATE={stub}\nSCM_BOOTGATE_RETRY=0\nSOFTSCM_URL=unix:/run/x.sock\n")
    environment = {"PATH": os.environ["PATH"], "SCM_BOOTGATE_CONFIG": str(config), **env}
    done = subprocess.run([DASH, str(SCRIPT)], env=environment, capture_output=True, text=True, timeout=20)
    calls = (tmp_path / "calls").read_text().splitlines()
    return done, calls


def test_initramfs_script_continues_when_the_gate_says_so(tmp_path):
    done, calls = _run_script(tmp_path, [0])
    assert done.returncode == 0 and "continuing" in done.stderr
    assert calls == ["--wait url=unix:/run/x.sock"]


def test_initramfs_script_holds_while_the_gate_holds(tmp_path):
    done, calls = _run_script(tmp_path, [1, 3, 2, 0])
    assert done.returncode == 0 and len(calls) == 4
    assert "holds the boot (try 1)" in done.stderr and "could not be asked (exit 3, try 2)" in done.stderr
    held = tmp_path / "held"
    held.mkdir()
    done, calls = _run_script(held, [1, 1, 1, 1, 0], SCM_BOOTGATE_TRIES="3")
    assert done.returncode == 1 and len(calls) == 3


def test_initramfs_scripts_answer_prereqs_and_parse_under_dash():
    for script in (SCRIPT, HOOK):
        assert subprocess.run([DASH, "-n", str(script)]).returncode == 0
        done = subprocess.run([DASH, str(script), "prereqs"], capture_output=True, text=True)
        assert done.returncode == 0 and done.stdout.strip() == ""


def test_the_hook_copies_the_gate_into_an_initramfs_tree(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python3").symlink_to(os.path.realpath(sys.executable))
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    # a small stand-in standard library (the real one is ~60 MB): a module, an extension module
    # that links libssl, and directories the hook leaves out
    real_stdlib = Path(sysconfig.get_path("stdlib"))
    stdlib = tmp_path / "stdlib"
    (stdlib / "lib-dynload").mkdir(parents=True)
    (stdlib / "test").mkdir()
    (stdlib / "site-packages").mkdir()
    shutil.copy(real_stdlib / "os.py", stdlib / "os.py")
    ssl_module = next((real_stdlib / "lib-dynload").glob("_ssl.*.so"))
    shutil.copy(ssl_module, stdlib / "lib-dynload" / ssl_module.name)
    config = tmp_path / "bootgate.conf"
    config.write_text(f"SCM_VENV={venv}\nSOFTSCM_URL=tcp:127.0.0.1:7000\nSCM_PYTHON_STDLIB={stdlib}\n")
    dest = tmp_path / "initramfs"
    dest.mkdir()
    done = subprocess.run([DASH, str(HOOK)], env={"PATH": os.environ["PATH"], "DESTDIR": str(dest),
                                                 "verbose": "n", "SCM_BOOTGATE_CONF": str(config)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    inside = dest / str(stdlib).lstrip("/")
    python = os.path.realpath(sys.executable)
    assert os.access(dest / python.lstrip("/"), os.X_OK)
    wrapper = (dest / "usr/bin/scm-bootgate").read_text()
    assert f'exec "{venv}/bin/python3" -m softscm.host.bootgate' in wrapper
    conf = (dest / "conf/scm-bootgate.conf").read_text()
    assert "SOFTSCM_URL='tcp:127.0.0.1:7000'" in conf and "SCM_BOOTGATE_ARGS='--wait'" in conf
    assert (inside / "os.py").is_file() and (inside / "lib-dynload" / ssl_module.name).is_file()
    assert not (inside / "test").exists() and not (inside / "site-packages").exists()
    linked = subprocess.run(["ldd", str(ssl_module)], capture_output=True, text=True).stdout
    libssl = next(line.split("=>")[1].split()[0] for line in linked.splitlines() if "libssl" in line)
    assert (dest / os.path.realpath(libssl).lstrip("/")).exists()
    assert (dest / str(venv).lstrip("/") / "pyvenv.cfg").is_file()
