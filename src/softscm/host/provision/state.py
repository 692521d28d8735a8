"""The station's saved state: one row per unit and phase, and the station's own settings.

An owner-only SQLite database (WAL, synchronous FULL: a phase marked done survives a crash of
the station). A phase row moves PENDING → RUNNING → DONE/SKIPPED (or FAILED); while RUNNING it
may hold a partial result (the certificate issued before it was stored in the unit) that a
rerun picks up instead of doing that step again. Values are CBOR.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cbor2

from ...wire.errors import ProvisioningError
from .phases import Phase, Status

STATE_FILE = "station.db"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS units (
    serial TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    image TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS phases (
    serial TEXT NOT NULL REFERENCES units (serial),
    phase INTEGER NOT NULL,
    status INTEGER NOT NULL,
    started REAL,
    finished REAL,
    partial BLOB,
    result BLOB,
    error TEXT,
    PRIMARY KEY (serial, phase)
);
"""
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class PhaseRow:
    serial: str
    phase: Phase
    status: Status
    started: float | None
    finished: float | None
    partial: Any
    result: Any
    error: str | None


def open_private_db(path: Path) -> sqlite3.Connection:
    """Open (creating owner-only) a SQLite database in WAL mode with full sync."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    return db


class StationState:
    """Thread-safe access to the station's state database in ``directory``."""

    def __init__(self, directory: Path) -> None:
        """:raises ProvisioningError: if the database is of another schema version."""
        self._db = open_private_db(Path(directory) / STATE_FILE)
        self._lock = threading.Lock()
        self._db.executescript(_SCHEMA)
        version = self.setting("schema_version")
        if version is None:
            self.set_setting("schema_version", SCHEMA_VERSION)
        elif version != SCHEMA_VERSION:
            raise ProvisioningError(f"the station state is of schema version {version}, not {SCHEMA_VERSION}")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    # -- settings (the station CA) --------------------------------------------------------------

    def setting(self, name: str) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM settings WHERE name=?", (name,)).fetchone()
        return None if row is None else cbor2.loads(row[0])

    def set_setting(self, name: str, value: Any) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (name, cbor2.dumps(value)))

    # -- units and phases -------------------------------------------------------------------------

    def add_unit(self, serial: str, url: str, image: str) -> None:
        """Register a unit (again: its URL and image are updated; its phases stay)."""
        with self._transaction() as db:
            db.execute("INSERT INTO units VALUES (?, ?, ?, ?) ON CONFLICT (serial) DO UPDATE SET url=excluded.url,"
                       " image=excluded.image", (serial, url, image, time.time()))
            for phase in Phase:
                db.execute("INSERT OR IGNORE INTO phases (serial, phase, status) VALUES (?, ?, ?)",
                           (serial, int(phase), int(Status.PENDING)))

    def unit_image(self, serial: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT image FROM units WHERE serial=?", (serial,)).fetchone()
        return None if row is None else row[0]

    def phases(self, serial: str) -> dict[Phase, PhaseRow]:
        with self._lock:
            rows = self._db.execute("SELECT serial, phase, status, started, finished, partial, result, error"
                                    " FROM phases WHERE serial=? ORDER BY phase", (serial,)).fetchall()
        return {Phase(r[1]): PhaseRow(r[0], Phase(r[1]), Status(r[2]), r[3], r[4],
                                      None if r[5] is None else cbor2.loads(r[5]),
                                      None if r[6] is None else cbor2.loads(r[6]), r[7]) for r in rows}

    def result(self, serial: str, phase: Phase) -> Any:
        return self.phases(serial)[phase].result

    def start(self, serial: str, phase: Phase) -> Any:
        """Mark ``phase`` running; returns the partial result a previous attempt left (or None)."""
        with self._transaction() as db:
            db.execute("UPDATE phases SET status=?, started=COALESCE(started, ?), error=NULL WHERE serial=? AND phase=?",
                       (int(Status.RUNNING), time.time(), serial, int(phase)))
            row = db.execute("SELECT partial FROM phases WHERE serial=? AND phase=?", (serial, int(phase))).fetchone()
        return None if row is None or row[0] is None else cbor2.loads(row[0])

    def save_partial(self, serial: str, phase: Phase, partial: Any) -> None:
        with self._transaction() as db:
            db.execute("UPDATE phases SET partial=? WHERE serial=? AND phase=?",
                       (cbor2.dumps(partial), serial, int(phase)))

    def finish(self, serial: str, phase: Phase, result: Any, *, status: Status = Status.DONE) -> None:
        with self._transaction() as db:
            db.execute("UPDATE phases SET status=?, finished=?, result=? WHERE serial=? AND phase=?",
                       (int(status), time.time(), cbor2.dumps(result), serial, int(phase)))

    def fail(self, serial: str, phase: Phase, error: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE phases SET status=?, error=? WHERE serial=? AND phase=?",
                       (int(Status.FAILED), error, serial, int(phase)))
