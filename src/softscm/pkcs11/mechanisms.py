"""The mechanisms: what C_GetMechanismInfo reports, their parameters, and what each one hands
the module to sign.

The module signs a 32-byte digest for ECDSA (both curves are 256 bits) and the message itself for
Ed25519. CKM_ECDSA takes a digest of any length and fits it to the curve as ECDSA does: a longer
one keeps its leftmost 256 bits, a shorter one is the same integer left-padded with zero bytes.
CKM_ECDSA_SHA256/384/512 hash on the host first, then fit the digest the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .constants import CKD, CKM, CKR, MechanismFlag
from .curves import Curve
from .errors import Pkcs11Error

EC_FLAGS = MechanismFlag.EC_F_P | MechanismFlag.EC_NAMEDCURVE | MechanismFlag.EC_UNCOMPRESS
SIGN_VERIFY = MechanismFlag.SIGN | MechanismFlag.VERIFY
MAX_MESSAGE = 1024 * 1024  # the module's limit for a message to sign
ECDSA_DIGEST_SIZE = 32
SIGNATURE_SIZE = 64


@dataclass(frozen=True)
class MechanismInfo:
    min_key_bits: int
    max_key_bits: int
    flags: MechanismFlag


MECHANISMS: dict[CKM, MechanismInfo] = {
    CKM.EC_KEY_PAIR_GEN: MechanismInfo(256, 256, MechanismFlag.GENERATE_KEY_PAIR | EC_FLAGS),
    CKM.EC_EDWARDS_KEY_PAIR_GEN: MechanismInfo(255, 255, MechanismFlag.GENERATE_KEY_PAIR),
    CKM.EC_MONTGOMERY_KEY_PAIR_GEN: MechanismInfo(255, 255, MechanismFlag.GENERATE_KEY_PAIR),
    CKM.ECDSA: MechanismInfo(256, 256, SIGN_VERIFY | EC_FLAGS),
    CKM.ECDSA_SHA256: MechanismInfo(256, 256, SIGN_VERIFY | EC_FLAGS),
    CKM.ECDSA_SHA384: MechanismInfo(256, 256, SIGN_VERIFY | EC_FLAGS),
    CKM.ECDSA_SHA512: MechanismInfo(256, 256, SIGN_VERIFY | EC_FLAGS),
    CKM.EDDSA: MechanismInfo(255, 255, SIGN_VERIFY),
    CKM.ECDH1_DERIVE: MechanismInfo(255, 256, MechanismFlag.DERIVE | EC_FLAGS),
}

_HASHES: dict[CKM, Callable[..., Any]] = {
    CKM.ECDSA_SHA256: hashlib.sha256,
    CKM.ECDSA_SHA384: hashlib.sha384,
    CKM.ECDSA_SHA512: hashlib.sha512,
}


@dataclass(frozen=True)
class EcdhParams:
    """CK_ECDH1_DERIVE_PARAMS."""

    kdf: int
    shared_data: bytes
    public_data: bytes


@dataclass(frozen=True)
class EddsaParams:
    """CK_EDDSA_PARAMS (v3.0): Ed25519ph and Ed25519ctx are not supported."""

    prehash: bool
    context: bytes


@dataclass(frozen=True)
class Mechanism:
    """A CK_MECHANISM: its type and its parsed parameter (``None`` when there is none; raw bytes
    for a parameter this mechanism does not take)."""

    type: int
    parameter: EcdhParams | EddsaParams | bytes | None = None


_BY_NUMBER: dict[int, CKM] = {int(m): m for m in CKM}
_PLAIN: dict[int, Mechanism] = {}
_SIGNING = frozenset({CKM.ECDSA, CKM.EDDSA, *_HASHES})


def plain(kind: int) -> Mechanism:
    """The mechanism ``kind`` without a parameter (one object per kind: the sign path makes many)."""
    mechanism = _PLAIN.get(kind)
    if mechanism is None:
        mechanism = _PLAIN.setdefault(kind, Mechanism(kind)) if len(_PLAIN) < 256 else Mechanism(kind)
    return mechanism


def mechanism_type(value: int) -> CKM:
    """:raises Pkcs11Error: ``CKR_MECHANISM_INVALID`` for a mechanism this module does not have."""
    kind = _BY_NUMBER.get(value)
    if kind is None:
        raise Pkcs11Error(CKR.MECHANISM_INVALID)
    return kind


def fit_digest(digest: bytes) -> bytes:
    """A digest of any length as the 32-byte value the module signs (ECDSA's leftmost bits rule)."""
    if len(digest) >= ECDSA_DIGEST_SIZE:
        return digest[:ECDSA_DIGEST_SIZE]
    return digest.rjust(ECDSA_DIGEST_SIZE, b"\0")


class SignatureOperation:
    """A sign or verify operation in progress: the mechanism, the key, and the data so far.

    :raises Pkcs11Error: from the constructor, ``CKR_MECHANISM_INVALID`` for a mechanism that does
        not sign, ``CKR_KEY_TYPE_INCONSISTENT`` for one this key cannot use,
        ``CKR_MECHANISM_PARAM_INVALID`` for a parameter it does not take.
    """

    __slots__ = ("mechanism", "curve", "slot", "foreign", "_hash", "_parts", "_size")

    def __init__(self, mechanism: Mechanism, curve: Curve, slot: int, *, foreign: bool = False) -> None:
        kind = _BY_NUMBER.get(mechanism.type)
        if kind is None or kind not in _SIGNING:
            raise Pkcs11Error(CKR.MECHANISM_INVALID)
        if kind not in curve.sign_mechanisms:
            raise Pkcs11Error(CKR.KEY_TYPE_INCONSISTENT)
        parameter = mechanism.parameter
        if kind is CKM.EDDSA:
            if parameter is not None and not (isinstance(parameter, EddsaParams) and not parameter.prehash
                                              and not parameter.context):
                raise Pkcs11Error(CKR.MECHANISM_PARAM_INVALID)
        elif parameter is not None:
            raise Pkcs11Error(CKR.MECHANISM_PARAM_INVALID)
        self.mechanism = kind
        self.curve = curve
        self.slot = slot
        self.foreign = foreign
        hasher = _HASHES.get(kind)
        self._hash = hasher() if hasher is not None else None
        self._parts: list[bytes] = []
        self._size = 0

    def update(self, part: bytes) -> None:
        """Add data (C_SignUpdate / C_VerifyUpdate).

        :raises Pkcs11Error: ``CKR_DATA_LEN_RANGE`` past the module's message limit.
        """
        if self._hash is not None:
            self._hash.update(part)
            return
        self._size += len(part)
        if self._size > MAX_MESSAGE:
            raise Pkcs11Error(CKR.DATA_LEN_RANGE)
        self._parts.append(part)

    def module_input(self, data: bytes | None = None) -> bytes:
        """What the module signs or verifies: for the single-part call, of ``data``; after updates,
        of everything added.

        :raises Pkcs11Error: ``CKR_DATA_LEN_RANGE`` past the module's message limit.
        """
        if data is not None:
            if self._hash is not None:
                return fit_digest(_HASHES[self.mechanism](data).digest())
            if len(data) > MAX_MESSAGE:
                raise Pkcs11Error(CKR.DATA_LEN_RANGE)
            message = data
        elif self._hash is not None:
            return fit_digest(self._hash.digest())
        else:
            message = b"".join(self._parts)
        return message if self.mechanism is CKM.EDDSA else fit_digest(message)


def derive_kdf(params: EcdhParams) -> CKD:
    """The KDF of an ECDH derivation.

    :raises Pkcs11Error: ``CKR_MECHANISM_PARAM_INVALID`` for another KDF, or shared data with
        CKD_NULL (the standard forbids it).
    """
    try:
        kdf = CKD(params.kdf)
    except ValueError:
        raise Pkcs11Error(CKR.MECHANISM_PARAM_INVALID) from None
    if kdf is CKD.NULL and params.shared_data:
        raise Pkcs11Error(CKR.MECHANISM_PARAM_INVALID)
    return kdf
