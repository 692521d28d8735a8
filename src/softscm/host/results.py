"""Typed results returned by the clients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..wire.defs import KeyType


@dataclass(frozen=True)
class Signature:
    """A raw signature (ECDSA r||s, 64 bytes, not normalised to low-S; or Ed25519) and, when
    asked for, the ECDSA recovery id."""

    raw: bytes
    recovery_id: int | None = None

    @classmethod
    def from_wire(cls, value: list[Any]) -> Signature:
        return cls(bytes(value[0]), value[1])


@dataclass(frozen=True)
class SlotList:
    """Occupied slots with their key types, and how many slots there are in all."""

    slots: tuple[tuple[int, KeyType], ...]
    capacity: int

    @classmethod
    def from_wire(cls, value: dict[str, Any]) -> SlotList:
        return cls(tuple((int(s), KeyType(t)) for s, t in value["slots"]), int(value["capacity"]))


@dataclass(frozen=True)
class ModuleInfo:
    model: str
    firmware_version: str
    serial: str
    protocol_version: int
    identity_public_key: bytes
    user_capacity: int
    foreign_capacity: int
    wallet_capacity: int

    @classmethod
    def from_wire(cls, value: dict[str, Any]) -> ModuleInfo:
        return cls(**{name: value[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class WalletNode:
    """Where a wallet node lives: its address, its wallet's name and the wallet's master slot."""

    node_addr: str
    wallet_name: str
    master_slot: int
    key_type: KeyType
    watch_only: bool

    @classmethod
    def from_wire(cls, value: dict[str, Any]) -> WalletNode:
        return cls(value["node_addr"], value["wallet_name"], int(value["master_slot"]), KeyType(value["key_type"]),
                   bool(value["watch_only"]))


@dataclass(frozen=True)
class DerivedKey:
    """A derived wallet node: its slot, its address and (hardened nodes, when asked) its chain code."""

    slot: int
    node_addr: str
    chain_code: bytes | None = None

    @classmethod
    def from_wire(cls, value: dict[str, Any]) -> DerivedKey:
        chain = value.get("chain_code")
        return cls(int(value["slot"]), value["node_addr"], bytes(chain) if chain is not None else None)
