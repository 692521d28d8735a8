"""Remediation of a faulted boot partition: golden copies, restore, and the recovery fallback.

Golden copies are the module's own encrypted copies of the guarded files: one file per guarded
path under a private directory of the state dir, sealed by the ``seal``/``unseal`` callables the
module passes (its keystore's ``seal_secret``/``open_secret``: AES-256-GCM under the module KEK,
bound to the path), written owner-only and atomically. Copying is staged: reading, checking,
sealing and writing each copy to a staged file may run on a worker thread (with randomness drawn
beforehand), and the renames that put the copies in place come later, on the module's thread,
together with the manifest they belong to. A copy is checked against the manifest's digest when
it is read back, so a stale copy is never written to the partition.

The recovery fallback switches a Raspberry Pi (CM4/Pi 4 EEPROM bootloader) to another partition
with ``autoboot.txt`` in the first FAT partition::

    [all]
    tryboot_a_b=1
    boot_partition=<recovery>
    [tryboot]
    boot_partition=<normal>

``boot_partition`` in ``[all]`` is the partition booted from now on; with ``tryboot_a_b=1`` a
``reboot '0 tryboot'`` boots the ``[tryboot]`` partition once, so the normal system can be tried
again without rewriting the file.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ...wire.defs import BootFault
from ...wire.errors import BootVerificationError, InvalidArgumentError, ScmError
from ..crypto.aead import NONCE_SIZE
from ..crypto.rng import Rng
from ..store.atomic import ensure_private_dir, fsync_dir, write_synced
from .manifest import BootManifest, ManifestEntry, normalise_path
from .partition import BootPartition
from .verify import VerificationReport

Seal = Callable[[str, bytes, Rng], bytes]
"""``seal(label, plaintext, rng) -> blob``: authenticated encryption bound to ``label``, its nonce
drawn from ``rng`` (:data:`SEAL_RANDOMNESS` bytes)."""

SEAL_RANDOMNESS = NONCE_SIZE
"""The random bytes one golden copy's sealing draws."""

Unseal = Callable[[str, bytes], bytes]
"""``unseal(label, blob) -> plaintext``; raises if the blob or label do not match."""

AUTOBOOT_FILE = "autoboot.txt"
RESTORABLE = frozenset({BootFault.MODIFIED, BootFault.MISSING, BootFault.SIZE})


class GoldenStore:
    """Sealed copies of the guarded files, one per path, in an owner-only directory."""

    def __init__(self, directory: Path, seal: Seal, unseal: Unseal) -> None:
        self.directory = Path(directory)
        self._seal, self._unseal = seal, unseal
        self._batches = itertools.count()  # staged file names of concurrent requests never meet
        if self.directory.is_dir():  # staged copies a crash left behind (nothing is in flight yet)
            for child in self.directory.glob(f"*{STAGED_SUFFIX}"):
                child.unlink()

    @staticmethod
    def _label(path: str) -> str:
        return f"boot golden:{path}"

    def _file(self, path: str) -> Path:
        return self.directory / (hashlib.sha256(normalise_path(path).encode()).hexdigest() + ".sealed")

    def stage(self, partition: BootPartition, entries: Sequence[ManifestEntry], rng: Rng) -> Staged:
        """Seal the current contents of ``entries`` into staged files, flushed to disk, for
        :meth:`commit` to put in place. Touches no module state: it may run on a worker thread,
        with ``rng`` serving randomness drawn beforehand.

        :raises BootVerificationError: if a file on the partition does not match its entry.
        :raises StorageFullError: if the disk is full.
        :raises FileNotFoundError: if a file is gone from the partition.
        (Nothing is left staged when it raises.)
        """
        ensure_private_dir(self.directory)
        staged = Staged(next(self._batches))
        try:
            for entry in entries:
                data = partition.read_file(entry.path)
                if len(data) != entry.size or hashlib.sha256(data).digest() != entry.sha256:
                    raise BootVerificationError(f"{entry.path} changed while it was being copied")
                final = self._file(entry.path)
                pending = final.with_name(f".{final.name}.{staged.batch}{STAGED_SUFFIX}")
                write_synced(pending, self._seal(self._label(normalise_path(entry.path)), data, rng))
                staged.files.append((pending, final))
        except BaseException:
            self.abandon(staged)
            raise
        return staged

    def commit(self, staged: Staged) -> None:
        """Put staged copies in place (each replaces the older copy of its path)."""
        for pending, final in staged.files:
            pending.replace(final)
        if staged.files:
            fsync_dir(self.directory)
        staged.files.clear()

    @staticmethod
    def abandon(staged: Staged) -> None:
        """Delete staged copies that will not be committed."""
        for pending, _ in staged.files:
            pending.unlink(missing_ok=True)
        staged.files.clear()

    def has(self, path: str) -> bool:
        return self._file(path).is_file()

    def get(self, entry: ManifestEntry) -> bytes:
        """The golden copy of ``entry``, checked against its size and digest.

        :raises BootVerificationError: if there is no copy, it fails authentication or it is not
            the file the manifest lists.
        """
        try:
            blob = self._file(entry.path).read_bytes()
        except FileNotFoundError:
            raise BootVerificationError(f"no golden copy of {entry.path}") from None
        try:
            data = self._unseal(self._label(entry.path), blob)
        except ScmError:
            raise BootVerificationError(f"the golden copy of {entry.path} failed authentication") from None
        if len(data) != entry.size or hashlib.sha256(data).digest() != entry.sha256:
            raise BootVerificationError(f"the golden copy of {entry.path} is not the listed file")
        return data

    def discard(self, path: str) -> None:
        """Forget the copy of ``path`` (no error if there is none)."""
        self._file(path).unlink(missing_ok=True)

    def prune(self, keep: Iterable[str]) -> None:
        """Delete every copy except those of ``keep`` (staged copies are left to their request)."""
        wanted = {self._file(p).name for p in keep}
        if not self.directory.is_dir():
            return
        for child in self.directory.iterdir():
            if child.suffix == ".sealed" and child.name not in wanted:
                child.unlink()


STAGED_SUFFIX = ".staged"


@dataclass
class Staged:
    """Golden copies written but not yet in place: (staged file, final file) pairs."""

    batch: int
    files: list[tuple[Path, Path]] = field(default_factory=list)


@dataclass(frozen=True)
class RestoreResult:
    """What :func:`restore` did."""

    restored: tuple[str, ...]
    removed: tuple[str, ...]
    unrestorable: tuple[str, ...]


def restore(partition: BootPartition, manifest: BootManifest, report: VerificationReport, golden: GoldenStore,
            *, remove_unlisted: bool = False) -> RestoreResult:
    """Write the golden copy of every modified, missing or resized file back to ``partition``;
    with ``remove_unlisted``, delete the files the strict policy refused. Files without a usable
    golden copy are named in ``unrestorable`` (nothing is raised for them).
    """
    restored, removed, unrestorable = [], [], []
    for fault in report.faults:
        if fault.reason in RESTORABLE:
            entry = manifest.entry(fault.path)
            try:
                if entry is None:
                    raise BootVerificationError(f"{fault.path} is not listed")
                partition.write_file(entry.path, golden.get(entry))
                restored.append(fault.path)
            except BootVerificationError:
                unrestorable.append(fault.path)
        elif fault.reason is BootFault.UNLISTED and remove_unlisted:
            partition.remove_file(fault.path)
            removed.append(fault.path)
    return RestoreResult(tuple(restored), tuple(removed), tuple(unrestorable))


@dataclass(frozen=True)
class RecoveryRecord:
    """The recovery switch written to a partition."""

    recovery_partition: int
    normal_partition: int
    content: bytes
    previous_sha256: bytes | None

    @property
    def sha256(self) -> bytes:
        return hashlib.sha256(self.content).digest()


def autoboot_config(recovery_partition: int, normal_partition: int) -> bytes:
    """The ``autoboot.txt`` that boots ``recovery_partition`` and keeps ``normal_partition`` as
    the one-time ``tryboot`` choice (partition numbers as the bootloader counts them, 1..63).

    :raises InvalidArgumentError: for a number outside 1..63 or two equal numbers.
    """
    for number in (recovery_partition, normal_partition):
        if not isinstance(number, int) or not 1 <= number <= 63:
            raise InvalidArgumentError("a Raspberry Pi boot partition number is 1..63")
    if recovery_partition == normal_partition:
        raise InvalidArgumentError("the recovery partition must differ from the normal one")
    return (f"[all]\ntryboot_a_b=1\nboot_partition={recovery_partition}\n"
            f"[tryboot]\nboot_partition={normal_partition}\n").encode()


def write_recovery(partition: BootPartition, recovery_partition: int, normal_partition: int = 1) -> RecoveryRecord:
    """Write ``autoboot.txt`` switching the next boot to ``recovery_partition``; the record keeps
    the digest of the file it replaced (if any) for the audit log.

    :raises InvalidArgumentError: for bad partition numbers.
    :raises BootVerificationError: if an image cannot be written.
    """
    content = autoboot_config(recovery_partition, normal_partition)
    try:
        previous: bytes | None = hashlib.sha256(partition.read_file(AUTOBOOT_FILE)).digest()
    except FileNotFoundError:
        previous = None
    partition.write_file(AUTOBOOT_FILE, content)
    return RecoveryRecord(recovery_partition, normal_partition, content, previous)
