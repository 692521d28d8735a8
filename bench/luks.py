"""LUKS enrolment and re-encryption through a real scmd, beside cryptsetup alone, on a 256 MiB image.

    .venv/bin/python bench/luks.py [--size-mib 256] [--runs 3]

For each run a fresh copy of one baseline (a LUKS2 volume under a default passphrase) is
    - enrolled (module key added, checked, default slot removed): wall time;
    - enrolled with --reencrypt: wall time, and re-encryption throughput (MiB/s over the data);
    - re-encrypted by `cryptsetup reencrypt` alone with the default passphrase, the same options.
Key slots use PBKDF2 with 1000 iterations throughout (a 512-bit random key needs no stretching),
so the figures are the enrolment and the data, not a KDF benchmark. Images live in /var/tmp
(a real disk, not tmpfs) unless --dir says otherwise.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import softscm  # noqa: E402
from scmd_runner import running_scmd  # noqa: E402
from softscm.host.luks import ClientCustody, Cryptsetup, Enroller, Pbkdf, Step  # noqa: E402

DEFAULT = b"factory default passphrase"
PBKDF = Pbkdf("pbkdf2", iterations=1000)


def make_baseline(path: Path, size_mib: int) -> int:
    """A LUKS2 image of ``size_mib``; returns the size of its data segment in bytes."""
    with open(path, "wb") as out:
        out.truncate(size_mib * 1024 * 1024)
    Cryptsetup().format(path, DEFAULT, pbkdf=PBKDF)
    out = subprocess.run(["cryptsetup", "luksDump", "--dump-json-metadata", str(path)], check=True,
                         capture_output=True).stdout
    return size_mib * 1024 * 1024 - int(json.loads(out)["segments"]["0"]["offset"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/var/tmp"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        base = Path(tmp)
        baseline = base / "baseline.img"
        data_bytes = make_baseline(baseline, args.size_mib)
        unit = base / "unit.img"
        enrol, enrol_rekey, rekey_only, alone = [], [], [], []
        marks: dict[Step, float] = {}
        with running_scmd(base) as url, softscm.connect(url) as client:
            custody = ClientCustody(client)
            timed = Enroller(custody, pbkdf=PBKDF, on_step=lambda step: marks.__setitem__(step, time.perf_counter()))
            for _ in range(args.runs):
                shutil.copyfile(baseline, unit)
                started = time.perf_counter()
                Enroller(custody, pbkdf=PBKDF).enroll(unit, DEFAULT)
                enrol.append(time.perf_counter() - started)

                shutil.copyfile(baseline, unit)
                started = time.perf_counter()
                timed.enroll(unit, DEFAULT, reencrypt=True)
                enrol_rekey.append(time.perf_counter() - started)
                rekey_only.append(marks[Step.FINISH] - marks[Step.REKEY_DATA])

                shutil.copyfile(baseline, unit)
                started = time.perf_counter()
                subprocess.run(["cryptsetup", "reencrypt", "--batch-mode", "--force-offline-reencrypt",
                                "--key-file", "-", *PBKDF.args(), str(unit)], input=DEFAULT, check=True,
                               capture_output=True)
                alone.append(time.perf_counter() - started)
        mib = data_bytes / (1024 * 1024)
        print(f"image {args.size_mib} MiB (data {mib:.0f} MiB), {args.runs} runs, median (min-max)")
        print(f"  enrol (add, verify, remove default):      {_fmt(enrol)} s")
        print(f"  enrol --reencrypt, total:                 {_fmt(enrol_rekey)} s")
        print(f"  its re-encryption step:                   {_fmt(rekey_only)} s = "
              f"{mib / statistics.median(rekey_only):.0f} MiB/s")
        print(f"  cryptsetup reencrypt alone:               {_fmt(alone)} s = "
              f"{mib / statistics.median(alone):.0f} MiB/s")
        print(f"  softscm's re-encryption step / cryptsetup alone: "
              f"{statistics.median(rekey_only) / statistics.median(alone):.2f}x the time")


def _fmt(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


if __name__ == "__main__":
    main()
