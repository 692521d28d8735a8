"""The result of a signing operation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Signature:
    """A raw signature (ECDSA r||s or Ed25519 R||S, 64 bytes) and, for ECDSA, its recovery id."""

    raw: bytes
    recovery_id: int | None = None
