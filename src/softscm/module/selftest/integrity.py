"""Integrity checks: the digest of the module's own code, and constant-time comparison of any
digest (code, keystore, key material) with the one recorded at installation or provisioning.

The keystore and key-material digests are computed by the store; this module only compares them
and turns them into self-test checks.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from pathlib import Path

import softscm

from ...wire.errors import InvalidArgumentError, SelfTestError
from .faults import INTEGRITY_CHECKS, FaultPlan

PACKAGE_ROOT = Path(softscm.__file__).parent

_LABELS = {"code": "code", "keystore": "keystore", "key_material": "critical key material"}


class DigestMismatchError(SelfTestError):
    """An integrity digest does not match the recorded one; ``check`` names which
    ("code", "keystore" or "key_material"). Travels on the wire as SelfTestError."""

    def __init__(self, check: str) -> None:
        super().__init__(f"{_LABELS[check]} digest does not match the recorded digest")
        self.check = check


def compute_code_digest(package_root: Path = PACKAGE_ROOT) -> bytes:
    """SHA-256 over every file of the package under ``package_root`` except ``__pycache__``
    directories: for each file in sorted relative-path order, the length-prefixed relative POSIX
    path, then the length-prefixed contents.

    Every file counts, not only ``*.py``: an added extension module or stray ``.pyc`` next to its
    source could change what is imported.

    :raises OSError: if a file cannot be read.
    """
    files = sorted((path.relative_to(package_root).as_posix(), path) for path in package_root.rglob("*")
                   if path.is_file() and "__pycache__" not in path.relative_to(package_root).parts)
    digest = hashlib.sha256()
    for relative, path in files:
        name = relative.encode()
        content = path.read_bytes()
        digest.update(len(name).to_bytes(4, "big") + name + len(content).to_bytes(8, "big") + content)
    return digest.digest()


def _known(check: str) -> None:
    if check not in INTEGRITY_CHECKS:
        raise InvalidArgumentError(f"integrity checks: {', '.join(INTEGRITY_CHECKS)}")


def verify_digest(check: str, recorded: bytes, actual: bytes) -> None:
    """Compare ``actual`` with ``recorded`` in constant time (an empty or missing record never
    matches). The error names the check, never the digests.

    :raises DigestMismatchError: if they differ.
    :raises InvalidArgumentError: for an unknown ``check``.
    """
    _known(check)
    if not recorded or not hmac.compare_digest(recorded, actual):
        raise DigestMismatchError(check)


def digest_check(check: str, recorded: Callable[[], bytes | None], actual: Callable[[], bytes],
                 faults: FaultPlan | None = None) -> Callable[[], None]:
    """A self-test check (for the runner's ``integrity_checks``) that compares ``actual()`` with
    ``recorded()`` (None: nothing recorded, which fails), the computed digest corrupted if
    ``faults`` arms that check.

    :raises InvalidArgumentError: for an unknown ``check``.
    """
    _known(check)

    def run() -> None:
        computed = actual()
        if faults is not None:
            computed = faults.digest(check, computed)
        verify_digest(check, recorded() or b"", computed)

    return run


def integrity_checks(recorded: Mapping[str, Callable[[], bytes | None]], actual: Mapping[str, Callable[[], bytes]],
                     faults: FaultPlan | None = None) -> dict[str, Callable[[], None]]:
    """The runner's ``integrity_checks`` for each check in ``actual`` (named ``"<check>_digest"``),
    each comparing with ``recorded[check]``.

    :raises InvalidArgumentError: for an unknown check, or one with no recorded-digest getter.
    """
    if set(actual) - set(recorded):
        raise InvalidArgumentError("every integrity check needs its recorded digest")
    return {f"{check}_digest": digest_check(check, recorded[check], actual[check], faults) for check in actual}
