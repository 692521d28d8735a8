"""A real keystore in a temp dir, and certificates made with ``cryptography`` for its keys."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from softscm.module.crypto import load_private
from softscm.module.store.keystore import KeyStore
from softscm.wire.defs import KeyType

NOW = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)


@pytest.fixture
def keystore(tmp_path: Path) -> Iterator[KeyStore]:
    store = KeyStore.create(tmp_path, bytes(range(32)), user_capacity=8, foreign_capacity=2, wallet_capacity=1)
    yield store
    store.close()


def private_raw(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.private_bytes_raw()
    return key.private_numbers().private_value.to_bytes(32, "big")


def put(store: KeyStore, key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> int:
    key_type = KeyType.ED25519 if isinstance(key, ed25519.Ed25519PrivateKey) else (
        KeyType.SECP256K1 if key.curve.name == "secp256k1" else KeyType.NISTP256)
    return store.put_key(load_private(key_type, private_raw(key)))


def certificate(subject_key, issuer_key=None, *, subject: str = "leaf", issuer: str | None = None, ca: bool = False,
                days: int = 30, start: datetime.datetime = NOW - datetime.timedelta(days=1),
                path_length: int | None = None) -> x509.Certificate:
    issuer_key = issuer_key or subject_key
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer or subject)]))
               .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True))
    algorithm = None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(issuer_key, algorithm)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)
