"""Verify a boot partition against a signed manifest: parse → digest → verify.

The manifest's signature and security version are checked first (nothing is hashed for a
manifest that is forged or rolled back). Then every listed file present with the listed size is
hashed, in parallel on a thread pool (hashlib releases the GIL for large buffers, and image reads
run in their own ``mcopy`` processes), each through one reused 1 MiB buffer, so memory stays
constant whatever the partition holds. The result is a :class:`VerificationReport` naming each
failing file and why; :meth:`VerificationReport.raise_for_faults` turns a failed report into the
typed error.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ...wire.defs import BootFault, BootUnlistedPolicy
from ...wire.errors import BootManifestError, BootRollbackError, BootVerificationError
from .manifest import BootManifest, ManifestEntry, Verifier, normalise_path
from .partition import BootPartition

CHUNK_SIZE = 1 << 20

Progress = Callable[[int, int], None]
"""``progress(bytes_done, bytes_total)``; called from worker threads, never concurrently."""


@dataclass(frozen=True)
class FileFault:
    """One failure: ``path`` is empty for a fault of the manifest itself."""

    path: str
    reason: BootFault

    def __str__(self) -> str:
        return f"{self.path or 'manifest'}: {self.reason.name.lower().replace('_', ' ')}"


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of one verification."""

    security_version: int
    faults: tuple[FileFault, ...]
    files_checked: int
    bytes_hashed: int

    @property
    def ok(self) -> bool:
        return not self.faults

    @property
    def failed_paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.faults if f.path)

    def describe(self) -> str:
        """One line naming every fault (or saying all is well)."""
        if self.ok:
            return f"{self.files_checked} files verified"
        return "; ".join(str(f) for f in self.faults)

    def raise_for_faults(self) -> None:
        """:raises BootManifestError: for a bad signature; :raises BootRollbackError: for a
        rolled-back manifest; :raises BootVerificationError: naming the failing files otherwise."""
        reasons = {f.reason for f in self.faults}
        if BootFault.BAD_SIGNATURE in reasons:
            raise BootManifestError("the boot manifest signature does not verify")
        if BootFault.ROLLBACK in reasons:
            raise BootRollbackError("the boot manifest's security version is below the accepted minimum")
        if self.faults:
            raise BootVerificationError(f"boot verification failed: {self.describe()}")


class ThrottledProgress:
    """Pass progress on at most every ``interval`` seconds (and always the first and the last
    report), so a subscriber sees a steady trickle rather than one event per 1 MiB chunk."""

    def __init__(self, progress: Progress, interval: float = 0.1, clock: Callable[[], float] = time.monotonic) -> None:
        self._progress, self._interval, self._clock = progress, interval, clock
        self._next = float("-inf")

    def __call__(self, done: int, total: int) -> None:
        now = self._clock()
        if done >= total or now >= self._next:
            self._next = now + self._interval
            self._progress(done, total)


def check_rollback(manifest: BootManifest, minimum_version: int) -> None:
    """:raises BootRollbackError: if the manifest's security version is below ``minimum_version``."""
    if manifest.security_version < minimum_version:
        raise BootRollbackError(
            f"manifest security version {manifest.security_version} is below the accepted {minimum_version}")


def hash_file(partition: BootPartition, path: str, on_chunk: Callable[[int], None] | None = None) -> tuple[int, bytes]:
    """Stream ``path`` through SHA-256 in 1 MiB chunks; return (size, digest).

    :raises FileNotFoundError: if the file is missing.
    :raises BootVerificationError: if an image read fails.
    """
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    size = 0
    with partition.open(path) as stream:
        while True:
            n = stream.readinto(view)  # type: ignore[attr-defined]
            if not n:
                break
            digest.update(view[:n])
            size += n
            if on_chunk is not None:
                on_chunk(n)
    return size, digest.digest()


def current_entry(partition: BootPartition, path: str) -> ManifestEntry:
    """A manifest entry for the file as it is now on ``partition``.

    :raises FileNotFoundError: if there is no such file.
    """
    path = normalise_path(path)
    size, digest = hash_file(partition, path)
    return ManifestEntry(path, size, digest)



def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def verify_partition(
    partition: BootPartition,
    manifest: BootManifest,
    verifier: Verifier,
    *,
    minimum_version: int = 0,
    workers: int | None = None,
    progress: Progress | None = None,
) -> VerificationReport:
    """Verify ``partition`` against ``manifest``, signed by the key behind ``verifier``.

    :raises BootVerificationError: only if the partition cannot be read at all; every file or
        manifest fault is in the report instead.
    """
    try:
        manifest.verify(verifier)
    except BootManifestError:
        return VerificationReport(manifest.security_version, (FileFault("", BootFault.BAD_SIGNATURE),), 0, 0)
    try:
        check_rollback(manifest, minimum_version)
    except BootRollbackError:
        return VerificationReport(manifest.security_version, (FileFault("", BootFault.ROLLBACK),), 0, 0)

    present = {f.path: f.size for f in partition.files()}
    faults: list[FileFault] = []
    to_hash: list[ManifestEntry] = []
    for entry in manifest.entries:
        if entry.path not in present:
            faults.append(FileFault(entry.path, BootFault.MISSING))
        elif present[entry.path] != entry.size:
            faults.append(FileFault(entry.path, BootFault.SIZE))
        else:
            to_hash.append(entry)
    if manifest.unlisted is BootUnlistedPolicy.FAIL:
        listed = set(manifest.paths)
        faults.extend(FileFault(p, BootFault.UNLISTED) for p in sorted(present) if p not in listed)

    total = sum(e.size for e in to_hash)
    done = 0
    lock = threading.Lock()

    def advance(n: int) -> None:
        nonlocal done
        with lock:
            done += n
            if progress is not None:
                progress(done, total)

    def check(entry: ManifestEntry) -> FileFault | None:
        try:
            size, digest = hash_file(partition, entry.path, advance)
        except FileNotFoundError:
            return FileFault(entry.path, BootFault.MISSING)
        if size != entry.size:
            return FileFault(entry.path, BootFault.SIZE)
        if digest != entry.sha256:
            return FileFault(entry.path, BootFault.MODIFIED)
        return None

    if progress is not None:
        progress(0, total)
    largest_first = sorted(to_hash, key=lambda e: e.size, reverse=True)
    with ThreadPoolExecutor(max_workers=workers or default_workers(), thread_name_prefix="boot-verify") as pool:
        results = list(pool.map(check, largest_first))
    faults.extend(f for f in results if f is not None)
    faults.sort(key=lambda f: (f.path, f.reason))
    return VerificationReport(manifest.security_version, tuple(faults), len(to_hash), done)
