"""Verification on real FAT images and directories: each kind of fault is named."""

from __future__ import annotations

import subprocess

import pytest

from softscm.module.boot.manifest import BootManifest
from softscm.module.boot.partition import DirectoryPartition, FatImagePartition, mtools_env
from softscm.module.boot.verify import FileFault, ThrottledProgress, check_rollback, current_entry, verify_partition
from softscm.wire.defs import DEFAULT_CM4_FILES, BootFault, BootUnlistedPolicy
from softscm.wire.errors import BootManifestError, BootRollbackError, BootVerificationError

from .helpers import P256Signer, boot_files


def signed_manifest(partition, signer, *, version=3, unlisted=BootUnlistedPolicy.FAIL) -> BootManifest:
    entries = tuple(current_entry(partition, p) for p in DEFAULT_CM4_FILES)
    return BootManifest(entries, version, unlisted).signed(signer)


def flip_byte(image, path: str, offset: int, tmp_path) -> None:
    """Change one byte of ``path`` inside the image (read out, change, write back with mcopy)."""
    env = mtools_env()
    data = bytearray(subprocess.run(["mcopy", "-i", str(image), f"::/{path}", "-"], check=True,
                                    capture_output=True, env=env).stdout)
    data[offset] ^= 0x01
    staged = tmp_path / "staged"
    staged.write_bytes(bytes(data))
    subprocess.run(["mcopy", "-o", "-i", str(image), str(staged), f"::/{path}"], check=True, capture_output=True,
                   env=env)


def test_a_clean_image_passes_with_progress(image, signer):
    partition = FatImagePartition(image)
    manifest = signed_manifest(partition, signer)
    seen = []
    report = verify_partition(partition, manifest, signer.verifier, minimum_version=3, workers=2,
                              progress=lambda done, total: seen.append((done, total)))
    assert report.ok and report.files_checked == 8
    assert report.bytes_hashed == sum(len(d) for d in boot_files().values())
    assert seen[0] == (0, report.bytes_hashed) and seen[-1] == (report.bytes_hashed, report.bytes_hashed)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    report.raise_for_faults()


@pytest.mark.parametrize("path", DEFAULT_CM4_FILES)
def test_one_changed_byte_in_any_listed_file_is_named(image, signer, tmp_path, path):
    partition = FatImagePartition(image)
    manifest = signed_manifest(partition, signer)
    flip_byte(image, path, len(boot_files()[path]) // 2, tmp_path)
    report = verify_partition(partition, manifest, signer.verifier)
    assert report.faults == (FileFault(path, BootFault.MODIFIED),)
    with pytest.raises(BootVerificationError, match=path.replace(".", r"\.")):
        report.raise_for_faults()


def test_removed_added_and_resized_files(image, signer):
    partition = FatImagePartition(image)
    manifest = signed_manifest(partition, signer)
    partition.remove_file("start4.elf")
    partition.write_file("cmdline.txt", b"init=/bin/sh\n")
    partition.write_file("overlays/evil.dtbo", b"\x00")
    report = verify_partition(partition, manifest, signer.verifier)
    assert set(report.faults) == {FileFault("start4.elf", BootFault.MISSING),
                                  FileFault("cmdline.txt", BootFault.SIZE),
                                  FileFault("overlays/evil.dtbo", BootFault.UNLISTED)}
    assert "overlays/evil.dtbo: unlisted" in report.describe()


def test_unlisted_files_are_ignored_under_the_lenient_policy(boot_dir, signer):
    partition = DirectoryPartition(boot_dir)
    manifest = signed_manifest(partition, signer, unlisted=BootUnlistedPolicy.IGNORE)
    (boot_dir / "README.txt").write_bytes(b"hello")
    assert verify_partition(partition, manifest, signer.verifier).ok
    strict = signed_manifest(partition, signer, unlisted=BootUnlistedPolicy.FAIL)
    assert verify_partition(partition, strict, signer.verifier).faults == (FileFault("README.txt", BootFault.UNLISTED),)


def test_a_manifest_signed_by_another_key_fails_before_hashing(image, signer):
    partition = FatImagePartition(image)
    forged = signed_manifest(partition, P256Signer())
    report = verify_partition(partition, forged, signer.verifier)
    assert report.faults == (FileFault("", BootFault.BAD_SIGNATURE),) and report.bytes_hashed == 0
    with pytest.raises(BootManifestError):
        report.raise_for_faults()


def test_a_lower_security_version_is_a_rollback(image, signer):
    partition = FatImagePartition(image)
    old = signed_manifest(partition, signer, version=2)
    report = verify_partition(partition, old, signer.verifier, minimum_version=3)
    assert report.faults == (FileFault("", BootFault.ROLLBACK),)
    with pytest.raises(BootRollbackError):
        report.raise_for_faults()
    with pytest.raises(BootRollbackError):
        check_rollback(old, 3)
    check_rollback(old, 2)


def test_directory_and_image_give_the_same_digests(image, boot_dir, signer):
    from_image = signed_manifest(FatImagePartition(image), signer)
    from_dir = signed_manifest(DirectoryPartition(boot_dir), signer)
    assert from_image.entries == from_dir.entries
    assert verify_partition(DirectoryPartition(boot_dir), from_image, signer.verifier, workers=1).ok


def test_progress_is_throttled_but_the_first_and_last_reports_pass():
    seen, now = [], [0.0]
    throttled = ThrottledProgress(lambda done, total: seen.append(done), interval=0.1, clock=lambda: now[0])
    for done in range(0, 101, 5):
        throttled(done, 100)
        now[0] += 0.03
    assert seen[0] == 0 and seen[-1] == 100 and len(seen) < 10
