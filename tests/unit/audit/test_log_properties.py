"""A property table on a real log on disk: each kind of tampering is detected, and named."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import sqlite3

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from softscm.module.audit.log import AuditLog
from softscm.module.crypto.aead import open_sealed
from softscm.sealedlog.reader import log_path, read_log
from softscm.sealedlog.records import GENESIS, Checkpoint, Entry, read_jsonl, write_jsonl
from softscm.sealedlog.verify import Failure, LogVerificationError, verify
from softscm.wire.defs import Event

SIGNING, SEAL = os.urandom(32), os.urandom(32)


@pytest.fixture
def written(tmp_path):
    """A log of 300 entries, epochs of 16, checkpoints every 50, plus one at the end."""
    audit = AuditLog.create(tmp_path, SIGNING, SEAL, epoch_size=16, checkpoint_interval=50)
    k0 = audit.claim_verifier_key()
    for i in range(300):
        audit.append(Event.KEY_GENERATED if i % 2 else Event.HOST_EVENT, {"i": i, "note": f"entry {i}"})
    final = audit.checkpoint()
    public = audit.public_key
    audit.close()
    return tmp_path, public, k0, final


def _sql(state, statement: str, *params) -> None:
    db = sqlite3.connect(log_path(state))
    db.execute(statement, params)
    db.commit()
    db.close()


def _failure(state, public, k0=None, trusted=None, entries=None, checkpoints=None) -> LogVerificationError:
    if entries is None:
        entries, checkpoints = read_log(state)
    with pytest.raises(LogVerificationError) as info:
        verify(entries, checkpoints, public, initial_mac_key=k0, trusted=trusted)
    return info.value


def test_clean_log_verifies_with_and_without_the_mac_key(written):
    state, public, k0, final = written
    entries, checkpoints = read_log(state)
    report = verify(entries, checkpoints, public, initial_mac_key=k0, trusted=final)
    assert report.entries == 300 and report.checkpoints == 6 and report.macs_checked  # 50..300
    assert entries[-1].epoch == 299 // 16


def test_modified_entry(written):
    state, public, k0, _ = written
    _sql(state, "UPDATE entries SET details=? WHERE seq=123", cbor2.dumps({"i": 999, "note": "edited"}, canonical=True))
    failure = _failure(state, public, k0)
    assert (failure.reason, failure.seq) == (Failure.MODIFIED_ENTRY, 123)


def test_deleted_entry_in_the_middle(written):
    state, public, _, _ = written
    _sql(state, "DELETE FROM entries WHERE seq=150")
    failure = _failure(state, public)
    assert (failure.reason, failure.seq) == (Failure.GAP, 150)


def test_reordered_entries(written, tmp_path):
    state, public, _, _ = written
    entries, checkpoints = read_log(state)
    entries[40], entries[41] = entries[41], entries[40]
    failure = _failure(state, public, entries=entries, checkpoints=checkpoints)
    assert (failure.reason, failure.seq) == (Failure.REORDERED, 41)


def test_truncated_tail_detected_against_a_held_checkpoint(written):
    state, public, _, final = written
    _sql(state, "DELETE FROM entries WHERE seq > 260")
    _sql(state, "DELETE FROM checkpoints WHERE seq > 250")
    entries, checkpoints = read_log(state)
    verify(entries, checkpoints, public)  # on its own the shortened log is consistent...
    failure = _failure(state, public, trusted=final)  # ...but not with the checkpoint the verifier kept
    assert (failure.reason, failure.seq) == (Failure.TRUNCATED, 300)


def test_truncated_tail_with_checkpoints_left_behind(written):
    state, public, _, _ = written
    _sql(state, "DELETE FROM entries WHERE seq > 260")
    failure = _failure(state, public)
    assert failure.reason is Failure.TRUNCATED and failure.seq == 300


def _rechain(entries: list[Entry], key: bytes, start: int = 0, edit=None) -> list[Entry]:
    """Rebuild the chain from ``start`` on with ``key`` as every entry's MAC key."""
    out = entries[:start]
    prev = out[-1].hash if out else GENESIS
    for entry in entries[start:]:
        details = edit(entry) if edit else entry.details
        rebuilt = Entry.make(entry.seq, entry.time, entry.event, details, entry.epoch, prev, key)
        out.append(rebuilt)
        prev = rebuilt.hash
    return out


def test_whole_log_replaced_by_a_rechained_forgery(written):
    state, public, _, _ = written
    entries, checkpoints = read_log(state)
    forged = _rechain(entries, os.urandom(32), edit=lambda e: {**e.details, "note": "nothing happened"})
    failure = _failure(state, public, entries=forged, checkpoints=checkpoints)
    assert (failure.reason, failure.seq) == (Failure.CHECKPOINT_MISMATCH, 50)
    forger = Ed25519PrivateKey.generate()  # forged checkpoints too, but without the log key
    forged_checkpoints = []
    for cp in checkpoints:
        draft = Checkpoint(cp.seq, forged[cp.seq - 1].hash, cp.epoch, cp.time, b"")
        forged_checkpoints.append(Checkpoint(draft.seq, draft.head, draft.epoch, draft.time,
                                             forger.sign(draft.signed_bytes())))
    failure = _failure(state, public, entries=forged, checkpoints=forged_checkpoints)
    assert (failure.reason, failure.seq) == (Failure.BAD_SIGNATURE, 50)


def test_old_entry_forged_with_the_current_epoch_key(written):
    state, public, k0, _ = written
    db = sqlite3.connect(log_path(state))
    epoch, sealed = db.execute("SELECT epoch, sealed_key FROM state").fetchone()
    db.close()
    stolen = open_sealed(SEAL, bytes(sealed), b"softscm audit epoch key" + epoch.to_bytes(8, "big"))
    entries, checkpoints = read_log(state)
    forged = _rechain(entries, stolen, start=9, edit=lambda e: {**e.details, "note": "forged"} if e.seq == 10
                      else e.details)
    failure = _failure(state, public, k0, entries=forged, checkpoints=[])
    assert (failure.reason, failure.seq) == (Failure.BAD_MAC, 10)
    # the stolen key is valid only for the current epoch: entries in it still check
    assert hmac.compare_digest(hmac.new(stolen, entries[-1].hash, hashlib.sha256).digest(), entries[-1].mac)


def test_export_round_trip_and_offline_copy(written, tmp_path):
    state, public, k0, final = written
    copy = tmp_path / "copy-of-failed-module"
    shutil.copytree(state, copy)
    entries, checkpoints = read_log(copy)
    again = read_jsonl(write_jsonl(entries, checkpoints))
    assert again == (entries, checkpoints)
    verify(*again, public, initial_mac_key=k0, trusted=final)


def test_reopen_continues_the_chain(written):
    state, public, k0, _ = written
    audit = AuditLog.open(state, SIGNING, SEAL, epoch_size=16, checkpoint_interval=50)
    assert audit.append(Event.HOST_EVENT, {"after": "reopen"}) == 301
    assert audit.claim_verifier_key() is None  # handed out once only
    audit.close()
    entries, checkpoints = read_log(state)
    verify(entries, checkpoints, public, initial_mac_key=k0)


def test_open_refuses_a_tampered_tail(written):
    state, _, _, _ = written
    _sql(state, "UPDATE entries SET details=? WHERE seq=300", cbor2.dumps({"i": 0}, canonical=True))
    with pytest.raises(LogVerificationError):
        AuditLog.open(state, SIGNING, SEAL)


def test_hundred_thousand_entries_verify(tmp_path):
    audit = AuditLog.create(tmp_path, SIGNING, SEAL)
    k0 = audit.claim_verifier_key()
    audit.append_many((Event.HOST_EVENT, {"n": i}) for i in range(100_000))
    final = audit.checkpoint()
    entries, checkpoints = read_log(tmp_path)
    report = verify(entries, checkpoints, audit.public_key, initial_mac_key=k0, trusted=final)
    assert report.entries == 100_000 and report.checkpoints == 100_000 // 1024 + 1  # every 1024th, and the final one
    audit.close()
