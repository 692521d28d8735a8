"""Core operations through scmd (1 and 4 client processes) beside the same operation done
in-process with the underlying library, measured in the same run. Prints ops/s, p50/p99 latency
and the ratios the module-core issue sets as targets.

    .venv/bin/python bench/core.py [--seconds 1.5]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import coincurve
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, str(Path(__file__).parent))
from scmd_runner import running_scmd  # noqa: E402

import softscm  # noqa: E402

DIGEST = hashlib.sha256(b"bench").digest()
MESSAGE = b"m" * 64
BATCH = 64


def measure(fn: Callable[[], object], seconds: float) -> tuple[float, list[float]]:
    """Run ``fn`` repeatedly for ``seconds``; return (ops/s, latencies in seconds)."""
    latencies = []
    end = time.perf_counter() + seconds
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        latencies.append(t1 - t0)
        if t1 > end:
            break
    return len(latencies) / (time.perf_counter() - start), latencies


def baselines() -> dict[str, Callable[[], object]]:
    p256 = ec.generate_private_key(ec.SECP256R1())
    p256_sig = p256.sign(DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))
    p256_peer = ec.generate_private_key(ec.SECP256R1()).public_key()
    k1 = coincurve.PrivateKey()
    ed = ed25519.Ed25519PrivateKey.generate()
    xk, xpeer = x25519.X25519PrivateKey.generate(), x25519.X25519PrivateKey.generate().public_key()
    aes = AESGCM(os.urandom(32))
    return {
        "sign nistp256": lambda: p256.sign(DIGEST, ec.ECDSA(Prehashed(hashes.SHA256()))),
        "sign secp256k1": lambda: k1.sign_recoverable(DIGEST, hasher=None),
        "sign ed25519": lambda: ed.sign(MESSAGE),
        "verify nistp256": lambda: p256.public_key().verify(p256_sig, DIGEST, ec.ECDSA(Prehashed(hashes.SHA256()))),
        "ecdh nistp256": lambda: p256.exchange(ec.ECDH(), p256_peer),
        "ecdh x25519": lambda: xk.exchange(xpeer),
        "lock 64 B": lambda: aes.encrypt(os.urandom(12), MESSAGE, b"") + ed.sign(MESSAGE),
        "keygen nistp256": lambda: ec.generate_private_key(ec.SECP256R1()),
    }


def module_ops(scm: softscm.host.client.Client) -> dict[str, Callable[[], object]]:
    slots = {t: scm.gen_key_pair(t) for t in ("nistp256", "secp256k1", "ed25519", "x25519")}
    p256_sig = scm.sign(slots["nistp256"], DIGEST).raw
    p256_peer = scm.get_public_key(scm.gen_key_pair("nistp256"))
    x_peer = scm.get_public_key(scm.gen_key_pair("x25519"))
    blob = scm.lock(MESSAGE)
    return {
        "sign nistp256": lambda: scm.sign(slots["nistp256"], DIGEST),
        "sign secp256k1": lambda: scm.sign(slots["secp256k1"], DIGEST),
        "sign ed25519": lambda: scm.sign(slots["ed25519"], MESSAGE),
        "verify nistp256": lambda: scm.verify(slots["nistp256"], DIGEST, p256_sig),
        "ecdh nistp256": lambda: scm.ecdh(slots["nistp256"], p256_peer),
        "ecdh x25519": lambda: scm.ecdh(slots["x25519"], x_peer),
        "lock 64 B": lambda: scm.lock(MESSAGE),
        "unlock 64 B": lambda: scm.unlock(blob),
        "keygen nistp256": lambda: scm.gen_key_pair("nistp256"),
        "keygen x64 batch": lambda: scm.gen_key_pairs("nistp256", BATCH),
    }


def _worker(url: str, op: str, seconds: float, start: float, queue: mp.Queue) -> None:
    with softscm.connect(url) as scm:
        fn = module_ops(scm)[op]
        while time.time() < start:
            time.sleep(0.001)
        queue.put(measure(fn, seconds))


def concurrent(url: str, op: str, clients: int, seconds: float) -> tuple[float, list[float]]:
    queue: mp.Queue = mp.Queue()
    start = time.time() + 0.5
    procs = [mp.Process(target=_worker, args=(url, op, seconds, start, queue)) for _ in range(clients)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return sum(r[0] for r in results), [lat for r in results for lat in r[1]]


def pct(latencies: list[float], q: float) -> float:
    return statistics.quantiles(latencies, n=100)[int(q) - 1] * 1e6


def pair_ratios(these: list[float], those: list[float]) -> list[float]:
    """Each pair's ratio, ``these[i] / those[i]``, for rates measured back to back in pairs."""
    return [this / that for this, that in zip(these, those, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.5)
    options = parser.parse_args()
    base = baselines()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, running_scmd(Path(tmp), user_capacity=1_000_000) as url:
        with softscm.connect(url) as scm:
            ops = module_ops(scm)
            for name, fn in ops.items():
                lib_rate = measure(base[name], options.seconds)[0] if name in base else None
                one_rate, one_lat = measure(fn, options.seconds)
                four_rate, four_lat = concurrent(url, name, 4, options.seconds)
                rows.append((name, lib_rate, one_rate, one_lat, four_rate, four_lat))
    print(f"{'operation':18s} {'in-process':>11s} {'scmd 1 cl':>10s} {'p50 us':>7s} {'p99 us':>7s} "
          f"{'scmd 4 cl':>10s} {'p50 us':>7s} {'p99 us':>7s} {'1cl/lib':>8s} {'4cl/lib':>8s}")
    for name, lib, one, one_lat, four, four_lat in rows:
        r1 = f"{one / lib:8.2f}" if lib else "       -"
        r4 = f"{four / lib:8.2f}" if lib else "       -"
        lib_text = f"{lib:11,.0f}" if lib else "          -"
        print(f"{name:18s} {lib_text} {one:10,.0f} {pct(one_lat, 50):7.0f} {pct(one_lat, 99):7.0f} "
              f"{four:10,.0f} {pct(four_lat, 50):7.0f} {pct(four_lat, 99):7.0f} {r1} {r4}")
    table = {r[0]: r for r in rows}
    sign = table["sign nistp256"]
    print("\ntargets (module-core issue):")
    print(f"  P-256 sign, 4 clients / in-process single thread: {sign[4] / sign[1]:.2f}  (target >= 0.70)")
    print(f"  P-256 sign, 1 client  / in-process single thread: {sign[2] / sign[1]:.2f}  (target >= 0.20)")
    keygen = table["keygen nistp256"]
    batch = table["keygen x64 batch"]
    print(f"  durable keygen, 1 client: {keygen[2]:,.0f}/s; 4 clients: {keygen[4]:,.0f}/s; in batches of {BATCH}: "
          f"{batch[2] * BATCH:,.0f}/s (1 client), {batch[4] * BATCH:,.0f}/s (4 clients)  (target >= 2,000/s)")


if __name__ == "__main__":
    main()
