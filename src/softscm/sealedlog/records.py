"""Log entries and signed checkpoints.

An entry's hash is SHA-256 over the previous entry's hash and the entry's canonical CBOR
encoding; its MAC is HMAC-SHA256 under the key of its epoch over that hash. Epoch keys evolve
forward: ``k[e+1] = HMAC-SHA256(k[e], "softscm audit evolve")`` and the old key is erased.
A checkpoint is an Ed25519 signature over (sequence number, chain head, epoch, time).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import cbor2

from ..wire.defs import Event

GENESIS = bytes(32)
EVOLVE_LABEL = b"softscm audit evolve"
CHECKPOINT_LABEL = b"softscm audit checkpoint v1"


def next_epoch_key(key: bytes) -> bytes:
    return hmac.new(key, EVOLVE_LABEL, hashlib.sha256).digest()


def epoch_key(initial: bytes, epoch: int) -> bytes:
    key = initial
    for _ in range(epoch):
        key = next_epoch_key(key)
    return key


@dataclass(frozen=True)
class Entry:
    seq: int
    time: float
    event: int
    details: dict[str, Any]
    epoch: int
    prev_hash: bytes
    hash: bytes
    mac: bytes

    def body(self) -> bytes:
        """The canonical encoding the hash covers."""
        return cbor2.dumps([self.seq, self.time, self.event, self.details, self.epoch], canonical=True)

    def computed_hash(self) -> bytes:
        return hashlib.sha256(self.prev_hash + self.body()).digest()

    @property
    def event_name(self) -> str:
        try:
            return Event(self.event).name
        except ValueError:
            return f"EVENT_{self.event}"

    @classmethod
    def make(cls, seq: int, time: float, event: int, details: dict[str, Any], epoch: int, prev_hash: bytes,
             key: bytes) -> Entry:
        draft = cls(seq, time, int(event), details, epoch, prev_hash, b"", b"")
        digest = draft.computed_hash()
        return cls(seq, time, int(event), details, epoch, prev_hash, digest,
                   hmac.new(key, digest, hashlib.sha256).digest())

    def to_json(self) -> str:
        return json.dumps({"seq": self.seq, "time": self.time, "event": self.event, "name": self.event_name,
                           "details": _hexify(self.details), "epoch": self.epoch, "prev_hash": self.prev_hash.hex(),
                           "hash": self.hash.hex(), "mac": self.mac.hex()}, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Entry:
        raw = json.loads(line)
        return cls(raw["seq"], raw["time"], raw["event"], _unhexify(raw["details"]), raw["epoch"],
                   bytes.fromhex(raw["prev_hash"]), bytes.fromhex(raw["hash"]), bytes.fromhex(raw["mac"]))


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head: bytes
    epoch: int
    time: float
    signature: bytes

    def signed_bytes(self) -> bytes:
        return CHECKPOINT_LABEL + cbor2.dumps([self.seq, self.head, self.epoch, self.time], canonical=True)

    def to_json(self) -> str:
        return json.dumps({"checkpoint": {"seq": self.seq, "head": self.head.hex(), "epoch": self.epoch,
                                          "time": self.time, "signature": self.signature.hex()}}, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> Checkpoint:
        raw = json.loads(line)["checkpoint"]
        return cls(raw["seq"], bytes.fromhex(raw["head"]), raw["epoch"], raw["time"], bytes.fromhex(raw["signature"]))


def _hexify(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$hex": value.hex()}
    if isinstance(value, dict):
        return {k: _hexify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hexify(v) for v in value]
    return value


def _unhexify(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$hex"}:
            return bytes.fromhex(value["$hex"])
        return {k: _unhexify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unhexify(v) for v in value]
    return value


def write_jsonl(entries: list[Entry], checkpoints: list[Checkpoint]) -> str:
    """An export: one JSON object per line, entries then checkpoints."""
    return "".join(e.to_json() + "\n" for e in entries) + "".join(c.to_json() + "\n" for c in checkpoints)


def read_jsonl(text: str) -> tuple[list[Entry], list[Checkpoint]]:
    entries, checkpoints = [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith('{"checkpoint"'):
            checkpoints.append(Checkpoint.from_json(line))
        else:
            entries.append(Entry.from_json(line))
    return entries, checkpoints
