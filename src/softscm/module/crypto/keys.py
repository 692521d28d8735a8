"""Private and public key objects for the four curves.

Raw encodings everywhere (P-256 and secp256k1 public keys are also accepted as SEC1 compressed or
uncompressed points and as DER SubjectPublicKeyInfo): a private key is its 32-byte scalar or seed; a P-256 or secp256k1 public
key is X||Y (64 bytes, no 0x04 prefix); Ed25519 and X25519 public keys are 32 bytes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import coincurve
from coincurve.ecdsa import cdata_to_der, deserialize_compact, ffi
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from ...wire.defs import KeyType
from ...wire.errors import (
    InvalidArgumentError,
    InvalidKeyError,
    InvalidSignatureError,
    KeyTypeMismatchError,
)
from .curves import P256, SECP256K1, p256_recovery_id
from .rng import Rng, system_rng
from . import ed25519_extended
from ...wire.messages.operations import Signature

PRIVATE_KEY_SIZE = 32
_ECDSA_P256 = ec.ECDSA(Prehashed(hashes.SHA256()))
_ECDSA_P256_DET = ec.ECDSA(Prehashed(hashes.SHA256()), deterministic_signing=True)
_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw
_X962 = serialization.Encoding.X962
_UNCOMPRESSED = serialization.PublicFormat.UncompressedPoint


def _check_digest(digest: bytes) -> None:
    if len(digest) != 32:
        raise InvalidArgumentError("ECDSA signs a 32-byte digest")


class PrivateKey(ABC):
    """A private key held inside the module. ``repr`` never shows key material."""

    key_type: KeyType
    public: bytes
    hedged = False  # signing draws 32 bytes from the rng unless deterministic

    def __repr__(self) -> str:
        return f"<{self.key_type.label} private key>"

    @abstractmethod
    def private_bytes(self) -> bytes:
        """The raw 32-byte private key, for wrapping into the keystore only."""

    def sign(
        self, data: bytes, *, deterministic: bool = False, recid: bool = False, rng: Rng = system_rng
    ) -> Signature:
        """Sign a 32-byte digest (ECDSA) or a message (Ed25519).

        ``recid`` asks for the ECDSA recovery id (secp256k1 always has it; on P-256 it costs one
        more fixed-base scalar multiplication in OpenSSL, about the cost of the signature). secp256k1 signing is RFC 6979, hedged with ``rng`` unless
        ``deterministic``.

        :raises KeyTypeMismatchError: for an X25519 key.
        :raises InvalidArgumentError: for an ECDSA digest that is not 32 bytes.
        """
        raise KeyTypeMismatchError(f"a {self.key_type.label} key cannot sign")

    def exchange(self, peer_public: bytes) -> bytes:
        """Return the raw ECDH shared secret with ``peer_public`` (any accepted encoding).

        :raises KeyTypeMismatchError: for an Ed25519 key.
        :raises InvalidKeyError: if the peer key is not a valid point, or the result is zero.
        """
        raise KeyTypeMismatchError(f"a {self.key_type.label} key cannot do ECDH")


class _P256Key(PrivateKey):
    key_type = KeyType.NISTP256

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self._scalar = key.private_numbers().private_value
        self.public = key.public_key().public_bytes(_X962, _UNCOMPRESSED)[1:]

    def private_bytes(self) -> bytes:
        return self._scalar.to_bytes(32, "big")

    def sign(
        self, data: bytes, *, deterministic: bool = False, recid: bool = False, rng: Rng = system_rng
    ) -> Signature:
        _check_digest(data)
        der = self._key.sign(data, _ECDSA_P256_DET if deterministic else _ECDSA_P256)
        r, s = decode_dss_signature(der)
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return Signature(raw, p256_recovery_id(self._scalar, data, r, s) if recid else None)

    def exchange(self, peer_public: bytes) -> bytes:
        peer = _p256_public(peer_public)
        return self._key.exchange(ec.ECDH(), peer)


class _Secp256k1Key(PrivateKey):
    key_type = KeyType.SECP256K1
    hedged = True

    def __init__(self, key: coincurve.PrivateKey) -> None:
        self._key = key
        self.public = key.public_key.format(compressed=False)[1:]

    def private_bytes(self) -> bytes:
        return self._key.secret

    def sign(
        self, data: bytes, *, deterministic: bool = False, recid: bool = False, rng: Rng = system_rng
    ) -> Signature:
        _check_digest(data)
        if deterministic:
            rec = self._key.sign_recoverable(data, hasher=None)
        else:
            # RFC 6979 with extra entropy (libsecp256k1's ndata): hedged, never k reuse
            extra = ffi.new("unsigned char[32]", rng(32))
            rec = self._key.sign_recoverable(data, hasher=None, custom_nonce=(ffi.NULL, extra))
        return Signature(rec[:64], rec[64])

    def exchange(self, peer_public: bytes) -> bytes:
        point = _secp256k1_public(peer_public).multiply(self._key.secret)
        return point.format(compressed=True)[1:]


class _Ed25519Key(PrivateKey):
    key_type = KeyType.ED25519

    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self._key = key
        self.public = key.public_key().public_bytes(_RAW, _RAW_PUB)

    def private_bytes(self) -> bytes:
        return self._key.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())

    def sign(
        self, data: bytes, *, deterministic: bool = False, recid: bool = False, rng: Rng = system_rng
    ) -> Signature:
        return Signature(self._key.sign(data), None)


class ExtendedEd25519Key(PrivateKey):
    """An Ed25519 key held as the extended secret ``kL || kR`` (a Cardano BIP32-Ed25519 node); it
    signs plain Ed25519 signatures and wraps into the keystore as 64 bytes."""

    key_type = KeyType.ED25519

    def __init__(self, extended_key: bytes) -> None:
        """:raises InvalidKeyError: if it is not 64 bytes or its scalar is zero."""
        self.public = ed25519_extended.public_key(extended_key)
        self._key = bytes(extended_key)

    def private_bytes(self) -> bytes:
        return self._key

    def sign(
        self, data: bytes, *, deterministic: bool = False, recid: bool = False, rng: Rng = system_rng
    ) -> Signature:
        return Signature(ed25519_extended.sign(self._key, data), None)


class _X25519Key(PrivateKey):
    key_type = KeyType.X25519

    def __init__(self, key: x25519.X25519PrivateKey) -> None:
        self._key = key
        self.public = key.public_key().public_bytes(_RAW, _RAW_PUB)

    def private_bytes(self) -> bytes:
        return self._key.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption())

    def exchange(self, peer_public: bytes) -> bytes:
        if len(peer_public) != 32:
            raise InvalidKeyError("an X25519 public key is 32 bytes")
        try:
            return self._key.exchange(x25519.X25519PublicKey.from_public_bytes(peer_public))
        except ValueError:
            raise InvalidKeyError("the X25519 shared secret is zero (low-order peer key)") from None


def load_private(key_type: KeyType, raw: bytes) -> PrivateKey:
    """Build a key object from its raw 32-byte private key (or, for Ed25519, a 64-byte extended
    key ``kL || kR``: :class:`ExtendedEd25519Key`).

    :raises InvalidKeyError: if ``raw`` is not a valid private key for the curve.
    """
    if key_type is KeyType.ED25519 and len(raw) == ed25519_extended.EXTENDED_KEY_BYTES:
        return ExtendedEd25519Key(raw)
    if len(raw) != PRIVATE_KEY_SIZE:
        raise InvalidKeyError("a private key is 32 bytes")
    try:
        if key_type is KeyType.NISTP256:
            value = int.from_bytes(raw, "big")
            if not 0 < value < P256.n:
                raise ValueError
            return _P256Key(ec.derive_private_key(value, ec.SECP256R1()))
        if key_type is KeyType.SECP256K1:
            return _Secp256k1Key(coincurve.PrivateKey(raw))
        if key_type is KeyType.ED25519:
            return _Ed25519Key(ed25519.Ed25519PrivateKey.from_private_bytes(raw))
        return _X25519Key(x25519.X25519PrivateKey.from_private_bytes(raw))
    except ValueError:
        raise InvalidKeyError(f"not a valid {key_type.label} private key") from None


def generate(key_type: KeyType, rng: Rng = system_rng) -> PrivateKey:
    """Generate a key pair from ``rng`` (rejection-sampling the scalar where the curve needs it)."""
    while True:
        try:
            return load_private(key_type, rng(PRIVATE_KEY_SIZE))
        except InvalidKeyError:
            continue  # scalar outside [1, n): vanishingly rare, draw again


def _from_spki(public: bytes, curve: ec.EllipticCurve) -> bytes:
    """Accept a DER SubjectPublicKeyInfo and return the uncompressed point."""
    try:
        key = serialization.load_der_public_key(public)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InvalidKeyError("not a valid DER public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != curve.name:
        raise InvalidKeyError(f"not a {curve.name} public key")
    return key.public_bytes(_X962, _UNCOMPRESSED)


def _p256_public(public: bytes) -> ec.EllipticCurvePublicKey:
    if len(public) > 65 and public[0] == 0x30:
        public = _from_spki(public, ec.SECP256R1())
    if len(public) == 64:
        public = b"\x04" + public
    if len(public) not in (33, 65):
        raise InvalidKeyError("a P-256 public key is 64 (X||Y), 65 or 33 bytes")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
    except ValueError:
        raise InvalidKeyError("not a point on P-256") from None


def _secp256k1_public(public: bytes) -> coincurve.PublicKey:
    if len(public) > 65 and public[0] == 0x30:
        public = _from_spki(public, ec.SECP256K1())
    if len(public) == 64:
        public = b"\x04" + public
    if len(public) not in (33, 65):
        raise InvalidKeyError("a secp256k1 public key is 64 (X||Y), 65 or 33 bytes")
    try:
        return coincurve.PublicKey(public)
    except ValueError:
        raise InvalidKeyError("not a point on secp256k1") from None


def normalize_public(key_type: KeyType, public: bytes) -> bytes:
    """Validate a public key in any accepted encoding and return its raw form.

    :raises InvalidKeyError: if it is not a valid key of that type.
    """
    if key_type is KeyType.NISTP256:
        return _p256_public(public).public_bytes(_X962, _UNCOMPRESSED)[1:]
    if key_type is KeyType.SECP256K1:
        return _secp256k1_public(public).format(compressed=False)[1:]
    if len(public) != 32:
        raise InvalidKeyError(f"an {key_type.label} public key is 32 bytes")
    try:
        if key_type is KeyType.ED25519:
            ed25519.Ed25519PublicKey.from_public_bytes(public)
        else:
            x25519.X25519PublicKey.from_public_bytes(public)
    except ValueError:
        raise InvalidKeyError(f"not a valid {key_type.label} public key") from None
    return bytes(public)


def public_to_pem(key_type: KeyType, public: bytes) -> str:
    """Encode a raw public key as a PEM SubjectPublicKeyInfo.

    :raises InvalidKeyError: if the key is not valid.
    """
    key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | x25519.X25519PublicKey
    if key_type is KeyType.NISTP256:
        key = _p256_public(public)
    elif key_type is KeyType.SECP256K1:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), b"\x04" + normalize_public(key_type, public))
    elif key_type is KeyType.ED25519:
        key = ed25519.Ed25519PublicKey.from_public_bytes(normalize_public(key_type, public))
    else:
        key = x25519.X25519PublicKey.from_public_bytes(normalize_public(key_type, public))
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class PublicKey:
    """A parsed public key that verifies signatures; cheap to keep in a cache."""

    def __init__(self, key_type: KeyType, public: bytes) -> None:
        """:raises InvalidKeyError: if ``public`` is not a valid key of ``key_type``."""
        self.key_type = key_type
        if key_type is KeyType.NISTP256:
            self._obj: object = _p256_public(public)
        elif key_type is KeyType.SECP256K1:
            self._obj = _secp256k1_public(public)
        elif key_type is KeyType.ED25519:
            self._obj = ed25519.Ed25519PublicKey.from_public_bytes(normalize_public(key_type, public))
        else:
            raise KeyTypeMismatchError("an X25519 key cannot verify signatures")

    def verify(self, data: bytes, signature: bytes) -> None:
        """Check a raw signature over a 32-byte digest (ECDSA) or a message (Ed25519).

        ECDSA accepts both low and high S.

        :raises InvalidSignatureError: if the signature does not verify.
        """
        if len(signature) != 64:
            raise InvalidSignatureError("signature does not verify")
        if self.key_type is KeyType.ED25519:
            try:
                self._obj.verify(signature, data)  # type: ignore[attr-defined]  # _obj is this key type's library object
                return
            except InvalidSignature:
                raise InvalidSignatureError("signature does not verify") from None
        _check_digest(data)
        curve = P256 if self.key_type is KeyType.NISTP256 else SECP256K1
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        if not (0 < r < curve.n and 0 < s < curve.n):
            raise InvalidSignatureError("signature does not verify")
        if self.key_type is KeyType.NISTP256:
            try:
                self._obj.verify(encode_dss_signature(r, s), data, _ECDSA_P256)  # type: ignore[attr-defined]  # _obj is this key type's library object
                return
            except InvalidSignature:
                raise InvalidSignatureError("signature does not verify") from None
        if s > curve.n // 2:  # libsecp256k1 verifies low-S only; ECDSA accepts either
            s = curve.n - s
        compact = deserialize_compact(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
        der = cdata_to_der(compact)
        if not self._obj.verify(der, data, hasher=None):  # type: ignore[attr-defined]  # _obj is this key type's library object
            raise InvalidSignatureError("signature does not verify")


__all__ = [
    "PrivateKey",
    "PublicKey",
    "generate",
    "load_private",
    "normalize_public",
    "public_to_pem",
]
