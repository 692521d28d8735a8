"""One client of bench/compare_trees.py, run with a source tree's ``src`` on ``PYTHONPATH``: it
connects to that tree's scmd, builds that tree's ``bench/core.py`` operations, and then runs one
operation per line it reads (``NAME<TAB>SECONDS``), answering each with the rate it reached.

    PYTHONPATH=TREE/src python bench/tree_worker.py TREE/bench URL
"""

from __future__ import annotations

import sys
import time


def main() -> None:
    bench, url = sys.argv[1], sys.argv[2]
    sys.path.insert(0, bench)
    import softscm
    from core import module_ops  # the tree's own operations, through its own client

    with softscm.connect(url) as scm:
        ops = module_ops(scm)
        print("ready", flush=True)
        for line in sys.stdin:
            name, seconds = line.rstrip("\n").split("\t")
            operation, done = ops[name], 0
            start = time.perf_counter()
            end = start + float(seconds)
            while time.perf_counter() < end:
                operation()
                done += 1
            print(done / (time.perf_counter() - start), flush=True)


if __name__ == "__main__":
    main()
