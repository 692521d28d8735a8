"""Fault injection, for tests only: corrupt a KAT, an integrity digest or the entropy samples to
prove each failure path. Arming a fault needs the module's mode and its fault-injection switch;
production mode refuses, whatever the switch says.

A :class:`FaultPlan` starts empty and does nothing; the self tests consult it (:func:`.kat.run_kats`,
:func:`.integrity.digest_check`, :class:`.health.HealthTestedRng`, the runner).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ...wire.defs import Mode
from ...wire.errors import InvalidArgumentError, NotPermittedError
from .kat_table import KAT_NAMES

INTEGRITY_CHECKS = ("code", "keystore", "key_material")
KAT_TARGETS = ("input", "expected")
ENTROPY_FAULTS = ("stuck", "biased")


def flip(data: bytes) -> bytes:
    """``data`` with one byte changed: the lowest bit of its first byte flipped (an empty value
    becomes one byte)."""
    if not data:
        return b"\x01"
    return bytes([data[0] ^ 0x01]) + data[1:]


def faulty_source(kind: str) -> Callable[[int], bytes]:
    """An entropy source that is ``stuck`` (always 0) or ``biased`` (0 on every other sample, never
    twice in a row, so only the adaptive proportion test can see it).

    :raises InvalidArgumentError: for another kind.
    """
    if kind == "stuck":
        return bytes
    if kind == "biased":
        return lambda n: bytes(0 if i % 2 == 0 else (i % 251) + 1 for i in range(n))
    raise InvalidArgumentError(f"entropy faults: {', '.join(ENTROPY_FAULTS)}")


@dataclass
class FaultPlan:
    """The faults armed for the next self tests: KAT name -> "input" | "expected", integrity checks
    whose computed digest is corrupted, and a faulty entropy stream ("stuck" | "biased")."""

    kat: dict[str, str] = field(default_factory=dict)
    integrity: set[str] = field(default_factory=set)
    entropy: str | None = None

    def add(self, mode: Mode, enabled: bool, *, kat: str | None = None, where: str = "input",
            integrity: str | None = None, entropy: str | None = None) -> None:
        """Arm faults. ``enabled`` is the module's fault-injection switch (off unless a test build
        turned it on).

        :raises NotPermittedError: in production mode, or when fault injection is not enabled.
        :raises InvalidArgumentError: for an unknown KAT, target, integrity check or entropy fault
            (nothing is armed then).
        """
        if mode is not Mode.DEVELOPMENT or not enabled:
            raise NotPermittedError("fault injection is available only in development mode on a test build")
        if kat is not None:
            if kat not in KAT_NAMES:
                raise InvalidArgumentError("no KAT of that name")
            if where not in KAT_TARGETS:
                raise InvalidArgumentError("a KAT fault goes into its 'input' or 'expected' value")
        if integrity is not None and integrity not in INTEGRITY_CHECKS:
            raise InvalidArgumentError(f"integrity faults: {', '.join(INTEGRITY_CHECKS)}")
        if entropy is not None and entropy not in ENTROPY_FAULTS:
            raise InvalidArgumentError(f"entropy faults: {', '.join(ENTROPY_FAULTS)}")
        if kat is not None:
            self.kat[kat] = where
        if integrity is not None:
            self.integrity.add(integrity)
        if entropy is not None:
            self.entropy = entropy

    def kat_value(self, name: str, where: str, value: bytes) -> bytes:
        """``value`` (a KAT's "input" or "expected"), flipped if a fault is armed there."""
        return flip(value) if self.kat.get(name) == where else value

    def digest(self, check: str, digest: bytes) -> bytes:
        """A freshly computed integrity digest, flipped if a fault is armed for ``check``."""
        return flip(digest) if check in self.integrity else digest

    def entropy_source(self) -> Callable[[int], bytes] | None:
        """The faulty entropy stream if one is armed, else None."""
        return faulty_source(self.entropy) if self.entropy is not None else None
