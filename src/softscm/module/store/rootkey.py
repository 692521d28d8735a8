"""The module root key file and the host binding that seals it.

``root.key`` holds the 32-byte root key sealed with AES-256-GCM. While the module is unbound
(development mode) the sealing key is derived from the file's own salt, so the state directory
may move between hosts. ``lock_binding`` re-seals it under a key derived from the host
fingerprint as well: a bound module copied to another host cannot open its root key.

Layout (frozen record, big-endian): magic ``SCMROOT1`` | version u8 | bound u8 | salt 16 |
host tag 32 | sealed root key (12 + 32 + 16).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ...wire.errors import AuthenticationError, BindingError, StoreCorruptError
from ..crypto.aead import open_sealed, seal
from ..crypto.rng import Rng, system_rng
from .atomic import atomic_write

ROOT_KEY_FILE = "root.key"
ROOT_KEY_SIZE = 32
_MAGIC = b"SCMROOT1"
_VERSION = 1
_SALT = 16
_TAG = 32
_SEALED = 12 + ROOT_KEY_SIZE + 16
_SIZE = len(_MAGIC) + 2 + _SALT + _TAG + _SEALED
HOST_ID_ENV = "SOFTSCM_HOST_ID"


def host_fingerprint() -> bytes:
    """A stable fingerprint of this host: machine id, DMI product UUID and CPU serial.

    ``SOFTSCM_HOST_ID`` overrides it (tests use this to play a second host).
    """
    override = os.environ.get(HOST_ID_ENV)
    if override is not None:
        return hashlib.sha256(b"override:" + override.encode()).digest()
    parts = []
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id", "/sys/class/dmi/id/product_uuid"):
        try:
            parts.append(Path(path).read_bytes().strip())
        except OSError:
            parts.append(b"")
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("serial"):
                parts.append(line.split(":", 1)[1].strip().encode())
    except OSError:
        pass
    return hashlib.sha256(b"\x00".join(parts)).digest()


@dataclass(frozen=True)
class RootKeyRecord:
    """The parsed ``root.key`` file."""

    bound: bool
    salt: bytes
    host_tag: bytes
    sealed: bytes

    @classmethod
    def parse(cls, data: bytes) -> RootKeyRecord:
        """:raises StoreCorruptError: if the record is malformed."""
        if len(data) != _SIZE or not data.startswith(_MAGIC) or data[len(_MAGIC)] != _VERSION:
            raise StoreCorruptError("root key file is malformed")
        pos = len(_MAGIC) + 1
        bound = data[pos]
        if bound not in (0, 1):
            raise StoreCorruptError("root key file is malformed")
        pos += 1
        salt = data[pos : pos + _SALT]
        pos += _SALT
        tag = data[pos : pos + _TAG]
        pos += _TAG
        return cls(bool(bound), salt, tag, data[pos:])

    def to_bytes(self) -> bytes:
        return _MAGIC + bytes([_VERSION, int(self.bound)]) + self.salt + self.host_tag + self.sealed


def _host_tag(salt: bytes, fingerprint: bytes) -> bytes:
    return hmac.new(salt, b"softscm host tag" + fingerprint, hashlib.sha256).digest()


def _sealing_key(salt: bytes, fingerprint: bytes | None) -> bytes:
    ikm = b"softscm root seal" + (fingerprint or b"")
    return HKDF(hashes.SHA256(), 32, salt, b"softscm root key seal v1").derive(ikm)


def _aad(bound: bool, host_tag: bytes) -> bytes:
    return _MAGIC + bytes([_VERSION, int(bound)]) + host_tag


def create_root_key(state_dir: Path, rng: Rng = system_rng) -> bytes:
    """Generate a root key, seal it unbound and write ``root.key``. Returns the key.

    :raises StorageFullError: if the disk is full.
    """
    root = rng(ROOT_KEY_SIZE)
    _write(state_dir, root, bound=False, rng=rng)
    return root


def _write(state_dir: Path, root: bytes, *, bound: bool, rng: Rng) -> None:
    salt = rng(_SALT)
    fingerprint = host_fingerprint()
    tag = _host_tag(salt, fingerprint)
    sealed = seal(_sealing_key(salt, fingerprint if bound else None), root, _aad(bound, tag), rng)
    atomic_write(state_dir / ROOT_KEY_FILE, RootKeyRecord(bound, salt, tag, sealed).to_bytes())


def load_root_key(state_dir: Path) -> tuple[bytes, bool]:
    """Open ``root.key``; returns ``(root_key, bound)``.

    :raises StoreCorruptError: if the file is missing, malformed or fails authentication.
    :raises BindingError: if the module is bound and this is not the host it is bound to.
    """
    try:
        data = (state_dir / ROOT_KEY_FILE).read_bytes()
    except FileNotFoundError:
        raise StoreCorruptError("root key file is missing") from None
    record = RootKeyRecord.parse(data)
    fingerprint = host_fingerprint()
    same_host = hmac.compare_digest(record.host_tag, _host_tag(record.salt, fingerprint))
    if record.bound and not same_host:
        raise BindingError("the module is bound to a different host")
    key = _sealing_key(record.salt, fingerprint if record.bound else None)
    try:
        root = open_sealed(key, record.sealed, _aad(record.bound, record.host_tag))
    except AuthenticationError:
        raise StoreCorruptError("root key file failed authentication") from None
    return root, record.bound


def bind_root_key(state_dir: Path, root: bytes, rng: Rng = system_rng) -> None:
    """Re-seal the root key under this host's fingerprint (permanent production binding).

    :raises StorageFullError: if the disk is full (the unbound file is left in place).
    """
    _write(state_dir, root, bound=True, rng=rng)
