"""Reading a log from a module's state directory, live or a copy of a failed module's, without
the module and without any key."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import cbor2

from .records import Checkpoint, Entry

LOG_DIR = "audit"
LOG_FILE = "audit.db"


def log_path(state_dir: Path) -> Path:
    return Path(state_dir) / LOG_DIR / LOG_FILE


def row_to_entry(row: tuple) -> Entry:
    seq, t, event, details, epoch, prev_hash, digest, mac = row
    return Entry(seq, t, event, cbor2.loads(details), epoch, bytes(prev_hash), bytes(digest), bytes(mac))


ENTRY_COLUMNS = "seq, time, event, details, epoch, prev_hash, hash, mac"


def select_entries(db: sqlite3.Connection, since_seq: int = 0, events: Iterable[int] | None = None,
                   limit: int | None = None) -> list[Entry]:
    """Entries from ``since_seq`` on, optionally only some event types, at most ``limit``."""
    query = f"SELECT {ENTRY_COLUMNS} FROM entries WHERE seq >= ?"
    params: list[object] = [since_seq]
    wanted = list(events or [])
    if wanted:
        query += f" AND event IN ({','.join('?' * len(wanted))})"
        params += wanted
    query += " ORDER BY seq LIMIT ?"
    params.append(-1 if limit is None else limit)
    return [row_to_entry(r) for r in db.execute(query, params)]


def select_checkpoints(db: sqlite3.Connection) -> list[Checkpoint]:
    return [Checkpoint(s, bytes(h), e, t, bytes(sig))
            for s, h, e, t, sig in db.execute("SELECT seq, head, epoch, time, signature FROM checkpoints ORDER BY seq")]


def read_log(state_dir: Path, *, since_seq: int = 0, events: Iterable[int] | None = None,
             limit: int | None = None) -> tuple[list[Entry], list[Checkpoint]]:
    """Entries (from ``since_seq``, optionally of some event types) and every checkpoint, read-only.

    :raises FileNotFoundError: if the directory holds no log.
    """
    path = log_path(state_dir)
    if not path.is_file():
        raise FileNotFoundError(f"no audit log in {state_dir}")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return select_entries(db, since_seq, events, limit), select_checkpoints(db)
    finally:
        db.close()
