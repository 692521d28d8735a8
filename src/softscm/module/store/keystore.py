"""The keystore: SQLite (WAL, synchronous FULL) holding wrapped private keys and public keys.

Each private key is sealed with AES-256-GCM under a key-encryption key derived from the root
key; the AAD binds the format version, the table, the slot and the key type. Each row also
carries an HMAC under a second root-derived key, and the XOR of all row MACs (a set digest,
kept in ``meta``) detects rows added, removed or swapped behind the module's back.

Every committed mutation also raises a MACed generation counter (``meta`` row ``generation``):
the audit log records the generation it has seen, so a store older than what the module
acknowledged (a lost WAL, an older copy of the file) is caught at start. Every lookup checks the
row it got against its MAC and against what was asked for, so a corrupted index cannot hand out
another key; ``PRAGMA integrity_check`` runs at open and in :meth:`verify_integrity`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import sqlite3
import struct
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ...wire.defs import FIRST_USER_SLOT, KeyType
from ...wire.errors import (
    AuthenticationError,
    InvalidKeyError,
    InvalidSlotError,
    NoFreeSlotError,
    SlotEmptyError,
    StorageFullError,
    StoreCorruptError,
    StoreRollbackError,
)
from ..crypto.aead import open_sealed, seal
from ..crypto.keys import PrivateKey, PublicKey, load_private
from ..crypto.rng import Rng, system_rng
from .wal import WalDatabase

log = logging.getLogger(__name__)

KEYSTORE_FILE = "keystore.db"
FORMAT_VERSION = 1
CACHE_SIZE = 1024
_KEYS, _FOREIGN, _WALLETS, _META = 0, 1, 2, 3
_KEY_COLUMNS = "slot, key_type, public, private, wrapped, exportable, created, wallet_id, parent_slot, node_addr"
_WALLET_COLUMNS = "id, name, key_type, master_slot, variant, watch_only"
_FOREIGN_COLUMNS = "slot, key_type, public, exportable, created"
GENERATION = "generation"

WALLET_CHAIN_CODE_BYTES = 32


def _split_secret(row: tuple, secret: bytes) -> tuple[bytes, bytes]:
    """A key row's sealed secret as ``(private key, extra secret)``. A wallet node (``wallet_id``
    set) seals its 32-byte chain code after the private key, which is 32 bytes, or 64 for an
    extended Ed25519 key (a Cardano node), or absent in a watch-only node; other keys seal a
    32-byte private key alone."""
    if row[7] is None:
        return secret[:32], secret[32:]
    cut = len(secret) - WALLET_CHAIN_CODE_BYTES
    return secret[:cut], secret[cut:]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL, mac BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS digest (id INTEGER PRIMARY KEY CHECK (id = 1), value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
    slot INTEGER PRIMARY KEY,
    key_type INTEGER NOT NULL,
    public BLOB NOT NULL,
    private INTEGER NOT NULL,
    wrapped BLOB NOT NULL,
    exportable INTEGER NOT NULL,
    created REAL NOT NULL,
    wallet_id INTEGER,
    parent_slot INTEGER,
    node_addr TEXT,
    mac BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS keys_by_wallet ON keys (wallet_id, node_addr);
CREATE INDEX IF NOT EXISTS keys_by_parent ON keys (parent_slot);
CREATE TABLE IF NOT EXISTS foreign_keys (
    slot INTEGER PRIMARY KEY,
    key_type INTEGER NOT NULL,
    public BLOB NOT NULL,
    exportable INTEGER NOT NULL,
    created REAL NOT NULL,
    mac BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS wallets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    key_type INTEGER NOT NULL,
    master_slot INTEGER NOT NULL,
    variant TEXT NOT NULL,
    watch_only INTEGER NOT NULL,
    mac BLOB NOT NULL
);
"""


@dataclass(frozen=True)
class KeyRecord:
    """What the keystore knows about a slot, without its private key."""

    slot: int
    key_type: KeyType
    public: bytes
    has_private: bool
    exportable: bool
    created: float
    wallet_id: int | None = None
    parent_slot: int | None = None
    node_addr: str | None = None
    foreign: bool = False


@dataclass(frozen=True)
class WalletRecord:
    id: int
    name: str
    key_type: KeyType
    master_slot: int
    variant: str
    watch_only: bool


def _kdf(root: bytes, label: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, None, label).derive(root)


def _xor(a: bytes, b: bytes) -> bytes:
    if len(a) != len(b):
        raise ValueError("XOR of values of different lengths")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def _storage_error(exc: sqlite3.Error) -> Exception:
    text = str(exc).lower()
    if "full" in text:
        return StorageFullError("no space left in the keystore; nothing was changed")
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.IntegrityError):
        return StoreCorruptError(f"keystore database error: {exc.__class__.__name__}")
    return exc


class KeyStore(WalDatabase):
    """Slots for private keys (factory 0..15, user 16..16+N-1), foreign public keys and wallets.

    Not thread-safe: the module owns one instance and uses it from one thread.
    """

    def __init__(self, db: sqlite3.Connection, root_key: bytes, rng: Rng, *, fresh: bool = False) -> None:
        super().__init__(db)
        self._kek = _kdf(root_key, b"softscm keystore kek v1")
        self._mac_key = _kdf(root_key, b"softscm keystore mac v1")
        self._rng = rng
        self._cache: OrderedDict[int, PrivateKey] = OrderedDict()
        self._public_cache: dict[tuple[bool, int], PublicKey] = {}
        self.user_capacity = self.foreign_capacity = self.wallet_capacity = 0
        self._free_hint = FIRST_USER_SLOT
        self.generation = 0
        self._committed: tuple[bytes, bytes] | None = None  # the set digest and generation MAC this object last wrote
        if not fresh:
            self._load_capacities()

    def _load_capacities(self) -> None:
        self.generation = int(self.get_meta(GENERATION) or b"0")
        self.user_capacity = self._meta_int("user_capacity")
        self.foreign_capacity = self._meta_int("foreign_capacity")
        self.wallet_capacity = self._meta_int("wallet_capacity")

    # -- opening ---------------------------------------------------------------------------

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA secure_delete=ON")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    @classmethod
    def create(
        cls,
        state_dir: Path,
        root_key: bytes,
        *,
        user_capacity: int,
        foreign_capacity: int,
        wallet_capacity: int,
        rng: Rng = system_rng,
    ) -> KeyStore:
        """Create an empty keystore in ``state_dir``.

        :raises StoreCorruptError: if a keystore file is already there (it is never overwritten).
        :raises StorageFullError: if the disk is full.
        """
        path = state_dir / KEYSTORE_FILE
        if path.exists():
            raise StoreCorruptError("a keystore already exists; refusing to overwrite it")
        try:
            db = cls._connect(path)
            path.chmod(0o600)
            db.executescript(_SCHEMA)
            with _transaction(db):
                db.execute("INSERT INTO digest VALUES (1, ?)", (bytes(32),))
        except sqlite3.Error as exc:
            raise _storage_error(exc) from None
        store = cls(db, root_key, rng, fresh=True)
        for name, value in (
            ("format_version", FORMAT_VERSION),
            ("user_capacity", user_capacity),
            ("foreign_capacity", foreign_capacity),
            ("wallet_capacity", wallet_capacity),
        ):
            store.set_meta(name, str(value).encode())
        store._load_capacities()
        return store

    @classmethod
    def open(cls, state_dir: Path, root_key: bytes, rng: Rng = system_rng, *, min_generation: int = 0) -> KeyStore:
        """Open and verify an existing keystore, refusing one older than ``min_generation`` (what
        the audit log recorded) before anything else is read from it.

        :raises StoreCorruptError: if the file is missing, not a database, of another format,
            or any row or the set digest fails its MAC (nothing is repaired).
        :raises StoreRollbackError: if the file holds none of the keystore's tables, or its
            generation is below ``min_generation``.
        """
        path = state_dir / KEYSTORE_FILE
        if not path.is_file():
            raise StoreCorruptError("keystore file is missing")
        try:
            db = cls._connect(path)
            _check_structure(db)
            if db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone() is None:
                raise StoreRollbackError(
                    "the keystore has been rolled back to before its creation: keystore.db holds none of its "
                    "tables (its changes were in a keystore.db-wal that is lost or damaged); the module refuses "
                    "to start")
            row = db.execute("SELECT value FROM meta WHERE name='format_version'").fetchone()
        except sqlite3.Error as exc:
            raise StoreCorruptError(f"keystore cannot be read ({exc.__class__.__name__})") from None
        if row is None or row[0] != str(FORMAT_VERSION).encode():
            raise StoreCorruptError("keystore format version is not supported")
        store = cls(db, root_key, rng, fresh=True)
        generation = int(store.get_meta(GENERATION) or b"0")
        if generation < min_generation:
            db.close()
            raise StoreRollbackError(
                f"the keystore has been rolled back: it is at generation {generation} but the audit log recorded "
                f"generation {min_generation} (a lost or damaged keystore.db-wal, or an older copy of keystore.db); "
                "acknowledged changes would be lost, so the module refuses to start")
        store.verify_integrity()
        store._load_capacities()
        return store

    def close(self) -> None:
        self._cache.clear()
        self._db.close()

    def _meta_int(self, name: str) -> int:
        value = self.get_meta(name)
        if value is None:
            raise StoreCorruptError(f"keystore is missing {name}")
        return int(value)

    # -- meta values (MACed, and part of the set digest) ---------------------------------------

    def get_meta(self, name: str) -> bytes | None:
        """A module value, or ``None`` if it was never set.

        :raises StoreCorruptError: if the stored value fails its MAC.
        """
        row = self._db.execute("SELECT name, value, mac FROM meta WHERE name=?", (name,)).fetchone()
        if row is None:
            return None
        self._verified(_META, row, name=name)
        return bytes(row[1])

    def set_meta(self, name: str, value: bytes) -> None:
        """Durably set a module value. :raises StorageFullError: if the disk is full."""
        self.update_meta({name: value})

    def update_meta(self, values: Mapping[str, bytes | None]) -> None:
        """Durably set (or, for ``None``, remove) several module values in one transaction.

        :raises StorageFullError: if the disk is full.
        """
        with self._write() as macs:
            for name, value in values.items():
                old = self._db.execute("SELECT mac FROM meta WHERE name=?", (name,)).fetchone()
                if old is not None:
                    macs.append(bytes(old[0]))
                if value is None:
                    self._db.execute("DELETE FROM meta WHERE name=?", (name,))
                    continue
                mac = self._row_mac(_META, (name, value))
                self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?, ?)", (name, value, mac))
                macs.append(mac)

    def delete_meta(self, name: str) -> bool:
        """Durably remove a module value; returns whether there was one.

        :raises StorageFullError: if the disk is full.
        """
        with self._write() as macs:
            old = self._db.execute("SELECT mac FROM meta WHERE name=?", (name,)).fetchone()
            if old is None:
                return False
            self._db.execute("DELETE FROM meta WHERE name=?", (name,))
            macs.append(bytes(old[0]))
        return True

    def meta_names(self, prefix: str) -> list[str]:
        """The names of the module values starting with ``prefix``, sorted (index only, no MAC check)."""
        rows = self._db.execute("SELECT name FROM meta WHERE substr(name, 1, ?) = ? ORDER BY name",
                                (len(prefix), prefix))
        return [row[0] for row in rows]

    def seal_secret(self, label: str, secret: bytes, rng: Rng | None = None) -> bytes:
        """Seal a module secret (not a slot key) under the KEK, bound to ``label``; the nonce comes
        from ``rng`` (randomness drawn beforehand, for sealing off the module's thread) or the store's."""
        return seal(self._kek, secret, b"softscm secret:" + label.encode(), rng or self._rng)

    def open_secret(self, label: str, sealed: bytes) -> bytes:
        """:raises StoreCorruptError: if the sealed secret fails authentication."""
        try:
            return open_sealed(self._kek, sealed, b"softscm secret:" + label.encode())
        except AuthenticationError:
            raise StoreCorruptError(f"sealed secret {label!r} failed authentication") from None

    # -- integrity ----------------------------------------------------------------------------

    def _row_mac(self, table: int, fields: Sequence[object]) -> bytes:
        encoded = repr((FORMAT_VERSION, table, tuple(fields))).encode()
        return hmac.new(self._mac_key, encoded, hashlib.sha256).digest()

    def _aad(self, table: int, slot: int, key_type: KeyType) -> bytes:
        return struct.pack(">BBiB", FORMAT_VERSION, table, slot, key_type)

    def _verified(self, table: int, row: tuple, **expected: object) -> tuple:
        """``row`` (its fields then its MAC) if the MAC holds and each named field has the expected
        value (the row is the one the query asked for, whatever an index said).

        :raises StoreCorruptError: otherwise.
        """
        names = _FIELDS[table]
        if not hmac.compare_digest(self._row_mac(table, row[:-1]), bytes(row[-1])) or any(
                row[names.index(field)] != value for field, value in expected.items()):
            raise StoreCorruptError(f"keystore row {_TABLE_NAMES[table]}:{row[0]} failed its integrity check")
        return row

    def digest(self) -> bytes:
        """The stored set digest over every row (the "keystore digest" of the self test)."""
        row = self._db.execute("SELECT value FROM digest WHERE id=1").fetchone()
        if row is None:
            raise StoreCorruptError("keystore digest is missing")
        return bytes(row[0])

    def verify_integrity(self) -> None:
        """Check the database structure (``PRAGMA integrity_check``: tables and indexes agree),
        every row's MAC and the set digest.

        :raises StoreCorruptError: naming the first table and slot that failed.
        """
        try:
            _check_structure(self._db)
        except sqlite3.Error as exc:
            raise StoreCorruptError(f"keystore cannot be read ({exc.__class__.__name__})") from None
        total = bytes(32)
        queries = (
            (_KEYS, f"SELECT {_KEY_COLUMNS}, mac FROM keys"),
            (_FOREIGN, f"SELECT {_FOREIGN_COLUMNS}, mac FROM foreign_keys"),
            (_WALLETS, f"SELECT {_WALLET_COLUMNS}, mac FROM wallets"),
            (_META, "SELECT name, value, mac FROM meta"),
        )
        try:
            for table, query in queries:
                for row in self._db.execute(query):
                    fields, mac = row[:-1], bytes(row[-1])
                    if not hmac.compare_digest(self._row_mac(table, fields), mac):
                        raise StoreCorruptError(f"keystore row {table}:{row[0]} failed its integrity check")
                    total = _xor(total, mac)
        except sqlite3.Error as exc:
            raise StoreCorruptError(f"keystore cannot be read ({exc.__class__.__name__})") from None
        if not hmac.compare_digest(total, self.digest()):
            raise StoreCorruptError("keystore set digest does not match its rows")

    @contextmanager
    def _write(self) -> Iterator[list[bytes]]:
        """A durable write transaction; yields a list the caller extends with MACs to XOR in.

        The set digest and the generation row's MAC that the last commit wrote are kept, so a
        write does not read them back (after a rollback they are read, and checked, again)."""
        macs: list[bytes] = []
        hint = self._free_hint
        try:
            with _transaction(self._db):
                yield macs
                if macs:
                    committed = self._committed or (self.digest(), self._generation_mac())
                    generation, generation_mac = self._bump_generation(macs, committed[1])
                    total = committed[0]
                    for mac in macs:
                        total = _xor(total, mac)
                    self._db.execute("UPDATE digest SET value=? WHERE id=1", (total,))
        except BaseException as exc:
            self._free_hint = hint  # the transaction was rolled back: so were the slots it took
            self._committed = None
            if isinstance(exc, sqlite3.Error):
                raise _storage_error(exc) from None
            raise
        if macs:
            self.generation = generation
            self._committed = (total, generation_mac)

    def _generation_mac(self) -> bytes:
        """The stored generation row's MAC, checked (empty before the first write)."""
        old = self._db.execute("SELECT name, value, mac FROM meta WHERE name=?", (GENERATION,)).fetchone()
        return b"" if old is None else bytes(self._verified(_META, old, name=GENERATION)[-1])

    def _bump_generation(self, macs: list[bytes], old_mac: bytes) -> tuple[int, bytes]:
        """Raise the generation counter inside the current write (the old row's MAC is
        ``old_mac``); returns the new value and its row's MAC."""
        if old_mac:
            macs.append(old_mac)
        generation = self.generation + 1
        value = str(generation).encode()
        mac = self._row_mac(_META, (GENERATION, value))
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?, ?)", (GENERATION, value, mac))
        macs.append(mac)
        return generation, mac

    # -- private key slots -----------------------------------------------------------------

    def _check_slot(self, slot: int) -> None:
        if not 0 <= slot < FIRST_USER_SLOT + self.user_capacity:
            raise InvalidSlotError(f"slot {slot} is outside 0..{FIRST_USER_SLOT + self.user_capacity - 1}")

    def free_user_slots(self) -> int:
        """How many user slots are free (one indexed count, no decryption)."""
        used = self._db.execute("SELECT COUNT(*) FROM keys WHERE slot >= ?", (FIRST_USER_SLOT,)).fetchone()[0]
        return self.user_capacity - int(used)

    def _free_user_slot(self) -> int:
        """The lowest free user slot. Every slot below ``self._free_hint`` is known to be taken."""
        end = FIRST_USER_SLOT + self.user_capacity
        hint = max(self._free_hint, FIRST_USER_SLOT)
        if hint < end and self._db.execute("SELECT 1 FROM keys WHERE slot=?", (hint,)).fetchone() is None:
            return hint
        row = self._db.execute(
            "SELECT MIN(k.slot + 1) FROM keys k WHERE k.slot >= ? AND k.slot + 1 < ?"
            " AND NOT EXISTS (SELECT 1 FROM keys n WHERE n.slot = k.slot + 1)",
            (hint - 1, end),
        ).fetchone()
        if row[0] is None:
            raise NoFreeSlotError(f"all {self.user_capacity} user slots are in use")
        return int(row[0])

    def put_key(
        self,
        key: PrivateKey | None,
        *,
        key_type: KeyType | None = None,
        public: bytes | None = None,
        slot: int | None = None,
        exportable: bool = True,
        wallet_id: int | None = None,
        parent_slot: int | None = None,
        node_addr: str | None = None,
        extra_secret: bytes = b"",
    ) -> int:
        """Store a key durably and return its slot (the lowest free user slot by default).

        ``key=None`` stores a public-only node (watch-only wallets) from ``key_type``/``public``.
        ``extra_secret`` (a wallet chain code) is sealed together with the private key.

        :raises NoFreeSlotError: if every user slot is taken.
        :raises InvalidSlotError: if an explicit ``slot`` is out of range or taken.
        :raises StorageFullError: if the disk is full; nothing is stored.
        """
        with self._write() as macs:
            slot = self._insert_key(macs, key, key_type, public, slot, exportable, wallet_id, parent_slot, node_addr,
                                    extra_secret)
        if key is not None:
            self._remember(slot, key)
        return slot

    def put_keys(self, keys: Sequence[PrivateKey]) -> list[int]:
        """Store several keys in the lowest free user slots in one durable transaction (all or none).

        :raises NoFreeSlotError: if they do not all fit. :raises StorageFullError: if the disk is full.
        """
        with self._write() as macs:
            slots = [self._insert_key(macs, key, None, None, None, True, None, None, None, b"") for key in keys]
        for slot, key in zip(slots, keys):
            self._remember(slot, key)
        return slots

    def _insert_key(self, macs: list[bytes], key: PrivateKey | None, key_type: KeyType | None, public: bytes | None,
                    slot: int | None, exportable: bool, wallet_id: int | None, parent_slot: int | None,
                    node_addr: str | None, extra_secret: bytes) -> int:
        if key is not None:
            key_type, public = key.key_type, key.public
        if key_type is None or public is None:
            raise InvalidKeyError("a public-only node needs its key type and public key")
        if slot is None:
            slot = self._free_user_slot()
        else:
            self._check_slot(slot)
            if self._db.execute("SELECT 1 FROM keys WHERE slot=?", (slot,)).fetchone():
                raise InvalidSlotError(f"slot {slot} is already in use")
        secret = (key.private_bytes() if key is not None else b"") + extra_secret
        wrapped = seal(self._kek, secret, self._aad(_KEYS, slot, key_type), self._rng)
        fields = (slot, int(key_type), public, int(key is not None), wrapped, int(exportable), time.time(), wallet_id,
                  parent_slot, node_addr)
        mac = self._row_mac(_KEYS, fields)
        self._db.execute("INSERT INTO keys VALUES (?,?,?,?,?,?,?,?,?,?,?)", (*fields, mac))
        macs.append(mac)
        if slot == self._free_hint:
            self._free_hint = slot + 1
        return slot

    def _remember(self, slot: int, key: PrivateKey) -> None:
        self._cache[slot] = key
        self._cache.move_to_end(slot)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _row(self, slot: int) -> tuple:
        self._check_slot(slot)
        row = self._db.execute(f"SELECT {_KEY_COLUMNS}, mac FROM keys WHERE slot=?", (slot,)).fetchone()
        if row is None:
            raise SlotEmptyError(f"slot {slot} is empty")
        return self._verified(_KEYS, row, slot=slot)

    def get(self, slot: int) -> KeyRecord:
        """:raises InvalidSlotError: out of range. :raises SlotEmptyError: nothing there."""
        row = self._row(slot)
        return KeyRecord(
            slot=row[0], key_type=KeyType(row[1]), public=bytes(row[2]), has_private=bool(row[3]),
            exportable=bool(row[5]), created=row[6], wallet_id=row[7], parent_slot=row[8], node_addr=row[9],
        )

    def load_private(self, slot: int) -> PrivateKey:
        """Unwrap the private key in ``slot`` (cached after the first use).

        :raises SlotEmptyError: if the slot is empty or public-only.
        :raises StoreCorruptError: if the wrapped key fails authentication or its public key.
        """
        key = self._cache.get(slot)
        if key is not None:
            self._cache.move_to_end(slot)
            return key
        row = self._row(slot)
        if not row[3]:
            raise SlotEmptyError(f"slot {slot} holds no private key")
        key = load_private(KeyType(row[1]), _split_secret(row, self._unwrap(row))[0])
        if not hmac.compare_digest(key.public, bytes(row[2])):
            raise StoreCorruptError(f"slot {slot} does not match its public key")
        self._remember(slot, key)
        return key

    def load_extra_secret(self, slot: int) -> bytes:
        """The secret sealed beside the private key, or alone in a public-only node (a chain code).

        :raises SlotEmptyError: if the slot is empty.
        :raises StoreCorruptError: if the wrapped secret fails authentication.
        """
        row = self._row(slot)
        return _split_secret(row, self._unwrap(row))[1]

    def _unwrap(self, row: tuple) -> bytes:
        slot = row[0]
        try:
            return open_sealed(self._kek, bytes(row[4]), self._aad(_KEYS, slot, KeyType(row[1])))
        except AuthenticationError:
            raise StoreCorruptError(f"slot {slot} failed authentication") from None

    def public_key(self, slot: int, *, foreign: bool = False) -> PublicKey:
        """A parsed (cached) public key for verification.

        :raises SlotEmptyError, InvalidSlotError: as :meth:`get`.
        """
        cached = self._public_cache.get((foreign, slot))
        if cached is None:
            record = self.get_foreign(slot) if foreign else self.get(slot)
            cached = PublicKey(record.key_type, record.public)
            self._public_cache[(foreign, slot)] = cached
        return cached

    def remove(self, slots: Sequence[int]) -> None:
        """Remove keys durably (private key bytes are overwritten by SQLite's secure delete).

        :raises SlotEmptyError: if any slot is empty (nothing is removed then).
        """
        with self._write() as macs:
            for slot in slots:
                macs.append(bytes(self._row(slot)[-1]))
                self._db.execute("DELETE FROM keys WHERE slot=?", (slot,))
        for slot in slots:
            self._cache.pop(slot, None)
            self._public_cache.pop((False, slot), None)
        self._free_hint = min([self._free_hint, *slots])

    def set_exportable(self, slot: int, exportable: bool, *, foreign: bool = False) -> None:
        """Change the export flag (the module only ever clears it).

        :raises SlotEmptyError, InvalidSlotError: as :meth:`get`.
        """
        table = _FOREIGN if foreign else _KEYS
        name = "foreign_keys" if foreign else "keys"
        with self._write() as macs:
            if foreign:
                self.get_foreign(slot)
            else:
                self._row(slot)
            cols = "slot, key_type, public, exportable, created" if foreign else _KEY_COLUMNS
            row = self._db.execute(f"SELECT {cols}, mac FROM {name} WHERE slot=?", (slot,)).fetchone()
            fields = list(row[:-1])
            fields[3 if foreign else 5] = int(exportable)
            mac = self._row_mac(table, fields)
            self._db.execute(f"UPDATE {name} SET exportable=?, mac=? WHERE slot=?", (int(exportable), mac, slot))
            macs.extend((bytes(row[-1]), mac))

    def list_slots(self) -> list[tuple[int, KeyType]]:
        """Every occupied private-key slot with its type, in slot order (index only, no decryption)."""
        return [(s, KeyType(t)) for s, t in self._db.execute("SELECT slot, key_type FROM keys ORDER BY slot")]

    def children(self, slot: int) -> list[int]:
        """The slots derived from ``slot``. :raises StoreCorruptError: if a row fails its check."""
        rows = self._db.execute(f"SELECT {_KEY_COLUMNS}, mac FROM keys WHERE parent_slot=?", (slot,))
        return [self._verified(_KEYS, row, parent_slot=slot)[0] for row in rows]

    # -- foreign public keys -----------------------------------------------------------------

    def put_foreign(self, key_type: KeyType, public: bytes) -> int:
        """Store a public key in the lowest free foreign slot.

        :raises NoFreeSlotError: if the foreign store is full.
        :raises StorageFullError: if the disk is full.
        """
        with self._write() as macs:
            used = {r[0] for r in self._db.execute("SELECT slot FROM foreign_keys")}
            slot = next((s for s in range(self.foreign_capacity) if s not in used), None)
            if slot is None:
                raise NoFreeSlotError(f"all {self.foreign_capacity} foreign key slots are in use")
            fields = (slot, int(key_type), public, 1, time.time())
            mac = self._row_mac(_FOREIGN, fields)
            self._db.execute("INSERT INTO foreign_keys VALUES (?,?,?,?,?,?)", (*fields, mac))
            macs.append(mac)
        return slot

    def get_foreign(self, slot: int) -> KeyRecord:
        """:raises InvalidSlotError: out of range. :raises SlotEmptyError: nothing there."""
        if not 0 <= slot < self.foreign_capacity:
            raise InvalidSlotError(f"foreign slot {slot} is outside 0..{self.foreign_capacity - 1}")
        row = self._db.execute(f"SELECT {_FOREIGN_COLUMNS}, mac FROM foreign_keys WHERE slot=?", (slot,)).fetchone()
        if row is None:
            raise SlotEmptyError(f"foreign slot {slot} is empty")
        self._verified(_FOREIGN, row, slot=slot)
        return KeyRecord(row[0], KeyType(row[1]), bytes(row[2]), False, bool(row[3]), row[4], foreign=True)

    def remove_foreign(self, slot: int) -> None:
        """:raises SlotEmptyError, InvalidSlotError: as :meth:`get_foreign`."""
        self.get_foreign(slot)
        with self._write() as macs:
            mac = self._db.execute("SELECT mac FROM foreign_keys WHERE slot=?", (slot,)).fetchone()[0]
            self._db.execute("DELETE FROM foreign_keys WHERE slot=?", (slot,))
            macs.append(bytes(mac))
        self._public_cache.pop((True, slot), None)

    def list_foreign(self) -> list[tuple[int, KeyType]]:
        return [(s, KeyType(t)) for s, t in self._db.execute("SELECT slot, key_type FROM foreign_keys ORDER BY slot")]

    # -- wallets ------------------------------------------------------------------------------

    def create_wallet(self, name: str, variant: str, key: PrivateKey | None, *, key_type: KeyType,
                      public: bytes, chain_code: bytes, node_addr: str) -> tuple[int, int]:
        """Store a wallet's top node and its wallet record in one transaction.

        ``key=None`` makes a watch-only wallet. Returns ``(wallet_id, slot)``. Names are unique;
        callers check with :meth:`find_wallet` first.

        :raises NoFreeSlotError: if the wallet capacity or the user slots are exhausted.
        :raises StorageFullError: if the disk is full (nothing is stored).
        """
        with self._write() as macs:
            count = self._db.execute("SELECT COUNT(*) FROM wallets").fetchone()[0]
            if count >= self.wallet_capacity:
                raise NoFreeSlotError(f"all {self.wallet_capacity} wallets are in use")
            wallet_id = int(self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM wallets").fetchone()[0])
            slot = self._insert_key(macs, key, key_type, public, None, True, wallet_id, None, node_addr, chain_code)
            fields = (wallet_id, name, int(key_type), slot, variant, int(key is None))
            mac = self._row_mac(_WALLETS, fields)
            self._db.execute("INSERT INTO wallets VALUES (?,?,?,?,?,?,?)", (*fields, mac))
            macs.append(mac)
        if key is not None:
            self._remember(slot, key)
        return wallet_id, slot

    def _wallet(self, row: tuple, **expected: object) -> WalletRecord:
        self._verified(_WALLETS, row, **expected)
        return WalletRecord(row[0], row[1], KeyType(row[2]), row[3], row[4], bool(row[5]))

    def find_wallet(self, *, name: str | None = None, wallet_id: int | None = None,
                    master_slot: int | None = None) -> WalletRecord | None:
        """The wallet with that name, id or master slot (the first given), or ``None``.

        :raises StoreCorruptError: if the row found fails its MAC or is not the one asked for.
        """
        field, value = next((f, v) for f, v in (("name", name), ("id", wallet_id), ("master_slot", master_slot))
                            if v is not None or f == "master_slot")
        row = self._db.execute(f"SELECT {_WALLET_COLUMNS}, mac FROM wallets WHERE {field}=?", (value,)).fetchone()
        return None if row is None else self._wallet(row, **{field: value})

    def list_wallets(self) -> list[WalletRecord]:
        """:raises StoreCorruptError: if a wallet row fails its MAC."""
        return [self._wallet(r) for r in self._db.execute(f"SELECT {_WALLET_COLUMNS}, mac FROM wallets ORDER BY id")]

    def count_nodes(self, wallet_id: int) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM keys WHERE wallet_id=?", (wallet_id,)).fetchone()[0])

    def find_node(self, wallet_id: int, node_addr: str) -> int | None:
        """The slot of a wallet's node, or ``None``.

        :raises StoreCorruptError: if the row found fails its MAC or is not the node asked for.
        """
        row = self._db.execute(f"SELECT {_KEY_COLUMNS}, mac FROM keys WHERE wallet_id=? AND node_addr=?",
                               (wallet_id, node_addr)).fetchone()
        return None if row is None else int(self._verified(_KEYS, row, wallet_id=wallet_id, node_addr=node_addr)[0])

    def remove_wallet(self, wallet_id: int) -> None:
        """Remove a wallet record and every key node belonging to it."""
        with self._write() as macs:
            for (mac,) in self._db.execute("SELECT mac FROM keys WHERE wallet_id=?", (wallet_id,)).fetchall():
                macs.append(bytes(mac))
            slots = [r[0] for r in self._db.execute("SELECT slot FROM keys WHERE wallet_id=?", (wallet_id,))]
            self._db.execute("DELETE FROM keys WHERE wallet_id=?", (wallet_id,))
            mac = self._db.execute("SELECT mac FROM wallets WHERE id=?", (wallet_id,)).fetchone()
            if mac is not None:
                macs.append(bytes(mac[0]))
            self._db.execute("DELETE FROM wallets WHERE id=?", (wallet_id,))
        for slot in slots:
            self._cache.pop(slot, None)
            self._public_cache.pop((False, slot), None)
        self._free_hint = min([self._free_hint, *slots])

    # -- destruction ----------------------------------------------------------------------------

    def zeroize(self) -> None:
        """Overwrite every wrapped key and sealed secret in place, then checkpoint the WAL away.

        Used by self-destruct before the files are removed.
        """
        self._cache.clear()
        self._public_cache.clear()
        with _transaction(self._db):
            for (slot, size) in self._db.execute("SELECT slot, length(wrapped) FROM keys").fetchall():
                self._db.execute("UPDATE keys SET wrapped=? WHERE slot=?", (self._rng(size), slot))
            self._db.execute("DELETE FROM keys")
            for (name, size) in self._db.execute("SELECT name, length(value) FROM meta WHERE name LIKE 'sealed:%'").fetchall():
                self._db.execute("UPDATE meta SET value=? WHERE name=?", (self._rng(size), name))
            self._db.execute("DELETE FROM meta")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.execute("VACUUM")


_FIELDS = {
    _KEYS: _KEY_COLUMNS.split(", "),
    _FOREIGN: _FOREIGN_COLUMNS.split(", "),
    _WALLETS: _WALLET_COLUMNS.split(", "),
    _META: ["name", "value"],
}
_TABLE_NAMES = {_KEYS: "keys", _FOREIGN: "foreign_keys", _WALLETS: "wallets", _META: "meta"}


def _check_structure(db: sqlite3.Connection) -> None:
    """``PRAGMA integrity_check``: pages, tables and every index agree (``quick_check`` does not
    compare an index with its table). :raises StoreCorruptError: if it reports anything."""
    if db.execute("PRAGMA integrity_check(1)").fetchone()[0] != "ok":
        raise StoreCorruptError("keystore database failed its integrity check (a damaged table or index)")


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
