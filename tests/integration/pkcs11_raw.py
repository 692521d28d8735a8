"""Raw calls into libsoftscm-pkcs11.so through ctypes, in a fresh process (run by test_pkcs11.py):
the exported symbols themselves, with bad input on purpose. Prints one JSON object of results.

    python tests/integration/pkcs11_raw.py LIBRARY
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from ctypes import byref, c_ubyte, c_ulong, c_void_p, sizeof

CK_ULONG = c_ulong
UNAVAILABLE = (1 << 64) - 1


class Attribute(ctypes.Structure):
    _fields_ = [("type", CK_ULONG), ("pValue", c_void_p), ("ulValueLen", CK_ULONG)]


class MechanismStruct(ctypes.Structure):
    _fields_ = [("mechanism", CK_ULONG), ("pParameter", c_void_p), ("ulParameterLen", CK_ULONG)]


class InitArgs(ctypes.Structure):
    _fields_ = [("CreateMutex", c_void_p), ("DestroyMutex", c_void_p), ("LockMutex", c_void_p),
                ("UnlockMutex", c_void_p), ("flags", CK_ULONG), ("pReserved", c_void_p)]


class Raw:
    def __init__(self, path: str) -> None:
        self.lib = ctypes.CDLL(path)
        self.results: dict[str, object] = {}

    def __getattr__(self, name: str):  # C_* with a CK_RV result
        function = getattr(self.lib, name)
        function.restype = CK_ULONG
        return function

    def record(self, name: str, value: object) -> None:
        self.results[name] = value

    def open(self, flags: int = 4) -> int:
        session = CK_ULONG()
        assert self.C_OpenSession(0, flags, None, None, byref(session)) == 0
        return session.value

    def sign_init(self, session: int, mechanism: int, key: int) -> int:
        return self.C_SignInit(session, byref(MechanismStruct(mechanism, None, 0)), key)


def main(path: str) -> None:
    raw = Raw(path)
    r = raw.record
    count = CK_ULONG(0)
    r("before_init_get_slot_list", raw.C_GetSlotList(1, None, byref(count)))
    r("before_init_finalize", raw.C_Finalize(None))
    table = c_void_p()
    r("get_function_list_null", raw.C_GetFunctionList(None))
    r("get_function_list", raw.C_GetFunctionList(byref(table)))
    entries = (c_void_p * 68).from_address(table.value + 8)  # after CK_VERSION, pointer-aligned
    exported = [ctypes.cast(getattr(raw.lib, name), c_void_p).value for name in FUNCTIONS]
    r("function_list_is_the_exports", [e for e in entries] == exported)
    version = (c_ubyte * 2).from_address(table.value)
    r("function_list_version", [version[0], version[1]])

    callback = ctypes.CFUNCTYPE(CK_ULONG, c_void_p)(lambda p: 0)
    some = InitArgs(ctypes.cast(callback, c_void_p), ctypes.cast(callback, c_void_p), None, None, 0, None)
    r("init_two_callbacks", raw.C_Initialize(byref(some)))
    full = InitArgs(*(ctypes.cast(callback, c_void_p),) * 4, 0, None)
    r("init_callbacks_without_os_locking", raw.C_Initialize(byref(full)))
    r("init_reserved", raw.C_Initialize(byref(InitArgs(None, None, None, None, 2, c_void_p(1)))))
    r("init_os_locking", raw.C_Initialize(byref(InitArgs(None, None, None, None, 2, None))))
    r("init_again", raw.C_Initialize(None))

    count = CK_ULONG(0)
    slots = (CK_ULONG * 1)()
    r("slot_list_too_small", [raw.C_GetSlotList(1, slots, byref(count)), count.value])
    count = CK_ULONG(1)
    r("slot_list", [raw.C_GetSlotList(1, slots, byref(count)), count.value, slots[0]])
    r("slot_list_null_count", raw.C_GetSlotList(1, None, None))
    r("bad_slot", raw.C_GetTokenInfo(7, ctypes.create_string_buffer(256)))
    session = CK_ULONG()
    r("open_not_serial", raw.C_OpenSession(0, 0, None, None, byref(session)))
    ro = raw.open()
    rw = raw.open(4 | 2)
    r("bad_session", raw.C_CloseSession(ro + 1000))

    # slot 0 (a factory P-256 key): private key handle 1, public key handle 2
    r("sign_unknown_mechanism", raw.sign_init(ro, 0x8000_1234, 1))
    r("sign_bad_key_handle", raw.sign_init(ro, 0x1041, 999_999_999))
    r("sign_with_public_key", raw.sign_init(ro, 0x1041, 2))
    r("sign_eddsa_on_p256", raw.sign_init(ro, 0x1057, 1))
    length = CK_ULONG(0)
    digest = (c_ubyte * 32)(*range(32))
    r("sign_not_initialised", raw.C_Sign(ro, digest, 32, None, byref(length)))
    r("sign_init", raw.sign_init(ro, 0x1041, 1))
    r("sign_init_twice", raw.sign_init(ro, 0x1041, 1))
    r("sign_length", [raw.C_Sign(ro, digest, 32, None, byref(length)), length.value])
    small = (c_ubyte * 10)()
    length = CK_ULONG(10)
    r("sign_too_small", [raw.C_Sign(ro, digest, 32, small, byref(length)), length.value])
    signature = (c_ubyte * 64)()
    length = CK_ULONG(64)
    r("sign", [raw.C_Sign(ro, digest, 32, signature, byref(length)), length.value, bytes(signature).hex()])
    r("sign_after_end", raw.C_Sign(ro, digest, 32, signature, byref(length)))
    r("sign_null_data", [raw.sign_init(ro, 0x1041, 1), raw.C_Sign(ro, None, 32, signature, byref(length)),
                         raw.C_Sign(ro, digest, 32, signature, byref(length))])

    value = (c_ubyte * 8)()
    template = (Attribute * 4)(Attribute(0x11, None, 0), Attribute(0x103, ctypes.cast(value, c_void_p), 1),
                               Attribute(0x162, ctypes.cast(byref(value, 1), c_void_p), 1),
                               Attribute(0x120, None, 0))
    rv = raw.C_GetAttributeValue(ro, 1, template, 4)
    r("private_value", [rv, template[0].ulValueLen, value[0], value[1], template[3].ulValueLen])
    point = (c_ubyte * 10)()
    template = (Attribute * 1)(Attribute(0x181, ctypes.cast(point, c_void_p), 10))
    r("ec_point_too_small", [raw.C_GetAttributeValue(ro, 2, template, 1), template[0].ulValueLen])
    template = (Attribute * 1)(Attribute(0x181, None, 0))
    r("ec_point_length", [raw.C_GetAttributeValue(ro, 2, template, 1), template[0].ulValueLen])
    r("attribute_bad_handle", raw.C_GetAttributeValue(ro, 999_999_999, template, 1))
    r("destroy_read_only", raw.C_DestroyObject(ro, 1))
    r("destroy_factory_key", raw.C_DestroyObject(rw, 1))

    p384 = (c_ubyte * 7)(*bytes.fromhex("06052b81040022"))
    public = (Attribute * 1)(Attribute(0x180, ctypes.cast(p384, c_void_p), 7))
    pub, priv = CK_ULONG(), CK_ULONG()
    r("generate_p384", raw.C_GenerateKeyPair(rw, byref(MechanismStruct(0x1040, None, 0)), public, 1, None, 0,
                                             byref(pub), byref(priv)))
    r("generate_null_handles", raw.C_GenerateKeyPair(rw, byref(MechanismStruct(0x1055, None, 0)), None, 0, None, 0,
                                                     None, None))
    buffer = (c_ubyte * 48)()
    r("random", [raw.C_GenerateRandom(ro, buffer, 48), any(buffer)])
    r("encrypt", raw.C_EncryptInit(ro, byref(MechanismStruct(0x1082, None, 0)), 1))
    r("login", [raw.C_Login(ro, 1, b"any pin", 7), raw.C_Login(rw, 1, b"1234", 4), raw.C_Logout(ro),
                raw.C_Logout(ro), raw.C_Login(ro, 7, b"", 0)])

    pid = os.fork()
    if pid == 0:  # the child must initialise again (PKCS#11 v2.40, 6.7.7)
        child = [raw.C_GetSlotList(1, None, byref(count)), raw.sign_init(ro, 0x1041, 1), raw.C_Initialize(None)]
        child_session = raw.open()
        length = CK_ULONG(64)
        child += [raw.sign_init(child_session, 0x1041, 1), raw.C_Sign(child_session, digest, 32, signature,
                                                                    byref(length))]
        os._exit(0 if child == [0x190, 0x190, 0, 0, 0] else 1 + len([c for c in child if c]))
    _, status = os.waitpid(pid, 0)
    r("fork_child_exit", os.waitstatus_to_exitcode(status))
    length = CK_ULONG(64)
    r("parent_after_fork", [raw.sign_init(ro, 0x1041, 1), raw.C_Sign(ro, digest, 32, signature, byref(length))])
    r("finalize", [raw.C_Finalize(None), raw.C_GetInfo(ctypes.create_string_buffer(128)), raw.C_Finalize(None)])
    print(json.dumps(raw.results))


FUNCTIONS = [
    "C_Initialize", "C_Finalize", "C_GetInfo", "C_GetFunctionList", "C_GetSlotList", "C_GetSlotInfo",
    "C_GetTokenInfo", "C_GetMechanismList", "C_GetMechanismInfo", "C_InitToken", "C_InitPIN", "C_SetPIN",
    "C_OpenSession", "C_CloseSession", "C_CloseAllSessions", "C_GetSessionInfo", "C_GetOperationState",
    "C_SetOperationState", "C_Login", "C_Logout", "C_CreateObject", "C_CopyObject", "C_DestroyObject",
    "C_GetObjectSize", "C_GetAttributeValue", "C_SetAttributeValue", "C_FindObjectsInit", "C_FindObjects",
    "C_FindObjectsFinal", "C_EncryptInit", "C_Encrypt", "C_EncryptUpdate", "C_EncryptFinal", "C_DecryptInit",
    "C_Decrypt", "C_DecryptUpdate", "C_DecryptFinal", "C_DigestInit", "C_Digest", "C_DigestUpdate", "C_DigestKey",
    "C_DigestFinal", "C_SignInit", "C_Sign", "C_SignUpdate", "C_SignFinal", "C_SignRecoverInit", "C_SignRecover",
    "C_VerifyInit", "C_Verify", "C_VerifyUpdate", "C_VerifyFinal", "C_VerifyRecoverInit", "C_VerifyRecover",
    "C_DigestEncryptUpdate", "C_DecryptDigestUpdate", "C_SignEncryptUpdate", "C_DecryptVerifyUpdate",
    "C_GenerateKey", "C_GenerateKeyPair", "C_WrapKey", "C_UnwrapKey", "C_DeriveKey", "C_SeedRandom",
    "C_GenerateRandom", "C_GetFunctionStatus", "C_CancelFunction", "C_WaitForSlotEvent",
]

if __name__ == "__main__":
    assert sizeof(c_void_p) == 8
    main(sys.argv[1])
