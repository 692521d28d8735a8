"""The C entry points: each ``C_*`` function of the library, in Python.

:func:`install` registers them with cffi (``ffi.def_extern``) under the names the C shim calls
(``softscm_py_C_*``); the shim exports the real ``C_*`` symbols and C_GetFunctionList. Each entry
point reads its C arguments, calls the typed library (:mod:`.library`, :mod:`.session`) and
writes the results back; a :class:`~softscm.pkcs11.errors.Pkcs11Error` becomes its ``CKR_*``, any
other exception ``CKR_GENERAL_ERROR`` (logged at debug level, never printed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .access import MAX_PIN, MIN_PIN
from .attributes import Template
from .constants import CKM, CKR, CRYPTOKI_VERSION, EFFECTIVELY_INFINITE, UNAVAILABLE_INFORMATION, SessionFlag
from .errors import Pkcs11Error
from .library import LIBRARY_DESCRIPTION, LIBRARY_VERSION, MANUFACTURER, SLOT_ID, InitArgs, Library
from .mechanisms import MECHANISMS, EcdhParams, EddsaParams, Mechanism, plain
from .session import Session

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

LIBRARY = Library()
_ffi: Any = None
_NULL: Any = None
_OK = int(CKR.OK)

ENTRY_POINTS: dict[str, Callable[..., int]] = {}


def _guarded(function: Callable[..., int | None]) -> Callable[..., int]:
    """``function`` as cffi calls it: its ``CKR_*``, never an exception."""

    # the names are bound now: at interpreter exit, a last C_Finalize may come after module globals went
    def call(*args: Any, _error: type[Pkcs11Error] = Pkcs11Error, _failed: int = int(CKR.GENERAL_ERROR),
             _log: logging.Logger = log) -> int:
        try:
            return function(*args) or 0
        except _error as exc:
            return int(exc.rv)
        except Exception:  # noqa: BLE001 - a bug must not cross into C: it becomes CKR_GENERAL_ERROR
            _log.debug("%s failed", function.__name__, exc_info=True)
            return _failed

    return call


def _entry(function: Callable[..., int | None]) -> Callable[..., int | None]:
    """Register ``function`` as the entry point of its name."""
    ENTRY_POINTS[function.__name__] = _guarded(function)
    return function


def _bytes(pointer: Any, size: int) -> bytes:
    if not size:
        return b""
    if pointer == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    return bytes(_ffi.buffer(pointer, size))


def _padded(target: Any, text: str, size: int) -> None:
    data = text.encode()[:size].decode(errors="ignore").encode().ljust(size, b" ")
    _ffi.memmove(target, data, size)


def _session(handle: int) -> Session:
    return LIBRARY.state().session(handle)


def _template(pointer: Any, count: int) -> Template:
    if count and pointer == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    return Template((int(pointer[i].type), _bytes(pointer[i].pValue, pointer[i].ulValueLen)) for i in range(count))


def _mechanism(pointer: Any) -> Mechanism:
    if pointer == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    kind, parameter, size = int(pointer.mechanism), pointer.pParameter, int(pointer.ulParameterLen)
    if parameter == _NULL or not size:
        return plain(kind)
    if kind == CKM.ECDH1_DERIVE:
        if size != _ffi.sizeof("CK_ECDH1_DERIVE_PARAMS"):
            raise Pkcs11Error(CKR.MECHANISM_PARAM_INVALID)
        ecdh = _ffi.cast("CK_ECDH1_DERIVE_PARAMS *", parameter)
        return Mechanism(kind, EcdhParams(int(ecdh.kdf), _bytes(ecdh.pSharedData, ecdh.ulSharedDataLen),
                                          _bytes(ecdh.pPublicData, ecdh.ulPublicDataLen)))
    if kind == CKM.EDDSA:
        if size != _ffi.sizeof("CK_EDDSA_PARAMS"):
            raise Pkcs11Error(CKR.MECHANISM_PARAM_INVALID)
        eddsa = _ffi.cast("CK_EDDSA_PARAMS *", parameter)
        return Mechanism(kind, EddsaParams(bool(eddsa.phFlag), _bytes(eddsa.pContextData, eddsa.ulContextDataLen)))
    return Mechanism(kind, _bytes(parameter, size))


def _output(pointer: Any, length_pointer: Any, length: int, produce: Callable[[], bytes | list[int]]) -> int:
    """The two-call convention: a NULL buffer asks for the length, a short one gets
    CKR_BUFFER_TOO_SMALL with the length needed; else ``produce()`` is written (bytes, or the
    CK_ULONG items of an array)."""
    if length_pointer == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    if pointer == _NULL:
        length_pointer[0] = length
        return _OK
    if length_pointer[0] < length:
        length_pointer[0] = length
        return int(CKR.BUFFER_TOO_SMALL)
    data = produce()
    if isinstance(data, bytes):
        _ffi.memmove(pointer, data, len(data))
    else:
        for index, value in enumerate(data):
            pointer[index] = value
    length_pointer[0] = len(data)
    return _OK


# -- general ---------------------------------------------------------------------------------------


@_entry
def C_Initialize(p_init_args: Any) -> None:
    if p_init_args == _NULL:
        LIBRARY.initialize(InitArgs())
        return
    args = _ffi.cast("CK_C_INITIALIZE_ARGS *", p_init_args)
    callbacks = sum(1 for f in (args.CreateMutex, args.DestroyMutex, args.LockMutex, args.UnlockMutex) if f != _NULL)
    LIBRARY.initialize(InitArgs(int(args.flags), callbacks, args.pReserved != _NULL))


@_entry
def C_Finalize(p_reserved: Any) -> None:
    if p_reserved != _NULL:
        LIBRARY.state()
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    LIBRARY.finalize()


@_entry
def C_GetInfo(p_info: Any) -> None:
    LIBRARY.state()
    if p_info == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    p_info.cryptokiVersion.major, p_info.cryptokiVersion.minor = CRYPTOKI_VERSION
    _padded(p_info.manufacturerID, MANUFACTURER, 32)
    p_info.flags = 0
    _padded(p_info.libraryDescription, LIBRARY_DESCRIPTION, 32)
    p_info.libraryVersion.major, p_info.libraryVersion.minor = LIBRARY_VERSION


@_entry
def C_GetSlotList(token_present: int, p_slot_list: Any, pul_count: Any) -> int:
    state = LIBRARY.state()
    slots = [SLOT_ID] if not token_present or state.token.present() else []
    return _output(p_slot_list, pul_count, len(slots), lambda: slots)


@_entry
def C_GetSlotInfo(slot_id: int, p_info: Any) -> None:
    state = LIBRARY.state()
    if p_info == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    info = state.slot_info(slot_id)
    _padded(p_info.slotDescription, info.description, 64)
    _padded(p_info.manufacturerID, info.manufacturer, 32)
    p_info.flags = int(info.flags)
    p_info.hardwareVersion.major, p_info.hardwareVersion.minor = 0, 0
    p_info.firmwareVersion.major, p_info.firmwareVersion.minor = 0, 0


@_entry
def C_GetTokenInfo(slot_id: int, p_info: Any) -> None:
    state = LIBRARY.state()
    if p_info == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    info = state.token_info(slot_id)
    _padded(p_info.label, info.label, 32)
    _padded(p_info.manufacturerID, info.manufacturer, 32)
    _padded(p_info.model, info.model, 16)
    _padded(p_info.serialNumber, info.serial, 16)
    p_info.flags = int(info.flags)
    p_info.ulMaxSessionCount = p_info.ulMaxRwSessionCount = EFFECTIVELY_INFINITE
    p_info.ulSessionCount, p_info.ulRwSessionCount = info.sessions, info.rw_sessions
    p_info.ulMaxPinLen, p_info.ulMinPinLen = MAX_PIN, MIN_PIN
    p_info.ulTotalPublicMemory = p_info.ulFreePublicMemory = UNAVAILABLE_INFORMATION
    p_info.ulTotalPrivateMemory = p_info.ulFreePrivateMemory = UNAVAILABLE_INFORMATION
    p_info.hardwareVersion.major, p_info.hardwareVersion.minor = 0, 0
    p_info.firmwareVersion.major, p_info.firmwareVersion.minor = info.firmware
    _padded(p_info.utcTime, info.utc_time, 16)


@_entry
def C_GetMechanismList(slot_id: int, p_list: Any, pul_count: Any) -> int:
    LIBRARY.state().check_slot(slot_id)
    mechanisms = [int(m) for m in MECHANISMS]
    return _output(p_list, pul_count, len(mechanisms), lambda: mechanisms)


@_entry
def C_GetMechanismInfo(slot_id: int, kind: int, p_info: Any) -> None:
    LIBRARY.state().check_slot(slot_id)
    if p_info == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    try:
        info = MECHANISMS[CKM(kind)]
    except (ValueError, KeyError):
        raise Pkcs11Error(CKR.MECHANISM_INVALID) from None
    p_info.ulMinKeySize, p_info.ulMaxKeySize, p_info.flags = info.min_key_bits, info.max_key_bits, int(info.flags)


@_entry
def C_InitToken(slot_id: int, p_pin: Any, pin_len: int, p_label: Any) -> int:
    LIBRARY.state().check_slot(slot_id)
    return int(CKR.FUNCTION_NOT_SUPPORTED)


@_entry
def C_InitPIN(session: int, p_pin: Any, pin_len: int) -> None:
    state = LIBRARY.state()
    state.set_pin(state.session(session), None, _bytes(p_pin, pin_len))


@_entry
def C_SetPIN(session: int, p_old: Any, old_len: int, p_new: Any, new_len: int) -> None:
    state = LIBRARY.state()
    state.set_pin(state.session(session), _bytes(p_old, old_len), _bytes(p_new, new_len))


# -- sessions and login ------------------------------------------------------------------------------


@_entry
def C_OpenSession(slot_id: int, flags: int, p_application: Any, notify: Any, ph_session: Any) -> None:
    state = LIBRARY.state()
    if ph_session == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    ph_session[0] = state.open_session(slot_id, flags)


@_entry
def C_CloseSession(session: int) -> None:
    LIBRARY.state().close_session(session)


@_entry
def C_CloseAllSessions(slot_id: int) -> None:
    LIBRARY.state().close_all(slot_id)


@_entry
def C_GetSessionInfo(session: int, p_info: Any) -> None:
    state = LIBRARY.state()
    current = state.session(session)
    if p_info == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    p_info.slotID = SLOT_ID
    p_info.state = int(state.session_state(current))
    p_info.flags = int(SessionFlag.SERIAL_SESSION | (SessionFlag.RW_SESSION if current.rw else 0))
    p_info.ulDeviceError = 0


@_entry
def C_GetOperationState(session: int, p_state: Any, pul_len: Any) -> int:
    _session(session)
    return int(CKR.FUNCTION_NOT_SUPPORTED)


@_entry
def C_SetOperationState(session: int, p_state: Any, state_len: int, h_encryption: int, h_authentication: int) -> int:
    _session(session)
    return int(CKR.FUNCTION_NOT_SUPPORTED)


@_entry
def C_Login(session: int, user_type: int, p_pin: Any, pin_len: int) -> None:
    state = LIBRARY.state()
    current = state.session(session)
    state.login(current, user_type, _bytes(p_pin, pin_len))


@_entry
def C_Logout(session: int) -> None:
    state = LIBRARY.state()
    state.session(session)
    state.logout()


# -- objects -------------------------------------------------------------------------------------------


@_entry
def C_CreateObject(session: int, p_template: Any, count: int, ph_object: Any) -> None:
    current = _session(session)
    template = _template(p_template, count)
    if ph_object == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    ph_object[0] = current.create_object(template)


@_entry
def C_CopyObject(session: int, h_object: int, p_template: Any, count: int, ph_new: Any) -> int:
    _session(session).object(h_object)
    return int(CKR.ACTION_PROHIBITED)  # CKA_COPYABLE is false on every object


@_entry
def C_DestroyObject(session: int, h_object: int) -> None:
    _session(session).destroy(h_object)


@_entry
def C_GetObjectSize(session: int, h_object: int, pul_size: Any) -> None:
    _session(session).object(h_object)
    if pul_size == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    pul_size[0] = UNAVAILABLE_INFORMATION


@_entry
def C_GetAttributeValue(session: int, h_object: int, p_template: Any, count: int) -> int:
    current = _session(session)
    if count and p_template == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    values = current.get_attributes(h_object, [int(p_template[i].type) for i in range(count)])
    rv = _OK
    for index, value in enumerate(values):
        attribute = p_template[index]
        if isinstance(value, CKR):
            attribute.ulValueLen = UNAVAILABLE_INFORMATION
            rv = rv or int(value)
        elif attribute.pValue == _NULL:
            attribute.ulValueLen = len(value)
        elif attribute.ulValueLen >= len(value):
            _ffi.memmove(attribute.pValue, value, len(value))
            attribute.ulValueLen = len(value)
        else:
            attribute.ulValueLen = UNAVAILABLE_INFORMATION
            rv = rv or int(CKR.BUFFER_TOO_SMALL)
    return rv


@_entry
def C_SetAttributeValue(session: int, h_object: int, p_template: Any, count: int) -> None:
    current = _session(session)
    current.set_attributes(h_object, _template(p_template, count))


@_entry
def C_FindObjectsInit(session: int, p_template: Any, count: int) -> None:
    current = _session(session)
    current.find_init(_template(p_template, count))


@_entry
def C_FindObjects(session: int, ph_object: Any, max_count: int, pul_count: Any) -> None:
    current = _session(session)
    if ph_object == _NULL or pul_count == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    handles = current.find(max_count)
    for index, handle in enumerate(handles):
        ph_object[index] = handle
    pul_count[0] = len(handles)


@_entry
def C_FindObjectsFinal(session: int) -> None:
    _session(session).find_final()


# -- sign and verify -------------------------------------------------------------------------------------


@_entry
def C_SignInit(session: int, p_mechanism: Any, h_key: int) -> None:
    current = _session(session)
    current.sign_init(_mechanism(p_mechanism), h_key)


def _finish_sign(current: Session, data: bytes | None, p_signature: Any, pul_len: Any) -> int:
    """C_Sign and C_SignFinal: the operation ends unless the call only asked for the length or
    got CKR_BUFFER_TOO_SMALL."""
    current.sign_operation()
    if pul_len == _NULL:
        current.end_sign()
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    return _output(p_signature, pul_len, current.signature_length(), lambda: current.sign(data))


@_entry
def C_Sign(session: int, p_data: Any, data_len: int, p_signature: Any, pul_len: Any) -> int:
    current = _session(session)
    current.sign_operation()
    if p_signature == _NULL and pul_len != _NULL:  # a length query: the data is read by the call that signs
        pul_len[0] = current.signature_length()
        return _OK
    try:
        data = _bytes(p_data, data_len)
    except Pkcs11Error:
        current.end_sign()
        raise
    return _finish_sign(current, data, p_signature, pul_len)


@_entry
def C_SignUpdate(session: int, p_part: Any, part_len: int) -> None:
    current = _session(session)
    current.sign_operation()
    try:
        part = _bytes(p_part, part_len)
    except Pkcs11Error:
        current.end_sign()
        raise
    current.sign_update(part)


@_entry
def C_SignFinal(session: int, p_signature: Any, pul_len: Any) -> int:
    return _finish_sign(_session(session), None, p_signature, pul_len)


@_entry
def C_VerifyInit(session: int, p_mechanism: Any, h_key: int) -> None:
    current = _session(session)
    current.verify_init(_mechanism(p_mechanism), h_key)


@_entry
def C_Verify(session: int, p_data: Any, data_len: int, p_signature: Any, signature_len: int) -> None:
    current = _session(session)
    try:
        data, signature = _bytes(p_data, data_len), _bytes(p_signature, signature_len)
    except Pkcs11Error:
        current.end_verify()
        raise
    current.verify(data, signature)


@_entry
def C_VerifyUpdate(session: int, p_part: Any, part_len: int) -> None:
    current = _session(session)
    try:
        part = _bytes(p_part, part_len)
    except Pkcs11Error:
        current.end_verify()
        raise
    current.verify_update(part)


@_entry
def C_VerifyFinal(session: int, p_signature: Any, signature_len: int) -> None:
    current = _session(session)
    try:
        signature = _bytes(p_signature, signature_len)
    except Pkcs11Error:
        current.end_verify()
        raise
    current.verify(None, signature)


# -- keys and random ---------------------------------------------------------------------------------------


@_entry
def C_GenerateKey(session: int, p_mechanism: Any, p_template: Any, count: int, ph_key: Any) -> int:
    _session(session)
    _mechanism(p_mechanism)
    return int(CKR.MECHANISM_INVALID)  # no secret-key generation on the module


@_entry
def C_GenerateKeyPair(session: int, p_mechanism: Any, p_public: Any, public_count: int, p_private: Any,
                      private_count: int, ph_public: Any, ph_private: Any) -> None:
    current = _session(session)
    mechanism = _mechanism(p_mechanism)
    public, private = _template(p_public, public_count), _template(p_private, private_count)
    if ph_public == _NULL or ph_private == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    ph_public[0], ph_private[0] = current.generate_key_pair(mechanism, public, private)


@_entry
def C_DeriveKey(session: int, p_mechanism: Any, h_base: int, p_template: Any, count: int, ph_key: Any) -> None:
    current = _session(session)
    mechanism = _mechanism(p_mechanism)
    template = _template(p_template, count)
    if ph_key == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    ph_key[0] = current.derive(mechanism, h_base, template)


@_entry
def C_SeedRandom(session: int, p_seed: Any, seed_len: int) -> int:
    _session(session)
    return int(CKR.RANDOM_SEED_NOT_SUPPORTED)


@_entry
def C_GenerateRandom(session: int, p_data: Any, size: int) -> None:
    current = _session(session)
    if size and p_data == _NULL:
        raise Pkcs11Error(CKR.ARGUMENTS_BAD)
    if size:
        _ffi.memmove(p_data, current.random(size), size)


@_entry
def C_GetFunctionStatus(session: int) -> int:
    _session(session)
    return int(CKR.FUNCTION_NOT_PARALLEL)


@_entry
def C_CancelFunction(session: int) -> int:
    _session(session)
    return int(CKR.FUNCTION_NOT_PARALLEL)


NOT_SUPPORTED = (
    "C_EncryptInit", "C_Encrypt", "C_EncryptUpdate", "C_EncryptFinal", "C_DecryptInit", "C_Decrypt",
    "C_DecryptUpdate", "C_DecryptFinal", "C_DigestInit", "C_Digest", "C_DigestUpdate", "C_DigestKey",
    "C_DigestFinal", "C_SignRecoverInit", "C_SignRecover", "C_VerifyRecoverInit", "C_VerifyRecover",
    "C_DigestEncryptUpdate", "C_DecryptDigestUpdate", "C_SignEncryptUpdate", "C_DecryptVerifyUpdate",
    "C_WrapKey", "C_UnwrapKey", "C_WaitForSlotEvent",
)
"""Entry points this token does not offer: CKR_FUNCTION_NOT_SUPPORTED once initialised."""


def install(ffi: Any, fork_generation: Callable[[], int]) -> None:
    """Register every entry point with cffi (called once, by the embedded init code);
    ``fork_generation`` is the C shim's fork counter."""
    global _ffi, _NULL
    _ffi, _NULL = ffi, ffi.NULL
    LIBRARY.fork_generation = fork_generation
    error = int(CKR.GENERAL_ERROR)
    for name, function in ENTRY_POINTS.items():
        ffi.def_extern(name=f"softscm_py_{name}", error=error)(function)
    not_supported = _guarded(_not_supported)
    for name in NOT_SUPPORTED:
        ffi.def_extern(name=f"softscm_py_{name}", error=error)(not_supported)
    ffi.def_extern(name="softscm_py_start", error=0)(lambda: 1)


def _not_supported(*args: Any) -> int:
    LIBRARY.state()
    return int(CKR.FUNCTION_NOT_SUPPORTED)
