"""Manufacturing records: canonical round trip, signatures and chains checked, the book's one row per unit."""

from __future__ import annotations

import dataclasses
import datetime

import cbor2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import NameOID

from softscm.certchain import raw_public_key
from softscm.host.provision import ManufacturingRecord, RecordBook, SignedRecord, export_csv, export_json
from softscm.wire.errors import CertificateError, InvalidSignatureError, ProvisioningError

NOW = datetime.datetime.now(datetime.timezone.utc)


def cert(subject_key, issuer_key, subject: str, issuer: str, *, ca: bool) -> x509.Certificate:
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(subject_key.public_key()).serial_number(7)
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256()))


@pytest.fixture
def signed():
    ca_key, unit_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert(ca_key, ca_key, "CA", "CA", ca=True)
    leaf = cert(unit_key, ca_key, "unit", "CA", ca=False)
    der = [c.public_bytes(serialization.Encoding.DER) for c in (leaf, ca)]
    record = ManufacturingRecord(
        serial="00AB", model="m", firmware_version="1", signing_slot=1,
        factory_public_keys=(bytes(64), raw_public_key(unit_key.public_key())), certificate_chain=tuple(der),
        keyslot_layout=((0, "nistp256"), (1, "nistp256")), token_digest=b"\x01" * 32, luks_keyslots=(0, 1),
        manifest_version=3, manifest_digest=b"\x02" * 32, boot_files={"boot/start4.elf": b"\x03" * 32},
        rtc_offset_s=0.25, rtc_drift_ppm=-1.5, production=True, self_test={"passed": True, "results": []},
        started=NOW.timestamp() - 5, finished=NOW.timestamp())
    r, s = utils.decode_dss_signature(unit_key.sign(record.body(), ec.ECDSA(hashes.SHA256())))
    return SignedRecord(record, r.to_bytes(32, "big") + s.to_bytes(32, "big")), ca, ca_key


def test_body_round_trips_and_must_be_canonical(signed):
    record = signed[0].record
    assert ManufacturingRecord.parse(record.body()) == record
    fields = cbor2.loads(record.body())
    with pytest.raises(ProvisioningError, match="canonical"):
        ManufacturingRecord.parse(cbor2.dumps(dict(reversed(list(fields.items())))))
    with pytest.raises(ProvisioningError):
        ManufacturingRecord.parse(cbor2.dumps({**fields, "extra": 1}, canonical=True))
    with pytest.raises(ProvisioningError):
        ManufacturingRecord.parse(b"\xff")


def test_signature_and_chain_are_checked(signed):
    record, ca, ca_key = signed
    record.verify([ca])
    edited = SignedRecord(dataclasses.replace(record.record, manifest_version=4), record.signature)
    with pytest.raises(InvalidSignatureError):
        edited.verify([ca])
    other_ca = cert(ca_key, ca_key, "Other CA", "Other CA", ca=True)
    with pytest.raises(CertificateError):
        record.verify([other_ca])
    resigned_key = ec.generate_private_key(ec.SECP256R1())  # a row re-signed with a key the CA never certified
    keys = (bytes(64), raw_public_key(resigned_key.public_key()))
    forged = dataclasses.replace(record.record, factory_public_keys=keys)
    r, s = utils.decode_dss_signature(resigned_key.sign(forged.body(), ec.ECDSA(hashes.SHA256())))
    with pytest.raises(CertificateError, match="another key"):
        SignedRecord(forged, r.to_bytes(32, "big") + s.to_bytes(32, "big")).verify([ca])


def test_book_keeps_one_row_per_unit_and_exports(tmp_path, signed):
    record, ca, _ = signed
    book = RecordBook(tmp_path)
    assert book.add(record) is True
    assert book.add(SignedRecord(dataclasses.replace(record.record, model="again"), record.signature)) is False
    assert len(book) == 1 and book.get("00AB") == record
    checks = book.check_all([ca])
    assert [c.ok for c in checks] == [True]
    csv_text = export_csv(list(book), checks)
    assert csv_text.splitlines()[1].startswith("00AB,m,1,1,") and csv_text.splitlines()[1].endswith(",True,")
    assert '"manifest_version": 3' in export_json(list(book), checks)
    book.close()
