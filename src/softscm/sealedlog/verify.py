"""Verification: says exactly which check failed, and where.

With the public checkpoint key: sequence numbers (gaps, reordering), each entry's hash, the
chain linking, every checkpoint's signature and head, and truncation against a checkpoint the
verifier already trusts. With the initial MAC key too: every entry's MAC under its epoch's key,
which catches an old entry re-written with a key stolen later.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..wire.errors import LogIntegrityError
from .records import GENESIS, Checkpoint, Entry, next_epoch_key


class Failure(Enum):
    MODIFIED_ENTRY = "an entry's content does not match its hash"
    BAD_CHAIN = "an entry does not link to the one before it"
    GAP = "entries are missing"
    REORDERED = "entries are out of order"
    BAD_MAC = "an entry's MAC does not check under its epoch key"
    BAD_SIGNATURE = "a checkpoint's signature does not verify"
    CHECKPOINT_MISMATCH = "a checkpoint does not match the entry it covers"
    TRUNCATED = "the log ends before a checkpoint the verifier holds"
    EPOCH = "an entry's epoch goes backwards"


class LogVerificationError(LogIntegrityError):
    """The log failed verification; ``reason`` and ``seq`` say which check failed where."""

    def __init__(self, reason: Failure, seq: int) -> None:
        super().__init__(f"{reason.name} at entry {seq}: {reason.value}")
        self.reason, self.seq = reason, seq


def _check_checkpoint(key: Ed25519PublicKey, checkpoint: Checkpoint, by_seq: dict[int, bytes], *,
                      must_be_present: bool) -> None:
    """Its signature, and its head against the entry it covers (a missing entry after the end of
    the log is truncation; one before the slice given is not checked)."""
    try:
        key.verify(checkpoint.signature, checkpoint.signed_bytes())
    except InvalidSignature:
        raise LogVerificationError(Failure.BAD_SIGNATURE, checkpoint.seq) from None
    head = by_seq.get(checkpoint.seq)
    if head is None:
        if must_be_present:
            raise LogVerificationError(Failure.TRUNCATED, checkpoint.seq)
        return
    if not hmac.compare_digest(head, checkpoint.head):
        raise LogVerificationError(Failure.CHECKPOINT_MISMATCH, checkpoint.seq)


@dataclass(frozen=True)
class VerifyReport:
    entries: int
    first_seq: int | None
    last_seq: int | None
    checkpoints: int
    last_checkpoint: int | None
    macs_checked: bool


def verify(entries: Sequence[Entry], checkpoints: Sequence[Checkpoint], public_key: bytes, *,
           initial_mac_key: bytes | None = None, trusted: Checkpoint | None = None) -> VerifyReport:
    """Verify a log (or a contiguous slice of it starting at entry 1 when MACs are checked).

    :raises LogVerificationError: naming the failed check and the entry.
    """
    key = Ed25519PublicKey.from_public_bytes(public_key)
    for earlier, later in zip(entries, entries[1:]):
        if later.seq < earlier.seq:
            raise LogVerificationError(Failure.REORDERED, later.seq)
    by_seq: dict[int, bytes] = {}
    previous: Entry | None = None
    mac_key, mac_epoch = initial_mac_key, 0
    for entry in entries:
        if previous is not None:
            if entry.seq == previous.seq:
                raise LogVerificationError(Failure.REORDERED, entry.seq)
            if entry.seq != previous.seq + 1:
                raise LogVerificationError(Failure.GAP, previous.seq + 1)
            if entry.epoch < previous.epoch:
                raise LogVerificationError(Failure.EPOCH, entry.seq)
        elif entry.seq == 1 and entry.prev_hash != GENESIS:
            raise LogVerificationError(Failure.BAD_CHAIN, entry.seq)
        if not hmac.compare_digest(entry.computed_hash(), entry.hash):
            raise LogVerificationError(Failure.MODIFIED_ENTRY, entry.seq)
        if previous is not None and not hmac.compare_digest(entry.prev_hash, previous.hash):
            raise LogVerificationError(Failure.BAD_CHAIN, entry.seq)
        if mac_key is not None:
            while mac_epoch < entry.epoch:
                mac_key, mac_epoch = next_epoch_key(mac_key), mac_epoch + 1
            if not hmac.compare_digest(hmac.new(mac_key, entry.hash, hashlib.sha256).digest(), entry.mac):
                raise LogVerificationError(Failure.BAD_MAC, entry.seq)
        by_seq[entry.seq] = entry.hash
        previous = entry
    last_seq = previous.seq if previous else 0
    for checkpoint in checkpoints:
        _check_checkpoint(key, checkpoint, by_seq, must_be_present=checkpoint.seq > last_seq)
    if trusted is not None:
        _check_checkpoint(key, trusted, by_seq, must_be_present=True)
    return VerifyReport(len(entries), entries[0].seq if entries else None, previous.seq if previous else None,
                        len(checkpoints), checkpoints[-1].seq if checkpoints else None, initial_mac_key is not None)
