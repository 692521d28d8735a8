"""LED, random numbers, lock/unlock, sign/verify, ECDH and key slots through a real scmd."""

from __future__ import annotations

import errno
import hashlib

import coincurve
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

import zymkey
from zymkey.exceptions import VerificationError

from .conftest import return_code

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def test_led(zk, scmd):
    with scmd.connect() as scm:
        zk.led_on()
        assert scm.get_led().pattern == "on"
        zk.led_flash(100)
        led = scm.get_led()
        assert (led.pattern, led.on_ms, led.off_ms, led.flashes) == ("flash", 100, 100, 0)
        zk.led_flash(50, off_ms=200, num_flashes=3)
        led = scm.get_led()
        assert (led.on_ms, led.off_ms, led.flashes) == (50, 200, 3)
        zk.led_off()
        assert scm.get_led().pattern == "off"
    with pytest.raises(AssertionError):
        zk.led_flash(-1)


def test_random(zk, tmp_path):
    data = zk.get_random(64)
    assert isinstance(data, bytearray) and len(data) == 64 and data != zk.get_random(64)
    path = tmp_path / "random.bin"
    assert zk.create_random_file(str(path), 1000) is None
    assert path.stat().st_size == 1000 and path.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("key", ["zymkey", "cloud"])
def test_lock_unlock_every_form(zk, tmp_path, key):
    blob = zk.lock(b"secret", encryption_key=key)
    assert isinstance(blob, bytearray) and bytes(blob) != b"secret"
    assert zk.unlock(blob, encryption_key=key) == bytearray(b"secret")
    assert isinstance(zk.unlock(blob, encryption_key=key), bytearray)
    assert zk.unlock(zk.lock(bytearray(b"ba"), encryption_key=key), encryption_key=key) == b"ba"
    assert zk.unlock(zk.lock([1, 2, 3], encryption_key=key), encryption_key=key) == bytearray([1, 2, 3])
    plain, locked, out = tmp_path / "in.txt", tmp_path / "locked.bin", tmp_path / "out.txt"
    plain.write_bytes(b"file contents")
    assert zk.lock(str(plain), str(locked), key) is None
    assert zk.unlock(str(locked), str(out), key) is None
    assert out.read_bytes() == b"file contents"
    assert zk.unlock(str(locked), encryption_key=key) == b"file contents"


def test_unlock_failures(zk):
    blob = zk.lock(b"secret")
    tampered = bytearray(blob)
    tampered[10] ^= 1
    with pytest.raises(VerificationError):
        zk.unlock(tampered)
    assert zk.unlock(tampered, raise_exception=False) is None
    with pytest.raises(VerificationError):  # locked under the module key, unlocked as cloud
        zk.unlock(blob, encryption_key="cloud")
    assert zk.unlock(zk.lock(b"x", encryption_key="cloud"), raise_exception=False) is None
    for call in (lambda: zk.lock(b"x", encryption_key="other"), lambda: zk.unlock(blob, encryption_key="other")):
        with pytest.raises(AssertionError) as info:
            call()
        assert return_code(info.value) == -errno.EINVAL


def _k1_verify(public: bytes, digest: bytes, raw: bytes) -> None:
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), b"\x04" + public)
    key.verify(encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_sign_hashes_with_sha256_and_verifies_independently(zk):
    slot = zk.gen_key_pair("secp256k1")
    public = bytes(zk.get_public_key(slot))
    signature = zk.sign("message", slot=slot)
    assert isinstance(signature, bytearray) and len(signature) == 64
    _k1_verify(public, hashlib.sha256(b"message").digest(), bytes(signature))
    assert zk.verify("message", signature, pubkey_slot=slot) is True
    assert zk.verify(b"message", signature, pubkey_slot=slot) is True
    with pytest.raises(VerificationError):
        zk.verify("other", signature, pubkey_slot=slot)
    assert zk.verify("other", signature, raise_exception=False, pubkey_slot=slot) is False
    digest = zymkey.DigestObject("message", digest=hashlib.sha3_256())
    sig3 = zk.sign("message", slot, digest=hashlib.sha3_256)
    _k1_verify(public, hashlib.sha3_256(b"message").digest(), bytes(sig3))
    assert zk.verify_digest(digest, sig3, pubkey_slot=slot) is True
    assert zk.verify("message", sig3, pubkey_slot=slot, digest=hashlib.sha3_256()) is True
    with pytest.raises(VerificationError):
        zk.verify_digest(hashlib.sha256(b"message"), sig3, pubkey_slot=slot)
    with pytest.raises(AssertionError) as info:  # ECDSA signs 32-byte digests
        zk.sign("message", slot, digest=hashlib.sha512())
    assert return_code(info.value) == -errno.EINVAL


def test_sign_digest_recid_recovers_the_slot_key_and_low_s_verifies(zk):
    slot = zk.gen_key_pair("secp256k1")
    public = bytes(zk.get_public_key(slot))
    for i in range(8):
        digest = hashlib.sha256(b"tx %d" % i)
        signature, recid = zk.sign_digest(digest, slot=slot, return_recid=True)
        assert isinstance(signature, bytearray) and recid.value in (0, 1, 2, 3) and int(recid) == recid.value
        recovered = coincurve.PublicKey.from_signature_and_message(bytes(signature) + bytes([recid.value]),
                                                                   digest.digest(), hasher=None)
        assert recovered.format(compressed=False)[1:] == public
        s = int.from_bytes(signature[32:], "big")
        low_s = bytes(signature[:32]) + min(s, SECP256K1_N - s).to_bytes(32, "big")
        compact = coincurve.PublicKey(b"\x04" + public)
        assert compact.verify(coincurve.ecdsa.cdata_to_der(coincurve.ecdsa.deserialize_compact(low_s)),
                              digest.digest(), hasher=None)


def test_sign_with_each_key_type(zk):
    for key_type in ("nistp256", "secp256r1", "ed25519"):
        slot = zk.gen_key_pair(key_type)
        signature = zk.sign(b"abc", slot=slot)
        public = bytes(zk.get_public_key(slot))
        digest = hashlib.sha256(b"abc").digest()
        if key_type == "ed25519":
            assert len(public) == 32
            ed25519.Ed25519PublicKey.from_public_bytes(public).verify(bytes(signature), digest)
        else:
            assert len(public) == 64
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + public).verify(
                encode_dss_signature(r, s), digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        assert zk.verify(b"abc", signature, pubkey_slot=slot)
    x_slot = zk.gen_key_pair("x25519")
    with pytest.raises(AssertionError) as info:  # an X25519 slot cannot sign
        zk.sign("abc", slot=x_slot)
    assert return_code(info.value) < 0
    with pytest.raises(AssertionError):
        zk.sign_digest(hashlib.sha256(b"x"), slot=zk.gen_key_pair("ed25519"), return_recid=True)
    with pytest.raises(KeyError):
        zk.gen_key_pair("rsa")


def test_verify_with_a_foreign_key(zk):
    private = ec.generate_private_key(ec.SECP256R1())
    raw = private.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)[1:]
    foreign = zk.store_foreign_public_key("nistp256", raw)
    der = private.sign(hashlib.sha256(b"hello").digest(), ec.ECDSA(Prehashed(hashes.SHA256())))
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert zk.verify("hello", signature, pubkey_slot=foreign, foreign=True) is True
    assert zk.verify_digest(hashlib.sha256(b"hullo"), signature, False, foreign, True) is False
    assert zk.get_public_key(foreign, foreign=True) == bytearray(raw)
    slots, capacity = zk.get_slot_alloc_list(foreign=True)
    assert foreign in slots and capacity >= 128
    with pytest.raises(AssertionError):
        zk.store_foreign_public_key("nistp256", b"\x01" * 64)


def test_ecdh_against_an_independent_implementation(zk):
    slot = zk.gen_key_pair("nistp256")
    peer = ec.generate_private_key(ec.SECP256R1())
    peer_raw = peer.public_key().public_bytes(serialization.Encoding.X962,
                                              serialization.PublicFormat.UncompressedPoint)[1:]
    ours = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + bytes(zk.get_public_key(slot)))
    shared = peer.exchange(ec.ECDH(), ours)
    raw = zk.ecdh(slot, peer_raw)
    assert isinstance(raw, bytearray) and raw == shared
    hkdf = zk.ecdh(slot, bytearray(peer_raw), "rfc5869-sha256", salt=list(b"salt"), info=b"info", derived_key_size=48)
    assert hkdf == HKDF(hashes.SHA256(), 48, b"salt", b"info").derive(shared)
    pbkdf = zk.ecdh(slot, peer_raw, kdf_func_type="pbkdf2-sha512", salt=b"s", info=b"ignored", num_iterations=10)
    assert pbkdf == PBKDF2HMAC(hashes.SHA512(), 32, b"s", 10).derive(shared)
    foreign = zk.store_foreign_public_key("nistp256", peer_raw)
    assert zk.ecdh(slot, foreign) == shared
    local_peer = zk.gen_key_pair("nistp256")
    assert zk.ecdh(slot, local_peer, peer_pubkey_slot_is_foreign=False) == zk.ecdh(local_peer, bytes(
        zk.get_public_key(slot)))
    with pytest.raises(AssertionError):
        zk.ecdh(slot, peer_raw, "rfc5869-sha256", salt=bytes(129))
    with pytest.raises(AssertionError):
        zk.ecdh(zk.gen_key_pair("ed25519"), peer_raw)
    with pytest.raises(KeyError):
        zk.ecdh(slot, peer_raw, kdf_func_type="md5")


def test_ephemeral_key(zk):
    assert zk.gen_ephemeral_key_pair("x25519") is None
    public = bytes(zk.get_public_key(zk.EPHEMERAL_KEY_SLOT))
    peer = x25519.X25519PrivateKey.generate()
    peer_raw = peer.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert zk.ecdh(-1, peer_raw) == peer.exchange(x25519.X25519PublicKey.from_public_bytes(public))
    assert zk.invalidate_ephemeral_key() == 0
    with pytest.raises(AssertionError):
        zk.ecdh(-1, peer_raw)


def test_public_keys_and_files(zk, tmp_path):
    assert len(zk.get_public_key()) == 64 and zk.get_ecdsa_public_key() == zk.get_public_key(0)
    slot = zk.gen_key_pair("secp256k1")
    path = tmp_path / "key.pem"
    assert zk.create_public_key_file(str(path), slot) is None
    pem = serialization.load_pem_public_key(path.read_bytes())
    assert pem.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)[1:] == \
        zk.get_public_key(slot)
    old = tmp_path / "old.pem"
    zk.create_ecdsa_public_key_file(str(old), 0)
    assert serialization.load_pem_public_key(old.read_bytes()).public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)[1:] == zk.get_public_key(0)


def test_slot_list_export_disable_and_remove(zk):
    slot = zk.gen_key_pair("nistp256")
    slots, capacity = zk.get_slot_alloc_list()
    assert isinstance(slots, list) and set(range(16)) <= set(slots) and slot in slots and capacity >= 16 + 512
    zk.disable_public_key_export(slot)
    with pytest.raises(AssertionError) as info:
        zk.get_public_key(slot)
    assert return_code(info.value) == -errno.EPERM
    assert zk.verify("m", zk.sign("m", slot), pubkey_slot=slot)  # the key still works
    zk.remove_key(slot)
    assert slot not in zk.get_slot_alloc_list()[0]
    assert zk.remove_key(slot) is None  # already empty: quiet
    with pytest.raises(AssertionError) as info:
        zk.sign("m", slot)
    assert return_code(info.value) == -errno.ENOENT
    with pytest.raises(AssertionError):
        zk.remove_key(100_000)  # not a slot at all
