"""The count of events the audit log could not write, kept across restarts.

When the disk is full the log cannot take an entry, and a new file cannot be written either. So
the count lives in a small file made when the log is created (``audit/unlogged``, owner-only, two
fixed 48-byte slots) and overwritten in place, which needs no free space. Each write goes to the
slot holding the older record: a torn write spoils at most that slot, and the other still holds
the count before it. A record is ``sequence (8) | count (8) | HMAC-SHA256 (32)``; a slot whose MAC
fails is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import struct
from pathlib import Path

log = logging.getLogger(__name__)

UNLOGGED_FILE = "unlogged"
_RECORD = struct.Struct(">QQ")
_SLOT = _RECORD.size + 32


class UnloggedCounter:
    """The persistent unlogged-event count of one audit log directory."""

    def __init__(self, directory: Path, key: bytes) -> None:
        self._path = Path(directory) / UNLOGGED_FILE
        self._key = key
        self._sequence, self.count = self._read()

    def _mac(self, record: bytes) -> bytes:
        return hmac.new(self._key, record, hashlib.sha256).digest()

    def _read(self) -> tuple[int, int]:
        try:
            data = self._path.read_bytes()
        except FileNotFoundError:
            return 0, 0
        best = (0, 0)
        for offset in (0, _SLOT):
            slot = data[offset:offset + _SLOT]
            if len(slot) == _SLOT and hmac.compare_digest(self._mac(slot[:_RECORD.size]), slot[_RECORD.size:]):
                best = max(best, _RECORD.unpack(slot[:_RECORD.size]))
        return best

    def ensure(self) -> None:
        """Make the file, both slots at zero, if it is not there (at the log's creation or first
        open, while there is room); a failure is logged, and the count then lives in memory."""
        if self._path.exists():
            return
        tmp = self._path.with_name(f".{UNLOGGED_FILE}.tmp")
        empty = _RECORD.pack(0, 0)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, (empty + self._mac(empty)) * 2)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self._path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            log.error("could not create the unlogged-event counter file (%s)", exc.__class__.__name__)

    def store(self, count: int) -> bool:
        """Record ``count`` durably, in place; ``False`` if it could not be (logged, not raised)."""
        if count == self.count:
            return True
        sequence = self._sequence + 1
        record = _RECORD.pack(sequence, count)
        try:
            fd = os.open(self._path, os.O_WRONLY)
        except OSError:
            log.error("the unlogged-event counter file is missing; %d events are counted in memory only", count)
            return False
        try:
            os.pwrite(fd, record + self._mac(record), (sequence % 2) * _SLOT)
            os.fsync(fd)
        except OSError as exc:
            log.error("could not record the unlogged-event count (%s)", exc.__class__.__name__)
            return False
        finally:
            os.close(fd)
        self._sequence, self.count = sequence, count
        return True
