"""The real disk and boot phases: LUKS custody (:mod:`softscm.host.luks`) and verified boot.

A unit's image is a directory holding its two partitions as files, copied from one baseline:

- ``boot.img``: the FAT boot partition. The unit's module must serve it (``scmd --boot-partition
  <image>/boot.img``): the module reads it to sign the manifest and keep its golden copies.
- ``root.img``: the LUKS2 root volume, opened by the baseline's default passphrase until the disk
  phase enrols it under the unit's module and re-encrypts it to a volume key of its own.

Both phases are idempotent: the enrolment continues from whatever its token says, and a manifest
already signed at the wanted version for the partition's contents is only verified again.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import cbor2

from ...wire.errors import ProvisioningError
from ..client import Client
from ..luks import ClientCustody, Cryptsetup, Enroller, EnrolState, ReencryptProgress, Step
from ..luks.token import TOKEN_TYPE
from .phases import BootResult, DiskResult, StepReport

UNIT_NAMESPACE = uuid.UUID("5a0f3c1e-9d7b-5c4a-8e21-6f0b2d9c7a14")  # a unit's volume UUID: uuid5(this, serial)
BOOT_IMAGE = "boot.img"
ROOT_IMAGE = "root.img"


def boot_partition(image: Path) -> Path:
    return Path(image) / BOOT_IMAGE


def root_volume(image: Path) -> Path:
    return Path(image) / ROOT_IMAGE


@dataclass(frozen=True)
class LuksDisk:
    """Give the unit's root volume a UUID of its own (copies of one baseline share one), enrol it
    under its module (a 64-byte key the module keeps, its locked blob in the volume's ``softscm``
    token, the default passphrase's key slots removed) and, with ``reencrypt``, re-encrypt it to a
    volume key of its own."""

    default_passphrase: bytes = field(repr=False)
    reencrypt: bool = True

    def check(self, image: Path) -> None:
        """The root volume is LUKS2, and unless this module's enrolment already began, the default
        passphrase opens it.

        :raises ProvisioningError: if the volume is missing. :raises LuksError: if it is not LUKS2.
        :raises LuksKeyError: if the default passphrase does not open it.
        """
        device = root_volume(image)
        if not device.is_file():
            raise ProvisioningError(f"unit image {image} has no {ROOT_IMAGE}")
        cryptsetup = Cryptsetup()
        if not cryptsetup.metadata(device).tokens_of_type(TOKEN_TYPE):
            cryptsetup.test_key(device, self.default_passphrase)

    def __call__(self, unit: Client, image: Path, report: StepReport) -> DiskResult:
        """:raises LuksKeyError, EnrolmentError, LuksError: from the enrolment."""
        device = root_volume(image)
        cryptsetup = Cryptsetup()
        if not cryptsetup.metadata(device).tokens_of_type(TOKEN_TYPE):  # before the enrolment binds the UUID
            own = str(uuid.uuid5(UNIT_NAMESPACE, unit.info().serial))
            if cryptsetup.uuid(device) != own:
                cryptsetup.set_uuid(device, own)
        def progress(done: ReencryptProgress) -> None:
            report(Step.REKEY_DATA.value, f"{done.done_bytes * 100 // max(done.total_bytes, 1)}%")

        enroller = Enroller(ClientCustody(unit), cryptsetup, on_step=lambda step: report(step.value, ""),
                            on_progress=progress)
        result = enroller.enroll(device, self.default_passphrase, reencrypt=self.reencrypt)
        wanted = EnrolState.REKEYED if self.reencrypt else EnrolState.ENROLLED
        if result.state is not wanted:
            raise ProvisioningError(f"{device} ended {result.state.value}, not {wanted.value}")
        token = cryptsetup.export_token(device, result.token_id)
        digest = hashlib.sha256(json.dumps(token, sort_keys=True, separators=(",", ":")).encode()).digest()
        keyslots = tuple(sorted(int(slot) for slot in cryptsetup.metadata(device).keyslots))
        return DiskResult(digest, keyslots)


@dataclass(frozen=True)
class SignedBootPartition:
    """Sign the manifest of every file on the unit's boot partition with the unit's boot signer
    slot at ``security_version`` (the module keeps golden copies), then have the module verify it."""

    security_version: int = 1

    def check(self, image: Path) -> None:
        """:raises ProvisioningError: if the image has no boot partition."""
        if not boot_partition(image).is_file():
            raise ProvisioningError(f"unit image {image} has no {BOOT_IMAGE}")

    def __call__(self, unit: Client, image: Path, report: StepReport) -> BootResult:
        """:raises ProvisioningError: if the partition does not verify against its manifest."""
        partition = str(boot_partition(image))
        manifest = unit.boot_manifest()
        current = manifest.signed and manifest.security_version == self.security_version
        if not (current and unit.boot_verify(image=partition).ok):  # not signed yet, or files changed since
            report("sign", f"version {self.security_version}")
            manifest = unit.boot_sign_all(image=partition, security_version=self.security_version)
            report("verify", f"{len(manifest.files)} files")
            verification = unit.boot_verify(image=partition)
            if not verification.ok:
                faults = ", ".join(f"{f.path} {f.reason.name}" for f in verification.faults)
                raise ProvisioningError(f"the boot partition of {image} does not verify: {faults}")
        listing = [[f.path, f.size, f.sha256] for f in manifest.files]
        digest = hashlib.sha256(cbor2.dumps([manifest.security_version, listing], canonical=True)).digest()
        return BootResult(manifest.security_version, digest)
