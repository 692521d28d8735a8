"""Torn writes of each state file: a module cut short at any length of any of its files either
refuses to start with a typed error or starts with everything it had (never less, never a
traceback)."""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from softscm.embedded import open_embedded
from softscm.wire.defs import KeyType
from softscm.wire.errors import ScmError


@dataclass
class FaultReport:
    tried: int = 0
    refused: int = 0
    intact: int = 0
    failures: list[str] = field(default_factory=list)


def _public(scm, slot: int) -> bytes:  # noqa: ANN001
    try:
        return scm.get_public_key(slot)
    except ScmError:  # a wallet master's public key is not exported
        return b""


def _contents(state: Path) -> tuple[dict[int, bytes], list[str]]:
    with open_embedded(state) as scm:
        slots = {slot: _public(scm, slot) for slot, _ in scm.list_slots().slots}
        wallets = sorted(w.name for w in scm.list_wallets())
    return slots, wallets


def torn_writes(base: Path, tries_per_file: int, *, seed: int = 0) -> FaultReport:
    """Cut each file of a stopped module at ``tries_per_file`` random lengths, one at a time."""
    report = FaultReport()
    rng = random.Random(seed)
    reference = base / "reference"
    with open_embedded(reference) as scm:
        for key_type in KeyType:
            scm.gen_key_pair(key_type)
        scm.create_wallet(KeyType.SECP256K1, "torn")
    expected = _contents(reference)  # (opening once more is part of the reference state)
    files = sorted(p.relative_to(reference) for p in reference.rglob("*") if p.is_file())
    for name in files:
        size = (reference / name).stat().st_size
        for attempt in range(tries_per_file):
            copy = base / f"try-{attempt}"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(reference, copy)
            with open(copy / name, "r+b") as fh:
                fh.truncate(rng.randrange(size) if size else 0)
            report.tried += 1
            try:
                found = _contents(copy)
            except ScmError:
                report.refused += 1
                continue
            except Exception as exc:  # noqa: BLE001 - the finding: an untyped failure
                report.failures.append(f"{name} cut: {type(exc).__name__}: {exc!s:.120}")
                continue
            if not expected[0].items() <= found[0].items() or not set(expected[1]) <= set(found[1]):
                report.failures.append(f"{name} cut: started with less than it had")
            else:
                report.intact += 1
    return report
