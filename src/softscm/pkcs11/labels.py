"""Object labels, kept on the host: the module has no label attribute.

One owner-only JSON file (0600 in a 0700 directory), shared by every process using the PKCS#11
module, replaced atomically under an advisory lock. A label is stored with a fingerprint of the
key's public key, so a label never sticks to a different key that later takes the same slot.
Keys without a stored label are called ``slot-N`` (``foreign-N`` for foreign public keys).

File layout: ``{"version": 1, "modules": {SERIAL: {"k16": {"label": "...", "key": HEX}}}}``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

FILE_MODE = 0o600
DIR_MODE = 0o700


def fingerprint(public_key: bytes) -> str:
    """What a stored label is bound to: the first 16 bytes of SHA-256 of the raw public key."""
    return hashlib.sha256(public_key).digest()[:16].hex()


def default_path() -> Path:
    """``$XDG_STATE_HOME/softscm/pkcs11-labels.json`` (default ``~/.local/state``)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "softscm" / "pkcs11-labels.json"


class LabelStore:
    """Labels per module serial and object key (``k<slot>`` or ``f<foreign slot>``).

    Reads reload the file when it changed on disk (another process set a label). Writes raise
    :class:`OSError` if the file cannot be written; the old file then stays as it was.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._modules: dict[str, dict[str, dict[str, str]]] = {}

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _load(self) -> dict[str, dict[str, dict[str, str]]]:
        stamp = self._stat()
        if stamp != self._stamp:
            self._modules = self._read() if stamp is not None else {}
            self._stamp = stamp
        return self._modules

    def _read(self) -> dict[str, dict[str, dict[str, str]]]:
        try:
            data: Any = json.loads(self.path.read_text())
            modules = data["modules"]
        except (OSError, ValueError, KeyError, TypeError):
            return {}  # unreadable: no labels (never rewritten until a label is set)
        return modules if isinstance(modules, dict) else {}

    def stored(self, serial: str) -> dict[str, dict[str, str]]:
        """The stored entries of one module (``key -> {"label", "key"}``), current as of now."""
        with self._lock:
            return dict(self._load().get(serial, {}))

    def label(self, serial: str, key: str, public_key: Callable[[], bytes | None]) -> str | None:
        """The stored label of ``key`` if its fingerprint matches ``public_key()`` (called only when
        a label is stored; ``None`` from it, a key whose export is disabled, is taken as a match)."""
        entry = self.stored(serial).get(key)
        if entry is None:
            return None
        public = public_key()
        if public is not None and entry.get("key") != fingerprint(public):
            return None
        label = entry.get("label")
        return label if isinstance(label, str) else None

    def set(self, serial: str, key: str, label: str, public_key: bytes | None) -> None:
        """Store (or with an empty ``label``, forget) the label of ``key``."""
        self._update(serial, key, {"label": label, "key": fingerprint(public_key) if public_key else ""}
                     if label else None)

    def forget(self, serial: str, key: str) -> None:
        self._update(serial, key, None)

    def _update(self, serial: str, key: str, entry: dict[str, str] | None) -> None:
        with self._lock:
            self._ensure_dir()
            lock_fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, FILE_MODE)
            try:
                fcntl.flock(lock_fd, fcntl.LOCK_EX)
                modules = self._read() if self.path.exists() else {}
                entries = modules.setdefault(serial, {})
                if entry is None:
                    if entries.pop(key, None) is None:
                        return
                else:
                    entries[key] = entry
                self._write(json.dumps({"version": 1, "modules": modules}, indent=1, sort_keys=True).encode())
                self._stamp = None
            finally:
                os.close(lock_fd)

    def _ensure_dir(self) -> None:
        directory = self.path.parent
        if not directory.exists():
            directory.mkdir(parents=True, mode=DIR_MODE)
            os.chmod(directory, DIR_MODE)

    def _write(self, data: bytes) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE), "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise
