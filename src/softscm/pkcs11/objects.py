"""Objects and their attributes.

Token objects are the module's keys, addressed by slot: each key-pair slot is a private and a
public key object, each foreign key a public key object. Object handles are computed from the
slot, so they stay valid across sessions and processes while the key exists:
``handle = (slot << 2 | kind) + 1`` (the fourth kind is a slot's certificate:
:mod:`.certificates`). Session objects (secret keys from C_DeriveKey) live on the
host, in the library, with handles from ``SESSION_HANDLE_BASE`` up.

CKA_ID is the slot number as a big-endian byte string (slot 16: ``10``); a foreign key's is
``F`` followed by its foreign slot number, so that no tool pairs it with a key-pair slot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum, unique
from functools import lru_cache

from ..wire.defs import FIRST_USER_SLOT
from .attributes import FALSE, TRUE, Template, boolean, ulong, ulong_array
from .constants import CKA, CKK, CKM, CKO, CKR, UNAVAILABLE_INFORMATION
from .curves import Curve, ec_point, public_key_info
from .errors import Pkcs11Error

SESSION_HANDLE_BASE = 1 << 40
FOREIGN_ID_PREFIX = b"F"


@unique
class ObjectKind(IntEnum):
    PRIVATE_KEY = 0
    PUBLIC_KEY = 1
    FOREIGN_KEY = 2


def slot_id(slot: int) -> bytes:
    """CKA_ID of a key-pair slot: its number, big-endian, in as few bytes as it takes (at least 1)."""
    return slot.to_bytes(max(1, (slot.bit_length() + 7) // 8), "big")


@dataclass(frozen=True)
class KeyRef:
    """A token object: which slot, and which of its objects."""

    kind: ObjectKind
    slot: int

    @property
    def handle(self) -> int:
        return ((self.slot << 2) | self.kind) + 1

    @property
    def foreign(self) -> bool:
        return self.kind is ObjectKind.FOREIGN_KEY

    @property
    def label_key(self) -> str:
        """The key under which :class:`~softscm.pkcs11.labels.LabelStore` keeps its label."""
        return f"f{self.slot}" if self.foreign else f"k{self.slot}"

    @property
    def default_label(self) -> str:
        return f"foreign-{self.slot}" if self.foreign else f"slot-{self.slot}"

    @property
    def id(self) -> bytes:
        return FOREIGN_ID_PREFIX + slot_id(self.slot) if self.foreign else slot_id(self.slot)

    @staticmethod
    def from_handle(handle: int) -> KeyRef | None:
        """The token object a handle names, or ``None`` if it cannot name one."""
        return _ref(handle) if 0 < handle < SESSION_HANDLE_BASE else None


@lru_cache(maxsize=4096)
def _ref(handle: int) -> KeyRef | None:
    value = handle - 1
    kind = value & 3
    return KeyRef(ObjectKind(kind), value >> 2) if kind <= ObjectKind.FOREIGN_KEY else None


def _sensitive() -> bytes:
    raise Pkcs11Error(CKR.ATTRIBUTE_SENSITIVE)


@lru_cache(maxsize=None)
def _fixed(kind: ObjectKind, curve: Curve, token: bool) -> dict[int, bytes]:
    """The attributes that follow from the object kind, the curve and CKA_TOKEN alone."""
    common: dict[int, bytes] = {
        CKA.TOKEN: boolean(token), CKA.PRIVATE: FALSE, CKA.MODIFIABLE: TRUE, CKA.COPYABLE: FALSE,
        CKA.KEY_TYPE: ulong(curve.ckk), CKA.START_DATE: b"", CKA.END_DATE: b"", CKA.SUBJECT: b"",
        CKA.EC_PARAMS: curve.ec_params,
    }
    if kind is ObjectKind.PRIVATE_KEY:
        mechanisms = curve.sign_mechanisms + ((CKM.ECDH1_DERIVE,) if curve.can_derive else ())
        return {**common, CKA.CLASS: ulong(CKO.PRIVATE_KEY), CKA.DERIVE: boolean(curve.can_derive), CKA.LOCAL: TRUE,
                CKA.KEY_GEN_MECHANISM: ulong(curve.generation), CKA.ALLOWED_MECHANISMS: ulong_array(mechanisms),
                CKA.SENSITIVE: TRUE, CKA.DECRYPT: FALSE, CKA.SIGN: boolean(curve.can_sign),
                CKA.SIGN_RECOVER: FALSE, CKA.UNWRAP: FALSE, CKA.EXTRACTABLE: FALSE, CKA.ALWAYS_SENSITIVE: TRUE,
                CKA.NEVER_EXTRACTABLE: TRUE, CKA.WRAP_WITH_TRUSTED: FALSE, CKA.ALWAYS_AUTHENTICATE: FALSE}
    local = kind is ObjectKind.PUBLIC_KEY
    return {**common, CKA.CLASS: ulong(CKO.PUBLIC_KEY), CKA.DERIVE: FALSE, CKA.LOCAL: boolean(local),
            CKA.KEY_GEN_MECHANISM: ulong(curve.generation if local else UNAVAILABLE_INFORMATION),
            CKA.ALLOWED_MECHANISMS: ulong_array(curve.sign_mechanisms), CKA.ENCRYPT: FALSE,
            CKA.VERIFY: boolean(curve.can_sign), CKA.VERIFY_RECOVER: FALSE, CKA.WRAP: FALSE, CKA.TRUSTED: FALSE}


class Object:
    """Something C_GetAttributeValue and C_FindObjects can look at."""

    def get(self, kind: int) -> bytes:
        """The value of one attribute.

        :raises Pkcs11Error: ``CKR_ATTRIBUTE_TYPE_INVALID`` if the object has no such attribute,
            ``CKR_ATTRIBUTE_SENSITIVE`` if its value may not leave the token.
        """
        raise NotImplementedError

    def matches(self, template: Template) -> bool:
        """Whether every attribute of ``template`` has the value given there."""
        for kind, value in template:
            try:
                if self.get(kind) != value:
                    return False
            except Pkcs11Error:
                return False
        return True


class KeyObject(Object):
    """A key on the module. ``public_key`` fetches the raw public key (it may raise
    ``CKR_ATTRIBUTE_SENSITIVE`` when export is disabled); ``label`` reads the current label."""

    def __init__(self, ref: KeyRef, curve: Curve, *, token: bool, label: Callable[[], str],
                 public_key: Callable[[], bytes]) -> None:
        self.ref = ref
        self.curve = curve
        self._fixed = _fixed(ref.kind, curve, token)
        self._label = label
        self._public_key = public_key

    def get(self, kind: int) -> bytes:
        value = self._fixed.get(kind)
        if value is not None:
            return value
        if kind == CKA.ID:
            return self.ref.id
        if kind == CKA.LABEL:
            return self._label().encode()
        if kind == CKA.DESTROYABLE:
            return boolean(self.ref.foreign or self.ref.slot >= FIRST_USER_SLOT)
        if kind == CKA.EC_POINT:
            return ec_point(self.curve.key_type, self._public_key())
        if kind == CKA.PUBLIC_KEY_INFO:
            return public_key_info(self.curve.key_type, self._public_key())
        if kind == CKA.VALUE and self.ref.kind is ObjectKind.PRIVATE_KEY:
            return _sensitive()
        raise Pkcs11Error(CKR.ATTRIBUTE_TYPE_INVALID)


@dataclass
class SecretObject(Object):
    """A secret key C_DeriveKey made: a session object held by the library, never on the module.

    Its value is readable only if it is neither sensitive nor unextractable.
    """

    handle: int
    owner: int  # the session that made it; closing that session destroys it
    value: bytes
    key_type: CKK
    sensitive: bool
    extractable: bool
    label: bytes = b""
    id: bytes = b""

    def get(self, kind: int) -> bytes:
        if kind == CKA.VALUE:
            if self.sensitive or not self.extractable:
                return _sensitive()
            return self.value
        fixed: dict[int, bytes] = {
            CKA.CLASS: ulong(CKO.SECRET_KEY), CKA.TOKEN: FALSE, CKA.PRIVATE: FALSE, CKA.MODIFIABLE: TRUE,
            CKA.COPYABLE: FALSE, CKA.DESTROYABLE: TRUE, CKA.LABEL: self.label, CKA.ID: self.id,
            CKA.KEY_TYPE: ulong(self.key_type), CKA.START_DATE: b"", CKA.END_DATE: b"", CKA.DERIVE: FALSE,
            CKA.LOCAL: FALSE, CKA.KEY_GEN_MECHANISM: ulong(UNAVAILABLE_INFORMATION),
            CKA.ALLOWED_MECHANISMS: b"", CKA.SENSITIVE: boolean(self.sensitive), CKA.ENCRYPT: FALSE,
            CKA.DECRYPT: FALSE, CKA.SIGN: FALSE, CKA.VERIFY: FALSE, CKA.WRAP: FALSE, CKA.UNWRAP: FALSE,
            CKA.EXTRACTABLE: boolean(self.extractable), CKA.ALWAYS_SENSITIVE: boolean(self.sensitive),
            CKA.NEVER_EXTRACTABLE: boolean(not self.extractable), CKA.VALUE_LEN: ulong(len(self.value)),
            CKA.TRUSTED: FALSE, CKA.WRAP_WITH_TRUSTED: FALSE,
        }
        value = fixed.get(kind)
        if value is None:
            raise Pkcs11Error(CKR.ATTRIBUTE_TYPE_INVALID)
        return value
