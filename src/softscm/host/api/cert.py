"""Certificates in the module: a chain per key slot, named trust roots, verification."""

from __future__ import annotations

from collections.abc import Sequence

from ...wire.messages.cert import (
    CertGetRequest,
    CertListRequest,
    CertRemoveRequest,
    CertRootGetRequest,
    CertRootListRequest,
    CertRootRemoveRequest,
    CertRootStoreRequest,
    CertStoreRequest,
    CertVerifyRequest,
)
from .base import ApiBase, nothing


class CertApi(ApiBase):
    def store_certificate_chain(self, slot: int, chain: Sequence[bytes]) -> None:
        """Store (or replace) the DER chain (leaf first) for the key in ``slot``.

        :raises CertificateError: if a certificate does not parse, the leaf is for another key, or
            a certificate is not issued by the next one. :raises SlotEmptyError: for an empty slot.
        """
        return self._call(CertStoreRequest(slot, tuple(bytes(der) for der in chain)), nothing)

    def get_certificate_chain(self, slot: int) -> list[bytes]:
        """The DER chain stored for ``slot``, leaf first.

        :raises NotFoundError: if none is stored. :raises CertificateError: if the slot's key changed since.
        """
        return self._call(CertGetRequest(slot), lambda r: list(r.chain))

    def remove_certificate_chain(self, slot: int) -> None:
        """:raises NotFoundError: if no chain is stored for ``slot``."""
        return self._call(CertRemoveRequest(slot), nothing)

    def list_certificate_slots(self) -> list[int]:
        """The slots that have a chain stored."""
        return self._call(CertListRequest(), lambda r: list(r.slots))

    def store_trust_root(self, name: str, certificate: bytes) -> None:
        """Store (or replace) a trusted root, a self-signed CA certificate (DER), under ``name``.

        :raises CertificateError: if it is not one. :raises StorageFullError: if 16 roots are stored.
        """
        return self._call(CertRootStoreRequest(name, bytes(certificate)), nothing)

    def get_trust_root(self, name: str) -> bytes:
        """:raises NotFoundError: if no root has that name."""
        return self._call(CertRootGetRequest(name), lambda r: r.certificate)

    def remove_trust_root(self, name: str) -> None:
        """:raises NotFoundError: if no root has that name."""
        return self._call(CertRootRemoveRequest(name), nothing)

    def list_trust_roots(self) -> list[str]:
        return self._call(CertRootListRequest(), lambda r: list(r.names))

    def verify_certificate_chain(self, slot: int, *, root: str | None = None, at: float | None = None) -> str:
        """Verify the chain stored for ``slot`` in the module against its stored roots (or the one
        named) at ``at`` (epoch seconds; default: the module's clock); returns the root's name.

        :raises CertificateError: if it does not verify. :raises NotFoundError: if no chain or root is stored.
        """
        return self._call(CertVerifyRequest(slot, root, at), lambda r: r.root)
