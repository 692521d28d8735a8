"""PKCS#11 return values as exceptions, and the one table that maps module errors to them."""

from __future__ import annotations

from ..wire.defs import ErrorCode
from ..wire.errors import ScmError
from .constants import CKR


class Pkcs11Error(Exception):
    """A PKCS#11 call fails with ``rv``; the C entry point returns it."""

    def __init__(self, rv: CKR) -> None:
        super().__init__(rv.name)
        self.rv = rv


_MODULE_ERRORS = {
    ErrorCode.INVALID_ARGUMENT: CKR.ARGUMENTS_BAD,
    ErrorCode.INVALID_SLOT: CKR.OBJECT_HANDLE_INVALID,
    ErrorCode.SLOT_EMPTY: CKR.OBJECT_HANDLE_INVALID,
    ErrorCode.NO_FREE_SLOT: CKR.DEVICE_MEMORY,
    ErrorCode.STORAGE_FULL: CKR.DEVICE_MEMORY,
    ErrorCode.KEY_TYPE_MISMATCH: CKR.KEY_TYPE_INCONSISTENT,
    ErrorCode.EXPORT_DISABLED: CKR.ATTRIBUTE_SENSITIVE,
    ErrorCode.INVALID_KEY: CKR.ATTRIBUTE_VALUE_INVALID,
    ErrorCode.INVALID_SIGNATURE: CKR.SIGNATURE_INVALID,
    ErrorCode.AUTHENTICATION_FAILED: CKR.PIN_INCORRECT,
    ErrorCode.NOT_PERMITTED: CKR.FUNCTION_REJECTED,
    ErrorCode.POLICY_FROZEN: CKR.FUNCTION_REJECTED,
    ErrorCode.TRANSPORT: CKR.DEVICE_REMOVED,
    ErrorCode.ACCESS_DENIED: CKR.FUNCTION_REJECTED,  # the module's access control (caller, role, key grant)
    ErrorCode.PIN_LOCKED: CKR.PIN_LOCKED,
    ErrorCode.LIMIT_EXCEEDED: CKR.DATA_LEN_RANGE,
    ErrorCode.CERTIFICATE: CKR.ATTRIBUTE_VALUE_INVALID,  # a certificate the module will not store
    ErrorCode.NOT_FOUND: CKR.OBJECT_HANDLE_INVALID,
}


def rv_for(error: ScmError) -> CKR:
    """The return value for a module error: the table above, ``CKR_DEVICE_ERROR`` for the rest
    (module state, store, self test, protocol, time-out: the device cannot do it now)."""
    return _MODULE_ERRORS.get(error.code, CKR.DEVICE_ERROR)
