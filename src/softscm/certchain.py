"""X.509 chain checks shared by the module's certificate store and the host (like ``sealedlog``).

A device chain is ``[leaf, intermediate..., (root)]``. :func:`verify_chain` checks it against
trusted roots at a given time, explicitly: each certificate's validity period, issuer/subject
linking and signature (ECDSA P-256 and secp256k1, Ed25519; through ``cryptography``), that every
issuer is a CA (basicConstraints, keyUsage, path length), that no certificate carries a critical
extension this code does not understand, and that the leaf's key is the expected key.
``cryptography.x509.verification`` covers TLS server and client profiles only, not device
identities, hence this explicit check.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from .wire.defs import KeyType
from .wire.errors import CertificateError

MAX_CHAIN = 8
MAX_CERTIFICATE_SIZE = 16 * 1024
_CURVES = {"secp256r1": KeyType.NISTP256, "secp256k1": KeyType.SECP256K1}


def parse_der(der: bytes) -> x509.Certificate:
    """One DER certificate. :raises CertificateError: if it is too large or does not parse."""
    if not isinstance(der, bytes) or not 0 < len(der) <= MAX_CERTIFICATE_SIZE:
        raise CertificateError(f"a certificate must be 1..{MAX_CERTIFICATE_SIZE} bytes of DER")
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise CertificateError("a certificate does not parse as DER X.509") from None


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in ``data``: one or more PEM blocks, or one DER certificate.

    :raises CertificateError: if nothing parses.
    """
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise CertificateError("no certificate parses (PEM or DER expected)") from None
    return certs


def key_type(key: CertificatePublicKeyTypes) -> KeyType:
    """The module key type of a certificate's public key. :raises CertificateError: for others."""
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _CURVES:
        return _CURVES[key.curve.name]
    if isinstance(key, ed25519.Ed25519PublicKey):
        return KeyType.ED25519
    raise CertificateError("the certificate's key is not a P-256, secp256k1 or Ed25519 key")


def raw_public_key(key: CertificatePublicKeyTypes) -> bytes:
    """A public key in the module's raw form: X||Y (64 bytes) for ECDSA curves, 32 for Ed25519.

    :raises CertificateError: for a key of another kind.
    """
    if key_type(key) is KeyType.ED25519:
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)[1:]


def _describe(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string() or "(empty subject)"


def _check_extensions(cert: x509.Certificate) -> None:
    try:
        extensions = cert.extensions
    except ValueError:
        raise CertificateError(f"{_describe(cert)}: malformed extensions") from None
    for extension in extensions:
        if extension.critical and isinstance(extension.value, x509.UnrecognizedExtension):
            raise CertificateError(f"{_describe(cert)}: unknown critical extension {extension.oid.dotted_string}")


def _check_validity(cert: x509.Certificate, at: datetime.datetime) -> None:
    if at < cert.not_valid_before_utc:
        raise CertificateError(f"{_describe(cert)} is not valid before {cert.not_valid_before_utc.isoformat()}")
    if at > cert.not_valid_after_utc:
        raise CertificateError(f"{_describe(cert)} expired at {cert.not_valid_after_utc.isoformat()}")


def check_issued_by(cert: x509.Certificate, issuer: x509.Certificate, cas_below: int = 0) -> None:
    """``issuer`` signed ``cert`` and may: its subject is ``cert``'s issuer, it is a CA allowed
    to sign certificates, and its path length allows ``cas_below`` CAs between it and the leaf.

    :raises CertificateError: naming the check that failed.
    """
    if cert.issuer != issuer.subject:
        raise CertificateError(f"{_describe(cert)} names issuer {cert.issuer.rfc4514_string()}, "
                               f"not {_describe(issuer)}")
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        raise CertificateError(f"{_describe(cert)}: the signature by {_describe(issuer)} does not verify") from None
    try:
        constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise CertificateError(f"{_describe(issuer)} is not a CA (no basicConstraints)") from None
    if not constraints.ca:
        raise CertificateError(f"{_describe(issuer)} is not a CA")
    if constraints.path_length is not None and cas_below > constraints.path_length:
        raise CertificateError(f"{_describe(issuer)} allows {constraints.path_length} CAs below it, not {cas_below}")
    try:
        usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.key_cert_sign:
        raise CertificateError(f"{_describe(issuer)} may not sign certificates (keyUsage)")


def verify_chain(chain: Sequence[x509.Certificate], roots: Sequence[x509.Certificate], *,
                 at: datetime.datetime, public_key: bytes | None = None) -> x509.Certificate:
    """Check ``chain`` (leaf first; it may end with the root) against the trusted ``roots`` at
    time ``at`` (timezone-aware); with ``public_key`` (raw, as the module gives it), also that
    the leaf certifies that key. Returns the root the chain leads to.

    :raises CertificateError: naming the first check that failed.
    """
    if not chain or len(chain) > MAX_CHAIN:
        raise CertificateError(f"a chain holds 1..{MAX_CHAIN} certificates")
    if at.tzinfo is None:
        raise ValueError("the verification time must be timezone-aware")
    if public_key is not None and raw_public_key(chain[0].public_key()) != public_key:
        raise CertificateError("the leaf certificate is for another key")
    for cert in chain:
        _check_extensions(cert)
        _check_validity(cert, at)
    for index, (cert, issuer) in enumerate(zip(chain, chain[1:])):
        check_issued_by(cert, issuer, index)
    top = chain[-1]
    trusted = [root for root in roots if root == top]
    if trusted:
        return trusted[0]
    failures = []
    for root in roots:
        if root.subject != top.issuer:
            continue
        try:
            _check_extensions(root)
            _check_validity(root, at)
            check_issued_by(top, root, len(chain) - 1)
        except CertificateError as exc:
            failures.append(exc.message)
            continue
        return root
    reason = f": {failures[0]}" if failures else ""
    raise CertificateError(f"the chain does not lead to a trusted root{reason}")
