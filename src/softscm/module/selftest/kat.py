"""Known-answer tests: a table of official vectors (``kat_vectors.json``) run through the module's
own crypto layer. A wrong answer is a failed test, never an exception."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...wire.defs import KdfType, KeyType
from ..crypto import derive_key, load_private, open_sealed, seal
from ..crypto.keys import PublicKey
from .faults import flip
from .report import TestResult

TABLE = json.loads((Path(__file__).parent / "kat_vectors.json").read_text())["kats"]
KAT_NAMES = tuple(k["name"] for k in TABLE)


def _ecdsa(key_type: KeyType) -> Callable[[dict[str, bytes], dict[str, Any]], bytes]:
    def run(v: dict[str, bytes], raw: dict[str, Any]) -> bytes:
        key = load_private(key_type, v["key"])
        signature = key.sign(v["input"], deterministic=True).raw
        PublicKey(key_type, key.public).verify(v["input"], signature)  # raises on a mismatch
        return signature
    return run


def _ed25519(v: dict[str, bytes], raw: dict[str, Any]) -> bytes:
    key = load_private(KeyType.ED25519, v["key"])
    signature = key.sign(v["input"]).raw
    PublicKey(KeyType.ED25519, key.public).verify(v["input"], signature)
    return signature


def _aes_gcm(v: dict[str, bytes], raw: dict[str, Any]) -> bytes:
    sealed = seal(v["key"], v["input"], v["aad"], rng=lambda n: v["iv"])
    if open_sealed(v["key"], sealed, v["aad"]) != v["input"]:
        return b""
    return sealed[len(v["iv"]):]


RUNNERS: dict[str, Callable[[dict[str, bytes], dict[str, Any]], bytes]] = {
    "sha256": lambda v, r: hashlib.sha256(v["input"]).digest(),
    "sha512": lambda v, r: hashlib.sha512(v["input"]).digest(),
    "hmac-sha256": lambda v, r: hmac.new(v["key"], v["input"], hashlib.sha256).digest(),
    "ecdsa-nistp256": _ecdsa(KeyType.NISTP256),
    "ecdsa-secp256k1": _ecdsa(KeyType.SECP256K1),
    "ed25519": _ed25519,
    "x25519": lambda v, r: load_private(KeyType.X25519, v["key"]).exchange(v["input"]),
    "ecdh-nistp256": lambda v, r: load_private(KeyType.NISTP256, v["key"]).exchange(v["input"]),
    "aes-gcm": _aes_gcm,
    "hkdf-sha256": lambda v, r: derive_key(KdfType.HKDF_SHA256, v["input"], salt=v["salt"], info=v["info"],
                                           length=r["length"]),
    "pbkdf2-sha256": lambda v, r: derive_key(KdfType.PBKDF2_SHA256, v["input"], salt=v["salt"],
                                             iterations=r["iterations"], length=r["length"]),
}
HEX_FIELDS = ("key", "input", "expected", "iv", "aad", "salt", "info")


def run_kats(faults: dict[str, str] | None = None) -> list[TestResult]:
    """Run every KAT; ``faults`` maps a KAT name to "input" or "expected" to corrupt it."""
    faults = faults or {}
    results = []
    for raw in TABLE:
        values = {name: bytes.fromhex(raw[name]) for name in HEX_FIELDS if name in raw}
        if raw["name"] in faults:
            target = faults[raw["name"]]
            values[target] = flip(values[target])
        started = time.perf_counter()
        try:
            passed = hmac.compare_digest(RUNNERS[raw["algorithm"]](values, raw), values["expected"])
            detail = "" if passed else "wrong answer"
        except Exception as exc:  # any failure of the algorithm is a failed test, reported, not raised
            passed, detail = False, exc.__class__.__name__
        results.append(TestResult(raw["name"], "kat", passed, time.perf_counter() - started, detail))
    return results
