"""The four curves as PKCS#11 sees them: key type, generation mechanism, CKA_EC_PARAMS, and the
public key encodings (CKA_EC_POINT, CKA_PUBLIC_KEY_INFO).

CKA_EC_PARAMS carries a DER named-curve OID (P-256 1.2.840.10045.3.1.7, secp256k1 1.3.132.0.10,
Ed25519 1.3.101.112, X25519 1.3.101.110, as RFC 5480 and RFC 8410 name them). Templates may
also name a curve by the v3.0 PrintableString form ("edwards25519", "curve25519", ...) or by the
OIDs OpenSC uses for the 25519 curves.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from ..wire.defs import KeyType
from .constants import CKK, CKM, CKR
from .errors import Pkcs11Error

_DER_OCTET_STRING = 0x04
_DER_PRINTABLE_STRING = 0x13


@dataclass(frozen=True)
class Curve:
    """One curve: what a key of ``key_type`` looks like through PKCS#11."""

    key_type: KeyType
    ckk: CKK
    generation: CKM
    ec_params: bytes  # the DER we report
    oids: frozenset[bytes]  # the DER OIDs we accept in a template
    names: frozenset[str]  # the curve names we accept as a PrintableString
    sign_mechanisms: tuple[CKM, ...]
    can_derive: bool

    @property
    def can_sign(self) -> bool:
        return bool(self.sign_mechanisms)

    def named_by(self, ec_params: bytes) -> bool:
        """Whether a template's CKA_EC_PARAMS names this curve. A PrintableString is matched by its
        text alone: OpenSC 0.23 sends "curve25519" with a length byte one too large."""
        if ec_params[:1] == bytes([_DER_PRINTABLE_STRING]):
            return ec_params[2:].rstrip(b"\0").decode(errors="replace").lower() in self.names
        return ec_params in self.oids


_ECDSA = (CKM.ECDSA, CKM.ECDSA_SHA256, CKM.ECDSA_SHA384, CKM.ECDSA_SHA512)
_P256_OID = bytes.fromhex("06082a8648ce3d030107")
_K1_OID = bytes.fromhex("06052b8104000a")
_ED25519_OID = bytes.fromhex("06032b6570")
_X25519_OID = bytes.fromhex("06032b656e")
_OPENSC_ED25519_OID = bytes.fromhex("06092b06010401da470f01")  # 1.3.6.1.4.1.11591.15.1
_OPENSC_X25519_OID = bytes.fromhex("060a2b060104019755010501")  # 1.3.6.1.4.1.3029.1.5.1

CURVES: dict[KeyType, Curve] = {
    KeyType.NISTP256: Curve(KeyType.NISTP256, CKK.EC, CKM.EC_KEY_PAIR_GEN, _P256_OID, frozenset({_P256_OID}),
                            frozenset({"prime256v1", "secp256r1"}), _ECDSA, True),
    KeyType.SECP256K1: Curve(KeyType.SECP256K1, CKK.EC, CKM.EC_KEY_PAIR_GEN, _K1_OID, frozenset({_K1_OID}),
                             frozenset({"secp256k1"}), _ECDSA, True),
    KeyType.ED25519: Curve(KeyType.ED25519, CKK.EC_EDWARDS, CKM.EC_EDWARDS_KEY_PAIR_GEN, _ED25519_OID,
                           frozenset({_ED25519_OID, _OPENSC_ED25519_OID}), frozenset({"edwards25519", "ed25519"}),
                           (CKM.EDDSA,), False),
    KeyType.X25519: Curve(KeyType.X25519, CKK.EC_MONTGOMERY, CKM.EC_MONTGOMERY_KEY_PAIR_GEN, _X25519_OID,
                          frozenset({_X25519_OID, _OPENSC_X25519_OID}), frozenset({"curve25519", "x25519"}), (), True),
}


def curve_for_params(generation: CKM, ec_params: bytes | None) -> Curve:
    """The curve a key-pair generation asks for.

    Edwards and Montgomery generation default to their one curve when CKA_EC_PARAMS is absent.

    :raises Pkcs11Error: ``CKR_TEMPLATE_INCOMPLETE`` without parameters for CKM_EC_KEY_PAIR_GEN,
        ``CKR_CURVE_NOT_SUPPORTED`` for a curve this mechanism cannot make.
    """
    candidates = [c for c in CURVES.values() if c.generation is generation]
    if ec_params is None:
        if len(candidates) == 1:
            return candidates[0]
        raise Pkcs11Error(CKR.TEMPLATE_INCOMPLETE)
    for curve in candidates:
        if curve.named_by(ec_params):
            return curve
    raise Pkcs11Error(CKR.CURVE_NOT_SUPPORTED)


def curve_for_key(ckk: int, ec_params: bytes) -> Curve:
    """The curve of a public key a template describes.

    :raises Pkcs11Error: ``CKR_CURVE_NOT_SUPPORTED`` if none matches.
    """
    for curve in CURVES.values():
        if curve.ckk == ckk and curve.named_by(ec_params):
            return curve
    raise Pkcs11Error(CKR.CURVE_NOT_SUPPORTED)


def octet_string(value: bytes) -> bytes:
    """DER OCTET STRING of ``value`` (at most 65535 bytes)."""
    size = len(value)
    if size < 0x80:
        header = bytes([_DER_OCTET_STRING, size])
    elif size < 0x100:
        header = bytes([_DER_OCTET_STRING, 0x81, size])
    else:
        header = bytes([_DER_OCTET_STRING, 0x82]) + size.to_bytes(2, "big")
    return header + value


def ec_point(key_type: KeyType, raw_public: bytes) -> bytes:
    """CKA_EC_POINT: the DER OCTET STRING of the uncompressed point (ECDSA curves) or of the 32-byte
    key (Ed25519, X25519)."""
    if key_type in (KeyType.NISTP256, KeyType.SECP256K1):
        return octet_string(b"\x04" + raw_public)
    return octet_string(raw_public)


def raw_point(key_type: KeyType, value: bytes) -> bytes:
    """The module's raw public key (X||Y, or 32 bytes) from a CKA_EC_POINT or ECDH public data,
    given bare or wrapped in a DER OCTET STRING; compressed points are accepted.

    :raises Pkcs11Error: ``CKR_ATTRIBUTE_VALUE_INVALID`` if it is neither.
    """
    if key_type in (KeyType.NISTP256, KeyType.SECP256K1):
        sizes = {33, 65}
    else:
        sizes = {32}
    if len(value) - 2 in sizes and value[0] == _DER_OCTET_STRING and value[1] == len(value) - 2:
        value = value[2:]
    if len(value) not in sizes:
        raise Pkcs11Error(CKR.ATTRIBUTE_VALUE_INVALID)
    if key_type is KeyType.NISTP256 or key_type is KeyType.SECP256K1:
        curve = ec.SECP256R1() if key_type is KeyType.NISTP256 else ec.SECP256K1()
        try:
            point = ec.EllipticCurvePublicKey.from_encoded_point(curve, value)
        except ValueError:
            raise Pkcs11Error(CKR.ATTRIBUTE_VALUE_INVALID) from None
        return point.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)[1:]
    return value


def public_key_info(key_type: KeyType, raw_public: bytes) -> bytes:
    """CKA_PUBLIC_KEY_INFO: the DER SubjectPublicKeyInfo."""
    key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | x25519.X25519PublicKey
    if key_type is KeyType.NISTP256:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + raw_public)
    elif key_type is KeyType.SECP256K1:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), b"\x04" + raw_public)
    elif key_type is KeyType.ED25519:
        key = ed25519.Ed25519PublicKey.from_public_bytes(raw_public)
    else:
        key = x25519.X25519PublicKey.from_public_bytes(raw_public)
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
