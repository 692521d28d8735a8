"""Secret hygiene: known secret bytes never appear in the state files, the daemon's log (at
DEBUG, errors and tracebacks included), the exported audit log, or a core (there is none)."""

from __future__ import annotations

import base64
import os
import resource
import signal
from dataclasses import dataclass, field
from pathlib import Path

from softscm.wire.defs import KeyType

SECRET_KEY = bytes.fromhex("5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75e01")


@dataclass
class HygieneReport:
    places: int = 0
    needles: int = 0
    found: list[str] = field(default_factory=list)
    core_written: bool = False


def _needles(mnemonic: str) -> dict[str, bytes]:
    words = mnemonic.split()
    return {
        "private key": SECRET_KEY, "private key hex": SECRET_KEY.hex().encode(),
        "private key HEX": SECRET_KEY.hex().upper().encode(), "private key base64": base64.b64encode(SECRET_KEY),
        "private key (16-byte prefix)": SECRET_KEY[:16],
        "mnemonic": mnemonic.encode(), "mnemonic words": " ".join(words[:3]).encode(),
        "mnemonic words (last)": " ".join(words[-3:]).encode(),
    }


def run(daemon_factory, tmp: Path) -> HygieneReport:
    """Start scmd (DEBUG logging), put a known key and a BIP39 wallet in it, make it refuse
    things around them, read the log out, stop it; search everything it left. Then SIGABRT one
    started with unlimited cores and look for a core."""
    report = HygieneReport()
    daemon = daemon_factory("hygiene", "--log-level", "DEBUG")
    with daemon.connect() as scm:
        slot = scm.import_key(KeyType.SECP256K1, SECRET_KEY)
        _, mnemonic = scm.create_wallet(KeyType.SECP256K1, "hygiene", bip39=True)
        assert mnemonic
        for attempt in (lambda: scm.import_key(KeyType.SECP256K1, SECRET_KEY),
                        lambda: scm.import_key(KeyType.NISTP256, b"\xff" * 32),
                        lambda: scm.restore_wallet_bip39(KeyType.SECP256K1, "hygiene", mnemonic),
                        lambda: scm.restore_wallet_bip39(KeyType.SECP256K1, "other", mnemonic + " extra")):
            try:
                attempt()
            except Exception as exc:  # noqa: BLE001 - refusals are expected; their messages are searched
                (tmp / "client-errors.txt").open("a").write(f"{type(exc).__name__}: {exc}\n")
        export = repr(scm.read_log())
        scm.sign(slot, bytes(32))
    (tmp / "log-export.txt").write_text(export)
    daemon.stop()
    (tmp / "scmd-stderr.txt").write_bytes(daemon.process.stderr.read())
    places = [p for p in daemon.state_dir.rglob("*") if p.is_file()] + \
             [tmp / "log-export.txt", tmp / "scmd-stderr.txt", tmp / "client-errors.txt"]
    needles = _needles(mnemonic)
    report.needles = len(needles)
    for place in places:
        data = place.read_bytes()
        report.places += 1
        for name, needle in needles.items():
            if needle in data:
                report.found.append(f"{name} in {place.name}")
    # a forced core: the daemon makes itself undumpable
    saved = resource.getrlimit(resource.RLIMIT_CORE)
    cwd = os.getcwd()
    resource.setrlimit(resource.RLIMIT_CORE, (saved[1], saved[1]))
    os.chdir(tmp)
    try:
        crashing = daemon_factory("hygiene")
    finally:
        os.chdir(cwd)
        resource.setrlimit(resource.RLIMIT_CORE, saved)
    crashing.process.send_signal(signal.SIGABRT)
    crashing.process.wait(timeout=10)
    report.core_written = any(p.name.startswith("core") for p in tmp.iterdir())
    return report
