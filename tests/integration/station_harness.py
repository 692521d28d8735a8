"""A provisioning station process for the interruption tests: runs one unit and SIGKILLs itself
right after the named step of the named phase (a crash of the station mid-phase).

    python -m tests.integration.station_harness STATION_DIR CA_URL UNIT_URL IMAGE [PHASE STEP]

The disk and boot phases are stand-ins until their areas land: they do no work and report the
image's digest and manifest version 1.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
from pathlib import Path

from softscm.host.client import Client
from softscm.host.provision import BootResult, DiskResult, Progress, Station, StationConfig, UnitSpec


class DiskStandIn:
    def check(self, image: Path) -> None:
        image.read_bytes()

    def __call__(self, unit: Client, image: Path) -> DiskResult:
        return DiskResult(hashlib.sha256(image.read_bytes()).digest(), ())


class BootStandIn:
    def check(self, image: Path) -> None:
        image.read_bytes()

    def __call__(self, unit: Client, image: Path) -> BootResult:
        return BootResult(1, hashlib.sha256(b"manifest" + image.name.encode()).digest())


def main() -> int:
    station_dir, ca_url, unit_url, image, *kill_at = sys.argv[1:]

    def on_progress(progress: Progress) -> None:
        if kill_at and progress.phase is not None and [progress.phase.label, progress.step] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    config = StationConfig(Path(station_dir), ca_url, production=True, disk=DiskStandIn(), boot=BootStandIn(),
                           boot_files={"bootcode4.bin": b"\x01" * 1000, "start4.elf": b"\x02" * 5000})
    with Station(config, on_progress=on_progress) as station:
        outcomes = station.run([UnitSpec(unit_url, Path(image))])
    return 0 if all(o.completed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
