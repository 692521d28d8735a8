"""Fixtures for the boot tests: real FAT images made with mkfs.vfat + mcopy, and real P-256 keys."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .helpers import P256Signer, boot_files, make_directory, make_image


@pytest.fixture(scope="session")
def template_image(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("boot-template")
    staging = root / "staging"
    staging.mkdir()
    return make_image(root / "boot.img", boot_files(), staging)


@pytest.fixture
def image(template_image, tmp_path) -> Path:
    """A fresh copy of the CM4 boot image for one test."""
    copy = tmp_path / "boot.img"
    shutil.copyfile(template_image, copy)
    return copy


@pytest.fixture
def boot_dir(tmp_path) -> Path:
    root = tmp_path / "bootdir"
    root.mkdir()
    return make_directory(root, boot_files())


@pytest.fixture
def signer() -> P256Signer:
    return P256Signer()
