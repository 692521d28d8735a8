"""Group commit for a SQLite database in WAL mode."""

from __future__ import annotations

import sqlite3
from operator import attrgetter
from pathlib import Path

from .atomic import fsync_file


class WalDatabase:
    """A SQLite connection whose durability can be deferred: while deferred, commits are atomic but
    not yet on disk, and one :meth:`sync` makes every one of them durable (one fsync of the WAL for
    a whole group of commits)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self._wal = Path(db.execute("PRAGMA database_list").fetchone()[2] + "-wal")

    def defer_sync(self, deferred: bool) -> None:
        self._db.execute(f"PRAGMA synchronous={'NORMAL' if deferred else 'FULL'}")

    changes: int = property(attrgetter("_db.total_changes"),  # type: ignore[assignment]  # a C getter: no Python frame
                            doc="Rows written through this connection so far (tells whether a sync is needed).")

    def sync(self) -> None:
        """:raises OSError: if the disk cannot flush."""
        fsync_file(self._wal)
