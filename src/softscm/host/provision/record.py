"""The manufacturing record: one signed row per unit, and the book (SQLite) that keeps them.

A record's body is the canonical CBOR of its fields; the unit's module signs SHA-256 of the body
with a factory slot key (ECDSA P-256), the same key the unit's device certificate certifies.
Verifying a row checks the signature with the public key the row names and that the row's
certificate chain leads to the station CA and certifies that key, so a row cannot be rewritten
without the unit, nor signed by a key the station did not certify.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from ...certchain import parse_der, verify_chain
from ...wire.errors import CertificateError, InvalidSignatureError, ProvisioningError, ScmError
from .state import open_private_db

RECORDS_FILE = "records.db"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    serial TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    signature BLOB NOT NULL,
    created REAL NOT NULL
);
"""


@dataclass(frozen=True)
class ManufacturingRecord:
    """What the station did to one unit. ``None`` marks a phase that was skipped."""

    serial: str
    model: str
    firmware_version: str
    signing_slot: int
    factory_public_keys: tuple[bytes, ...]
    certificate_chain: tuple[bytes, ...]  # DER, leaf first; the leaf certifies the signing slot's key
    keyslot_layout: tuple[tuple[int, str], ...]  # the module's occupied slots and their key types
    token_digest: bytes | None
    luks_keyslots: tuple[int, ...] | None
    manifest_version: int | None
    manifest_digest: bytes | None
    boot_files: dict[str, bytes]  # name -> SHA-256 of what was pushed into the module
    rtc_offset_s: float
    rtc_drift_ppm: float
    production: bool
    self_test: dict[str, Any]
    started: float
    finished: float

    def body(self) -> bytes:
        """The canonical CBOR the unit signs."""
        return cbor2.dumps({f.name: getattr(self, f.name) for f in fields(self)}, canonical=True)

    @classmethod
    def parse(cls, body: bytes) -> ManufacturingRecord:
        """:raises ProvisioningError: if the body is not a record."""
        try:
            value = cbor2.loads(body)
            record = cls(**value)
        except (ValueError, TypeError, cbor2.CBORDecodeError):
            raise ProvisioningError("a manufacturing record does not parse") from None
        if record.body() != body:
            raise ProvisioningError("a manufacturing record is not in canonical form")
        return record

    def __post_init__(self) -> None:  # CBOR gives lists back; keep the declared tuple shapes
        for name in ("factory_public_keys", "certificate_chain"):
            object.__setattr__(self, name, tuple(bytes(v) for v in getattr(self, name)))
        object.__setattr__(self, "keyslot_layout", tuple((int(s), str(t)) for s, t in self.keyslot_layout))
        if self.luks_keyslots is not None:
            object.__setattr__(self, "luks_keyslots", tuple(int(k) for k in self.luks_keyslots))

    @property
    def signing_key(self) -> bytes:
        """The raw public key (X||Y) of the factory slot that signed this record."""
        return self.factory_public_keys[self.signing_slot]


@dataclass(frozen=True)
class SignedRecord:
    record: ManufacturingRecord
    signature: bytes  # raw r||s over SHA-256(body)

    def verify(self, roots: Sequence[x509.Certificate]) -> None:
        """Check the signature with the record's signing key, and that the record's chain
        certifies that key and leads to one of ``roots`` (validity as of the record's finish).

        :raises InvalidSignatureError: if the signature does not verify.
        :raises CertificateError: if the chain does not.
        """
        key = self.record.signing_key
        if len(key) != 64 or len(self.signature) != 64:
            raise InvalidSignatureError("a record is signed with a P-256 key (raw r||s)")
        try:
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + key)
            der = utils.encode_dss_signature(int.from_bytes(self.signature[:32], "big"),
                                             int.from_bytes(self.signature[32:], "big"))
            public.verify(der, self.record.body(), ec.ECDSA(hashes.SHA256()))
        except (ValueError, InvalidSignature):
            raise InvalidSignatureError(f"the record of unit {self.record.serial} does not verify") from None
        if not self.record.certificate_chain:
            raise CertificateError(f"the record of unit {self.record.serial} has no certificate")
        at = datetime.datetime.fromtimestamp(self.record.finished, datetime.timezone.utc)
        verify_chain([parse_der(d) for d in self.record.certificate_chain], roots, at=at, public_key=key)


@dataclass(frozen=True)
class RecordCheck:
    serial: str
    ok: bool
    error: str | None


class RecordBook:
    """The manufacturing database in ``directory`` (owner-only; one row per unit serial)."""

    def __init__(self, directory: Path) -> None:
        self._db = open_private_db(Path(directory) / RECORDS_FILE)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def add(self, signed: SignedRecord) -> bool:
        """Insert the unit's row; returns False (and changes nothing) if the unit has one already."""
        with self._lock:
            cursor = self._db.execute("INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?)",
                                      (signed.record.serial, signed.record.body(), signed.signature,
                                       signed.record.finished))
            return cursor.rowcount == 1

    def get(self, serial: str) -> SignedRecord | None:
        """:raises ProvisioningError: if the stored row does not parse."""
        with self._lock:
            row = self._db.execute("SELECT body, signature FROM records WHERE serial=?", (serial,)).fetchone()
        return None if row is None else SignedRecord(ManufacturingRecord.parse(bytes(row[0])), bytes(row[1]))

    def __iter__(self) -> Iterator[SignedRecord]:
        with self._lock:
            rows = self._db.execute("SELECT body, signature FROM records ORDER BY created, serial").fetchall()
        return iter([SignedRecord(ManufacturingRecord.parse(bytes(b)), bytes(s)) for b, s in rows])

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    def check_all(self, roots: Sequence[x509.Certificate]) -> list[RecordCheck]:
        """Verify every row (see :meth:`SignedRecord.verify`); a row that fails says why."""
        with self._lock:
            rows = self._db.execute("SELECT serial, body, signature FROM records ORDER BY created, serial").fetchall()
        checks = []
        for serial, body, signature in rows:
            try:
                record = ManufacturingRecord.parse(bytes(body))
                if record.serial != serial:
                    raise ProvisioningError(f"row {serial} holds the record of unit {record.serial}")
                SignedRecord(record, bytes(signature)).verify(roots)
            except ScmError as exc:
                checks.append(RecordCheck(serial, False, exc.message))
            else:
                checks.append(RecordCheck(serial, True, None))
        return checks


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def export_json(records: Sequence[SignedRecord], checks: Sequence[RecordCheck]) -> str:
    """Every record with its signature and verification result, bytes as hex."""
    by_serial = {c.serial: c for c in checks}
    rows = []
    for signed in records:
        check = by_serial.get(signed.record.serial)
        rows.append({**_jsonable(asdict(signed.record)), "signature": signed.signature.hex(),
                     "verified": check.ok if check else None, "error": check.error if check else None})
    return json.dumps(rows, indent=2, sort_keys=True)


CSV_COLUMNS = ("serial", "model", "firmware_version", "signing_slot", "signing_key", "certificate_serial",
               "token_digest", "manifest_version", "production", "started", "finished", "verified", "error")


def export_csv(records: Sequence[SignedRecord], checks: Sequence[RecordCheck]) -> str:
    """One line per unit with the fields a person looks up (the JSON export has everything)."""
    by_serial = {c.serial: c for c in checks}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for signed in records:
        r, check = signed.record, by_serial.get(signed.record.serial)
        cert_serial = format(parse_der(r.certificate_chain[0]).serial_number, "x") if r.certificate_chain else ""
        writer.writerow([r.serial, r.model, r.firmware_version, r.signing_slot, r.signing_key.hex(), cert_serial,
                         r.token_digest.hex() if r.token_digest else "", "" if r.manifest_version is None
                         else r.manifest_version, r.production, r.started, r.finished,
                         check.ok if check else "", (check.error or "") if check else ""])
    return out.getvalue()
