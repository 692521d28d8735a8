"""The token: one softscm module, reached over the wire, and what the library caches about it.

Caches: the module's identity (per C_Initialize), each slot's key type and each public key.
Slot listings are refreshed when a find starts and when a handle names a slot not yet seen; a
key's public key is fetched once. A slot that another client empties and refills with a key of
the same type between two listings keeps its cached public key until the next listing (the module
has no key generation counter to tell).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from ..host.client import Client, connect
from ..wire.messages.admin import ModuleInfo
from ..wire.defs import KeyType
from ..wire.errors import ProtocolError, ScmError, TransportError
from .constants import CKR
from .curves import CURVES, Curve
from .errors import Pkcs11Error, rv_for
from .labels import LabelStore
from .objects import KeyRef, ObjectKind

T = TypeVar("T")


class Connection:
    """One connection to the module, opened on first use and again after it broke."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._client: Client | None = None

    def client(self) -> Client:
        """:raises Pkcs11Error: ``CKR_TOKEN_NOT_PRESENT`` if the module cannot be reached."""
        if self._client is None:
            try:
                self._client = connect(self._url)
            except (ScmError, ValueError, OSError):
                raise Pkcs11Error(CKR.TOKEN_NOT_PRESENT) from None
        return self._client

    def run(self, call: Callable[[Client], T]) -> T:
        """Run ``call`` on the client; a module error becomes its ``CKR_*`` (see :func:`rv_for`), and a
        broken connection is dropped so the next call reconnects.

        :raises Pkcs11Error: for every failure.
        """
        client = self.client()
        try:
            return call(client)
        except (TransportError, ProtocolError) as exc:
            self.close()
            raise Pkcs11Error(rv_for(exc)) from None
        except ScmError as exc:
            raise Pkcs11Error(rv_for(exc)) from None

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except OSError:
                pass


class Token:
    """The module as a token: its identity, its key objects and their labels."""

    def __init__(self, url: str, labels: LabelStore, key_types: frozenset[KeyType] = frozenset(KeyType)) -> None:
        self.url = url
        self.labels = labels
        self.key_types = key_types  # the key types shown as objects (see Config.key_types)
        self.admin = Connection(url)  # token-level queries outside any session
        self._admin_lock = threading.Lock()
        self._info: ModuleInfo | None = None
        self._types: dict[int, KeyType] = {}
        self._foreign_types: dict[int, KeyType] = {}
        self._publics: dict[tuple[bool, int], bytes] = {}

    def query(self, call: Callable[[Client], T]) -> T:
        """Run ``call`` on the token-level connection (one caller at a time)."""
        with self._admin_lock:
            return self.admin.run(call)

    def present(self) -> bool:
        """Whether the module answers (connects if not connected)."""
        try:
            self.info()
        except Pkcs11Error:
            return False
        return True

    def info(self) -> ModuleInfo:
        """Model, firmware and serial, fetched once.

        :raises Pkcs11Error: ``CKR_TOKEN_NOT_PRESENT`` if the module cannot be reached.
        """
        if self._info is None:
            self._info = self.query(lambda client: client.info())
        return self._info

    def close(self) -> None:
        with self._admin_lock:
            self.admin.close()

    # -- key slots -------------------------------------------------------------------------------

    def refresh(self, connection: Connection) -> None:
        """List the module's slots again; drop cached public keys of slots that changed."""
        local = connection.run(lambda client: client.list_slots())
        foreign = connection.run(lambda client: client.list_slots(foreign=True))
        types = {slot: kind for slot, kind in local.slots if slot >= 0 and kind in self.key_types}
        foreign_types = {slot: kind for slot, kind in foreign.slots if kind in self.key_types}
        for (is_foreign, slot) in list(self._publics):
            old = (self._foreign_types if is_foreign else self._types).get(slot)
            new = (foreign_types if is_foreign else types).get(slot)
            if old is None or old != new:
                self._publics.pop((is_foreign, slot), None)
        self._types, self._foreign_types = types, foreign_types

    def refs(self) -> list[KeyRef]:
        """Every token object as of the last :meth:`refresh`, private keys first."""
        refs = [KeyRef(ObjectKind.PRIVATE_KEY, slot) for slot in sorted(self._types)]
        refs += [KeyRef(ObjectKind.PUBLIC_KEY, slot) for slot in sorted(self._types)]
        refs += [KeyRef(ObjectKind.FOREIGN_KEY, slot) for slot in sorted(self._foreign_types)]
        return refs

    def curve(self, connection: Connection, ref: KeyRef, *, invalid: CKR = CKR.OBJECT_HANDLE_INVALID) -> Curve:
        """The curve of the key ``ref`` names (lists the slots again if it was not seen yet).

        :raises Pkcs11Error: ``invalid`` if there is no such key.
        """
        table = self._foreign_types if ref.foreign else self._types
        kind = table.get(ref.slot)
        if kind is None:
            self.refresh(connection)
            kind = (self._foreign_types if ref.foreign else self._types).get(ref.slot)
            if kind is None:
                raise Pkcs11Error(invalid)
        return CURVES[kind]

    def shows(self, key_type: KeyType) -> None:
        """:raises Pkcs11Error: ``CKR_CURVE_NOT_SUPPORTED`` for a key type configured away."""
        if key_type not in self.key_types:
            raise Pkcs11Error(CKR.CURVE_NOT_SUPPORTED)

    def remember(self, ref: KeyRef, key_type: KeyType, public_key: bytes | None = None) -> None:
        """Record a key this library just made."""
        (self._foreign_types if ref.foreign else self._types)[ref.slot] = key_type
        self._publics.pop((ref.foreign, ref.slot), None)
        if public_key is not None:
            self._publics[(ref.foreign, ref.slot)] = public_key

    def forget(self, ref: KeyRef) -> None:
        """Drop a removed key from the caches and its label from the label store."""
        (self._foreign_types if ref.foreign else self._types).pop(ref.slot, None)
        self._publics.pop((ref.foreign, ref.slot), None)
        try:
            self.labels.forget(self.info().serial, ref.label_key)
        except OSError:
            pass

    def public_key(self, connection: Connection, ref: KeyRef) -> bytes:
        """The raw public key of ``ref``'s slot.

        :raises Pkcs11Error: ``CKR_ATTRIBUTE_SENSITIVE`` if its export is disabled,
            ``CKR_OBJECT_HANDLE_INVALID`` if the slot is empty.
        """
        key = (ref.foreign, ref.slot)
        public = self._publics.get(key)
        if public is None:
            public = connection.run(lambda client: client.get_public_key(ref.slot, foreign=ref.foreign))
            self._publics[key] = public
        return public

    def label(self, connection: Connection, ref: KeyRef) -> str:
        """The stored label of ``ref``'s key, else its default ``slot-N`` / ``foreign-N``."""

        def public() -> bytes | None:
            try:
                return self.public_key(connection, ref)
            except Pkcs11Error:
                return None

        stored = self.labels.label(self.info().serial, ref.label_key, public)
        return stored if stored is not None else ref.default_label

    def set_label(self, connection: Connection, ref: KeyRef, label: str) -> None:
        """:raises Pkcs11Error: ``CKR_DEVICE_ERROR`` if the label file cannot be written."""
        try:
            public = self.public_key(connection, ref)
        except Pkcs11Error as exc:
            if exc.rv is not CKR.ATTRIBUTE_SENSITIVE:
                raise
            public = None
        try:
            self.labels.set(self.info().serial, ref.label_key, label, public)
        except OSError:
            raise Pkcs11Error(CKR.DEVICE_ERROR) from None
