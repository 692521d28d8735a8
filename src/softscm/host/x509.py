"""X.509 for module keys: certificate signing requests, self-signed and issued certificates, chain
checks and PEM/DER export. The private key never leaves the module: it only signs.

``cryptography``'s builders take any object implementing its private-key interface and call
that object's ``sign`` with the to-be-signed bytes they encoded; :func:`module_key` returns such
an object for a slot, whose ``sign`` asks the module (ECDSA: the SHA-256 digest, and the module's
raw r||s becomes a DER ECDSA-Sig-Value; Ed25519: the whole message, which the module signs as
RFC 8032 requires, within its 1 MiB message limit). Every result is parsed back and its signature
checked before it is returned.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.utils import Buffer
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID

from ..certchain import key_type, load_certificates, parse_der, raw_public_key, verify_chain
from ..wire.defs import KeyType
from ..wire.errors import CertificateError, KeyTypeMismatchError
from ..wire.messages.operations import Signature

DEFAULT_DAYS = 20 * 365
BACKDATE = datetime.timedelta(minutes=5)  # tolerates a verifier whose clock is a little behind
Extensions = Sequence[tuple[x509.ExtensionType, bool]]  # (value, critical)
ModuleKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

__all__ = [
    "CertificateError", "Extensions", "ModuleKey", "Signer", "device_subject", "issue", "key_type",
    "load_certificates", "make_csr", "module_key", "parse_der", "raw_public_key", "self_sign", "slot_public_key",
    "to_der", "to_pem", "verify_chain",
]


class Signer(Protocol):
    """What X.509 needs from a module client (:class:`softscm.host.client.Client` is one)."""

    def sign(self, slot: int, data: bytes, *, deterministic: bool = False, recid: bool = False) -> Signature: ...

    def get_public_key_pem(self, slot: int, *, foreign: bool = False) -> str: ...


_INSIDE = "the private key stays inside the module; it can only sign"


class _ModuleEcKey(ec.EllipticCurvePrivateKey):
    """An ECDSA key in a module slot, as ``cryptography`` sees a private key."""

    def __init__(self, signer: Signer, slot: int, public: ec.EllipticCurvePublicKey) -> None:
        self._signer, self._slot, self._public = signer, slot, public

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    def sign(self, data: Buffer, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        """:raises CertificateError: for anything but ECDSA with SHA-256 (the module signs 32-byte digests)."""
        if not (isinstance(signature_algorithm, ec.ECDSA) and isinstance(signature_algorithm.algorithm, hashes.SHA256)):
            raise CertificateError("module keys sign X.509 structures with ECDSA and SHA-256 only")
        raw = self._signer.sign(self._slot, hashlib.sha256(bytes(data)).digest()).raw
        return utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        raise TypeError(_INSIDE)

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        raise TypeError(_INSIDE)

    def private_bytes(self, encoding: serialization.Encoding, format: serialization.PrivateFormat,
                      encryption_algorithm: serialization.KeySerializationEncryption) -> bytes:
        raise TypeError(_INSIDE)

    def __copy__(self) -> _ModuleEcKey:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _ModuleEcKey:
        return self


class _ModuleEd25519Key(ed25519.Ed25519PrivateKey):
    """An Ed25519 key in a module slot, as ``cryptography`` sees a private key."""

    def __init__(self, signer: Signer, slot: int, public: ed25519.Ed25519PublicKey) -> None:
        self._signer, self._slot, self._public = signer, slot, public

    def public_key(self) -> ed25519.Ed25519PublicKey:
        return self._public

    def sign(self, data: Buffer) -> bytes:
        return self._signer.sign(self._slot, bytes(data)).raw

    def private_bytes(self, encoding: serialization.Encoding, format: serialization.PrivateFormat,
                      encryption_algorithm: serialization.KeySerializationEncryption) -> bytes:
        raise TypeError(_INSIDE)

    def private_bytes_raw(self) -> bytes:
        raise TypeError(_INSIDE)

    def __copy__(self) -> _ModuleEd25519Key:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _ModuleEd25519Key:
        return self


def slot_public_key(signer: Signer, slot: int) -> CertificatePublicKeyTypes:
    """The public key of a module slot as a ``cryptography`` object.

    :raises ExportDisabledError, SlotEmptyError: from the module.
    """
    return serialization.load_pem_public_key(signer.get_public_key_pem(slot).encode())  # type: ignore[return-value]


def module_key(signer: Signer, slot: int) -> ModuleKey:
    """A private-key object for ``cryptography``'s builders whose signatures the module makes.

    :raises KeyTypeMismatchError: for an X25519 slot (it cannot sign).
    """
    public = slot_public_key(signer, slot)
    if isinstance(public, ec.EllipticCurvePublicKey) and key_type(public) in (KeyType.NISTP256, KeyType.SECP256K1):
        return _ModuleEcKey(signer, slot, public)
    if isinstance(public, ed25519.Ed25519PublicKey):
        return _ModuleEd25519Key(signer, slot, public)
    raise KeyTypeMismatchError(f"slot {slot} holds a key that cannot sign certificates")


def _hash_for(key: ModuleKey) -> hashes.SHA256 | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def device_subject(serial: str, *, model: str | None = None, organization: str | None = None,
                   common_name: str | None = None) -> x509.Name:
    """A device's subject: CN (``common_name``, else "MODEL SERIAL", else the serial), serialNumber,
    and O when given."""
    if not serial:
        raise ValueError("a device subject needs the unit's serial number")
    cn = common_name or (f"{model} {serial}" if model else serial)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.SERIAL_NUMBER, serial)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def make_csr(signer: Signer, slot: int, subject: x509.Name, extensions: Extensions = ()) -> x509.CertificateSigningRequest:
    """A CSR for the key in ``slot``, signed inside the module, carrying ``extensions``.

    :raises CertificateError: if the module's signature does not verify (it always should).
    :raises KeyTypeMismatchError: for a key that cannot sign.
    """
    key = module_key(signer, slot)
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    csr = builder.sign(key, _hash_for(key))
    if not csr.is_signature_valid:
        raise CertificateError(f"the CSR signed by slot {slot} does not verify")
    return csr


def _validity(not_before: datetime.datetime | None, days: int) -> tuple[datetime.datetime, datetime.datetime]:
    if days <= 0:
        raise ValueError("a certificate is valid for at least one day")
    start = (not_before or datetime.datetime.now(datetime.timezone.utc) - BACKDATE).replace(microsecond=0)
    return start, start + datetime.timedelta(days=days)


def _with_defaults(builder: x509.CertificateBuilder, extensions: Extensions,
                   defaults: Sequence[tuple[x509.ExtensionType, bool]]) -> x509.CertificateBuilder:
    asked = {value.oid for value, _ in extensions}
    for value, critical in [*extensions, *((v, c) for v, c in defaults if v.oid not in asked)]:
        builder = builder.add_extension(value, critical=critical)
    return builder


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def self_sign(signer: Signer, slot: int, subject: x509.Name, *, ca: bool = False, days: int = DEFAULT_DAYS,
              not_before: datetime.datetime | None = None, extensions: Extensions = (),
              serial_number: int | None = None) -> x509.Certificate:
    """A self-signed certificate for the key in ``slot`` (a device certificate, or with ``ca`` a
    root such as a provisioning station's). basicConstraints, keyUsage and subjectKeyIdentifier
    are added unless ``extensions`` sets them.

    :raises CertificateError: if the module's signature does not verify.
    """
    key = module_key(signer, slot)
    start, end = _validity(not_before, days)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(serial_number or x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(end))
    builder = _with_defaults(builder, extensions, [
        (x509.BasicConstraints(ca=ca, path_length=None), True),
        (_usage(ca=ca), True),
        (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
    ])
    cert = builder.sign(key, _hash_for(key))
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        raise CertificateError(f"the certificate signed by slot {slot} does not verify") from None
    return cert


_ISSUER_SET = (x509.BasicConstraints, x509.KeyUsage, x509.SubjectKeyIdentifier, x509.AuthorityKeyIdentifier)


def issue(signer: Signer, ca_slot: int, ca_certificate: x509.Certificate, csr: x509.CertificateSigningRequest, *,
          days: int = DEFAULT_DAYS, not_before: datetime.datetime | None = None, extensions: Extensions = (),
          serial_number: int | None = None) -> x509.Certificate:
    """Issue an end-entity certificate for ``csr`` with the CA key in ``ca_slot``.

    The CSR's requested extensions are copied, except those the issuer sets (basicConstraints
    CA false, keyUsage digitalSignature, both key identifiers); ``extensions`` are added.

    :raises CertificateError: if the CSR's signature does not verify, ``ca_certificate`` is not
        a CA certificate for the key in ``ca_slot``, or the issued certificate does not verify.
    """
    if not csr.is_signature_valid:
        raise CertificateError("the CSR's signature does not verify")
    key = module_key(signer, ca_slot)
    if raw_public_key(ca_certificate.public_key()) != raw_public_key(key.public_key()):
        raise CertificateError(f"the CA certificate is not for the key in slot {ca_slot}")
    requested = [(e.value, e.critical) for e in csr.extensions if not isinstance(e.value, _ISSUER_SET)]
    start, end = _validity(not_before, days)
    builder = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca_certificate.subject)
               .public_key(csr.public_key()).serial_number(serial_number or x509.random_serial_number())
               .not_valid_before(start).not_valid_after(min(end, ca_certificate.not_valid_after_utc)))
    builder = _with_defaults(builder, [*requested, *extensions], [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (_usage(ca=False), True),
        (x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False),
    ])
    cert = builder.sign(key, _hash_for(key))
    verify_chain([cert], [ca_certificate], at=start + BACKDATE)
    return cert


def to_pem(items: Sequence[x509.Certificate] | x509.CertificateSigningRequest) -> bytes:
    """PEM text of a CSR, or of certificates one after the other."""
    if isinstance(items, x509.CertificateSigningRequest):
        return items.public_bytes(serialization.Encoding.PEM)
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in items)


def to_der(item: x509.Certificate | x509.CertificateSigningRequest) -> bytes:
    """DER of one certificate or CSR."""
    return item.public_bytes(serialization.Encoding.DER)
