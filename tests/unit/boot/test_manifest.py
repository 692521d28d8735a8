"""The boot manifest: canonical CBOR round trip, path rules, detached signature."""

from __future__ import annotations

import dataclasses
import hashlib

import cbor2
import pytest

from softscm.module.boot.manifest import (
    BootManifest,
    ManifestEntry,
    normalise_path,
)
from softscm.wire.defs import DEFAULT_CM4_FILES, BootUnlistedPolicy
from softscm.wire.errors import BootManifestError, InvalidArgumentError

from .helpers import P256Signer


def _manifest() -> BootManifest:
    entries = tuple(ManifestEntry(p, len(p) * 10, hashlib.sha256(p.encode()).digest()) for p in DEFAULT_CM4_FILES)
    return BootManifest(entries, security_version=7, unlisted=BootUnlistedPolicy.FAIL)


def test_default_list_is_the_cm4_boot_files():
    assert "kernel8.img" in DEFAULT_CM4_FILES and "overlays/vc4-kms-v3d.dtbo" in DEFAULT_CM4_FILES
    assert len(DEFAULT_CM4_FILES) == 8


def test_round_trip_is_byte_exact_and_signed(signer):
    manifest = _manifest().signed(signer)
    data = manifest.to_bytes()
    parsed = BootManifest.parse(data)
    assert parsed == manifest and parsed.to_bytes() == data
    assert parsed.signer_slot == 15 and parsed.security_version == 7 and parsed.unlisted is BootUnlistedPolicy.FAIL
    parsed.verify(signer.verifier)


def test_entries_are_sorted_so_order_does_not_change_the_bytes():
    manifest = _manifest()
    reversed_ = BootManifest(tuple(reversed(manifest.entries)), 7, BootUnlistedPolicy.FAIL)
    assert reversed_.body_bytes() == manifest.body_bytes()
    assert reversed_.paths == tuple(sorted(DEFAULT_CM4_FILES))


@pytest.mark.parametrize("change", [
    lambda m: dataclasses.replace(m, security_version=8),
    lambda m: dataclasses.replace(m, unlisted=BootUnlistedPolicy.IGNORE),
    lambda m: dataclasses.replace(m, signer_slot=3),
    lambda m: dataclasses.replace(m, entries=m.entries[1:]),
    lambda m: dataclasses.replace(m, entries=(dataclasses.replace(m.entries[0], size=1),) + m.entries[1:]),
    lambda m: dataclasses.replace(m, entries=(dataclasses.replace(m.entries[0], sha256=bytes(32)),) + m.entries[1:]),
], ids=["version", "unlisted", "slot", "entry-dropped", "size", "digest"])
def test_any_change_breaks_the_signature(signer, change):
    signed = _manifest().signed(signer)
    tampered = change(signed)
    assert tampered.signature == signed.signature
    with pytest.raises(BootManifestError):
        tampered.verify(signer.verifier)


def test_another_key_does_not_verify(signer):
    other = P256Signer()
    with pytest.raises(BootManifestError):
        _manifest().signed(other).verify(signer.verifier)
    with pytest.raises(BootManifestError, match="not signed"):
        _manifest().verify(signer.verifier)


def test_parse_refuses_garbage_and_non_canonical_forms(signer):
    manifest = _manifest().signed(signer)
    body, signature = cbor2.loads(manifest.to_bytes())
    indefinite = b"\x9f" + manifest.to_bytes()[1:] + b"\xff"
    for data in (b"", b"\x00", cbor2.dumps([1, 2]), cbor2.dumps([[2, *body[1:]], signature]), indefinite,
                 manifest.to_bytes()[:-1]):
        with pytest.raises(BootManifestError):
            BootManifest.parse(data)


@pytest.mark.parametrize("given,expected", [
    ("/kernel8.img", "kernel8.img"), ("overlays//vc4-kms-v3d.dtbo", "overlays/vc4-kms-v3d.dtbo"),
    ("./a/./b", "a/b"), ("My File.TXT", "My File.TXT"),
])
def test_paths_are_normalised(given, expected):
    assert normalise_path(given) == expected


@pytest.mark.parametrize("bad", ["", "/", "../etc/passwd", "a/../../b", "a/..", "x*y", "c:d", "new\nline", "a" * 300])
def test_bad_paths_are_refused(bad):
    with pytest.raises(InvalidArgumentError):
        normalise_path(bad)


def test_entries_must_be_well_formed_and_unique():
    digest = bytes(32)
    with pytest.raises(InvalidArgumentError):
        ManifestEntry("/abs", 1, digest)
    with pytest.raises(InvalidArgumentError):
        ManifestEntry("a", -1, digest)
    with pytest.raises(InvalidArgumentError):
        ManifestEntry("a", 1, b"short")
    with pytest.raises(InvalidArgumentError):
        BootManifest((ManifestEntry("a", 1, digest), ManifestEntry("a", 2, digest)))
    with pytest.raises(InvalidArgumentError):
        BootManifest(signer_slot=16)


def test_edits_return_unsigned_manifests(signer):
    signed = _manifest().signed(signer)
    updated = signed.with_entries([ManifestEntry("extra.txt", 3, bytes(32))])
    assert updated.signature == b"" and updated.entry("/extra.txt") is not None
    removed = signed.without("kernel8.img")
    assert "kernel8.img" not in removed.paths and removed.signature == b""
    with pytest.raises(InvalidArgumentError):
        removed.without("kernel8.img")
    assert signed.listing().split() == list(signed.paths)
