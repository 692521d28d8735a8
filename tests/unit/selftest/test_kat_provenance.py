"""Every KAT value matches its official source: the vector files in tests/vectors/ (see
SOURCES.md) where there is one, and independent implementations (pycryptodome, python-ecdsa)
for the rest."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from Crypto.Hash import HMAC, SHA256, SHA512
from Crypto.Protocol.KDF import HKDF, PBKDF2
from cryptography.hazmat.primitives.asymmetric import ec
from ecdsa import SECP256k1, SigningKey
from ecdsa.util import sigencode_strings_canonize

from softscm.module.selftest.kat import TABLE
from tests.vectors.crypto_loaders import HERE, rfc6979_p256, rfc7748_x25519, rfc8032_ed25519, wycheproof

KATS = {k.name: k for k in TABLE}


def _wycheproof_case(name: str, tc_id: int):
    return next(c for c in wycheproof(name, name) if c.fields["tcId"] == tc_id)


def test_sha2_and_hmac_and_kdfs_agree_with_pycryptodome():
    assert SHA256.new(KATS["sha256"].input).digest() == KATS["sha256"].expected
    assert SHA512.new(KATS["sha512"].input).digest() == KATS["sha512"].expected
    h = KATS["hmac-sha256"]
    assert HMAC.new(h.params["key"], h.input, SHA256).digest() == h.expected
    p = KATS["pbkdf2-sha256"]
    assert PBKDF2(p.input, p.params["salt"], p.numbers["length"], p.numbers["iterations"],
                  hmac_hash_module=SHA256) == p.expected
    k = KATS["hkdf-sha256"]
    assert HKDF(k.input, k.numbers["length"], k.params["salt"], SHA256, context=k.params["info"]) == k.expected


def test_hkdf_is_rfc5869_case_1_as_wycheproof_carries_it():
    case, kat = _wycheproof_case("hkdf_sha256", 1), KATS["hkdf-sha256"]
    assert case.fields["comment"] == "RFC 5869"
    assert (case.hex("ikm"), case.hex("salt"), case.hex("info"), case.fields["size"], case.hex("okm")) == (
        kat.input, kat.params["salt"], kat.params["info"], kat.numbers["length"], kat.expected)


def test_p256_sign_and_verify_are_rfc6979_a25():
    private, signatures = rfc6979_p256()
    by = {(m, h): (r, s) for m, _k, r, s, h in signatures}
    sign, verify = KATS["ecdsa-p256-sign"], KATS["ecdsa-p256-verify"]
    assert int.from_bytes(sign.params["key"], "big") == private
    assert sign.input == b"sample" and verify.input == b"test"
    assert sign.expected == bytes.fromhex("".join(by[("sample", "SHA256")]))
    assert verify.expected == bytes.fromhex("".join(by[("test", "SHA256")]))
    public = ec.derive_private_key(private, ec.SECP256R1()).public_key().public_numbers()
    assert verify.params["public"] == public.x.to_bytes(32, "big") + public.y.to_bytes(32, "big")


def test_secp256k1_sign_agrees_with_python_ecdsa_rfc6979():
    kat = KATS["ecdsa-secp256k1-sign"]
    key = SigningKey.from_string(kat.params["key"], curve=SECP256k1)
    r, s = key.sign_digest_deterministic(hashlib.sha256(kat.input).digest(), hashfunc=hashlib.sha256,
                                         sigencode=sigencode_strings_canonize)  # low S, as libsecp256k1
    assert kat.input == b"Satoshi Nakamoto" and r + s == kat.expected


def test_secp256k1_verify_is_wycheproof_223():
    case, kat = _wycheproof_case("ecdsa_secp256k1_sha256_p1363", 223), KATS["ecdsa-secp256k1-verify"]
    assert case.result == "valid"
    assert (b"\x04" + kat.params["public"], kat.input, kat.expected) == (
        bytes.fromhex(case.group["publicKey"]["uncompressed"]), case.hex("msg"), case.hex("sig"))


def test_ed25519_is_rfc8032_tests_1_to_3():
    (sk1, _pk1, m1, s1), (sk2, _pk2, m2, s2), (_sk3, pk3, m3, s3) = rfc8032_ed25519()[:3]
    assert (KATS["ed25519-sign-1"].params["key"].hex(), KATS["ed25519-sign-1"].input.hex(),
            KATS["ed25519-sign-1"].expected.hex()) == (sk1, m1, s1)
    assert (KATS["ed25519-sign-2"].params["key"].hex(), KATS["ed25519-sign-2"].input.hex(),
            KATS["ed25519-sign-2"].expected.hex()) == (sk2, m2, s2)
    assert (KATS["ed25519-verify"].params["public"].hex(), KATS["ed25519-verify"].input.hex(),
            KATS["ed25519-verify"].expected.hex()) == (pk3, m3, s3)


def test_x25519_is_rfc7748_52_and_61():
    vectors = rfc7748_x25519()
    first = KATS["x25519-1"]
    assert (first.params["key"].hex(), first.input.hex(), first.expected.hex()) == vectors["pairs"][0]
    alice_bob, second = vectors["alice_bob"], KATS["x25519-2"]
    assert (second.params["key"].hex(), second.input.hex(), second.expected.hex()) == (
        alice_bob["tv1"], alice_bob["tv4"], alice_bob["tv5"])


def test_ecdh_p256_is_nist_cavs_count_0():
    text = (Path(HERE) / "KAS_ECC_CDH_PrimitiveTest.txt").read_text()
    block = text.split("[P-256]")[1].split("COUNT = 1")[0]
    values = dict(re.findall(r"^(\w+) = ([0-9a-f]+)$", block, re.MULTILINE))
    kat = KATS["ecdh-p256"]
    assert values["COUNT"] == "0"
    assert (kat.params["key"].hex(), kat.input.hex(), kat.expected.hex()) == (
        values["dIUT"], values["QCAVSx"] + values["QCAVSy"], values["ZIUT"])


def test_aes_gcm_are_wycheproof_91_and_101():
    enc, dec = KATS["aes-256-gcm-encrypt"], KATS["aes-256-gcm-decrypt"]
    case = _wycheproof_case("aes_gcm", 91)
    assert (case.hex("key"), case.hex("iv"), case.hex("aad"), case.hex("msg"), case.hex("ct") + case.hex("tag")) == (
        enc.params["key"], enc.params["iv"], enc.params["aad"], enc.input, enc.expected)
    case = _wycheproof_case("aes_gcm", 101)
    assert (case.hex("key"), case.hex("aad"), case.hex("iv") + case.hex("ct") + case.hex("tag"), case.hex("msg")) == (
        dec.params["key"], dec.params["aad"], dec.input, dec.expected)
    assert case.result == "valid" and case.group["keySize"] == 256
