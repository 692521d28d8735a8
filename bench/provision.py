"""Provisioning station throughput: time per unit and units per hour, 1 and 4 units in parallel.

Each round starts fresh modules (a real scmd each, plus the station's own module holding the CA),
makes one disk image per unit, and runs the station over them, pushing two bootloader files of
the Raspberry Pi 4 class (bootcode4.bin 52 KiB, start4.elf 2.2 MiB) into each module; module
start-up is not timed.
Prints which phases ran and which were skipped (the disk and boot phases run only where their
plug-ins are given).

    .venv/bin/python bench/provision.py [--image-mib 64] [--units 1 4] [--production]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scmd_runner import running_scmd  # noqa: E402

from softscm.host.provision import Phase, Progress, Station, StationConfig, Status, UnitSpec  # noqa: E402


BOOT_FILES = {"bootcode4.bin": os.urandom(52 * 1024), "start4.elf": os.urandom(2252 * 1024)}


def make_image(path: Path, mib: int) -> None:
    """A sparse-free image of ``mib`` MiB (written, so the disk phase reads real blocks)."""
    chunk = os.urandom(1024 * 1024)
    with path.open("wb") as out:
        for _ in range(mib):
            out.write(chunk)


def one_round(count: int, image_mib: int, production: bool) -> tuple[float, list[float], dict[Phase, set[Status]]]:
    with tempfile.TemporaryDirectory(prefix="bench-provision-") as tmp, contextlib.ExitStack() as stack:
        base = Path(tmp)
        (base / "ca").mkdir()
        ca_url = stack.enter_context(running_scmd(base / "ca", user_capacity=16))
        specs = []
        for index in range(count):
            unit_dir = base / f"unit{index}"
            unit_dir.mkdir()
            url = stack.enter_context(running_scmd(unit_dir, user_capacity=16))
            image = base / f"unit{index}.img"
            make_image(image, image_mib)
            specs.append(UnitSpec(url, image))
        first: dict[str, float] = {}
        last: dict[str, float] = {}
        statuses: dict[Phase, set[Status]] = defaultdict(set)

        def on_progress(progress: Progress) -> None:
            now = time.perf_counter()
            first.setdefault(progress.unit, now)
            last[progress.unit] = now
            if progress.phase is not None and progress.step in ("done", "earlier"):
                statuses[progress.phase].add(progress.status)

        config = StationConfig(base / "station", ca_url, production=production, boot_files=BOOT_FILES)
        with Station(config, on_progress=on_progress) as station:
            station.ensure_ca()  # the CA is set up once per station, not per unit
            start = time.perf_counter()
            outcomes = station.run(specs)
            total = time.perf_counter() - start
        if not all(o.completed for o in outcomes):
            raise SystemExit(f"a unit failed: {[o.error for o in outcomes]}")
        return total, [last[u] - first[u] for u in first], statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-mib", type=int, default=64)
    parser.add_argument("--units", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--production", action="store_true", help="Run the lock phase too.")
    args = parser.parse_args()
    print(f"image size {args.image_mib} MiB per unit; {os.cpu_count()} cores")
    print(f"{'units':>5} {'wall s':>8} {'per unit s (mean)':>18} {'units/hour':>11}")
    ran: dict[Phase, set[Status]] = defaultdict(set)
    for count in args.units:
        total, per_unit, statuses = one_round(count, args.image_mib, args.production)
        for phase, seen in statuses.items():
            ran[phase] |= seen
        print(f"{count:>5} {total:>8.3f} {sum(per_unit) / len(per_unit):>18.3f} {count / total * 3600:>11.0f}")
    print("phases: " + ", ".join(f"{p.label} {'/'.join(sorted(s.label for s in ran[p]))}" for p in Phase))


if __name__ == "__main__":
    main()
