"""Code digest and the digest comparison plumbing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import softscm
from softscm.module.selftest.faults import FaultPlan
from softscm.module.selftest.integrity import (
    DigestMismatchError,
    compute_code_digest,
    digest_check,
    integrity_checks,
    verify_digest,
)
from softscm.wire.defs import Mode
from softscm.wire.errors import InvalidArgumentError, SelfTestError


@pytest.fixture
def package(tmp_path) -> Path:
    copy = tmp_path / "softscm"
    shutil.copytree(Path(softscm.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_copy_has_the_installed_package_s_digest(package):
    assert compute_code_digest(package) == compute_code_digest() and len(compute_code_digest()) == 32


@pytest.mark.parametrize("relative", ["module/crypto/keys.py", "module/selftest/kat_vectors.json", "py.typed"])
def test_one_changed_byte_changes_the_digest(package, relative):
    before = compute_code_digest(package)
    target = package / relative
    data = bytearray(target.read_bytes() or b"\x00")
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    assert compute_code_digest(package) != before


def test_added_renamed_or_removed_files_change_the_digest(package):
    before = compute_code_digest(package)
    extension = package / "module" / "crypto" / "aead.cpython-311-x86_64-linux-gnu.so"
    extension.write_bytes(b"")  # would shadow aead.py on import
    assert compute_code_digest(package) != before
    extension.unlink()
    assert compute_code_digest(package) == before
    (package / "embedded.py").rename(package / "embedded2.py")
    assert compute_code_digest(package) != before


def test_pycache_is_ignored(package):
    before = compute_code_digest(package)
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"cache")
    assert compute_code_digest(package) == before


def test_verify_digest_names_the_check_and_no_digest():
    recorded = bytes(range(32))
    verify_digest("keystore", recorded, recorded)
    with pytest.raises(DigestMismatchError) as caught:
        verify_digest("key_material", recorded, recorded[:-1] + b"\x00")
    assert isinstance(caught.value, SelfTestError) and caught.value.check == "key_material"
    assert "critical key material" in caught.value.message and recorded.hex() not in caught.value.message
    with pytest.raises(DigestMismatchError):
        verify_digest("code", b"", b"")  # nothing recorded never matches
    with pytest.raises(InvalidArgumentError):
        verify_digest("firmware", recorded, recorded)


def test_digest_check_compares_callables_and_honours_faults():
    digest = bytes(32)
    plan = FaultPlan()
    check = digest_check("code", lambda: digest, lambda: digest, plan)
    check()
    plan.add(Mode.DEVELOPMENT, True, integrity="code")
    with pytest.raises(DigestMismatchError, match="code digest"):
        check()
    with pytest.raises(DigestMismatchError):
        digest_check("keystore", lambda: None, lambda: digest)()
    with pytest.raises(InvalidArgumentError):
        digest_check("bios", lambda: digest, lambda: digest)


def test_integrity_checks_builds_named_checks():
    digests = {"code": b"a" * 32, "keystore": b"b" * 32, "key_material": b"c" * 32}
    checks = integrity_checks({k: (lambda v=v: v) for k, v in digests.items()},
                              {k: (lambda v=v: v) for k, v in digests.items()})
    assert list(checks) == ["code_digest", "keystore_digest", "key_material_digest"]
    for check in checks.values():
        check()
    with pytest.raises(InvalidArgumentError):
        integrity_checks({}, {"code": lambda: b""})
