"""X.509 from module keys through a real scmd: CSRs, self-signed and issued certificates, chain checks."""

from __future__ import annotations

import datetime
import subprocess

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from softscm.host import x509 as scmx509
from softscm.wire.errors import CertificateError, KeyTypeMismatchError

KEY_TYPES = ["nistp256", "secp256k1", "ed25519"]


def now() -> datetime.datetime:
    """The time to verify at: read when the check runs (the suite may collect minutes earlier)."""
    return datetime.datetime.now(datetime.timezone.utc)


@pytest.fixture(scope="module")
def unit(tmp_path_factory):
    from tests.conftest import Daemon

    base = tmp_path_factory.mktemp("x509")
    daemon = Daemon(base / "unit", base / "unit.sock").start()
    with daemon.connect() as client:
        yield client
    daemon.stop()


def openssl_verifies(path) -> bool:
    result = subprocess.run(["openssl", "req", "-verify", "-noout", "-in", str(path)], capture_output=True, text=True)
    return result.returncode == 0 and "verify OK" in (result.stdout + result.stderr)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_csr_is_signed_inside_the_module_and_verifies(unit, tmp_path, key_type):
    slot = unit.gen_key_pair(key_type)
    info = unit.info()
    san = x509.SubjectAlternativeName([x509.DNSName(f"{info.serial.lower()}.units.example")])
    eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
    csr = scmx509.make_csr(unit, slot, scmx509.device_subject(info.serial, model=info.model),
                           [(san, False), (eku, True)])
    parsed = x509.load_pem_x509_csr(scmx509.to_pem(csr))
    assert parsed.is_signature_valid
    assert scmx509.raw_public_key(parsed.public_key()) == unit.get_public_key(slot)
    assert parsed.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)[0].value == info.serial
    assert parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value == san
    assert parsed.extensions.get_extension_for_class(x509.ExtendedKeyUsage).critical
    path = tmp_path / "unit.csr"
    path.write_bytes(scmx509.to_pem(csr))
    assert openssl_verifies(path)  # this build lists secp256k1 (openssl ecparam -list_curves)
    tampered = bytearray(scmx509.to_der(csr))
    tampered[40] ^= 1
    assert not x509.load_der_x509_csr(bytes(tampered)).is_signature_valid


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_self_signed_certificate_verifies_against_itself_and_openssl(unit, tmp_path, key_type):
    slot = unit.gen_key_pair(key_type)
    cert = scmx509.self_sign(unit, slot, scmx509.device_subject(unit.info().serial), days=30)
    assert scmx509.verify_chain([cert], [cert], at=now(), public_key=unit.get_public_key(slot)) == cert
    path = tmp_path / "cert.pem"
    path.write_bytes(scmx509.to_pem([cert]))
    result = subprocess.run(["openssl", "verify", "-CAfile", str(path), "-partial_chain", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def station_ca(unit):
    slot = unit.gen_key_pair("nistp256")
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Station CA")])
    return slot, scmx509.self_sign(unit, slot, name, ca=True, days=365)


def issued(unit, station_ca, key_type="secp256k1", **kwargs):
    slot = unit.gen_key_pair(key_type)
    csr = scmx509.make_csr(unit, slot, scmx509.device_subject(unit.info().serial))
    return slot, scmx509.issue(unit, station_ca[0], station_ca[1], csr, **kwargs)


def test_issued_chain_verifies_and_openssl_agrees(unit, station_ca, tmp_path):
    slot, cert = issued(unit, station_ca)
    assert scmx509.verify_chain([cert], [station_ca[1]], at=now(), public_key=unit.get_public_key(slot)) == station_ca[1]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    (tmp_path / "ca.pem").write_bytes(scmx509.to_pem([station_ca[1]]))
    (tmp_path / "leaf.pem").write_bytes(scmx509.to_pem([cert]))
    result = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem"), str(tmp_path / "leaf.pem")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_wrong_chain_expired_and_other_key_are_rejected(unit, station_ca):
    slot, cert = issued(unit, station_ca, days=1)
    other_slot, other = issued(unit, station_ca, key_type="ed25519")
    with pytest.raises(CertificateError, match="another key"):
        scmx509.verify_chain([other], [station_ca[1]], at=now(), public_key=unit.get_public_key(slot))
    with pytest.raises(CertificateError, match="expired"):
        scmx509.verify_chain([cert], [station_ca[1]], at=now() + datetime.timedelta(days=2))
    self_signed = scmx509.self_sign(unit, other_slot, x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Station CA")]),
                                    ca=True)
    with pytest.raises(CertificateError, match="trusted root"):  # same issuer name, another key
        scmx509.verify_chain([cert], [self_signed], at=now())
    with pytest.raises(CertificateError, match="names issuer"):  # a wrong chain: other did not issue cert
        scmx509.verify_chain([cert, other], [station_ca[1]], at=now())


def test_keys_that_cannot_sign_and_csrs_that_do_not_verify_are_refused(unit, station_ca):
    x25519 = unit.gen_key_pair("x25519")
    with pytest.raises(KeyTypeMismatchError):
        scmx509.make_csr(unit, x25519, scmx509.device_subject("X"))
    slot = unit.gen_key_pair("nistp256")
    csr = scmx509.make_csr(unit, slot, scmx509.device_subject("X"))
    forged = x509.load_der_x509_csr(scmx509.to_der(csr)[:-2] + bytes(2))
    with pytest.raises(CertificateError):
        scmx509.issue(unit, station_ca[0], station_ca[1], forged)
    with pytest.raises(CertificateError, match="not for the key"):
        scmx509.issue(unit, slot, station_ca[1], csr)


def test_pem_and_der_round_trip(unit, station_ca):
    _, cert = issued(unit, station_ca)
    assert scmx509.load_certificates(scmx509.to_pem([cert, station_ca[1]])) == [cert, station_ca[1]]
    assert scmx509.load_certificates(scmx509.to_der(cert)) == [cert]
    with pytest.raises(CertificateError):
        scmx509.load_certificates(b"not a certificate")
