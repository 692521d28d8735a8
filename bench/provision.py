"""Provisioning station throughput: time per unit and units per hour, 1 and 4 units in parallel.

One baseline image is built first, as a factory would flash it: a FAT boot partition (4 MiB, the
Raspberry Pi boot files) and an ext4 root of ``--image-mib`` MiB encrypted in place under a
default passphrase (PBKDF2, 1000 iterations). Each round starts fresh modules (a real scmd per
unit serving its copy's boot partition, plus the station's own module holding the CA), copies the
baseline for every unit, and runs the station with every phase: configure (two Raspberry Pi 4
class bootloader files pushed, 2.3 MiB), disk (enrolment and re-encryption to the unit's own
volume key), boot (manifest signed and verified), certificate, lock (with --production) and
record. Module start-up and the copies are not timed. Needs root (mkfs, cryptsetup).

    .venv/bin/python bench/provision.py [--image-mib 64] [--units 1 4] [--production] [--no-disk-boot]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scmd_runner import running_scmd  # noqa: E402

from softscm.host.provision import Phase, Progress, Station, StationConfig, Status, UnitSpec  # noqa: E402
from softscm.host.provision.plugins import BOOT_IMAGE, ROOT_IMAGE, LuksDisk, SignedBootPartition  # noqa: E402
from softscm.module.boot.partition import mtools_env  # noqa: E402

DEFAULT_PASSPHRASE = b"bench baseline passphrase"
BOOT_FILES = {"bootcode4.bin": os.urandom(52 * 1024), "start4.elf": os.urandom(2252 * 1024)}
PARTITION_FILES = {"start4.elf": 2252 * 1024, "kernel8.img": 8 * 1024 * 1024 // 4, "config.txt": 40,
                   "cmdline.txt": 60, "bcm2711-rpi-cm4.dtb": 52 * 1024}


def make_baseline(directory: Path, root_mib: int) -> Path:
    directory.mkdir()
    boot = directory / BOOT_IMAGE
    subprocess.run(["mkfs.vfat", "-C", str(boot), "8192"], check=True, capture_output=True)
    for name, size in PARTITION_FILES.items():
        source = directory / name
        source.write_bytes(os.urandom(size))
        subprocess.run(["mcopy", "-i", str(boot), str(source), f"::/{name}"], check=True, capture_output=True,
                       env=mtools_env())
        source.unlink()
    root = directory / ROOT_IMAGE
    with open(root, "wb") as out:
        out.truncate((root_mib + 4) * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(root), f"{root_mib}M"], check=True)
    subprocess.run(["cryptsetup", "reencrypt", "--encrypt", "--type", "luks2", "--batch-mode", "--reduce-device-size",
                    "4M", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", "--key-file", "-", str(root)],
                   input=DEFAULT_PASSPHRASE, check=True, capture_output=True)
    return directory


def one_round(count: int, baseline: Path | None, production: bool
              ) -> tuple[float, list[float], dict[Phase, set[Status]]]:
    with tempfile.TemporaryDirectory(prefix="bench-provision-") as tmp, contextlib.ExitStack() as stack:
        base = Path(tmp)
        (base / "ca").mkdir()
        ca_url = stack.enter_context(running_scmd(base / "ca", user_capacity=16))
        specs = []
        for index in range(count):
            image = base / f"unit{index}.img"
            if baseline is not None:
                shutil.copytree(baseline, image)
            else:
                image.write_bytes(b"")
            unit_dir = base / f"unit{index}"
            unit_dir.mkdir()
            extra = ("--boot-partition", str(image / BOOT_IMAGE)) if baseline is not None else ()
            specs.append(UnitSpec(stack.enter_context(running_scmd(unit_dir, *extra, user_capacity=16)), image))
        first: dict[str, float] = {}
        last: dict[str, float] = {}
        statuses: dict[Phase, set[Status]] = defaultdict(set)

        def on_progress(progress: Progress) -> None:
            now = time.perf_counter()
            first.setdefault(progress.unit, now)
            last[progress.unit] = now
            if progress.phase is not None and progress.step == "done":
                statuses[progress.phase].add(progress.status)

        real = baseline is not None
        config = StationConfig(base / "station", ca_url, production=production, boot_files=BOOT_FILES,
                               disk=LuksDisk(DEFAULT_PASSPHRASE) if real else None,
                               boot=SignedBootPartition() if real else None)
        with Station(config, on_progress=on_progress) as station:
            station.ensure_ca()  # the CA is set up once per station, not per unit
            start = time.perf_counter()
            outcomes = station.run(specs)
            total = time.perf_counter() - start
        if not all(o.completed for o in outcomes):
            raise SystemExit(f"a unit failed: {[o.error for o in outcomes]}")
        return total, [last[u] - first[u] for u in first], statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--image-mib", type=int, default=64, help="Size of the root file system.")
    parser.add_argument("--units", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--production", action="store_true", help="Run the lock phase too.")
    parser.add_argument("--no-disk-boot", action="store_true", help="Skip the disk and boot phases (no root needed).")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        baseline = None if args.no_disk_boot else make_baseline(Path(tmp) / "baseline", args.image_mib)
        size = "no image" if baseline is None else f"root {args.image_mib} MiB + boot 8 MiB per unit"
        print(f"{size}; {os.cpu_count()} cores, load average {load:.1f} at the start")
        print(f"{'units':>5} {'wall s':>8} {'per unit s (mean)':>18} {'units/hour':>11}")
        ran: dict[Phase, set[Status]] = defaultdict(set)
        for count in args.units:
            total, per_unit, statuses = one_round(count, baseline, args.production)
            for phase, seen in statuses.items():
                ran[phase] |= seen
            print(f"{count:>5} {total:>8.2f} {sum(per_unit) / len(per_unit):>18.2f} {count / total * 3600:>11.0f}")
    print("phases: " + ", ".join(f"{p.label} {'/'.join(sorted(s.label for s in ran[p]))}" for p in Phase))


if __name__ == "__main__":
    main()
