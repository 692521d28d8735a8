"""scmctl bench: how fast is the module I am talking to?"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable

import click

from ..client import Client
from .context import Cli, pass_cli

DIGEST = hashlib.sha256(b"scmctl bench").digest()


def _operations(scm: Client, made: list[int]) -> dict[str, Callable[[], object]]:
    def new(key_type: str) -> int:
        made.append(scm.gen_key_pair(key_type))
        return made[-1]

    p256, k1, ed, x = new("nistp256"), new("secp256k1"), new("ed25519"), new("x25519")
    sig = scm.sign(p256, DIGEST).raw
    peer = scm.get_public_key(new("x25519"))
    blob = scm.lock(b"m" * 64)

    def keygen() -> None:
        made.append(scm.gen_key_pair("nistp256"))

    return {
        "sign nistp256": lambda: scm.sign(p256, DIGEST),
        "sign secp256k1": lambda: scm.sign(k1, DIGEST),
        "sign ed25519": lambda: scm.sign(ed, DIGEST),
        "verify nistp256": lambda: scm.verify(p256, DIGEST, sig),
        "ecdh x25519": lambda: scm.ecdh(x, peer),
        "lock 64 B": lambda: scm.lock(b"m" * 64),
        "unlock 64 B": lambda: scm.unlock(blob),
        "keygen nistp256 (durable)": keygen,
    }


@click.command()
@click.option("--seconds", default=1.0, show_default=True, help="Time per operation.")
@click.option("--keep-keys", is_flag=True, help="Keep the keys the benchmark generated.")
@pass_cli
def bench(cli: Cli, seconds: float, keep_keys: bool) -> None:
    """Time each operation against the running module: min/avg/p95 latency and ops per second.

    It generates keys (removed afterwards unless --keep-keys)."""
    scm = cli.client()
    made: list[int] = []
    rows = []
    try:
        for name, operation in _operations(scm, made).items():
            latencies = []
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                started = time.perf_counter()
                operation()
                latencies.append(time.perf_counter() - started)
            p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
            rows.append({"operation": name, "count": len(latencies), "min_us": min(latencies) * 1e6,
                         "avg_us": statistics.fmean(latencies) * 1e6, "p95_us": p95 * 1e6,
                         "ops_per_s": len(latencies) / sum(latencies)})
    finally:
        if not keep_keys:
            for slot in made:
                scm.remove_key(slot)
    cli.emit(rows, human=lambda rs: cli.table("softscm operations through this connection",
                                              ["operation", "min µs", "avg µs", "p95 µs", "ops/s"],
                                              [(r["operation"], f"{r['min_us']:.0f}", f"{r['avg_us']:.0f}",
                                                f"{r['p95_us']:.0f}", f"{r['ops_per_s']:,.0f}") for r in rs]))
