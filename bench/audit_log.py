"""Audit log speed: durable appends per second and verification throughput, beside a plain
SHA-256 hash chain over the same entries in the same run.

    .venv/bin/python bench/audit_log.py
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

import cbor2

from softscm.module.audit.log import AuditLog
from softscm.sealedlog.reader import read_log
from softscm.sealedlog.verify import verify
from softscm.wire.defs import Event

DURABLE = 1_000
BULK = 100_000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        audit = AuditLog.create(Path(tmp), os.urandom(32), os.urandom(32))
        k0 = audit.claim_verifier_key()
        start = time.perf_counter()
        for i in range(DURABLE):
            audit.append(Event.HOST_EVENT, {"n": i})
        durable = DURABLE / (time.perf_counter() - start)
        start = time.perf_counter()
        audit.append_many((Event.HOST_EVENT, {"n": i}) for i in range(BULK))
        bulk = BULK / (time.perf_counter() - start)
        entries, checkpoints = read_log(Path(tmp))
        start = time.perf_counter()
        verify(entries, checkpoints, audit.public_key)
        chain_only = len(entries) / (time.perf_counter() - start)
        start = time.perf_counter()
        verify(entries, checkpoints, audit.public_key, initial_mac_key=k0)
        with_macs = len(entries) / (time.perf_counter() - start)
        audit.close()
    start = time.perf_counter()  # the same per-entry work minus MACs and signatures: encode, hash, link
    head = bytes(32)
    for entry in entries:
        body = cbor2.dumps([entry.seq, entry.time, entry.event, entry.details, entry.epoch], canonical=True)
        head = hashlib.sha256(head + body).digest()
    plain = len(entries) / (time.perf_counter() - start)
    print(f"durable appends (one fsync each):        {durable:12,.0f}/s")
    print(f"appends in one transaction:              {bulk:12,.0f}/s")
    print(f"verification, chain + checkpoints:       {chain_only:12,.0f} entries/s  ({chain_only / plain:.2f}x a plain SHA-256 chain)")
    print(f"verification, with every MAC:            {with_macs:12,.0f} entries/s  ({with_macs / plain:.2f}x a plain SHA-256 chain)")
    print(f"plain SHA-256 hash chain, same entries:  {plain:12,.0f} entries/s")


if __name__ == "__main__":
    main()
