"""The module's certificate store on a real keystore: chains per slot, trust roots, verification."""

from __future__ import annotations

import datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from softscm.module.store.certs import CertStore
from softscm.module.store.keystore import KeyStore
from softscm.wire.errors import (
    CertificateError,
    InvalidArgumentError,
    NotFoundError,
    SlotEmptyError,
    StoreCorruptError,
)

from .conftest import NOW, certificate, der, put

LEAF_KEYS = {
    "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "secp256k1": lambda: ec.generate_private_key(ec.SECP256K1()),
    "ed25519": ed25519.Ed25519PrivateKey.generate,
}


@pytest.fixture
def pki():
    root_key, mid_key = ec.generate_private_key(ec.SECP256R1()), ed25519.Ed25519PrivateKey.generate()
    root = certificate(root_key, subject="root", ca=True, days=3650)
    mid = certificate(mid_key, root_key, subject="mid", issuer="root", ca=True, days=365)
    return root_key, root, mid_key, mid


@pytest.mark.parametrize("kind", LEAF_KEYS)
def test_stored_chain_verifies_for_each_key_type(keystore: KeyStore, pki, kind):
    root_key, root, mid_key, mid = pki
    leaf_key = LEAF_KEYS[kind]()
    slot = put(keystore, leaf_key)
    leaf = certificate(leaf_key, mid_key, subject="device", issuer="mid")
    certs = CertStore(keystore)
    certs.put_root("factory", der(root))
    certs.put_chain(slot, [der(leaf), der(mid)])
    assert certs.get_chain(slot) == [der(leaf), der(mid)]
    assert certs.chain_slots() == [slot]
    assert certs.verify(slot, NOW) == "factory"


def test_chain_for_another_key_is_refused(keystore: KeyStore, pki):
    _, root, mid_key, mid = pki
    slot = put(keystore, ec.generate_private_key(ec.SECP256R1()))
    other = certificate(ec.generate_private_key(ec.SECP256R1()), mid_key, subject="device", issuer="mid")
    with pytest.raises(CertificateError, match="not for the key"):
        CertStore(keystore).put_chain(slot, [der(other), der(mid)])
    with pytest.raises(NotFoundError):
        CertStore(keystore).get_chain(slot)


def test_wrong_chain_is_refused(keystore: KeyStore, pki):
    root_key, root, mid_key, mid = pki
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    slot = put(keystore, leaf_key)
    signed_by_root = certificate(leaf_key, root_key, subject="device", issuer="root")
    certs = CertStore(keystore)
    with pytest.raises(CertificateError):
        certs.put_chain(slot, [der(signed_by_root), der(mid)])  # mid did not issue it
    not_a_ca = certificate(mid_key, root_key, subject="mid", issuer="root", ca=False)
    leaf = certificate(leaf_key, mid_key, subject="device", issuer="mid")
    with pytest.raises(CertificateError, match="not a CA"):
        certs.put_chain(slot, [der(leaf), der(not_a_ca)])
    with pytest.raises(CertificateError, match="does not parse"):
        certs.put_chain(slot, [der(leaf)[:-3]])


def test_verification_rejects_expired_untrusted_and_rootless(keystore: KeyStore, pki):
    root_key, root, mid_key, mid = pki
    leaf_key = ec.generate_private_key(ec.SECP256K1())
    slot = put(keystore, leaf_key)
    certs = CertStore(keystore)
    certs.put_chain(slot, [der(certificate(leaf_key, mid_key, subject="device", issuer="mid", days=10)), der(mid)])
    with pytest.raises(NotFoundError, match="no trust root"):
        certs.verify(slot, NOW)
    stranger = certificate(ec.generate_private_key(ec.SECP256R1()), subject="root", ca=True)  # same name, other key
    certs.put_root("stranger", der(stranger))
    with pytest.raises(CertificateError, match="trusted root"):
        certs.verify(slot, NOW)
    certs.put_root("factory", der(root))
    assert certs.verify(slot, NOW) == "factory"
    with pytest.raises(CertificateError, match="expired"):
        certs.verify(slot, NOW + datetime.timedelta(days=30))
    with pytest.raises(CertificateError, match="not valid before"):
        certs.verify(slot, NOW - datetime.timedelta(days=5))
    with pytest.raises(CertificateError, match="trusted root"):
        certs.verify(slot, NOW, root="stranger")


def test_chain_follows_the_key_in_its_slot(keystore: KeyStore):
    key = ed25519.Ed25519PrivateKey.generate()
    slot = put(keystore, key)
    certs = CertStore(keystore)
    certs.put_chain(slot, [der(certificate(key))])
    keystore.remove([slot])
    with pytest.raises(SlotEmptyError):
        certs.get_chain(slot)
    assert put(keystore, ed25519.Ed25519PrivateKey.generate()) == slot
    with pytest.raises(CertificateError, match="no longer"):
        certs.get_chain(slot)
    certs.remove_chain(slot)
    with pytest.raises(NotFoundError):
        certs.remove_chain(slot)


def test_roots_must_be_self_signed_cas_with_good_names(keystore: KeyStore, pki):
    root_key, root, mid_key, mid = pki
    certs = CertStore(keystore)
    with pytest.raises(CertificateError):
        certs.put_root("mid", der(mid))  # not self-signed
    with pytest.raises(CertificateError, match="not a CA"):
        certs.put_root("leaf", der(certificate(root_key, subject="leaf")))
    with pytest.raises(InvalidArgumentError):
        certs.put_root("../x", der(root))
    certs.put_root("a", der(root))
    certs.put_root("b", der(root))
    assert certs.root_names() == ["a", "b"]
    certs.remove_root("a")
    assert certs.root_names() == ["b"] and certs.get_root("b") == der(root)
    with pytest.raises(NotFoundError):
        certs.get_root("a")


def test_certificates_survive_reopen_and_tampering_is_caught(tmp_path, keystore: KeyStore, pki):
    root_key, root, _, _ = pki
    key = ec.generate_private_key(ec.SECP256R1())
    slot = put(keystore, key)
    CertStore(keystore).put_chain(slot, [der(certificate(key, root_key, subject="d", issuer="root")), der(root)])
    CertStore(keystore).put_root("factory", der(root))
    keystore.close()
    reopened = KeyStore.open(tmp_path, bytes(range(32)))
    assert CertStore(reopened).verify(slot, NOW) == "factory"
    reopened._db.execute("UPDATE meta SET value=? WHERE name='certroot:factory'", (der(root)[:-1] + b"\0",))
    with pytest.raises(StoreCorruptError):
        CertStore(reopened).get_root("factory")
    with pytest.raises(StoreCorruptError):
        reopened.verify_integrity()
    reopened.close()
