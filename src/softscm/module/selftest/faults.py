"""Fault injection, for tests only: never available in production mode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ...wire.defs import Mode
from ...wire.errors import InvalidArgumentError, NotPermittedError

INTEGRITY_CHECKS = ("code", "keystore", "key_material")


@dataclass
class FaultPlan:
    """What to corrupt at the next self test: a KAT's input or expected value, an integrity
    digest, or the entropy samples."""

    kat: dict[str, str] = field(default_factory=dict)  # name -> "input" | "expected"
    integrity: set[str] = field(default_factory=set)
    entropy: str | None = None  # "stuck" | "biased"

    def add(self, mode: Mode, enabled: bool, *, kat: str | None = None, where: str = "input",
            integrity: str | None = None, entropy: str | None = None) -> None:
        """:raises NotPermittedError: in production mode or when fault injection is not enabled.
        :raises InvalidArgumentError: for an unknown target."""
        if mode is Mode.PRODUCTION or not enabled:
            raise NotPermittedError("fault injection is available only in development mode on a test build")
        if kat is not None:
            if where not in ("input", "expected"):
                raise InvalidArgumentError("a KAT fault goes into its 'input' or 'expected' value")
            self.kat[kat] = where
        if integrity is not None:
            if integrity not in INTEGRITY_CHECKS:
                raise InvalidArgumentError(f"integrity faults: {', '.join(INTEGRITY_CHECKS)}")
            self.integrity.add(integrity)
        if entropy is not None:
            if entropy not in ("stuck", "biased"):
                raise InvalidArgumentError("entropy faults: stuck, biased")
            self.entropy = entropy


def faulty_source(kind: str) -> Callable[[int], bytes]:
    """An entropy source that is stuck (one value) or biased (one value every other sample)."""
    if kind == "stuck":
        return lambda n: bytes(n)
    return lambda n: bytes(0 if i % 2 == 0 else (i % 251) + 1 for i in range(n))


def flip(data: bytes) -> bytes:
    """``data`` with its first byte's lowest bit flipped (a one-byte change)."""
    if not data:
        return b"\x01"
    return bytes([data[0] ^ 0x01]) + data[1:]
