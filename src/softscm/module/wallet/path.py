"""Wallet node addresses: ``m/44'/60'/0'/0/3`` (``'``, ``h`` or ``H`` mark a hardened index)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ...wire.errors import InvalidArgumentError

HARDENED = 0x80000000
MAX_DEPTH = 255


@dataclass(frozen=True)
class PathStep:
    """One step of a node address: an index below 2^31 and whether it is hardened."""

    index: int
    hardened: bool

    @property
    def raw_index(self) -> int:
        """The 32-bit index with the hardened bit set where it applies."""
        return self.index | HARDENED if self.hardened else self.index


def parse_path(text: str) -> tuple[PathStep, ...]:
    """Parse a node address.

    :raises InvalidArgumentError: if it does not start with ``m``, has an empty or non-numeric
        step, an index of 2^31 or more, or more than 255 steps.
    """
    parts = text.strip().split("/")
    if parts[0] != "m":
        raise InvalidArgumentError("a node address starts with 'm'")
    steps = []
    for part in parts[1:]:
        hardened = part[-1:] in ("'", "h", "H")
        digits = part[:-1] if hardened else part
        if not digits.isdigit() or (len(digits) > 1 and digits[0] == "0"):
            raise InvalidArgumentError(f"bad step {part!r} in node address")
        index = int(digits)
        if index >= HARDENED:
            raise InvalidArgumentError("a node index is below 2^31")
        steps.append(PathStep(index, hardened))
    if len(steps) > MAX_DEPTH:
        raise InvalidArgumentError(f"a node address has at most {MAX_DEPTH} steps")
    return tuple(steps)


def format_path(steps: Sequence[PathStep]) -> str:
    """The canonical text of a node address (``'`` for hardened steps)."""
    return "/".join(["m", *(f"{s.index}'" if s.hardened else str(s.index) for s in steps)])
