"""Every number that crosses the module/host boundary.

Both sides import these enums; nothing here depends on anything but the standard library.
The values of :class:`KeyType` and :class:`KdfType` match the `zymkey` API's tables.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag, unique

PROTOCOL_VERSION = 2
"""Wire protocol version, exchanged in the HELLO handshake that opens every connection."""

MAX_FRAME_SIZE = 4 * 1024 * 1024 + 4096
"""Largest frame payload either side accepts (1 MiB lock payloads fit with room to spare)."""

STREAM_CHUNK_SIZE = 1024 * 1024
"""Plaintext bytes per record of a streamed lock: the default, and the most a stream may choose."""

MAX_STREAM_PIECE = 2 * 1024 * 1024
"""Bytes one streamed lock or unlock request may carry (a frame holds 4 MiB)."""

FACTORY_SLOTS = 16
"""Slots 0..15 are created at initialisation; user slots start at 16."""

FIRST_USER_SLOT = FACTORY_SLOTS
EPHEMERAL_SLOT = -1
DEFAULT_USER_CAPACITY = 512
DEFAULT_FOREIGN_CAPACITY = 128
DEFAULT_WALLET_CAPACITY = 128
BOOT_SIGNER_SLOT = 15
DEFAULT_CM4_FILES: tuple[str, ...] = (
    "bcm2711-rpi-cm4.dtb",
    "bootcode.bin",
    "cmdline.txt",
    "config.txt",
    "initrd.img",
    "kernel8.img",
    "start4.elf",
    "overlays/vc4-kms-v3d.dtbo",
)
"""The Raspberry Pi CM4 boot files guarded by `scmctl boot manifest sign-all --cm4`."""


@unique
class Command(IntEnum):
    """Request commands. Grouped by hundreds: a gap leaves room inside each group."""

    # session and information
    HELLO = 1
    INFO = 2
    STATUS = 3
    TIME = 4
    RANDOM = 5
    SUBSCRIBE = 6
    # keys
    GEN_KEY = 100
    GEN_EPHEMERAL = 101
    INVALIDATE_EPHEMERAL = 102
    REMOVE_KEY = 103
    GET_PUBLIC_KEY = 104
    DISABLE_EXPORT = 105
    STORE_FOREIGN = 106
    LIST_SLOTS = 107
    IMPORT_KEY = 108
    GEN_KEYS = 109
    # operations
    SIGN = 200
    SIGN_BATCH = 201
    VERIFY = 202
    VERIFY_BATCH = 203
    ECDH = 204
    LOCK = 205
    UNLOCK = 206
    LOCK_STREAM = 220
    UNLOCK_STREAM = 221
    STREAM_UPDATE = 222
    STREAM_CANCEL = 223
    # wallets
    WALLET_CREATE = 300
    WALLET_RESTORE_BIP39 = 301
    WALLET_DERIVE = 302
    WALLET_OVERSIGHT = 303
    WALLET_NODE_INFO = 304
    WALLET_FIND_SLOT = 305
    WALLET_LIST = 306
    SLIP39_GEN_START = 310
    SLIP39_GEN_SET_GROUP = 311
    SLIP39_GEN_NEXT_SHARE = 312
    SLIP39_RESTORE_START = 313
    SLIP39_RESTORE_ADD = 314
    SLIP39_CANCEL = 315
    # sensors, LED, policies, modes
    LED_SET = 400
    LED_GET = 401
    ACCEL_READ = 402
    TAP_SENSITIVITY = 403
    WAIT_TAP = 404
    RTC_DRIFT = 405
    CPU_TEMP = 406
    AUX_TEMP = 407
    BATTERY_VOLT = 408
    PERIMETER_SET_ACTIONS = 410
    PERIMETER_SET_PARAMS = 411
    PERIMETER_INFO = 412
    PERIMETER_CLEAR = 413
    WAIT_PERIMETER = 414
    BATTERY_POLICY = 415
    TEMP_POLICY = 416
    LOCK_BINDING = 417
    BINDING_INFO = 418
    POLICY_GET = 419
    SIM_SET = 430
    # verified boot
    BOOT_SET_POLICY = 500
    BOOT_ADD_FILE = 501
    BOOT_REMOVE_FILE = 502
    BOOT_MANIFEST = 503
    BOOT_VERIFY = 504
    BOOT_REMEDIATE = 505
    BOOT_SIGN_ALL = 506
    BOOT_CHALLENGE = 507
    BOOT_AUTHORIZE = 508
    BOOT_CONFIRM = 509
    BOOT_SETUP = 510
    # audit log and metrics
    LOG_READ = 600
    LOG_CHECKPOINT = 601
    LOG_PUBLIC_KEY = 602
    LOG_HOST_EVENT = 603
    METRICS = 604
    # self test
    SELFTEST_RUN = 700
    SELFTEST_REPORT = 701
    FAULT_INJECT = 702
    # provisioning
    PROVISION_LUKS_KEY = 800
    CERT_STORE = 801
    CERT_GET = 802
    CERT_REMOVE = 803
    CERT_LIST = 804
    CERT_ROOT_STORE = 805
    CERT_ROOT_GET = 806
    CERT_ROOT_REMOVE = 807
    CERT_ROOT_LIST = 808
    CERT_VERIFY = 809
    FILE_PUT = 820
    FILE_GET = 821
    FILE_REMOVE = 822
    FILE_LIST = 823
    # access control
    ACCESS_WHOAMI = 900
    ACCESS_LOGIN = 901
    ACCESS_LOGOUT = 902
    ACCESS_SET_PIN = 903
    ACCESS_RESET_PIN = 904
    ACCESS_SET_ROLE = 905
    ACCESS_LIST = 906
    ACCESS_GRANT_KEY = 907
    ACCESS_REVOKE_KEY = 908
    DISK_NEW_KEY = 810
    DISK_UNLOCK = 811
    # channel clients (the 900s: access)
    CLIENTS_ENROLL = 950
    CLIENTS_LIST = 951
    CLIENTS_REVOKE = 952


@unique
class ErrorCode(IntEnum):
    """Error codes carried in error replies; :mod:`softscm.wire.errors` maps each to a class."""

    GENERIC = 1
    PROTOCOL = 2
    UNSUPPORTED_VERSION = 3
    UNKNOWN_COMMAND = 4
    INVALID_ARGUMENT = 5
    INVALID_SLOT = 6
    SLOT_EMPTY = 7
    NO_FREE_SLOT = 8
    KEY_TYPE_MISMATCH = 9
    EXPORT_DISABLED = 10
    INVALID_KEY = 11
    INVALID_SIGNATURE = 12
    AUTHENTICATION_FAILED = 13
    MODULE_STATE = 14
    DESTROYED = 15
    BINDING = 16
    STORE_CORRUPT = 17
    STORAGE_FULL = 18
    TIMEOUT = 19
    POLICY_FROZEN = 20
    NOT_PERMITTED = 21
    WALLET = 22
    MNEMONIC = 23
    SESSION = 24
    SELF_TEST_FAILED = 25
    BOOT_VERIFICATION = 26
    LOG_INTEGRITY = 27
    BUSY = 28
    TRANSPORT = 29
    INTERNAL = 30
    SENSOR = 31
    STORE_ROLLBACK = 32
    LIMIT_EXCEEDED = 33
    STORAGE_UNAVAILABLE = 34
    CERTIFICATE = 48
    NOT_FOUND = 49
    PROVISIONING = 50
    ACCESS_DENIED = 51
    PIN_LOCKED = 52
    LUKS = 42
    LUKS_KEY = 43
    ENROLMENT = 44
    BOOT_MANIFEST = 38
    BOOT_ROLLBACK = 39
    BOOT_HELD = 40
    BOOT_AUTHORIZATION = 41
    CHANNEL = 45
    CHANNEL_REQUIRED = 46
    CLIENT_KEY = 47
    REQUEST_TOO_LARGE = 35
    STATE_DIR = 36
    ENDPOINT_IN_USE = 37


@unique
class KeyType(IntEnum):
    """Key types, numbered as the `zymkey` API numbers them."""

    NISTP256 = 0
    SECP256K1 = 1
    ED25519 = 2
    X25519 = 3

    @classmethod
    def parse(cls, value: KeyType | str | int) -> KeyType:
        """Accept an enum, its number or a name (``"nistp256"``, ``"secp256r1"``, ``"p256"``...).

        :raises ValueError: for an unknown name or number.
        """
        if isinstance(value, KeyType):
            return value
        if isinstance(value, int):
            return cls(value)
        name = value.strip().lower().replace("-", "").replace("_", "")
        try:
            return _KEY_TYPE_NAMES[name]
        except KeyError:
            raise ValueError(f"unknown key type {value!r}") from None

    @property
    def label(self) -> str:
        return _KEY_TYPE_LABELS[self]

    @property
    def can_sign(self) -> bool:
        return self is not KeyType.X25519

    @property
    def can_ecdh(self) -> bool:
        return self is not KeyType.ED25519

    @property
    def public_key_size(self) -> int:
        return 64 if self in (KeyType.NISTP256, KeyType.SECP256K1) else 32


_KEY_TYPE_NAMES = {
    "nistp256": KeyType.NISTP256,
    "secp256r1": KeyType.NISTP256,
    "p256": KeyType.NISTP256,
    "prime256v1": KeyType.NISTP256,
    "nist256p1": KeyType.NISTP256,
    "secp256k1": KeyType.SECP256K1,
    "ed25519": KeyType.ED25519,
    "x25519": KeyType.X25519,
}
_KEY_TYPE_LABELS = {
    KeyType.NISTP256: "nistp256",
    KeyType.SECP256K1: "secp256k1",
    KeyType.ED25519: "ed25519",
    KeyType.X25519: "x25519",
}


@unique
class Bip39Language(IntEnum):
    """The official BIP39 word lists (the `mnemonic` package's files of the same names)."""

    ENGLISH = 0
    JAPANESE = 1
    KOREAN = 2
    SPANISH = 3
    CHINESE_SIMPLIFIED = 4
    CHINESE_TRADITIONAL = 5
    FRENCH = 6
    ITALIAN = 7
    CZECH = 8
    PORTUGUESE = 9

    @classmethod
    def parse(cls, value: Bip39Language | str | int) -> Bip39Language:
        """Accept an enum, its number or a name (``"french"``, ``"chinese-simplified"``, ``"Japanese"``).

        :raises ValueError: for an unknown name or number.
        """
        if isinstance(value, Bip39Language):
            return value
        if isinstance(value, int):
            return cls(value)
        try:
            return cls[value.strip().upper().replace("-", "_").replace(" ", "_")]
        except KeyError:
            raise ValueError(f"unknown BIP39 word list {value!r}") from None

    @property
    def label(self) -> str:
        """The word list's name: ``"english"``, ``"chinese_simplified"``..."""
        return self.name.lower()


@unique
class KdfType(IntEnum):
    """Key derivation applied to an ECDH shared secret (numbers as in `zymkey.kdfFuncTypes`)."""

    NONE = 0
    HKDF_SHA256 = 1
    HKDF_SHA512 = 2
    PBKDF2_SHA256 = 3
    PBKDF2_SHA512 = 4

    @classmethod
    def parse(cls, value: KdfType | str | int) -> KdfType:
        """Accept an enum, its number or a name (``"hkdf-sha256"``, ``"rfc5869-sha256"``...).

        :raises ValueError: for an unknown name or number.
        """
        if isinstance(value, KdfType):
            return value
        if isinstance(value, int):
            return cls(value)
        name = value.strip().lower().replace("_", "-").replace("rfc5869", "hkdf")
        for member in cls:
            if member.name.lower().replace("_", "-") == name:
                return member
        raise ValueError(f"unknown KDF {value!r}")


@unique
class LockKey(IntEnum):
    """Which key a lock/unlock blob is encrypted under."""

    MODULE = 0  # bound to this module ("zymkey")
    CLOUD = 1  # a shared key a backend may also hold ("cloud")


@unique
class Role(IntEnum):
    """What a caller may do: nothing, use the keys granted to it and read, or administer."""

    NONE = 0
    USER = 1
    ADMIN = 2


@unique
class ModuleState(IntEnum):
    STARTING = 0
    SELF_TEST = 1
    READY = 2
    HOLD = 3
    ERROR = 4
    DESTROYED = 5


@unique
class Mode(IntEnum):
    DEVELOPMENT = 0
    PRODUCTION = 1


@unique
class Event(IntEnum):
    """Typed events: audit log entries and the event stream share this numbering."""

    MODULE_START = 1
    MODULE_STOP = 2
    STATE_CHANGE = 3
    MODE_CHANGE = 4
    BINDING_CHANGE = 5
    KEY_GENERATED = 10
    KEY_REMOVED = 11
    KEY_IMPORTED = 12
    EXPORT_DISABLED = 13
    FOREIGN_KEY_STORED = 14
    WALLET_CREATED = 15
    WALLET_REMOVED = 16
    TAMPER = 20
    TAMPER_CLEARED = 21
    TAP = 22
    TEMPERATURE = 23
    BATTERY = 24
    POWER = 25
    SELF_DESTRUCT = 26
    LED_CODE = 27
    POLICY_CHANGE = 28
    BOOT_VERIFY_FAILED = 30
    BOOT_HOLD = 31
    BOOT_REMEDIATION = 32
    BOOT_VERIFIED = 33
    BOOT_AUTHORIZED = 34
    BOOT_AUTH_REFUSED = 35
    BOOT_RECOVERY = 36
    BOOT_MANIFEST_CHANGE = 37
    BOOT_CONFIRMED = 38
    BOOT_VERIFY_PROGRESS = 39  # published to subscribers during a verification, not logged
    SELF_TEST = 40
    SELF_TEST_FAILED = 41
    INTEGRITY_FAILED = 42
    AUTH_FAILURE = 50
    STORE_CORRUPT = 51
    CLIENT_ENROLLED = 52
    CLIENT_REVOKED = 53
    CHANNEL_REFUSED = 54
    HOST_EVENT = 60
    LOG_CHECKPOINT = 61
    LOG_UNLOGGED = 62
    PROVISIONED = 70
    CERT_STORED = 75
    CERT_REMOVED = 76
    TRUST_ROOT_CHANGED = 77
    FILE_STORED = 78
    FILE_REMOVED = 79
    ACCESS_DENIED = 55
    ACCESS_CHANGE = 56
    LOGIN = 57
    DISK_KEY_CREATED = 71
    DISK_KEY_RELEASED = 72
    DISK_KEY_REFUSED = 73


@unique
class BootPolicy(IntEnum):
    """Supervised boot fault action (numbers as in `set_supervised_boot_policy`)."""

    NONE = 0
    SELF_DESTRUCT = 1
    HOLD = 2


@unique
class BootOutcome(IntEnum):
    """What a boot verification led to; the boot gate lets the boot go on unless HELD or
    DESTROYED."""

    VERIFIED = 0
    LOGGED = 1
    HELD = 2
    DESTROYED = 3
    ALLOWED_DEVELOPMENT = 4
    NOT_CONFIGURED = 5

    @property
    def boot_may_continue(self) -> bool:
        return self not in (BootOutcome.HELD, BootOutcome.DESTROYED)


@unique
class BootUnlistedPolicy(IntEnum):
    """What a file on the boot partition that the manifest does not list does to verification."""

    IGNORE = 0
    FAIL = 1


@unique
class BootFault(IntEnum):
    """Why boot verification failed for a file (or, with an empty path, for the manifest)."""

    MODIFIED = 1
    MISSING = 2
    UNLISTED = 3
    SIZE = 4
    BAD_SIGNATURE = 5
    ROLLBACK = 6


@unique
class BootAuthAction(IntEnum):
    """What a boot authorisation is for."""

    RELEASE_HOLD = 1
    RELEASE_SUSPENSION = 2


@unique
class BootAuthMethod(IntEnum):
    """How a boot authorisation is given."""

    TAP = 1
    SLIP39 = 2
    TOKEN = 3


@unique
class BatteryAction(IntEnum):
    NONE = 0
    SLEEP = 1
    SELF_DESTRUCT = 2


class PerimeterAction(IntFlag):
    NONE = 0
    NOTIFY = 1
    SELF_DESTRUCT = 2
