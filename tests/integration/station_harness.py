"""A provisioning station process for the interruption tests: runs one unit with the real disk
and boot phases and SIGKILLs itself right after the named step of the named phase is reported
(a crash of the station mid-phase). The baseline's default passphrase comes on stdin.

    python -m tests.integration.station_harness STATION_DIR CA_URL UNIT_URL IMAGE [PHASE STEP]
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from softscm.host.provision import Progress, Station, StationConfig, UnitSpec
from softscm.host.provision.plugins import LuksDisk, SignedBootPartition

DEFAULT_PASSPHRASE = b"baseline factory passphrase"
BOOT_FILES = {"bootcode4.bin": b"\x01" * 1000, "start4.elf": b"\x02" * 5000}


def main() -> int:
    station_dir, ca_url, unit_url, image, *kill_at = sys.argv[1:]

    def on_progress(progress: Progress) -> None:
        if kill_at and progress.phase is not None and [progress.phase.label, progress.step] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    config = StationConfig(Path(station_dir), ca_url, production=True, boot_files=BOOT_FILES,
                           disk=LuksDisk(sys.stdin.buffer.read()), boot=SignedBootPartition())
    with Station(config, on_progress=on_progress) as station:
        outcomes = station.run([UnitSpec(unit_url, Path(image))])
    return 0 if all(o.completed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
