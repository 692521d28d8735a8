"""bench/core.py of two source trees in one run: this checkout against another (e.g. a worktree of
an older commit), rounds alternating so that load on the machine falls on both alike. Each tree
runs its own core.py, client and scmd (``PYTHONPATH`` set to its ``src``). Per operation it prints
each tree's median rate through scmd (1 and 4 clients) and the change between the medians; a
change below -5 % is flagged.

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/compare_trees.py /tmp/before [--rounds 3] [--seconds 1.0] [--realtime]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
_ROW = re.compile(r"^(?P<name>\S.*?)\s{2,}(?P<lib>[\d,]+|-)\s+(?P<one>[\d,]+)\s+\d+\s+\d+\s+(?P<four>[\d,]+)\s+\d+\s+\d+\s+")


def run_core(tree: Path, seconds: float) -> dict[str, tuple[float | None, float, float]]:
    """One run of ``tree``'s core.py: per operation (in-process rate or None, 1-client, 4-client)."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    output = subprocess.run([sys.executable, str(tree / "bench" / "core.py"), "--seconds", str(seconds)], env=env,
                            check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in output.splitlines():
        match = _ROW.match(line)
        if match and match["name"] != "operation":
            lib = None if match["lib"] == "-" else float(match["lib"].replace(",", ""))
            rows[match["name"]] = (lib, float(match["one"].replace(",", "")), float(match["four"].replace(",", "")))
    if not rows:
        raise SystemExit(f"no table from {tree}/bench/core.py:\n{output}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path, help="the other checkout (its src/ and bench/core.py are used)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--realtime", action="store_true", help="run every process SCHED_FIFO (needs root)")
    options = parser.parse_args()
    if options.realtime:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
    trees = {"before": options.before.resolve(), "after": HERE}
    runs: dict[str, list[dict[str, tuple[float | None, float, float]]]] = {name: [] for name in trees}
    for _ in range(options.rounds):
        for name, tree in trees.items():
            runs[name].append(run_core(tree, options.seconds))
    print(f"{'operation':20s} {'before 1cl':>10s} {'after 1cl':>10s} {'change':>7s} {'before 4cl':>11s} "
          f"{'after 4cl':>10s} {'change':>7s}")
    worst = 0.0
    for op in runs["after"][0]:
        if op not in runs["before"][0]:
            continue
        cells = []
        for column in (1, 2):
            raw = {name: statistics.median(run[op][column] for run in runs[name]) for name in trees}
            change = raw["after"] / raw["before"] - 1
            worst = min(worst, change)
            cells.append(f"{raw['before']:10,.0f} {raw['after']:10,.0f} {change:+7.1%}{'!' if change < -0.05 else ' '}")
        print(f"{op:20s} {cells[0]} {cells[1]}")
    print(f"\nworst change {worst:+.1%} (target: no operation more than 5 % slower; '!' marks one that is)")


if __name__ == "__main__":
    main()
