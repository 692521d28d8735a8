"""bench/core.py's module operations from two source trees in one run: this checkout against another
(e.g. a worktree of an older commit). Each tree runs its own scmd and its own clients (its ``src``
on ``PYTHONPATH``, its ``bench/core.py`` operations, see bench/tree_worker.py). For each operation
the clients of the two trees take turns in short blocks (0.3 s), ABBA, 1 client and then 4 at
once: the blocks of a pair see the same machine, which on a shared VM whose speed changes from
second to second is what makes a before/after figure mean anything. Per operation it prints the
median of the pairs' ratios (after over before) for 1 and 4 clients; a change below -5 % is
flagged.

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/compare_trees.py /tmp/before [--pairs 8] [--block 0.3] [--realtime]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from core import BATCH, pair_ratios  # noqa: E402
from scmd_runner import running_scmd  # noqa: E402

HERE = Path(__file__).resolve().parent.parent
OPERATIONS = ("sign nistp256", "sign secp256k1", "sign ed25519", "verify nistp256", "ecdh nistp256", "ecdh x25519",
              "lock 64 B", "unlock 64 B", "keygen nistp256", "keygen x64 batch")


class Clients:
    """``count`` tree_worker processes of one tree, connected to that tree's scmd."""

    def __init__(self, tree: Path, url: str, count: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree / "src")}
        worker = Path(__file__).parent / "tree_worker.py"
        self._procs = [subprocess.Popen([sys.executable, str(worker), str(tree / "bench"), url], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                       for _ in range(count)]
        for proc in self._procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit(f"a client of {tree} did not start")

    def run(self, operation: str, clients: int, seconds: float) -> float:
        """The combined rate of the first ``clients`` workers running ``operation`` together."""
        used = self._procs[:clients]
        for proc in used:
            assert proc.stdin is not None
            proc.stdin.write(f"{operation}\t{seconds}\n")
            proc.stdin.flush()
        return sum(float(proc.stdout.readline()) for proc in used if proc.stdout is not None)

    def close(self) -> None:
        for proc in self._procs:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=30)


def tree_scmd(tree: Path, base: Path) -> contextlib.AbstractContextManager[str]:
    """``tree``'s own scmd (its ``src`` on ``PYTHONPATH``), with its state in ``base``; yields its URL."""
    base.mkdir()
    return running_scmd(base, user_capacity=1_000_000, env={**os.environ, "PYTHONPATH": str(tree / "src")})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path, help="the other checkout (its src/ and bench/core.py are used)")
    parser.add_argument("--pairs", type=int, default=8, help="pairs of blocks per operation and client count")
    parser.add_argument("--block", type=float, default=0.3, help="seconds per block")
    parser.add_argument("--realtime", action="store_true", help="run every process SCHED_FIFO (needs root)")
    options = parser.parse_args()
    if options.realtime:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
    trees = (options.before.resolve(), HERE)
    rates: dict[tuple[str, int, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, tree_scmd(trees[0], Path(tmp) / "before") as before_url, \
            tree_scmd(trees[1], Path(tmp) / "after") as after_url:
        clients = [Clients(trees[0], before_url, 4), Clients(trees[1], after_url, 4)]
        try:
            for operation in OPERATIONS:
                for count in (1, 4):
                    for pair in range(options.pairs):
                        for side in (1, 0) if pair % 2 else (0, 1):  # ABBA: drift falls on both alike
                            rate = clients[side].run(operation, count, options.block)
                            rates.setdefault((operation, count, side), []).append(rate)
        finally:
            for side in clients:
                side.close()
    print(f"{options.pairs} pairs of {options.block:g} s blocks; rates are medians, 'change' the median pair "
          f"(keygen x{BATCH} batch counts batches)")
    print(f"{'operation':18s} {'before 1cl':>10s} {'after 1cl':>10s} {'change':>8s} {'before 4cl':>11s} "
          f"{'after 4cl':>10s} {'change':>8s}")
    worst = 0.0
    for operation in OPERATIONS:
        cells = []
        for count in (1, 4):
            change = statistics.median(pair_ratios(rates[(operation, count, 1)], rates[(operation, count, 0)])) - 1
            worst = min(worst, change)
            before, after = (statistics.median(rates[(operation, count, side)]) for side in (0, 1))
            cells.append(f"{before:10,.0f} {after:10,.0f} {change:+7.1%}{'!' if change < -0.05 else ' '}")
        print(f"{operation:18s} {cells[0]} {cells[1]}")
    print(f"\nworst change {worst:+.1%} (target: no operation more than 5 % slower; '!' marks one that is)")


if __name__ == "__main__":
    main()
