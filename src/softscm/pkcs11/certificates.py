"""Certificate objects: the leaf certificate the module stores for a key-pair slot (CERT_STORE).

Each key-pair slot with a stored chain shows its leaf as one CKO_CERTIFICATE / CKC_X_509 token
object, with the key's CKA_ID (so that OpenSSL, OpenSSH and p11tool pair it with the key) and,
unless one was set for it, the key's label. The rest of the chain is not shown: its CA
certificates would either share the key's CKA_ID (and libp11 or OpenSSH would pair a CA's public
key with the leaf's private key) or carry an ID that names no key; ``scmctl cert get`` reads it.
Handles follow the key objects' rule with the fourth kind: ``handle = (slot << 2 | 3) + 1``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .attributes import FALSE, TRUE, ulong
from .constants import CKA, CKC, CKO, CKR, CertificateCategory
from .errors import Pkcs11Error
from .objects import SESSION_HANDLE_BASE, Object, slot_id

CERTIFICATE_KIND = 3
EMPTY_ATTRIBUTES = (CKA.URL, CKA.HASH_OF_SUBJECT_PUBLIC_KEY, CKA.HASH_OF_ISSUER_PUBLIC_KEY)


@dataclass(frozen=True)
class CertRef:
    """The certificate object of a key-pair slot."""

    slot: int

    @property
    def handle(self) -> int:
        return ((self.slot << 2) | CERTIFICATE_KIND) + 1

    @property
    def id(self) -> bytes:
        return slot_id(self.slot)

    @property
    def label_key(self) -> str:
        """The key under which the label store keeps a label set for the certificate itself."""
        return f"c{self.slot}"

    @staticmethod
    def from_handle(handle: int) -> CertRef | None:
        if not 0 < handle < SESSION_HANDLE_BASE or (handle - 1) & 3 != CERTIFICATE_KIND:
            return None
        return CertRef((handle - 1) >> 2)


def slot_for_id(key_id: bytes) -> int | None:
    """The key-pair slot whose CKA_ID is ``key_id`` (as :func:`slot_id` writes it), else ``None``."""
    if not key_id:
        return None
    slot = int.from_bytes(key_id, "big")
    return slot if slot_id(slot) == key_id else None


def _der_integer(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)
    return b"\x02" + len(body).to_bytes(1, "big") + body  # a serial has at most 20 bytes: short form


class Certificate:
    """A parsed DER X.509 certificate and the attributes PKCS#11 derives from it.

    :raises Pkcs11Error: ``CKR_ATTRIBUTE_VALUE_INVALID`` if ``der`` is not a certificate.
    """

    def __init__(self, der: bytes) -> None:
        try:
            self.x509 = x509.load_der_x509_certificate(der)
        except ValueError:
            raise Pkcs11Error(CKR.ATTRIBUTE_VALUE_INVALID) from None
        self.der = der

    @cached_property
    def derived(self) -> dict[int, bytes]:
        cert = self.x509
        return {
            CKA.VALUE: self.der, CKA.SUBJECT: cert.subject.public_bytes(), CKA.ISSUER: cert.issuer.public_bytes(),
            CKA.SERIAL_NUMBER: _der_integer(cert.serial_number),
            CKA.CHECK_VALUE: hashlib.sha1(self.der).digest()[:3],  # noqa: S324 - PKCS#11's check value
            CKA.START_DATE: cert.not_valid_before_utc.strftime("%Y%m%d").encode(),
            CKA.END_DATE: cert.not_valid_after_utc.strftime("%Y%m%d").encode(),
        }

    def public_key_info(self) -> bytes | None:
        """The certified key's SubjectPublicKeyInfo (``None`` for a key type cryptography lacks)."""
        try:
            return self.x509.public_key().public_bytes(serialization.Encoding.DER,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
        except (ValueError, TypeError):
            return None


_FIXED: dict[int, bytes] = {
    CKA.CLASS: ulong(CKO.CERTIFICATE), CKA.TOKEN: TRUE, CKA.PRIVATE: FALSE, CKA.MODIFIABLE: TRUE,
    CKA.COPYABLE: FALSE, CKA.DESTROYABLE: TRUE, CKA.CERTIFICATE_TYPE: ulong(CKC.X_509), CKA.TRUSTED: FALSE,
    CKA.CERTIFICATE_CATEGORY: ulong(CertificateCategory.TOKEN_USER), CKA.JAVA_MIDP_SECURITY_DOMAIN: ulong(0),
    **{kind: b"" for kind in EMPTY_ATTRIBUTES},
}


class CertObject(Object):
    """A slot's leaf certificate; ``der`` fetches it (once), ``label`` reads the current label."""

    def __init__(self, ref: CertRef, *, der: Callable[[], bytes], label: Callable[[], str]) -> None:
        self.ref = ref
        self._der = der
        self._label = label

    @cached_property
    def certificate(self) -> Certificate:
        return Certificate(self._der())

    def get(self, kind: int) -> bytes:
        value = _FIXED.get(kind)
        if value is not None:
            return value
        if kind == CKA.ID:
            return self.ref.id
        if kind == CKA.LABEL:
            return self._label().encode()
        value = self.certificate.derived.get(kind)
        if value is None:
            raise Pkcs11Error(CKR.ATTRIBUTE_TYPE_INVALID)
        return value
