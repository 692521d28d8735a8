"""The exception tree shared by module and host.

Every :class:`~softscm.wire.defs.ErrorCode` has exactly one class; :func:`error_for_code` and
:attr:`ScmError.code` map between them in both directions, so an error raised in the module
reaches a client as the same class. Messages never contain key material.
"""

from __future__ import annotations

from .defs import ErrorCode


class ScmError(Exception):
    """Root of every softscm error."""

    code: ErrorCode = ErrorCode.GENERIC
    request_id: int = 0  # the request a frame-level error answers, when it could be read

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.__class__.__doc__ or self.__class__.__name__)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class ProtocolError(ScmError):
    """A frame or message broke the wire protocol."""

    code = ErrorCode.PROTOCOL


class UnsupportedVersionError(ProtocolError):
    """The peer speaks a protocol version this side does not."""

    code = ErrorCode.UNSUPPORTED_VERSION


class UnknownCommandError(ProtocolError):
    """The command number is not one the module knows."""

    code = ErrorCode.UNKNOWN_COMMAND


class InvalidArgumentError(ScmError, ValueError):
    """An argument is missing, of the wrong type or out of range."""

    code = ErrorCode.INVALID_ARGUMENT


class LimitExceededError(InvalidArgumentError):
    """The request asks for more work than one request may do (PBKDF2 iterations, batch size,
    output length): see the limits in docs/protocol.md."""

    code = ErrorCode.LIMIT_EXCEEDED


class InvalidSlotError(InvalidArgumentError):
    """The slot number is outside every slot range."""

    code = ErrorCode.INVALID_SLOT


class SlotEmptyError(ScmError, LookupError):
    """No key is stored in that slot."""

    code = ErrorCode.SLOT_EMPTY


class NoFreeSlotError(ScmError):
    """Every slot of the requested kind is in use."""

    code = ErrorCode.NO_FREE_SLOT


class KeyTypeMismatchError(ScmError):
    """The key in the slot cannot do this operation (e.g. an X25519 key asked to sign)."""

    code = ErrorCode.KEY_TYPE_MISMATCH


class ExportDisabledError(ScmError):
    """Public key export is disabled for this slot."""

    code = ErrorCode.EXPORT_DISABLED


class InvalidKeyError(ScmError):
    """A supplied key is malformed or not a point on the curve."""

    code = ErrorCode.INVALID_KEY


class InvalidSignatureError(ScmError):
    """The signature does not verify."""

    code = ErrorCode.INVALID_SIGNATURE


class AuthenticationError(ScmError):
    """Authentication failed."""

    code = ErrorCode.AUTHENTICATION_FAILED


class ModuleStateError(ScmError):
    """The module's state does not allow this command now."""

    code = ErrorCode.MODULE_STATE


class DestroyedError(ModuleStateError):
    """The module has been destroyed; its keys are gone."""

    code = ErrorCode.DESTROYED


class BindingError(ScmError):
    """The module is bound to a different host."""

    code = ErrorCode.BINDING


class StoreCorruptError(ScmError):
    """The state directory failed verification; it was left untouched."""

    code = ErrorCode.STORE_CORRUPT


class StoreRollbackError(StoreCorruptError):
    """The module's store is older than what the module acknowledged (a lost or damaged WAL, or
    an older copy of a database): it refuses to start rather than serve rolled-back state."""

    code = ErrorCode.STORE_ROLLBACK


class StorageFullError(ScmError):
    """The state directory has no room; nothing stored was changed."""

    code = ErrorCode.STORAGE_FULL


class StorageUnavailableError(ScmError):
    """The state directory cannot be written: a read-only file system, or permissions that do not
    let the daemon's user write there."""

    code = ErrorCode.STORAGE_UNAVAILABLE


class ScmTimeoutError(ScmError, TimeoutError):
    """The wait ended before the event arrived."""

    code = ErrorCode.TIMEOUT


class PolicyFrozenError(ScmError):
    """The setting is frozen by production mode."""

    code = ErrorCode.POLICY_FROZEN


class NotPermittedError(ScmError):
    """The operation is not permitted in this mode."""

    code = ErrorCode.NOT_PERMITTED


class WalletError(ScmError):
    """The wallet operation is not possible."""

    code = ErrorCode.WALLET


class MnemonicError(WalletError):
    """The mnemonic or share is malformed or does not belong to the set."""

    code = ErrorCode.MNEMONIC


class SessionError(WalletError):
    """No suitable SLIP-39 session is open, or another one is."""

    code = ErrorCode.SESSION


class SelfTestError(ModuleStateError):
    """A self test failed; the module is in ERROR."""

    code = ErrorCode.SELF_TEST_FAILED


class BootVerificationError(ScmError):
    """A supervised boot file failed verification."""

    code = ErrorCode.BOOT_VERIFICATION


class BootManifestError(BootVerificationError):
    """The boot manifest is malformed or its signature does not verify."""

    code = ErrorCode.BOOT_MANIFEST


class BootRollbackError(BootVerificationError):
    """The boot manifest's security version is below the lowest the module accepts."""

    code = ErrorCode.BOOT_ROLLBACK


class BootHeldError(ModuleStateError):
    """The module holds the boot: secrets and key operations are refused until it is remediated
    and authorised."""

    code = ErrorCode.BOOT_HELD


class BootAuthorizationError(AuthenticationError):
    """The boot authorisation was refused."""

    code = ErrorCode.BOOT_AUTHORIZATION


class LogIntegrityError(ScmError):
    """The audit log failed verification."""

    code = ErrorCode.LOG_INTEGRITY


class BusyError(ScmError):
    """The module is busy; try again."""

    code = ErrorCode.BUSY


class TransportError(ScmError, ConnectionError):
    """The connection to the module failed."""

    code = ErrorCode.TRANSPORT


class InternalError(ScmError):
    """The module failed internally; the request had no effect."""

    code = ErrorCode.INTERNAL


class SensorUnavailableError(ScmError):
    """A sensor (RTC, accelerometer, temperature, battery, power or perimeter input) did not
    answer."""

    code = ErrorCode.SENSOR


class CertificateError(ScmError):
    """A certificate or chain is malformed, does not verify, is outside its validity period, or
    is not for the key it is meant for."""

    code = ErrorCode.CERTIFICATE


class NotFoundError(ScmError, LookupError):
    """Nothing is stored under that name (a stored file, a certificate chain, a trust root)."""

    code = ErrorCode.NOT_FOUND


class ProvisioningError(ScmError):
    """A provisioning phase failed or its inputs do not fit the unit; the unit was left as the
    last completed phase left it."""

    code = ErrorCode.PROVISIONING


class AccessDeniedError(ScmError, PermissionError):
    """The caller may not do this (its role, or its rights on a key, do not allow it)."""

    code = ErrorCode.ACCESS_DENIED


class PinLockedError(AccessDeniedError):
    """Too many wrong administrator PINs: the PIN is locked until the module owner resets it."""

    code = ErrorCode.PIN_LOCKED
class LuksError(ScmError):
    """A cryptsetup operation failed, or the device is not a usable LUKS2 volume."""

    code = ErrorCode.LUKS


class LuksKeyError(LuksError):
    """The key or passphrase does not open the volume (or that key slot)."""

    code = ErrorCode.LUKS_KEY


class EnrolmentError(LuksError):
    """The volume is not in a state the enrolment can start or continue from."""

    code = ErrorCode.ENROLMENT
class ChannelError(TransportError):
    """The secure channel failed: a handshake that did not complete or authenticate, or a frame
    refused (modified, replayed, reordered or injected); the connection is closed."""

    code = ErrorCode.CHANNEL


class ChannelRequiredError(ChannelError):
    """This transport carries only the encrypted channel; a plain connection is refused."""

    code = ErrorCode.CHANNEL_REQUIRED


class ClientKeyError(ScmError):
    """The client key is not enrolled, was revoked, or its name or key is already enrolled."""

    code = ErrorCode.CLIENT_KEY
class RequestTooLargeError(InvalidArgumentError):
    """The request does not fit in one frame (:data:`~softscm.wire.defs.MAX_FRAME_SIZE`); nothing was sent."""

    code = ErrorCode.REQUEST_TOO_LARGE


class StateDirError(ScmError):
    """The state directory cannot be used as it is (not a directory, or open to other users); it was
    left as it was."""

    code = ErrorCode.STATE_DIR


class EndpointInUseError(ScmError):
    """Another process serves on that socket or port; it was left as it was."""

    code = ErrorCode.ENDPOINT_IN_USE


def _collect() -> dict[ErrorCode, type[ScmError]]:
    table: dict[ErrorCode, type[ScmError]] = {}
    pending: list[type[ScmError]] = [ScmError]
    while pending:
        cls = pending.pop()
        table.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return table


_BY_CODE: dict[ErrorCode, type[ScmError]] = _collect()


def error_for_code(code: int, message: str = "") -> ScmError:
    """Build the exception for an error code received on the wire.

    An unknown code becomes a plain :class:`ScmError` rather than failing.
    """
    try:
        cls = _BY_CODE[ErrorCode(code)]
    except ValueError:
        return ScmError(f"error {code}: {message}")
    return cls(message)
