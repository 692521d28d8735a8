"""The boot manifest: which files of the boot partition are guarded, signed as one document.

A manifest lists files by path relative to the partition (POSIX, normalised, no ``..``), with
their size and SHA-256; it carries a monotonic security version (rollback protection), the policy
for files present on the partition but not listed, and the slot of the module key that signs it.
The signature is detached: it covers the canonical CBOR encoding of everything else
(:meth:`BootManifest.body_bytes`), and the signer sees only the SHA-256 of that body, so any key
type of the module (ECDSA over a digest, Ed25519 over a message) signs the same 32 bytes.

:meth:`BootManifest.parse` accepts only the canonical encoding, so one manifest has one byte form.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import cbor2
from cryptography.exceptions import InvalidSignature

from ...wire.defs import BOOT_SIGNER_SLOT, FACTORY_SLOTS, BootUnlistedPolicy
from ...wire.errors import BootManifestError, InvalidArgumentError, InvalidSignatureError

FORMAT_VERSION = 1
MAX_PATH = 255
MAX_ENTRIES = 4096
DIGEST_SIZE = 32

Signer = Callable[[bytes], bytes]
"""Signs the 32-byte SHA-256 of a document; returns the raw signature."""

Verifier = Callable[[bytes, bytes], None]
"""``verifier(digest, signature)`` returns if the signature is good and raises otherwise."""


_FORBIDDEN_CHARS = frozenset('"*:<>?\\|') | frozenset(chr(c) for c in range(32)) | {"\x7f"}


def normalise_path(path: str) -> str:
    """The canonical form of a boot-partition path: relative, POSIX separators, no ``.``/``..``
    segments, no empty segments. A leading ``/`` (as in ``/boot``-relative paths) is dropped.

    :raises InvalidArgumentError: for an empty path, a ``..`` segment, a character FAT cannot
        hold (``"*:<>?\\|`` or a control character) or a path over 255 bytes.
    """
    if not isinstance(path, str) or not path.strip("/"):
        raise InvalidArgumentError("a boot file path must name a file")
    if any(ch in _FORBIDDEN_CHARS for ch in path):
        raise InvalidArgumentError("a boot file path holds a character FAT cannot store")
    segments = [s for s in path.split("/") if s not in ("", ".")]
    if any(s == ".." for s in segments) or not segments:
        raise InvalidArgumentError("a boot file path may not leave the partition")
    normal = posixpath.join(*segments)
    if len(normal.encode()) > MAX_PATH:
        raise InvalidArgumentError("a boot file path is too long")
    return normal


@dataclass(frozen=True)
class ManifestEntry:
    """One guarded file."""

    path: str
    size: int
    sha256: bytes

    def __post_init__(self) -> None:
        if normalise_path(self.path) != self.path:
            raise InvalidArgumentError("a manifest path must be normalised")
        if not isinstance(self.size, int) or self.size < 0:
            raise InvalidArgumentError("a manifest file size must be a non-negative integer")
        if not isinstance(self.sha256, bytes) or len(self.sha256) != DIGEST_SIZE:
            raise InvalidArgumentError("a manifest digest must be 32 bytes")

    def to_list(self) -> list[object]:
        return [self.path, self.size, self.sha256]


@dataclass(frozen=True)
class BootManifest:
    """A signed boot manifest. Entries are kept sorted by path and unique.

    Build one unsigned, then :meth:`signed`; check one with :meth:`verify`.
    """

    entries: tuple[ManifestEntry, ...] = ()
    security_version: int = 1
    unlisted: BootUnlistedPolicy = BootUnlistedPolicy.IGNORE
    signer_slot: int = BOOT_SIGNER_SLOT
    signature: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.entries, key=lambda e: e.path))
        if len({e.path for e in ordered}) != len(ordered):
            raise InvalidArgumentError("a manifest lists each path once")
        if len(ordered) > MAX_ENTRIES:
            raise InvalidArgumentError(f"a manifest lists at most {MAX_ENTRIES} files")
        if not isinstance(self.security_version, int) or not 0 <= self.security_version < 2**63:
            raise InvalidArgumentError("the security version is a non-negative 63-bit integer")
        if not 0 <= self.signer_slot < FACTORY_SLOTS:
            raise InvalidArgumentError(f"the boot signer is a factory slot 0..{FACTORY_SLOTS - 1}")
        object.__setattr__(self, "entries", ordered)
        object.__setattr__(self, "unlisted", BootUnlistedPolicy(self.unlisted))

    # -- lookup and edits (each returns an unsigned manifest) --------------------------------

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(e.path for e in self.entries)

    @property
    def total_size(self) -> int:
        return sum(e.size for e in self.entries)

    def entry(self, path: str) -> ManifestEntry | None:
        """The entry for ``path`` (normalised first), or ``None``."""
        wanted = normalise_path(path)
        return next((e for e in self.entries if e.path == wanted), None)

    def with_entries(self, entries: Iterable[ManifestEntry]) -> BootManifest:
        """Add or replace entries by path; the result is unsigned."""
        merged = {e.path: e for e in self.entries}
        merged.update((e.path, e) for e in entries)
        return replace(self, entries=tuple(merged.values()), signature=b"")

    def without(self, path: str) -> BootManifest:
        """Drop ``path``; the result is unsigned.

        :raises InvalidArgumentError: if the manifest does not list it.
        """
        wanted = normalise_path(path)
        if self.entry(wanted) is None:
            raise InvalidArgumentError(f"the manifest does not list {wanted}")
        return replace(self, entries=tuple(e for e in self.entries if e.path != wanted), signature=b"")

    # -- encoding -----------------------------------------------------------------------------

    def _body(self) -> list[object]:
        return [FORMAT_VERSION, self.security_version, int(self.unlisted), self.signer_slot,
                [e.to_list() for e in self.entries]]

    def body_bytes(self) -> bytes:
        """The canonical CBOR of everything the signature covers."""
        return cbor2.dumps(self._body(), canonical=True)

    def digest(self) -> bytes:
        """SHA-256 of :meth:`body_bytes`: what the signer signs."""
        return hashlib.sha256(self.body_bytes()).digest()

    def to_bytes(self) -> bytes:
        """The canonical CBOR of the whole manifest: ``[body, signature]``."""
        return cbor2.dumps([self._body(), self.signature], canonical=True)

    @classmethod
    def parse(cls, data: bytes) -> BootManifest:
        """Decode :meth:`to_bytes` output.

        :raises BootManifestError: if ``data`` is not a canonical manifest of this format.
        """
        try:
            decoded = cbor2.loads(data)
            body, signature = decoded
            version, security_version, unlisted, signer_slot, raw_entries = body
            if version != FORMAT_VERSION or not isinstance(signature, bytes):
                raise ValueError("format")
            entries = tuple(ManifestEntry(p, s, d) for p, s, d in raw_entries)
            manifest = cls(entries, security_version, BootUnlistedPolicy(unlisted), signer_slot, signature)
        except (ValueError, TypeError, cbor2.CBORDecodeError, InvalidArgumentError):
            raise BootManifestError("the boot manifest is malformed") from None
        if manifest.to_bytes() != bytes(data):
            raise BootManifestError("the boot manifest is not in canonical form")
        return manifest

    # -- signature ----------------------------------------------------------------------------

    def signed(self, signer: Signer) -> BootManifest:
        """This manifest with a fresh signature from ``signer``."""
        return replace(self, signature=bytes(signer(self.digest())))

    def verify(self, verifier: Verifier) -> None:
        """Check the detached signature.

        :raises BootManifestError: if the manifest is unsigned or the signature does not verify.
        """
        if not self.signature:
            raise BootManifestError("the boot manifest is not signed")
        try:
            verifier(self.digest(), self.signature)
        except (InvalidSignatureError, InvalidSignature):
            raise BootManifestError("the boot manifest signature does not verify") from None

    def listing(self) -> str:
        """The zymkey ``get_supervised_boot_file_manifest`` form: whitespace-separated paths."""
        return " ".join(self.paths)
