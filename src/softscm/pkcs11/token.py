"""The token: one softscm module, reached over the wire, and what the library caches about it.

Caches: the module's identity (per C_Initialize), each slot's key type, each public key, the slots
with a stored certificate and the certificates read. Slot listings are refreshed when a find
starts and when a handle names a slot not yet seen (a find for keys only skips the certificate
listing; a certificate listing drops the certificates read); a key's public key is fetched once. A slot that another client empties and refills with a key of
the same type between two listings keeps its cached public key until the next listing (the module
has no key generation counter to tell).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from operator import methodcaller
from typing import TypeVar

from ..host.client import Client, connect
from ..wire.defs import KeyType
from ..wire.errors import (
    AccessDeniedError,
    CertificateError,
    NotFoundError,
    PinLockedError,
    ProtocolError,
    ScmError,
    TransportError,
)
from ..wire.messages.access import Identity
from ..wire.messages.admin import ModuleInfo
from .access import Login, LoginState, refusal
from .certificates import CertRef
from .constants import CKR
from .curves import CURVES, Curve
from .errors import Pkcs11Error, rv_for
from .labels import LabelStore
from .objects import KeyRef, ObjectKind

T = TypeVar("T")


class Connection:
    """One connection to the module, opened on first use and again after it broke, and logged in
    (or out) to follow the application's login before each call (see :mod:`.access`)."""

    def __init__(self, url: str, login: Login) -> None:
        self._url = url
        self._login = login
        self._client: Client | None = None
        self._applied: LoginState | None = None  # the login state this connection follows
        self._logged_in = False  # whether the module has this connection logged in with the PIN

    def client(self) -> Client:
        """:raises Pkcs11Error: ``CKR_TOKEN_NOT_PRESENT`` if the module cannot be reached."""
        if self._client is None:
            try:
                self._client = connect(self._url)
            except (ScmError, ValueError, OSError):
                raise Pkcs11Error(CKR.TOKEN_NOT_PRESENT) from None
            self._applied, self._logged_in = None, False
        return self._client

    def run(self, call: Callable[[Client], T]) -> T:
        """Run ``call`` on the client, logged in as the application is; a module error becomes its
        ``CKR_*`` (see :func:`rv_for`; a refusal :func:`.access.refusal`), and a broken connection
        is dropped so the next call reconnects.

        :raises Pkcs11Error: for every failure.
        """
        client = self.client()
        try:
            if self._login.state is not self._applied:
                self._apply(client)
            return call(client)
        except (TransportError, ProtocolError) as exc:
            self.close()
            raise Pkcs11Error(rv_for(exc)) from None
        except PinLockedError:
            raise Pkcs11Error(CKR.PIN_LOCKED) from None
        except AccessDeniedError:
            raise Pkcs11Error(refusal(self._identity(client))) from None
        except ScmError as exc:
            raise Pkcs11Error(rv_for(exc)) from None

    def _apply(self, client: Client) -> None:
        """Log this connection in or out to match the application's login. A PIN the module no
        longer takes ends the application's login (so it is tried once, not on every connection)."""
        state = self._login.state
        if state.pin is not None:
            try:
                client.login(state.pin)
                self._logged_in = True
            except AccessDeniedError:
                self._login.drop(state)
        if (state.pin is None or self._login.state is not state) and self._logged_in:
            client.logout()
            self._logged_in = False
        self._applied = state

    @staticmethod
    def _identity(client: Client) -> Identity | None:
        try:
            return client.whoami()
        except (ScmError, OSError):
            return None

    def log_in(self, pin: str) -> None:
        """Log this connection in with the module's PIN (C_Login checks the PIN with it).

        :raises Pkcs11Error: ``CKR_PIN_INCORRECT`` for a wrong PIN (the module counts it),
            ``CKR_PIN_LOCKED`` once the module locked the PIN.
        """

        def call(client: Client) -> None:
            try:
                client.login(pin)
            except PinLockedError:
                raise
            except AccessDeniedError:
                raise Pkcs11Error(CKR.PIN_INCORRECT) from None

        self.run(call)
        self._logged_in = True

    def follow(self, state: LoginState) -> None:
        """Record that this connection is already in ``state`` (C_Login just logged it in)."""
        self._applied = state

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
        self.login = Login()  # the application's login, followed by every connection
        self.admin = self.connection()  # token-level queries outside any session
        self._admin_lock = threading.Lock()
        self._info: ModuleInfo | None = None
        self._types: dict[int, KeyType] = {}
        self._foreign_types: dict[int, KeyType] = {}
        self._publics: dict[tuple[bool, int], bytes] = {}
        self._cert_slots: set[int] = set()
        self._certs: dict[int, bytes] = {}

    def connection(self) -> Connection:
        """A new connection (opened on first use) that follows the application's login."""
        return Connection(self.url, self.login)

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

    def refresh(self, connection: Connection, *, certificates: bool = False) -> None:
        """List the module's slots again (and with ``certificates`` the slots with a certificate);
        drop cached public keys of slots that changed."""
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
        if certificates:
            listed = connection.run(methodcaller("list_certificate_slots"))
            self._cert_slots = {slot for slot in listed if slot in types}
            self._certs.clear()

    def refs(self) -> list[KeyRef]:
        """Every key object as of the last :meth:`refresh`, private keys first."""
        refs = [KeyRef(ObjectKind.PRIVATE_KEY, slot) for slot in sorted(self._types)]
        refs += [KeyRef(ObjectKind.PUBLIC_KEY, slot) for slot in sorted(self._types)]
        refs += [KeyRef(ObjectKind.FOREIGN_KEY, slot) for slot in sorted(self._foreign_types)]
        return refs

    def key_pair_slots(self) -> list[int]:
        """The key-pair slots shown, as of the last :meth:`refresh`."""
        return sorted(self._types)

    # -- certificates ------------------------------------------------------------------------------

    def cert_refs(self) -> list[CertRef]:
        """Every certificate object as of the last :meth:`refresh` with certificates."""
        return [CertRef(slot) for slot in sorted(self._cert_slots)]

    def check_certificate(self, connection: Connection, ref: CertRef) -> None:
        """:raises Pkcs11Error: ``CKR_OBJECT_HANDLE_INVALID`` if ``ref``'s slot has no certificate
        (lists the slots again if it was not seen yet)."""
        if ref.slot not in self._cert_slots:
            self.refresh(connection, certificates=True)
            if ref.slot not in self._cert_slots:
                raise Pkcs11Error(CKR.OBJECT_HANDLE_INVALID)

    def certificate(self, connection: Connection, ref: CertRef) -> bytes:
        """The DER leaf certificate of ``ref``'s slot.

        :raises Pkcs11Error: ``CKR_OBJECT_HANDLE_INVALID`` if none is stored (or the slot's key
            changed since it was).
        """
        der = self._certs.get(ref.slot)
        if der is None:

            def leaf(client: Client) -> bytes:
                try:
                    return client.get_certificate_chain(ref.slot)[0]
                except (NotFoundError, CertificateError):
                    raise Pkcs11Error(CKR.OBJECT_HANDLE_INVALID) from None

            der = self._certs[ref.slot] = connection.run(leaf)
        return der

    def remember_certificate(self, ref: CertRef, der: bytes) -> None:
        self._cert_slots.add(ref.slot)
        self._certs[ref.slot] = der

    def forget_certificate(self, ref: CertRef) -> None:
        self._cert_slots.discard(ref.slot)
        self._certs.pop(ref.slot, None)
        try:
            self.labels.forget(self.info().serial, ref.label_key)
        except OSError:
            pass

    def certificate_label(self, connection: Connection, ref: CertRef) -> str:
        """The label set for the certificate, else its key's label."""
        key = KeyRef(ObjectKind.PRIVATE_KEY, ref.slot)

        def public() -> bytes | None:
            try:
                return self.public_key(connection, key)
            except Pkcs11Error:
                return None

        stored = self.labels.label(self.info().serial, ref.label_key, public)
        return stored if stored is not None else self.label(connection, key)

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

    def set_label(self, connection: Connection, ref: KeyRef, label: str, *, entry: str | None = None) -> None:
        """Label ``ref``'s key (or, with ``entry``, the label store entry of another object of its
        slot: a certificate's), bound to the key's public key.

        :raises Pkcs11Error: ``CKR_DEVICE_ERROR`` if the label file cannot be written.
        """
        try:
            public = self.public_key(connection, ref)
        except Pkcs11Error as exc:
            if exc.rv is not CKR.ATTRIBUTE_SENSITIVE:
                raise
            public = None
        try:
            self.labels.set(self.info().serial, entry or ref.label_key, label, public)
        except OSError:
            raise Pkcs11Error(CKR.DEVICE_ERROR) from None
