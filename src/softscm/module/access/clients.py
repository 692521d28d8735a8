"""The module's registry of enrolled channel clients.

Each enrolled client is a pinned X25519 static public key with a name and its enrolment time. The
registry lives in one MACed keystore value (``store.get_meta``/``set_meta``), so a change to it
outside the module fails closed (:class:`~softscm.wire.errors.StoreCorruptError`), and every
change is durable before it is acknowledged. The channel's handshake asks :meth:`lookup` which
client a connection's key belongs to.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import cbor2
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from ...wire.defs import Event
from ...wire.errors import ClientKeyError, InvalidArgumentError, StoreCorruptError

REGISTRY_META = "channel.clients"
STATIC_KEY_META = "channel.static"
STATIC_KEY_LABEL = "channel static key"
KEY_SIZE = 32
MAX_NAME = 64
MAX_CLIENTS = 256
_NAME = re.compile(rf"[A-Za-z0-9_.-]{{1,{MAX_NAME}}}")

RecordEvent = Callable[..., None]  # Recorder.record(event, **details)


class MetaStore(Protocol):
    def get_meta(self, name: str) -> bytes | None: ...

    def set_meta(self, name: str, value: bytes) -> None: ...

    def seal_secret(self, label: str, secret: bytes) -> bytes: ...

    def open_secret(self, label: str, sealed: bytes) -> bytes: ...


@dataclass(frozen=True)
class ClientRecord:
    """An enrolled client: its name, pinned public key and enrolment time (Unix seconds)."""

    name: str
    public_key: bytes
    created: int

    def to_bytes(self) -> bytes:
        return cbor2.dumps([self.name, self.public_key, self.created])

    @classmethod
    def parse(cls, data: bytes) -> ClientRecord:
        """:raises StoreCorruptError: if ``data`` is not a client record."""
        try:
            name, public_key, created = cbor2.loads(data)
        except (cbor2.CBORDecodeError, ValueError, TypeError):
            raise StoreCorruptError("a client record is malformed") from None
        if not (isinstance(name, str) and isinstance(public_key, bytes) and len(public_key) == KEY_SIZE
                and isinstance(created, int)):
            raise StoreCorruptError("a client record is malformed")
        return cls(name, public_key, created)

    @property
    def fingerprint(self) -> str:
        """The key in hex, as listed and as given to ``revoke``."""
        return self.public_key.hex()


def check_name(name: str) -> str:
    """A name usable in the principal ``client:NAME`` that roles and key grants are given to.

    :raises InvalidArgumentError: unless 1-64 letters, digits, ``.``, ``_`` or ``-``.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidArgumentError(f"a client name is 1-{MAX_NAME} letters, digits, '.', '_' or '-'")
    return name


def check_public_key(public_key: bytes) -> bytes:
    """:raises InvalidArgumentError: unless a 32-byte X25519 public key other than zero."""
    if not isinstance(public_key, bytes) or len(public_key) != KEY_SIZE or not any(public_key):
        raise InvalidArgumentError("a client key is a 32-byte X25519 public key")
    return public_key


class ClientRegistry:
    """Enrol, list, look up and revoke channel client keys.

    ``record(event, **details)`` receives :attr:`Event.CLIENT_ENROLLED` and
    :attr:`Event.CLIENT_REVOKED` (the module's audit log); details carry the name and key
    fingerprint, never a secret.
    """

    def __init__(self, store: MetaStore, *, record: RecordEvent | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._record = record
        self._clock = clock

    def _load(self) -> dict[bytes, ClientRecord]:
        """Read from the store each time, so every registry on the same store agrees at once."""
        raw = self._store.get_meta(REGISTRY_META)
        if raw is None:
            return {}
        try:
            items = cbor2.loads(raw)
        except (cbor2.CBORDecodeError, ValueError, TypeError):
            raise StoreCorruptError("the client registry is malformed") from None
        if not isinstance(items, list) or not all(isinstance(item, bytes) for item in items):
            raise StoreCorruptError("the client registry is malformed")
        records = [ClientRecord.parse(item) for item in items]
        return {record.public_key: record for record in records}

    def _save(self, records: dict[bytes, ClientRecord]) -> None:
        self._store.set_meta(REGISTRY_META, cbor2.dumps([record.to_bytes() for record in records.values()]))

    def list(self) -> list[ClientRecord]:
        """Enrolled clients in enrolment order. :raises StoreCorruptError: if the registry fails its MAC."""
        return list(self._load().values())

    def lookup(self, public_key: bytes) -> ClientRecord | None:
        """The enrolled client with this key, or ``None`` (compared in constant time)."""
        for key, record in self._load().items():
            if hmac.compare_digest(key, public_key):
                return record
        return None

    def require(self, public_key: bytes) -> ClientRecord:
        """:raises ClientKeyError: if the key is not enrolled."""
        record = self.lookup(public_key)
        if record is None:
            raise ClientKeyError("this client key is not enrolled on the module")
        return record

    def enroll(self, name: str, public_key: bytes) -> ClientRecord:
        """Pin a client key under ``name``.

        :raises InvalidArgumentError: for a bad name or key.
        :raises ClientKeyError: if the name or the key is already enrolled, or the registry is full.
        :raises StorageFullError: if the disk is full (nothing changed).
        """
        check_name(name)
        check_public_key(public_key)
        records = self._load()
        if any(hmac.compare_digest(key, public_key) for key in records):
            raise ClientKeyError("this client key is already enrolled")
        if any(record.name == name for record in records.values()):
            raise ClientKeyError(f"a client named {name!r} is already enrolled")
        if len(records) >= MAX_CLIENTS:
            raise ClientKeyError(f"the module holds at most {MAX_CLIENTS} client keys")
        record = ClientRecord(name, public_key, int(self._clock()))
        records[public_key] = record
        self._save(records)
        self._emit(Event.CLIENT_ENROLLED, record)
        return record

    def revoke(self, client: str | bytes) -> ClientRecord:
        """Remove a client, given its name or public key; its connections are refused from the
        next handshake on.

        :raises ClientKeyError: if no such client is enrolled.
        """
        records = self._load()
        match = [record for record in records.values()
                 if (record.name == client if isinstance(client, str) else hmac.compare_digest(record.public_key, client))]
        if not match:
            raise ClientKeyError("no such client is enrolled")
        del records[match[0].public_key]
        self._save(records)
        self._emit(Event.CLIENT_REVOKED, match[0])
        return match[0]

    def _emit(self, event: Event, record: ClientRecord) -> None:
        if self._record is not None:
            self._record(event, name=record.name, key=record.fingerprint)


def channel_static_key(store: MetaStore) -> X25519PrivateKey:
    """The module's channel static key, created on first use and kept sealed in the keystore
    (so self-destruct removes it with the other keys).

    :raises StoreCorruptError: if the sealed key fails authentication.
    """
    sealed = store.get_meta(STATIC_KEY_META)
    if sealed is None:
        key = X25519PrivateKey.generate()
        store.set_meta(STATIC_KEY_META, store.seal_secret(STATIC_KEY_LABEL, key.private_bytes_raw()))
        return key
    raw = store.open_secret(STATIC_KEY_LABEL, sealed)
    if len(raw) != KEY_SIZE:
        raise StoreCorruptError("the channel static key is malformed")
    return X25519PrivateKey.from_private_bytes(raw)


__all__ = ["ClientRecord", "ClientRegistry", "channel_static_key", "check_name", "check_public_key"]


