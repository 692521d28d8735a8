"""Known-answer tests: the table of official vectors (:mod:`.kat_table`) run through the module's
own crypto layer (and hashlib/hmac for SHA-2 and HMAC). A wrong answer, or any error while
computing it, is a failed test; nothing escapes as an exception."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

from ...wire.defs import KdfType, KeyType
from ..crypto import PublicKey, derive_key, load_private, open_sealed, seal
from .faults import FaultPlan
from .kat_table import KAT_NAMES, TABLE, KnownAnswerTest
from ...wire.messages.selftest import TestCategory, TestResult

Runner = Callable[[KnownAnswerTest, bytes, bytes], bytes]
"""(test, input, expected) -> output; the test passes when the output equals ``expected``."""


def _signed_input(key_type: KeyType, message: bytes) -> bytes:
    """What the key signs for ``message``: Ed25519 the message itself, ECDSA its SHA-256 digest."""
    return message if key_type is KeyType.ED25519 else hashlib.sha256(message).digest()


def _sign(key_type: KeyType) -> Runner:
    def run(kat: KnownAnswerTest, data: bytes, expected: bytes) -> bytes:
        return load_private(key_type, kat.params["key"]).sign(_signed_input(key_type, data), deterministic=True).raw
    return run


def _verify(key_type: KeyType) -> Runner:
    def run(kat: KnownAnswerTest, data: bytes, expected: bytes) -> bytes:
        # raises if it does not verify
        PublicKey(key_type, kat.params["public"]).verify(_signed_input(key_type, data), expected)
        return expected
    return run


def _exchange(key_type: KeyType) -> Runner:
    return lambda kat, data, expected: load_private(key_type, kat.params["key"]).exchange(data)


def _gcm_encrypt(kat: KnownAnswerTest, data: bytes, expected: bytes) -> bytes:
    iv = kat.params["iv"]
    sealed = seal(kat.params["key"], data, kat.params["aad"], rng=lambda n: iv)
    return sealed[len(iv):]


def _gcm_decrypt(kat: KnownAnswerTest, data: bytes, expected: bytes) -> bytes:
    return open_sealed(kat.params["key"], data, kat.params["aad"])


RUNNERS: dict[str, Runner] = {
    "sha256": lambda kat, data, expected: hashlib.sha256(data).digest(),
    "sha512": lambda kat, data, expected: hashlib.sha512(data).digest(),
    "hmac-sha256": lambda kat, data, expected: hmac.new(kat.params["key"], data, hashlib.sha256).digest(),
    "ecdsa-p256-sha256-sign": _sign(KeyType.NISTP256),
    "ecdsa-p256-sha256-verify": _verify(KeyType.NISTP256),
    "ecdsa-secp256k1-sha256-sign": _sign(KeyType.SECP256K1),
    "ecdsa-secp256k1-sha256-verify": _verify(KeyType.SECP256K1),
    "ed25519-sign": _sign(KeyType.ED25519),
    "ed25519-verify": _verify(KeyType.ED25519),
    "x25519": _exchange(KeyType.X25519),
    "ecdh-p256": _exchange(KeyType.NISTP256),
    "aes-256-gcm-encrypt": _gcm_encrypt,
    "aes-256-gcm-decrypt": _gcm_decrypt,
    "hkdf-sha256": lambda kat, data, expected: derive_key(
        KdfType.HKDF_SHA256, data, salt=kat.params["salt"], info=kat.params["info"], length=kat.numbers["length"]),
    "pbkdf2-hmac-sha256": lambda kat, data, expected: derive_key(
        KdfType.PBKDF2_SHA256, data, salt=kat.params["salt"], iterations=kat.numbers["iterations"],
        length=kat.numbers["length"]),
}


def run_kat(kat: KnownAnswerTest, faults: FaultPlan | None = None) -> TestResult:
    """Run one known-answer test (with ``faults``' corruption of its input or expected value)."""
    data, expected = kat.input, kat.expected
    if faults is not None:
        data = faults.kat_value(kat.name, "input", data)
        expected = faults.kat_value(kat.name, "expected", expected)
    started = time.perf_counter()
    try:
        passed = hmac.compare_digest(RUNNERS[kat.algorithm](kat, data, expected), expected)
        detail = "" if passed else "wrong answer"
    except Exception as exc:  # noqa: BLE001 - any error of the algorithm under test is a failed test
        passed, detail = False, f"raised {exc.__class__.__name__}"
    return TestResult(kat.name, TestCategory.KAT, passed, time.perf_counter() - started, detail)


def run_kats(faults: FaultPlan | None = None) -> list[TestResult]:
    """Run every known-answer test in table order, with the KAT faults ``faults`` arms. Raises
    nothing: failures are results.
    """
    return [run_kat(kat, faults) for kat in TABLE]


__all__ = ["KAT_NAMES", "RUNNERS", "TABLE", "KnownAnswerTest", "run_kat", "run_kats"]
