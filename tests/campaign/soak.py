"""A soak: 16 clients against a real scmd for a while, with resident memory and p99 latency
reported over time. Fails on any error, any request over 1 s, or memory that keeps growing."""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
import softscm
from softscm.wire.defs import KeyType

CLIENTS = 16


@dataclass
class SoakReport:
    seconds: float = 0.0
    clients: int = CLIENTS
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    slowest: float = 0.0
    intervals: list[dict[str, float]] = field(default_factory=list)  # t, rss_mib, p99_ms, requests

    @property
    def rss_growth_mib(self) -> float:
        """Resident memory at the end against a quarter in (after warm-up)."""
        if len(self.intervals) < 2:
            return 0.0
        warm = self.intervals[len(self.intervals) // 4]["rss_mib"]
        return self.intervals[-1]["rss_mib"] - warm


def _rss_mib(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _worker(url: str, stop: threading.Event, seed: int, latencies: list[float], report: SoakReport,
            lock: threading.Lock) -> None:
    rng = random.Random(seed)
    try:
        scm = softscm.connect(url, timeout=10)
    except Exception as exc:  # noqa: BLE001
        with lock:
            report.errors.append(f"connect: {exc}")
        return
    with scm:
        slots = {kt: scm.gen_key_pair(kt) for kt in (KeyType.NISTP256, KeyType.SECP256K1, KeyType.ED25519)}
        own: list[int] = []
        while not stop.is_set():
            choice = rng.random()
            started = time.monotonic()
            try:
                if choice < 0.5:
                    key_type = rng.choice(list(slots))
                    digest = rng.randbytes(32)
                    signature = scm.sign(slots[key_type], digest)
                    scm.verify(slots[key_type], digest, signature.raw)
                elif choice < 0.65:
                    data = rng.randbytes(rng.randrange(1, 4096))
                    if scm.unlock(scm.lock(data)) != data:
                        raise AssertionError("unlock gave other data")
                elif choice < 0.75:
                    scm.get_random(rng.randrange(1, 1024))
                elif choice < 0.85 or not own:
                    own.append(scm.gen_key_pair(KeyType.SECP256K1))
                else:
                    scm.remove_key(own.pop(rng.randrange(len(own))))
                if len(own) > 8:
                    scm.remove_key(own.pop(0))
            except Exception as exc:  # noqa: BLE001 - the finding
                with lock:
                    report.errors.append(f"{type(exc).__name__}: {exc!s:.120}")
                continue
            elapsed = time.monotonic() - started
            with lock:
                latencies.append(elapsed)
                report.requests += 1
                report.slowest = max(report.slowest, elapsed)
        for slot in own + list(slots.values()):
            try:
                scm.remove_key(slot)
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass


def run(url: str, pid: int, seconds: float, *, interval: float = 5.0, seed: int = 0) -> SoakReport:
    """Soak the daemon at ``url`` (process ``pid``) for ``seconds``."""
    report = SoakReport()
    stop = threading.Event()
    lock = threading.Lock()
    latencies: list[float] = []
    threads = [threading.Thread(target=_worker, args=(url, stop, seed + i, latencies, report, lock), daemon=True)
               for i in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    next_sample = started + interval
    while time.monotonic() - started < seconds:
        time.sleep(max(0.0, min(next_sample, started + seconds) - time.monotonic()))
        with lock:
            window, latencies[:] = sorted(latencies), []
        p99 = window[int(len(window) * 0.99)] * 1000 if window else 0.0
        report.intervals.append({"t": round(time.monotonic() - started, 1), "rss_mib": round(_rss_mib(pid), 1),
                                 "p99_ms": round(p99, 2), "requests": len(window)})
        next_sample += interval
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    report.seconds = time.monotonic() - started
    if os.path.exists(f"/proc/{pid}") is False:
        report.errors.append("the daemon is gone")
    return report
