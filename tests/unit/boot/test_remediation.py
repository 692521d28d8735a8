"""Golden copies, restore into a FAT image, and the tryboot recovery switch."""

from __future__ import annotations

import os

import pytest

from softscm.module.boot.manifest import BootManifest
from softscm.module.boot.partition import FatImagePartition
from softscm.module.boot.remediation import AUTOBOOT_FILE, GoldenStore, autoboot_config, restore, write_recovery
from softscm.module.boot.verify import current_entry, verify_partition
from softscm.module.crypto.aead import open_sealed, seal
from softscm.module.crypto.rng import system_rng
from softscm.wire.defs import DEFAULT_CM4_FILES, BootFault, BootUnlistedPolicy
from softscm.wire.errors import BootVerificationError, InvalidArgumentError

KEK = bytes(range(32))


def golden_store(tmp_path) -> GoldenStore:
    return GoldenStore(tmp_path / "golden", lambda label, data, rng: seal(KEK, data, label.encode(), rng),
                       lambda label, blob: open_sealed(KEK, blob, label.encode()))


def guarded(image, signer, golden):
    partition = FatImagePartition(image)
    entries = tuple(current_entry(partition, p) for p in DEFAULT_CM4_FILES)
    manifest = BootManifest(entries, 1, BootUnlistedPolicy.FAIL).signed(signer)
    golden.commit(golden.stage(partition, manifest.entries, system_rng))
    return partition, manifest


def test_golden_copies_are_sealed_owner_only_and_checked(image, signer, tmp_path):
    golden = golden_store(tmp_path)
    partition, manifest = guarded(image, signer, golden)
    assert os.stat(golden.directory).st_mode & 0o777 == 0o700
    files = list(golden.directory.iterdir())
    assert len(files) == 8 and all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    kernel = manifest.entry("kernel8.img")
    assert golden.get(kernel) == partition.read_file("kernel8.img")
    assert partition.read_file("config.txt") not in b"".join(f.read_bytes() for f in files)
    # a copy swapped for another file's copy fails authentication (the path is bound in)
    config = manifest.entry("config.txt")
    golden._file("config.txt").write_bytes(golden._file("cmdline.txt").read_bytes())
    with pytest.raises(BootVerificationError, match="authentication"):
        golden.get(config)
    golden.discard("bootcode.bin")
    with pytest.raises(BootVerificationError, match="no golden copy"):
        golden.get(manifest.entry("bootcode.bin"))


def test_restore_repairs_the_image_and_the_next_verification_passes(image, signer, tmp_path):
    golden = golden_store(tmp_path)
    partition, manifest = guarded(image, signer, golden)
    partition.write_file("kernel8.img", b"evil kernel")
    partition.remove_file("overlays/vc4-kms-v3d.dtbo")
    partition.write_file("ssh", b"")
    report = verify_partition(partition, manifest, signer.verifier)
    assert {f.reason for f in report.faults} == {BootFault.SIZE, BootFault.MISSING, BootFault.UNLISTED}
    result = restore(partition, manifest, report, golden, remove_unlisted=True)
    assert set(result.restored) == {"kernel8.img", "overlays/vc4-kms-v3d.dtbo"}
    assert result.removed == ("ssh",) and result.unrestorable == ()
    assert verify_partition(FatImagePartition(image), manifest, signer.verifier).ok


def test_a_file_without_a_golden_copy_is_named_unrestorable(image, signer, tmp_path):
    golden = golden_store(tmp_path)
    partition, manifest = guarded(image, signer, golden)
    golden.discard("config.txt")
    partition.write_file("config.txt", b"dtoverlay=evil\n")
    report = verify_partition(partition, manifest, signer.verifier)
    result = restore(partition, manifest, report, golden)
    assert result.unrestorable == ("config.txt",) and result.restored == ()


def test_recovery_fallback_writes_the_tryboot_configuration_into_the_image(image):
    partition = FatImagePartition(image)
    record = write_recovery(partition, recovery_partition=3, normal_partition=2)
    expected = b"[all]\ntryboot_a_b=1\nboot_partition=3\n[tryboot]\nboot_partition=2\n"
    assert FatImagePartition(image).read_file(AUTOBOOT_FILE) == expected == record.content
    assert record.previous_sha256 is None
    again = write_recovery(partition, recovery_partition=4, normal_partition=2)
    assert again.previous_sha256 == record.sha256
    for bad in ((0, 1), (64, 1), (2, 2)):
        with pytest.raises(InvalidArgumentError):
            autoboot_config(*bad)


def test_staged_copies_replace_the_old_ones_only_when_committed(image, signer, tmp_path):
    golden = golden_store(tmp_path)
    partition, manifest = guarded(image, signer, golden)
    kernel = manifest.entry("kernel8.img")
    partition.write_file("kernel8.img", b"new kernel")
    new_kernel = current_entry(partition, "kernel8.img")
    staged = golden.stage(partition, [new_kernel], system_rng)
    assert golden.get(kernel) != b"new kernel"  # the old copy is still the one in place
    assert [p.name.endswith(".staged") for p, _ in staged.files] == [True]
    golden.commit(staged)
    assert golden.get(new_kernel) == b"new kernel"
    assert not list(golden.directory.glob("*.staged"))


def test_an_abandoned_stage_leaves_nothing_and_the_old_copy_stays(image, signer, tmp_path):
    golden = golden_store(tmp_path)
    partition, manifest = guarded(image, signer, golden)
    config = manifest.entry("config.txt")
    partition.write_file("config.txt", b"dtoverlay=new\n")
    golden.abandon(golden.stage(partition, [current_entry(partition, "config.txt")], system_rng))
    assert not list(golden.directory.glob("*.staged"))
    assert golden.get(config) != b"dtoverlay=new\n"  # the old copy, authentic and still the listed file


def test_a_file_that_changed_since_it_was_hashed_is_not_staged(image, signer, tmp_path):
    golden = golden_store(tmp_path)
    partition, manifest = guarded(image, signer, golden)
    entry = current_entry(partition, "cmdline.txt")
    partition.write_file("cmdline.txt", b"init=/bin/sh\n")
    with pytest.raises(BootVerificationError, match="changed while it was being copied"):
        golden.stage(partition, [manifest.entry("config.txt"), entry], system_rng)
    assert not list(golden.directory.glob("*.staged"))  # the config.txt copy staged first went too


def test_staged_copies_a_crash_left_are_removed_when_the_store_opens(image, signer, tmp_path):
    golden = golden_store(tmp_path)
    partition, manifest = guarded(image, signer, golden)
    golden.stage(partition, [manifest.entry("config.txt")], system_rng)  # never committed: the module died
    assert list(golden.directory.glob("*.staged"))
    reopened = golden_store(tmp_path)
    assert not list(reopened.directory.glob("*.staged"))
    assert reopened.get(manifest.entry("config.txt")) == partition.read_file("config.txt")
