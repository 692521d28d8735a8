"""Certificates kept in the module: a chain per key slot, and named trust roots.

Both live in the keystore's module values (MACed rows inside the keystore's set digest, durable
before a call returns): ``cert:<slot>`` holds a slot's chain as a CBOR list of DER certificates,
leaf first; ``certroot:<name>`` one self-signed root certificate. A chain is only stored for the
key it certifies, and is checked against the slot's key again whenever it is read, so a chain
left behind by a removed key never passes for the key now in that slot.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

import cbor2
from ...certchain import MAX_CHAIN, check_issued_by, parse_der, raw_public_key, verify_chain
from ...wire.errors import CertificateError, InvalidArgumentError, NotFoundError, StorageFullError, StoreCorruptError
from .keystore import KeyStore

CHAIN_PREFIX = "cert:"
ROOT_PREFIX = "certroot:"
MAX_ROOTS = 16
_ROOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _chain_name(slot: int) -> str:
    return f"{CHAIN_PREFIX}{slot}"


def _root_name(name: str) -> str:
    if not isinstance(name, str) or _ROOT_NAME.fullmatch(name) is None:
        raise InvalidArgumentError("a trust root name is 1..64 letters, digits, '.', '_' or '-'")
    return ROOT_PREFIX + name


class CertStore:
    """Typed access to the certificates in a :class:`KeyStore` (same thread rules as the keystore)."""

    def __init__(self, store: KeyStore) -> None:
        self._store = store

    # -- chains per slot -----------------------------------------------------------------------

    def put_chain(self, slot: int, chain: Sequence[bytes]) -> None:
        """Store (or replace) the chain for the key in ``slot``: DER certificates, leaf first,
        each one issued by the next. The chain need not reach a stored root (:meth:`verify` checks that).

        :raises InvalidSlotError, SlotEmptyError: if ``slot`` holds no key.
        :raises CertificateError: if a certificate does not parse, the leaf is for another key,
            or a certificate is not issued by the next one (signature, names, CA constraints).
        :raises StorageFullError: if the disk is full (the old chain stays).
        """
        public = self._store.get(slot).public
        if not 0 < len(chain) <= MAX_CHAIN:
            raise CertificateError(f"a chain holds 1..{MAX_CHAIN} certificates")
        certs = [parse_der(der) for der in chain]
        if raw_public_key(certs[0].public_key()) != public:
            raise CertificateError(f"the leaf certificate is not for the key in slot {slot}")
        for index, (cert, issuer) in enumerate(zip(certs, certs[1:])):
            check_issued_by(cert, issuer, index)
        self._store.set_meta(_chain_name(slot), cbor2.dumps([bytes(der) for der in chain]))

    def get_chain(self, slot: int) -> list[bytes]:
        """The DER chain stored for ``slot``, leaf first.

        :raises NotFoundError: if none is stored.
        :raises CertificateError: if the key in the slot is no longer the one the leaf certifies.
        :raises SlotEmptyError: if the slot's key was removed since.
        :raises StoreCorruptError: if the stored value fails its integrity check.
        """
        value = self._store.get_meta(_chain_name(slot))
        if value is None:
            raise NotFoundError(f"no certificate chain is stored for slot {slot}")
        chain = cbor2.loads(value)
        if not isinstance(chain, list) or not all(isinstance(der, bytes) for der in chain):
            raise StoreCorruptError(f"the certificate chain of slot {slot} is malformed")
        if raw_public_key(parse_der(chain[0]).public_key()) != self._store.get(slot).public:
            raise CertificateError(f"the stored chain is for a key no longer in slot {slot}")
        return chain

    def remove_chain(self, slot: int) -> None:
        """:raises NotFoundError: if no chain is stored for ``slot``."""
        if not self._store.delete_meta(_chain_name(slot)):
            raise NotFoundError(f"no certificate chain is stored for slot {slot}")

    def chain_slots(self) -> list[int]:
        """The slots that have a chain stored, in order."""
        return sorted(int(name[len(CHAIN_PREFIX):]) for name in self._store.meta_names(CHAIN_PREFIX))

    # -- trust roots ----------------------------------------------------------------------------

    def put_root(self, name: str, der: bytes) -> None:
        """Store (or replace) a trusted root: a self-signed CA certificate.

        :raises InvalidArgumentError: for a bad name.
        :raises CertificateError: if it does not parse, is not self-signed or is not a CA.
        :raises StorageFullError: if :data:`MAX_ROOTS` roots are stored already, or the disk is full.
        """
        key = _root_name(name)
        cert = parse_der(der)
        check_issued_by(cert, cert)
        if self._store.get_meta(key) is None and len(self.root_names()) >= MAX_ROOTS:
            raise StorageFullError(f"{MAX_ROOTS} trust roots are stored already")
        self._store.set_meta(key, bytes(der))

    def get_root(self, name: str) -> bytes:
        """:raises NotFoundError: if no root has that name. :raises StoreCorruptError: as the keystore."""
        value = self._store.get_meta(_root_name(name))
        if value is None:
            raise NotFoundError(f"no trust root named {name!r}")
        return value

    def remove_root(self, name: str) -> None:
        """:raises NotFoundError: if no root has that name."""
        if not self._store.delete_meta(_root_name(name)):
            raise NotFoundError(f"no trust root named {name!r}")

    def root_names(self) -> list[str]:
        return [name[len(ROOT_PREFIX):] for name in self._store.meta_names(ROOT_PREFIX)]

    # -- verification ----------------------------------------------------------------------------

    def verify(self, slot: int, at: datetime.datetime, *, root: str | None = None) -> str:
        """Check the chain stored for ``slot`` against the stored roots (or the one named) at time
        ``at``; returns the name of the root it leads to.

        :raises NotFoundError: if no chain, or no such root, is stored.
        :raises CertificateError: if the chain does not verify (see :func:`softscm.certchain.verify_chain`).
        """
        chain = [parse_der(der) for der in self.get_chain(slot)]
        names = [root] if root is not None else self.root_names()
        roots = {name: parse_der(self.get_root(name)) for name in names}
        if not roots:
            raise NotFoundError("no trust root is stored")
        anchor = verify_chain(chain, list(roots.values()), at=at, public_key=self._store.get(slot).public)
        return next(name for name, cert in roots.items() if cert == anchor)
