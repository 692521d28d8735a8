"""Supervised-boot calls (current and older names) and the manifest example tool, through a real
scmd serving a boot partition."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import zymkey
from tests.conftest import Daemon

from .conftest import URL_VARIABLE, return_code

TOOL = Path(__file__).resolve().parents[2] / "examples" / "zymkey" / "supervised_boot_manifest.py"


@pytest.fixture(scope="module")
def boot_scmd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    root = tmp_path_factory.mktemp("boot")
    partition = root / "boot"
    partition.mkdir()
    for name, data in {"kernel8.img": b"kernel " * 100, "config.txt": b"arm_64bit=1\n", "cmdline.txt": b"ro\n"}.items():
        (partition / name).write_bytes(data)
    daemon = Daemon(root / "scm", root / "scm.sock", ["--boot-partition", str(partition)], env=dict(os.environ)).start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def bzk(boot_scmd: Daemon) -> Iterator[zymkey.Zymkey]:
    saved = os.environ.get(URL_VARIABLE)
    os.environ[URL_VARIABLE] = boot_scmd.url
    try:
        client = zymkey.Zymkey()
    finally:
        os.environ.pop(URL_VARIABLE)
        if saved is not None:
            os.environ[URL_VARIABLE] = saved
    yield client
    client.close()


def _tool(daemon: Daemon, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, URL_VARIABLE: daemon.url})


def test_manifest_calls_and_older_names(bzk):
    assert bzk.add_or_update_supervised_boot_file("kernel8.img") is None
    bzk.add_or_update_supervised_boot_file(filepath="config.txt", slot=14)
    manifest = bzk.get_supervised_boot_file_manifest()
    assert isinstance(manifest, str) and manifest.split() == ["config.txt", "kernel8.img"]
    bzk.add_or_update_verified_boot_file(15, "cmdline.txt")  # older name: slot first
    assert bzk.get_verified_boot_file_manifest().split() == ["cmdline.txt", "config.txt", "kernel8.img"]
    bzk.remove_verified_boot_file("cmdline.txt")
    bzk.remove_supervised_boot_file(filepath="config.txt")
    assert bzk.get_supervised_boot_file_manifest().split() == ["kernel8.img"]
    for bad in (lambda: bzk.remove_supervised_boot_file("nope.txt"),
                lambda: bzk.add_or_update_supervised_boot_file("missing.bin"),
                lambda: bzk.add_or_update_supervised_boot_file("kernel8.img", 16)):
        with pytest.raises(AssertionError) as info:
            bad()
        assert return_code(info.value) == -errno.EINVAL


def test_manifest_tool_example(boot_scmd):
    added = _tool(boot_scmd, "add", "config.txt", "14")
    assert added.returncode == 0, added.stderr
    assert "added config.txt (signed with slot 14)" in added.stdout and "  config.txt" in added.stdout
    listed = _tool(boot_scmd, "list")
    assert "manifest: 2 file(s)" in listed.stdout and "  kernel8.img" in listed.stdout
    removed = _tool(boot_scmd, "remove", "config.txt")
    assert "removed config.txt" in removed.stdout and "manifest: 1 file(s)" in removed.stdout
    policy = _tool(boot_scmd, "policy", "2")
    assert "policy set to 2" in policy.stdout
    assert _tool(boot_scmd).returncode != 0  # usage
