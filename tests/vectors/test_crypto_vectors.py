"""Official crypto vectors. Signatures and ECDH go through the module API (an embedded module);
AES-GCM and HKDF test the module's crypto layer directly, because the module's lock picks its own
nonces.

Wycheproof "acceptable" cases may go either way; when the module accepts one, its output must
match the expected value.
"""

from __future__ import annotations

import hashlib

import pytest

import softscm
from softscm.module.crypto import derive_key, load_private, open_sealed, seal
from softscm.module.crypto.ecdh import MAX_SALT_INFO
from softscm.wire.defs import KdfType, KeyType
from softscm.wire.errors import (
    AuthenticationError,
    InvalidArgumentError,
    InvalidKeyError,
    InvalidSignatureError,
    ScmError,
)

from .crypto_loaders import Case, rfc6979_p256, rfc7748_x25519, rfc8032_ed25519, wycheproof

ECDSA = {
    "ecdsa_p256": (KeyType.NISTP256, wycheproof("ecdsa_secp256r1_sha256_p1363", "ecdsa_p256")),
    "ecdsa_k1": (KeyType.SECP256K1, wycheproof("ecdsa_secp256k1_sha256_p1363", "ecdsa_k1")),
}
ECDSA_CASES = [(kt, c) for kt, cases in ECDSA.values() for c in cases]
ED25519_CASES = wycheproof("ed25519", "ed25519")
X25519_CASES = wycheproof("x25519", "x25519")
ECDH_CASES = [(KeyType.NISTP256, c) for c in wycheproof("ecdh_secp256r1_ecpoint", "ecdh_p256_point")] + \
             [(KeyType.NISTP256, c) for c in wycheproof("ecdh_secp256r1", "ecdh_p256_asn")] + \
             [(KeyType.SECP256K1, c) for c in wycheproof("ecdh_secp256k1", "ecdh_k1_asn")]
AES_GCM = wycheproof("aes_gcm", "aes_gcm")
AES_GCM_CASES = [c for c in AES_GCM if len(c.hex("iv")) == 12 and len(c.hex("tag")) == 16]
HKDF_CASES = [(KdfType.HKDF_SHA256, c) for c in wycheproof("hkdf_sha256", "hkdf_sha256")] + \
             [(KdfType.HKDF_SHA512, c) for c in wycheproof("hkdf_sha512", "hkdf_sha512")]


@pytest.fixture(scope="module")
def scm(tmp_path_factory):
    with softscm.connect(f"embedded:{tmp_path_factory.mktemp('crypto-vectors') / 'state'}") as client:
        yield client


def _private32(hex_value: str) -> bytes:
    return int(hex_value, 16).to_bytes(32, "big")


def _expect(case: Case, accepted: bool, output_matches: bool = True) -> None:
    if case.result == "valid":
        assert accepted and output_matches, f"{case.id} ({case.fields.get('comment')}) was refused"
    elif case.result == "invalid":
        assert not accepted, f"{case.id} ({case.fields.get('comment')}) was accepted"
    else:
        assert not accepted or output_matches, f"{case.id}: accepted with a wrong output"


@pytest.mark.parametrize("key_type,case", ECDSA_CASES, ids=[c.id for _, c in ECDSA_CASES])
def test_wycheproof_ecdsa_p1363(scm, key_type, case):
    public = bytes.fromhex(case.group["publicKey"]["uncompressed"])
    digest = hashlib.sha256(case.hex("msg")).digest()
    try:
        scm.verify_public(key_type, public, digest, case.hex("sig"))
        accepted = True
    except (InvalidSignatureError, InvalidKeyError):
        accepted = False
    _expect(case, accepted)


@pytest.mark.parametrize("case", ED25519_CASES, ids=[c.id for c in ED25519_CASES])
def test_wycheproof_ed25519(scm, case):
    public = bytes.fromhex(case.group["publicKey"]["pk"])
    try:
        scm.verify_public(KeyType.ED25519, public, case.hex("msg"), case.hex("sig"))
        accepted = True
    except (InvalidSignatureError, InvalidKeyError):
        accepted = False
    _expect(case, accepted)


def _module_ecdh(scm, key_type: KeyType, private: bytes, peer: bytes) -> bytes | None:
    try:
        slot = scm.import_key(key_type, private)
    except InvalidKeyError:
        return None
    try:
        return scm.ecdh(slot, peer)
    except (InvalidKeyError, InvalidArgumentError):  # a bad point, or a key over the input size bound
        return None
    finally:
        scm.remove_key(slot)


@pytest.mark.parametrize("case", X25519_CASES, ids=[c.id for c in X25519_CASES])
def test_wycheproof_x25519(scm, case):
    shared = _module_ecdh(scm, KeyType.X25519, case.hex("private"), case.hex("public"))
    _expect(case, shared is not None, shared == case.hex("shared"))


@pytest.mark.parametrize("key_type,case", ECDH_CASES, ids=[c.id for _, c in ECDH_CASES])
def test_wycheproof_ecdh(scm, key_type, case):
    try:
        private = _private32(case.fields["private"])
    except OverflowError:
        private = None
    shared = None if private is None else _module_ecdh(scm, key_type, private, case.hex("public"))
    _expect(case, shared is not None, shared == case.hex("shared"))


@pytest.mark.parametrize("case", AES_GCM_CASES, ids=[c.id for c in AES_GCM_CASES])
def test_wycheproof_aes_gcm(case):
    key, iv, aad, msg = case.hex("key"), case.hex("iv"), case.hex("aad"), case.hex("msg")
    sealed = iv + case.hex("ct") + case.hex("tag")
    if case.result == "valid":
        assert seal(key, msg, aad, rng=lambda n: iv) == sealed
        assert open_sealed(key, sealed, aad) == msg
    else:
        with pytest.raises(AuthenticationError):
            open_sealed(key, sealed, aad)


def test_aes_gcm_case_selection():
    """Only 96-bit IVs and 128-bit tags are used by the module; the rest of the file is not run."""
    assert len(AES_GCM_CASES) > 150
    assert all(len(c.hex("iv")) != 12 or len(c.hex("tag")) != 16 for c in AES_GCM if c not in AES_GCM_CASES)


@pytest.mark.parametrize("kdf,case", HKDF_CASES, ids=[c.id for _, c in HKDF_CASES])
def test_wycheproof_hkdf(kdf, case):
    salt, info, size = case.hex("salt"), case.hex("info"), case.fields["size"]
    within_limits = len(salt) <= MAX_SALT_INFO and len(info) <= MAX_SALT_INFO
    try:
        okm = derive_key(kdf, case.hex("ikm"), salt=salt, info=info, length=size)
    except InvalidArgumentError:
        assert case.result == "invalid" or not within_limits, case.id
        return
    assert case.result == "valid" and okm == case.hex("okm"), case.id


RFC6979_KEY, RFC6979_SIGS = rfc6979_p256()
RFC6979_SHA256 = [s for s in RFC6979_SIGS if s[4] == "SHA256"]


@pytest.mark.parametrize("message,k,r,s,hash_name", RFC6979_SHA256, ids=[f"rfc6979-p256-{m}" for m, *_ in RFC6979_SHA256])
def test_rfc6979_deterministic_p256(scm, message, k, r, s, hash_name):
    slot = scm.import_key(KeyType.NISTP256, RFC6979_KEY.to_bytes(32, "big"))
    try:
        sig = scm.sign(slot, hashlib.sha256(message.encode()).digest(), deterministic=True)
        assert sig.raw == bytes.fromhex(r) + bytes.fromhex(s)
    finally:
        scm.remove_key(slot)


@pytest.mark.parametrize("secret,public,message,signature", rfc8032_ed25519(),
                         ids=[f"rfc8032-ed25519-{i}" for i in range(1, 5)])
def test_rfc8032_ed25519(scm, secret, public, message, signature):
    slot = scm.import_key(KeyType.ED25519, bytes.fromhex(secret))
    try:
        assert scm.get_public_key(slot).hex() == public
        assert scm.sign(slot, bytes.fromhex(message)).raw.hex() == signature
        scm.verify(slot, bytes.fromhex(message), bytes.fromhex(signature))
    finally:
        scm.remove_key(slot)


RFC7748 = rfc7748_x25519()


@pytest.mark.parametrize("scalar,u,output", RFC7748["pairs"], ids=["rfc7748-5.2-1", "rfc7748-5.2-2"])
def test_rfc7748_x25519_function(scm, scalar, u, output):
    assert _module_ecdh(scm, KeyType.X25519, bytes.fromhex(scalar), bytes.fromhex(u)).hex() == output


def test_rfc7748_x25519_iterations(scm):
    k = u = bytes.fromhex(RFC7748["iterations"]["k"])
    first = _module_ecdh(scm, KeyType.X25519, k, u)
    assert first.hex() == RFC7748["iterations"][1]
    k, u = first, k
    for _ in range(999):  # the remaining iterations on the module's crypto layer, for speed
        k, u = load_private(KeyType.X25519, k).exchange(u), k
    assert k.hex() == RFC7748["iterations"][1000]


def test_rfc7748_alice_and_bob(scm):
    tv = RFC7748["alice_bob"]
    alice = scm.import_key(KeyType.X25519, bytes.fromhex(tv["tv1"]))
    bob = scm.import_key(KeyType.X25519, bytes.fromhex(tv["tv3"]))
    assert scm.get_public_key(alice).hex() == tv["tv2"]
    assert scm.get_public_key(bob).hex() == tv["tv4"]
    assert scm.ecdh(alice, bytes.fromhex(tv["tv4"])).hex() == tv["tv5"]
    assert scm.ecdh(bob, bytes.fromhex(tv["tv2"])).hex() == tv["tv5"]


def test_every_family_has_valid_and_invalid_cases():
    for name, (_, cases) in ECDSA.items():
        assert {c.result for c in cases} >= {"valid", "invalid"}, name
    assert {c.result for c in ED25519_CASES} >= {"valid", "invalid"}
    assert len(RFC6979_SHA256) == 2 and len(rfc8032_ed25519()) == 4
    assert issubclass(InvalidKeyError, ScmError)
