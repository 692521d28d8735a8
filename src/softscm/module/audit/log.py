"""The module's sealed audit log (writer side). The format and verification live in
:mod:`softscm.sealedlog`.

Files: ``<state>/audit/audit.db`` (SQLite, WAL, synchronous FULL, owner-only) with the entries,
the checkpoints and the current epoch key sealed under a key the module derives from its root key.
The log survives self-destruct, so a failed module's history can still be extracted.

Each append also records, MACed in the same transaction, the keystore generation current at that
moment (:meth:`AuditLog.follow_store`). At start the keystore refuses to open below
:func:`recorded_store_generation`: acknowledged changes are always followed by a log entry, so a
lost or damaged keystore WAL, or an older copy of ``keystore.db``, cannot come back READY with less.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import cbor2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ...sealedlog.reader import ENTRY_COLUMNS, LOG_DIR, LOG_FILE, row_to_entry, select_checkpoints, select_entries
from ...sealedlog.records import GENESIS, Checkpoint, Entry, next_epoch_key
from ...sealedlog.verify import verify
from ...wire.defs import Event
from ...wire.errors import AuthenticationError, LogIntegrityError, StoreCorruptError
from ..crypto.aead import open_sealed, seal
from ..crypto.rng import Rng, system_rng
from ..store.atomic import ensure_private_dir
from ..store.wal import WalDatabase
from .unlogged import UnloggedCounter

log = logging.getLogger(__name__)

EPOCH_SIZE = 256
CHECKPOINT_INTERVAL = 1024
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY, time REAL NOT NULL, event INTEGER NOT NULL,
    details BLOB NOT NULL, epoch INTEGER NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL, mac BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS entries_by_event ON entries (event, seq);
CREATE TABLE IF NOT EXISTS checkpoints (seq INTEGER PRIMARY KEY, head BLOB NOT NULL, epoch INTEGER NOT NULL,
    time REAL NOT NULL, signature BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL,
    sealed_key BLOB NOT NULL, verifier_key BLOB);
"""
_GENERATION_SCHEMA = ("CREATE TABLE IF NOT EXISTS store_generation (id INTEGER PRIMARY KEY CHECK (id = 1), "
                      "generation INTEGER NOT NULL, mac BLOB NOT NULL)")


def _is_full(exc: sqlite3.Error) -> bool:
    return "full" in str(exc).lower()


class AuditLog(WalDatabase):
    """Appends typed, hash-chained, MACed entries and signs checkpoints. Never loses an event
    silently: one that cannot be written is counted (in memory and in ``audit/unlogged``, so the
    count survives a restart) and reported as ``LOG_UNLOGGED`` once the log can be written."""

    def __init__(self, db: sqlite3.Connection, signing_seed: bytes, seal_key: bytes, *,
                 clock: Callable[[], float], rng: Rng, epoch_size: int, checkpoint_interval: int) -> None:
        super().__init__(db)
        self._signer = Ed25519PrivateKey.from_private_bytes(signing_seed)
        self._seal_key = seal_key
        self._clock, self._rng = clock, rng
        self.epoch_size, self.checkpoint_interval = epoch_size, checkpoint_interval
        directory = Path(db.execute("PRAGMA database_list").fetchone()[2]).parent
        self._unlogged = UnloggedCounter(directory, hmac.new(seal_key, b"softscm audit unlogged v1",
                                                             hashlib.sha256).digest())
        self._unlogged.ensure()
        self.unlogged = self._unlogged.count  # events a full disk kept out, before a restart too
        row = db.execute("SELECT epoch, sealed_key FROM state WHERE id=1").fetchone()
        if row is None:
            raise StoreCorruptError("the audit log has lost its epoch key")
        self.epoch = int(row[0])
        try:
            self._key = open_sealed(seal_key, bytes(row[1]), self._aad(self.epoch))
        except AuthenticationError:
            raise StoreCorruptError("the audit log's epoch key failed authentication") from None
        last = db.execute(f"SELECT {ENTRY_COLUMNS} FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        self._head = row_to_entry(last) if last else None
        self._generation_key = _generation_key(seal_key)
        self._store_generation: Callable[[], int] | None = None
        self._recorded = _recorded_generation(db, self._generation_key)

    def follow_store(self, generation: Callable[[], int]) -> None:
        """Record ``generation()`` (the keystore's current generation) with every append."""
        self._store_generation = generation

    @staticmethod
    def _aad(epoch: int) -> bytes:
        return b"softscm audit epoch key" + epoch.to_bytes(8, "big")

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    @classmethod
    def create(cls, state_dir: Path, signing_seed: bytes, seal_key: bytes, *, clock: Callable[[], float] = time.time,
               rng: Rng = system_rng, epoch_size: int = EPOCH_SIZE,
               checkpoint_interval: int = CHECKPOINT_INTERVAL) -> AuditLog:
        """Start a new log. The initial MAC key is kept (sealed) until :meth:`claim_verifier_key`.

        :raises StoreCorruptError: if a log already exists there (it is never overwritten).
        """
        directory = ensure_private_dir(Path(state_dir) / LOG_DIR)
        path = directory / LOG_FILE
        if path.exists():
            raise StoreCorruptError("an audit log already exists; refusing to overwrite it")
        db = cls._connect(path)
        path.chmod(0o600)
        db.executescript(_SCHEMA)
        db.execute(_GENERATION_SCHEMA)
        initial = rng(32)
        db.execute("INSERT INTO state VALUES (1, 0, ?, ?)",
                    (seal(seal_key, initial, cls._aad(0), rng), seal(seal_key, initial, b"softscm audit k0", rng)))
        return cls(db, signing_seed, seal_key, clock=clock, rng=rng, epoch_size=epoch_size,
                   checkpoint_interval=checkpoint_interval)

    @classmethod
    def open(cls, state_dir: Path, signing_seed: bytes, seal_key: bytes, *, clock: Callable[[], float] = time.time,
             rng: Rng = system_rng, epoch_size: int = EPOCH_SIZE,
             checkpoint_interval: int = CHECKPOINT_INTERVAL) -> AuditLog:
        """Open an existing log after a quick check of its tail against the last checkpoint.

        :raises StoreCorruptError: if it is missing or unreadable. :raises LogIntegrityError: if
            the tail fails verification.
        """
        path = Path(state_dir) / LOG_DIR / LOG_FILE
        if not path.is_file():
            raise StoreCorruptError("the audit log is missing")
        try:
            audit = cls(cls._connect(path), signing_seed, seal_key, clock=clock, rng=rng, epoch_size=epoch_size,
                        checkpoint_interval=checkpoint_interval)
            audit.quick_check()
        except sqlite3.DatabaseError as exc:
            raise StoreCorruptError(f"the audit log cannot be read ({exc.__class__.__name__})") from None
        return audit

    def close(self) -> None:
        self._db.close()

    @property
    def public_key(self) -> bytes:
        return self._signer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def head_seq(self) -> int:
        return self._head.seq if self._head else 0

    # -- writing ------------------------------------------------------------------------------

    def append(self, event: Event, details: Mapping[str, Any]) -> int | None:
        """Append one entry durably; returns its sequence number, or ``None`` if the disk was full
        (the event is counted in :attr:`unlogged`). Never raises for storage trouble."""
        written = self.append_many([(event, details)])
        return written[-1] if written else None

    def append_many(self, items: Iterable[tuple[Event, Mapping[str, Any]]]) -> list[int]:
        """Append several entries in one durable transaction (all or none)."""
        items = list(items)
        if self.unlogged:
            items.insert(0, (Event.LOG_UNLOGGED, {"count": self.unlogged}))
        head, key, epoch = self._head, self._key, self.epoch
        entries: list[Entry] = []
        evolutions = 0
        for event, details in items:
            seq = (head.seq if head else 0) + 1
            if seq > 1 and (seq - 1) % self.epoch_size == 0:
                key, epoch, evolutions = next_epoch_key(key), epoch + 1, evolutions + 1
            entry = Entry.make(seq, self._clock(), int(event), dict(details), epoch, head.hash if head else GENESIS, key)
            entries.append(entry)
            head = entry
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?)",
                                 [(e.seq, e.time, e.event, cbor2.dumps(e.details, canonical=True), e.epoch,
                                   e.prev_hash, e.hash, e.mac) for e in entries])
            if evolutions:
                self._db.execute("UPDATE state SET epoch=?, sealed_key=? WHERE id=1",
                                 (epoch, seal(self._seal_key, key, self._aad(epoch), self._rng)))
            generation = self._store_generation() if self._store_generation is not None else self._recorded
            if generation != self._recorded:
                self._db.execute(_GENERATION_SCHEMA)
                self._db.execute("INSERT OR REPLACE INTO store_generation VALUES (1, ?, ?)",
                                 (generation, _generation_mac(self._generation_key, generation)))
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if not _is_full(exc):
                log.error("audit log write failed: %s", exc.__class__.__name__)
            self.unlogged += len(items) - (1 if items and items[0][0] is Event.LOG_UNLOGGED and self.unlogged else 0)
            self._unlogged.store(self.unlogged)
            return []
        self.unlogged = 0
        self._unlogged.store(0)
        self._recorded = generation
        self._head, self._key, self.epoch = head, key, epoch
        for entry in entries:
            if entry.seq % self.checkpoint_interval == 0:
                self.checkpoint(entry)
        return [e.seq for e in entries]

    def checkpoint(self, head: Entry | None = None) -> Checkpoint | None:
        """Sign the current head (or ``head``). ``None`` for an empty log or a full disk."""
        head = head or self._head
        if head is None:
            return None
        draft = Checkpoint(head.seq, head.hash, head.epoch, self._clock(), b"")
        signed = Checkpoint(draft.seq, draft.head, draft.epoch, draft.time, self._signer.sign(draft.signed_bytes()))
        try:
            self._db.execute("INSERT OR REPLACE INTO checkpoints VALUES (?,?,?,?,?)",
                             (signed.seq, signed.head, signed.epoch, signed.time, signed.signature))
        except sqlite3.Error:
            return None
        return signed

    def claim_verifier_key(self) -> bytes | None:
        """The initial MAC key, handed out once (to the owner who verifies MACs), then erased."""
        row = self._db.execute("SELECT verifier_key FROM state WHERE id=1").fetchone()
        if row is None or row[0] is None:
            return None
        key = open_sealed(self._seal_key, bytes(row[0]), b"softscm audit k0")
        self._db.execute("UPDATE state SET verifier_key=NULL WHERE id=1")
        return key

    # -- reading and checking --------------------------------------------------------------------

    def read(self, since_seq: int = 0, limit: int | None = None, events: Iterable[int] | None = None) -> list[Entry]:
        return select_entries(self._db, since_seq, events, limit)

    def checkpoints(self) -> list[Checkpoint]:
        return select_checkpoints(self._db)

    def quick_check(self) -> None:
        """Verify everything after the last checkpoint, and that checkpoint.

        :raises LogIntegrityError: naming the failed check.
        """
        checkpoints = self.checkpoints()
        last = checkpoints[-1] if checkpoints else None
        since = last.seq if last else 1
        entries = self.read(since_seq=since)
        if last is not None and (not entries or entries[0].seq != last.seq):
            raise LogIntegrityError("the audit log lost entries covered by its last checkpoint")
        verify(entries, [last] if last else [], self.public_key)


def _generation_key(seal_key: bytes) -> bytes:
    return hmac.new(seal_key, b"softscm audit store generation v1", hashlib.sha256).digest()


def _generation_mac(key: bytes, generation: int) -> bytes:
    return hmac.new(key, generation.to_bytes(8, "big"), hashlib.sha256).digest()


def _recorded_generation(db: sqlite3.Connection, key: bytes) -> int:
    try:
        row = db.execute("SELECT generation, mac FROM store_generation WHERE id=1").fetchone()
    except sqlite3.OperationalError:  # a log from before the record existed
        return 0
    if row is None:
        return 0
    if not hmac.compare_digest(_generation_mac(key, int(row[0])), bytes(row[1])):
        raise StoreCorruptError("the audit log's record of the keystore generation failed its integrity check")
    return int(row[0])


def recorded_store_generation(state_dir: Path, seal_key: bytes) -> int:
    """The last keystore generation the audit log in ``state_dir`` recorded (0 if it has none;
    a missing log is reported when the log is opened).

    :raises StoreCorruptError: if the record fails its MAC or the log cannot be read.
    """
    path = Path(state_dir) / LOG_DIR / LOG_FILE
    if not path.is_file():
        return 0
    try:
        db = sqlite3.connect(path, isolation_level=None)
        try:
            return _recorded_generation(db, _generation_key(seal_key))
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise StoreCorruptError(f"the audit log cannot be read ({exc.__class__.__name__})") from None
