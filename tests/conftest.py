"""Shared fixtures: a real ``scmd`` on a Unix socket in a temp dir, and embedded modules."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import softscm
import softscm.host.client
from softscm.module.sensors.linux import STANDARD_GRAVITY, LinuxPaths

SCMD = [sys.executable, "-m", "softscm.module.daemon"]


@dataclass
class Daemon:
    """A running ``scmd`` subprocess."""

    state_dir: Path
    socket: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = None
    ready: Path | None = None  # default: <state_dir>.ready beside the state directory

    @property
    def url(self) -> str:
        return f"unix:{self.socket}"

    def start(self, timeout: float = 20.0) -> Daemon:
        ready = self.ready or self.state_dir.parent / f"{self.state_dir.name}.ready"
        ready.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [*SCMD, "--state-dir", str(self.state_dir), "--socket", str(self.socket), "--ready-file", str(ready),
             "--log-level", "WARNING", *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env,
        )
        self.wait_ready(self.process, ready, timeout)
        return self

    @staticmethod
    def wait_ready(process: subprocess.Popen[bytes], ready: Path, timeout: float = 20.0) -> None:
        """Wait until scmd wrote its ready file. :raises RuntimeError: if it exited or took too long."""
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if process.poll() is not None:
                _, err = process.communicate()
                raise RuntimeError(f"scmd exited with {process.returncode}: {err.decode()}")
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("scmd did not become ready")
            time.sleep(0.02)

    def connect(self) -> softscm.host.client.Client:
        return softscm.connect(self.url)

    def stop(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()


def run_scmd(state_dir: Path, *args: str, timeout: float = 20.0, env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess[str]:
    """Run scmd expecting it to exit by itself (for start-up failures); its socket goes beside the state
    directory unless ``args`` name another."""
    socket_args = [] if "--socket" in args or "--no-unix" in args else [
        "--socket", str(state_dir.parent / f"{state_dir.name}.refused.sock")]
    return subprocess.run([*SCMD, "--state-dir", str(state_dir), *socket_args, *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator:
    started: list[Daemon] = []

    def make(name: str = "scm", *args: str, env: dict[str, str] | None = None) -> Daemon:
        daemon = Daemon(tmp_path / name, tmp_path / f"{name}.sock", list(args),
                        env={**os.environ, **(env or {})})
        started.append(daemon)
        return daemon.start()

    yield make
    for daemon in started:
        daemon.stop()


@pytest.fixture
def daemon(daemon_factory) -> Daemon:
    return daemon_factory()


@pytest.fixture
def scm(tmp_path: Path) -> Iterator[softscm.host.client.Client]:
    """An embedded module on a fresh state directory."""
    with softscm.connect(f"embedded:{tmp_path / 'embedded'}") as client:
        yield client


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB tmpfs (needs root, which CI has), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill_disk(directory: Path) -> Path:
    """Fill the filesystem holding ``directory`` with a filler file; returns its path."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def fake_sysfs(root: Path) -> LinuxPaths:
    """A sysfs tree below ``root`` where every sensor the Linux back end reads answers."""
    sys = root / "sys"
    files = {
        "class/rtc/rtc0/since_epoch": "1700000000",
        "bus/iio/devices/iio:device0/in_accel_scale": str(STANDARD_GRAVITY / 1000),
        "bus/iio/devices/iio:device0/in_accel_x_raw": "0",
        "bus/iio/devices/iio:device0/in_accel_y_raw": "-500",
        "bus/iio/devices/iio:device0/in_accel_z_raw": "1000",
        "class/thermal/thermal_zone0/temp": "47500",
        "class/thermal/thermal_zone1/temp": "31000",
        "class/power_supply/BAT0/voltage_now": "2950000",
        "class/power_supply/BAT0/present": "1",
        "class/power_supply/AC/online": "1",
        "class/gpio/gpio17/value": "1",
        "class/gpio/gpio27/value": "1",
        "class/leds/softscm/brightness": "0",
    }
    for name, text in files.items():
        path = sys / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return LinuxPaths.under(root)
