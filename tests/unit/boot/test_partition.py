"""Boot partitions: a directory and a real FAT image (mtools) answer the same calls."""

from __future__ import annotations

import hashlib
import os
import subprocess

import pytest

from softscm.module.boot.partition import DirectoryPartition, FatImagePartition, mtools_env, open_partition
from softscm.wire.errors import BootVerificationError, InvalidArgumentError

from .helpers import boot_files


@pytest.fixture(params=["image", "directory"])
def partition(request, image, boot_dir):
    return FatImagePartition(image) if request.param == "image" else DirectoryPartition(boot_dir)


def test_lists_every_file_with_its_size_and_lowercase_names(partition):
    expected = {path: len(data) for path, data in boot_files().items()}
    assert {f.path: f.size for f in partition.files()} == expected


def test_streams_a_file_in_chunks(partition):
    data = boot_files()["kernel8.img"]
    digest, chunks = hashlib.sha256(), 0
    with partition.open("/kernel8.img") as stream:
        buffer = bytearray(64 * 1024)
        while n := stream.readinto(buffer):
            digest.update(buffer[:n])
            chunks += 1
    assert digest.digest() == hashlib.sha256(data).digest()
    assert chunks >= len(data) // len(buffer)


def test_write_creates_directories_and_replaces_files(partition):
    partition.write_file("extra/deep/new file.txt", b"fresh")
    partition.write_file("cmdline.txt", b"changed\n")
    assert partition.read_file("extra/deep/new file.txt") == b"fresh"
    assert partition.read_file("cmdline.txt") == b"changed\n"
    partition.remove_file("extra/deep/new file.txt")
    assert "extra/deep/new file.txt" not in {f.path for f in partition.files()}
    with pytest.raises(FileNotFoundError):
        partition.remove_file("nothing.here")
    with pytest.raises(FileNotFoundError):
        partition.read_file("nothing.here")


def test_directory_write_keeps_the_file_mode(boot_dir):
    os.chmod(boot_dir / "config.txt", 0o640)
    DirectoryPartition(boot_dir).write_file("config.txt", b"x")
    assert (boot_dir / "config.txt").stat().st_mode & 0o777 == 0o640


def test_a_partition_inside_a_disk_image_at_an_offset(image, tmp_path):
    disk = tmp_path / "disk.img"
    with open(disk, "wb") as out:
        out.write(b"\0" * 1024 * 1024)
        out.write(image.read_bytes())
    inner = FatImagePartition(disk, offset=1024 * 1024)
    assert inner.read_file("config.txt") == boot_files()["config.txt"]


def test_open_partition_takes_exactly_one_source(image, boot_dir, tmp_path):
    assert isinstance(open_partition(image=image), FatImagePartition)
    assert isinstance(open_partition(directory=boot_dir), DirectoryPartition)
    for kwargs in ({}, {"image": image, "directory": boot_dir}, {"directory": tmp_path / "absent"},
                   {"image": tmp_path / "absent.img"}):
        with pytest.raises(InvalidArgumentError):
            open_partition(**kwargs)


def test_a_file_that_is_not_fat_is_refused(tmp_path):
    junk = tmp_path / "junk.img"
    junk.write_bytes(b"\x55" * 65536)
    with pytest.raises(BootVerificationError):
        FatImagePartition(junk)


def test_image_names_keep_their_case_spaces_dots_and_unicode(tmp_path):
    image = tmp_path / "names.img"
    subprocess.run(["mkfs.vfat", "-C", str(image), "1024"], check=True, capture_output=True)
    partition = FatImagePartition(image)
    assert partition.files() == []  # mdir fails on an empty root; that is an empty listing
    names = ["README.TXT", "noext", "with  two spaces.txt", "a.b.c.d", "UPPERlower.Dat", ".hidden",
             "Ünïcode long name.txt", "d1/d2/deep.bin"]
    for index, name in enumerate(names):
        partition.write_file(name, bytes([index]) * (index + 1))
    subprocess.run(["mattrib", "-i", str(image), "+h", "+s", "::/noext"], check=True, env=mtools_env())
    assert {f.path: f.size for f in partition.files()} == {n: i + 1 for i, n in enumerate(names)}
    assert all(partition.read_file(n) == bytes([i]) * (i + 1) for i, n in enumerate(names))
