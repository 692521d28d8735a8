"""softscm: a software Secure Compute Module.

Every error the module or the client raises is a subclass of :class:`ScmError`, importable from
here (``softscm.InvalidSignatureError``, ...).

>>> import softscm
>>> with softscm.connect("embedded:/tmp/scm-state") as scm:   # or "unix:/run/softscm/scmd.sock"
...     slot = scm.gen_key_pair("secp256k1")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .wire.defs import KdfType, KeyType, LockKey
from .wire.errors import (
    AccessDeniedError,
    AuthenticationError,
    BindingError,
    BootAuthorizationError,
    BootHeldError,
    BootManifestError,
    BootRollbackError,
    BootVerificationError,
    BusyError,
    CertificateError,
    ChannelError,
    ChannelRequiredError,
    ClientKeyError,
    DestroyedError,
    EndpointInUseError,
    EnrolmentError,
    ExportDisabledError,
    InternalError,
    InvalidArgumentError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidSlotError,
    KeyTypeMismatchError,
    LimitExceededError,
    LogIntegrityError,
    LuksError,
    LuksKeyError,
    MnemonicError,
    ModuleStateError,
    NoFreeSlotError,
    NotFoundError,
    NotPermittedError,
    PinLockedError,
    PolicyFrozenError,
    ProtocolError,
    ProvisioningError,
    RequestTooLargeError,
    ScmError,
    ScmTimeoutError,
    SelfTestError,
    SensorUnavailableError,
    SessionError,
    SlotEmptyError,
    StateDirError,
    StorageFullError,
    StorageUnavailableError,
    StoreCorruptError,
    StoreRollbackError,
    TransportError,
    UnknownCommandError,
    UnsupportedVersionError,
    WalletError,
)

if TYPE_CHECKING:
    from .host.client import Client
    from .host.client_keys import ClientKeySource, ModuleKeySource

__version__ = "0.1.0"


def connect(url: str | None = None, *, timeout: float | None = 30.0, busy_poll: bool = True,
            channel: bool | None = None, client_key: ClientKeySource = None,
            module_key: ModuleKeySource = None) -> Client:
    """Connect to a module: ``unix:PATH``, ``tcp:HOST:PORT``, ``serial:DEVICE`` or
    ``embedded:STATE_DIR``.

    Without a URL: ``$SOFTSCM_URL``, else the default Unix socket. ``busy_poll``: see
    :func:`softscm.host.client.connect` (socket transports only). TCP and serial carry only the
    encrypted channel, set up with ``client_key`` and the pinned ``module_key`` (see
    :func:`softscm.host.client.connect` for the defaults); on a Unix socket it is optional.

    :raises TransportError: if the module cannot be reached.
    :raises StoreCorruptError: for an embedded module whose state cannot be verified.
    """
    if url is not None and url.startswith("embedded:"):
        from .embedded import open_embedded

        return open_embedded(url.removeprefix("embedded:"), timeout=timeout)
    from .host.client import connect as connect_socket

    return connect_socket(url, timeout=timeout, busy_poll=busy_poll, channel=channel, client_key=client_key,
                          module_key=module_key)


__all__ = [
    "AccessDeniedError", "AuthenticationError", "BindingError", "BootAuthorizationError", "BootHeldError",
    "BootManifestError", "BootRollbackError", "BootVerificationError", "BusyError", "CertificateError",
    "ChannelError", "ChannelRequiredError", "ClientKeyError", "DestroyedError", "EndpointInUseError",
    "EnrolmentError", "ExportDisabledError", "InternalError", "InvalidArgumentError", "InvalidKeyError",
    "InvalidSignatureError", "InvalidSlotError", "KdfType", "KeyType", "KeyTypeMismatchError", "LimitExceededError",
    "LockKey", "LogIntegrityError", "LuksError", "LuksKeyError", "MnemonicError", "ModuleStateError",
    "NoFreeSlotError", "NotFoundError", "NotPermittedError", "PinLockedError", "PolicyFrozenError", "ProtocolError",
    "ProvisioningError", "RequestTooLargeError", "ScmError", "ScmTimeoutError", "SelfTestError",
    "SensorUnavailableError", "SessionError", "SlotEmptyError", "StateDirError", "StorageFullError",
    "StorageUnavailableError", "StoreCorruptError", "StoreRollbackError", "TransportError", "UnknownCommandError",
    "UnsupportedVersionError", "WalletError", "connect", "__version__",
]
