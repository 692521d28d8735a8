"""The station's phases, their results and the plug-in interfaces of the disk and boot phases.

A unit goes through the phases in :class:`Phase` order. Each phase is idempotent: run again
after an interruption it ends in the same place without doing anything twice that matters (no
second certificate, no second record). The disk and boot phases come from their own areas
(LUKS custody, verified boot) through :class:`DiskPhase` and :class:`BootPhase`; a station
without them records them as skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, unique
from pathlib import Path
from collections.abc import Callable
from typing import Any, Protocol

from ..client import Client


StepReport = Callable[[str, str], None]
"""How a phase tells the station (and its progress table) which step it is at: ``(step, detail)``."""


@unique
class Phase(IntEnum):
    """Provisioning phases, in the order they run."""

    CONFIGURE = 1  # factory keys present, serial/model read, RTC calibrated, boot files pushed
    DISK = 2  # the unit's disk image encrypted under a module-held LUKS key
    BOOT = 3  # the boot manifest for the unit's boot partition
    CERTIFICATE = 4  # CSR from the unit, issued by the station CA, stored back in the unit
    LOCK = 5  # production units: lock binding (one way)
    RECORD = 6  # the signed manufacturing record

    @property
    def label(self) -> str:
        return self.name.lower()


@unique
class Status(IntEnum):
    PENDING = 0
    RUNNING = 1
    DONE = 2
    SKIPPED = 3
    FAILED = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class DiskResult:
    """What the disk phase leaves: the digest of the module-held LUKS token and the LUKS keyslots
    in use on the image."""

    token_digest: bytes
    keyslots: tuple[int, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        return {"token_digest": self.token_digest, "keyslots": list(self.keyslots)}

    @classmethod
    def from_wire(cls, value: dict[str, Any]) -> DiskResult:
        return cls(bytes(value["token_digest"]), tuple(int(k) for k in value["keyslots"]))


@dataclass(frozen=True)
class BootResult:
    """What the boot phase leaves: the version and digest of the unit's signed boot manifest."""

    manifest_version: int
    manifest_digest: bytes

    def to_wire(self) -> dict[str, Any]:
        return {"manifest_version": self.manifest_version, "manifest_digest": self.manifest_digest}

    @classmethod
    def from_wire(cls, value: dict[str, Any]) -> BootResult:
        return cls(int(value["manifest_version"]), bytes(value["manifest_digest"]))


class DiskPhase(Protocol):
    """Encrypt the unit's disk image under a key the unit's module holds (idempotent: an image
    already done is recognised and its result returned). Raises a :class:`ScmError` on failure."""

    def check(self, image: Path) -> None:
        """Check the image before anything changes. :raises ProvisioningError: (or another
        :class:`ScmError`) if this phase cannot work on it."""
        ...

    def __call__(self, unit: Client, image: Path, report: StepReport) -> DiskResult:
        """Run the phase, telling ``report(step, detail)`` where it is."""
        ...


class BootPhase(Protocol):
    """Build, sign and install the boot manifest for the image's boot partition (idempotent)."""

    def check(self, image: Path) -> None:
        """As :meth:`DiskPhase.check`."""
        ...

    def __call__(self, unit: Client, image: Path, report: StepReport) -> BootResult: ...

