"""Supervised (verified) boot: the manifest, verification, remediation, authorisation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from ..defs import BOOT_SIGNER_SLOT, BootAuthAction, BootAuthMethod, BootFault, BootOutcome, BootUnlistedPolicy, Command
from .base import Done, MaxLen, Message, Range, Request, command

Path = Annotated[str, MaxLen(4096)]
BootFile = Annotated[str, MaxLen(255)]
FactorySlot = Annotated[int, Range(0, 15)]
PartitionNumber = Annotated[int, Range(1, 63)]


@dataclass(frozen=True)
class Partition(Message):
    """The boot partition: a mounted ``directory`` or a FAT ``image`` (file or block device, the
    partition at byte ``offset``). Neither: the module's configured boot partition. The module
    serves only partitions it was configured with (``scmd --boot-partition``)."""

    directory: Path | None = None
    image: Path | None = None
    offset: Annotated[int, Range(0, 2**48)] = 0


@dataclass(frozen=True)
class BootFileEntry(Message):
    path: str
    size: int
    sha256: bytes


@dataclass(frozen=True)
class Manifest(Message):
    """The stored manifest (empty, version 0, if none is signed yet), the lowest security version
    the module accepts and whether the boot is held."""

    files: tuple[BootFileEntry, ...]
    security_version: int
    unlisted: BootUnlistedPolicy
    signer_slot: int
    minimum_version: int
    held: bool
    signed: bool

    @property
    def listing(self) -> str:
        """The zymkey ``get_supervised_boot_file_manifest`` form: whitespace-separated paths."""
        return " ".join(f.path for f in self.files)


@command(Command.BOOT_MANIFEST, Manifest)
@dataclass(frozen=True)
class BootManifestRequest(Request[Manifest]):
    pass


@command(Command.BOOT_ADD_FILE, BootFileEntry)
@dataclass(frozen=True)
class BootAddFileRequest(Request[BootFileEntry]):
    """Guard ``path`` (relative to the partition) with its current contents; re-sign with ``slot``."""

    path: BootFile
    slot: FactorySlot = BOOT_SIGNER_SLOT
    partition: Partition = Partition()


@command(Command.BOOT_REMOVE_FILE, Done)
@dataclass(frozen=True)
class BootRemoveFileRequest(Request[Done]):
    path: BootFile


@command(Command.BOOT_SIGN_ALL, Manifest)
@dataclass(frozen=True)
class BootSignAllRequest(Request[Manifest]):
    """Sign ``paths`` (default: every file on the partition) as the new manifest."""

    partition: Partition = Partition()
    paths: tuple[BootFile, ...] | None = None
    unlisted: BootUnlistedPolicy | None = None
    security_version: Annotated[int, Range(0, 2**63 - 1)] | None = None
    slot: FactorySlot | None = None


@dataclass(frozen=True)
class Fault(Message):
    path: str
    reason: BootFault


@dataclass(frozen=True)
class Verification(Message):
    """What the module decided, and the faults it found."""

    outcome: BootOutcome
    faults: tuple[Fault, ...] = ()
    files_checked: int = 0
    bytes_hashed: int = 0
    security_version: int = 0

    @property
    def ok(self) -> bool:
        return not self.faults


@command(Command.BOOT_VERIFY, Verification)
@dataclass(frozen=True)
class BootVerifyRequest(Request[Verification]):
    partition: Partition = Partition()


@dataclass(frozen=True)
class Remediation(Message):
    restored: tuple[str, ...]
    removed: tuple[str, ...]
    unrestorable: tuple[str, ...]
    ok: bool
    faults: tuple[Fault, ...]
    recovery_partition: int | None = None


@command(Command.BOOT_REMEDIATE, Remediation)
@dataclass(frozen=True)
class BootRemediateRequest(Request[Remediation]):
    """Restore from golden copies and verify again; if that still fails and ``recovery_partition``
    is given, switch the next boot to it (``autoboot.txt``)."""

    partition: Partition = Partition()
    recovery_partition: PartitionNumber | None = None
    normal_partition: PartitionNumber = 1
    remove_unlisted: bool = False


@dataclass(frozen=True)
class Challenge(Message):
    challenge: bytes
    expires: float
    serial: str
    action: BootAuthAction


@command(Command.BOOT_CHALLENGE, Challenge)
@dataclass(frozen=True)
class BootChallengeRequest(Request[Challenge]):
    action: BootAuthAction = BootAuthAction.RELEASE_HOLD


@dataclass(frozen=True)
class Authorized(Message):
    action: BootAuthAction
    held: bool


@command(Command.BOOT_AUTHORIZE, Authorized)
@dataclass(frozen=True)
class BootAuthorizeRequest(Request[Authorized]):
    """``method`` tap (the module waits up to ``timeout_ms`` for the code), slip39 (``shares``,
    ``passphrase``) or token (``token``)."""

    method: BootAuthMethod
    action: BootAuthAction = BootAuthAction.RELEASE_HOLD
    token: Annotated[bytes, MaxLen(4096)] | None = None
    shares: Annotated[tuple[Annotated[str, MaxLen(1024)], ...], MaxLen(256)] | None = None
    passphrase: Annotated[bytes, MaxLen(1024)] = b""
    timeout_ms: Annotated[int, Range(1, 600_000)] = 60_000


@dataclass(frozen=True)
class MinimumVersion(Message):
    minimum_version: int


@command(Command.BOOT_CONFIRM, MinimumVersion)
@dataclass(frozen=True)
class BootConfirmRequest(Request[MinimumVersion]):
    """The boot verified in this run is good: raise the accepted minimum security version."""


@dataclass(frozen=True)
class AdminShares(Message):
    """SLIP-39 admin shares, by group (empty unless new ones were asked for)."""

    groups: tuple[tuple[str, ...], ...] = ()


@command(Command.BOOT_SETUP, AdminShares)
@dataclass(frozen=True)
class BootSetupRequest(Request[AdminShares]):
    """Authorisation and fault settings: the tap code, new SLIP-39 admin shares
    (``group_threshold`` and ``(member_threshold, member_count)`` per group), whether
    self-destruct overwrites the guarded files."""

    tap_code: Annotated[tuple[Annotated[int, Range(1, 9)], ...], MaxLen(8)] | None = None
    admin_group_threshold: Annotated[int, Range(1, 16)] | None = None
    admin_groups: Annotated[tuple[tuple[Annotated[int, Range(1, 16)], Annotated[int, Range(1, 16)]], ...],
                            MaxLen(16)] | None = None
    admin_passphrase: Annotated[bytes, MaxLen(1024)] = b""
    wipe_files: bool | None = None

