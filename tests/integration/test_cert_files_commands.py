"""The cert and files command areas through a real scmd: store, read, verify, remove, events, errors."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509

from softscm.host import x509 as scmx509
from softscm.wire.defs import Event
from softscm.wire.errors import (
    CertificateError,
    InvalidArgumentError,
    NotFoundError,
    SlotEmptyError,
)


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, cn)])


def test_chains_and_roots_through_scmd(daemon):
    with daemon.connect() as scm:
        root_slot, unit_slot, other_slot = scm.gen_key_pair("nistp256"), scm.gen_key_pair("ed25519"), scm.gen_key_pair("secp256k1")
        root = scmx509.self_sign(scm, root_slot, name("Root"), ca=True, days=10)
        leaf = scmx509.issue(scm, root_slot, root, scmx509.make_csr(scm, unit_slot, scmx509.device_subject("U1")),
                             days=5)
        chain = [scmx509.to_der(leaf), scmx509.to_der(root)]
        with pytest.raises(CertificateError, match="not for the key"):
            scm.store_certificate_chain(other_slot, chain)
        with pytest.raises(SlotEmptyError):
            scm.store_certificate_chain(400, chain)
        with pytest.raises(InvalidArgumentError):
            scm.store_certificate_chain(unit_slot, [chain[0]] * 9)
        scm.store_certificate_chain(unit_slot, chain)
        assert scm.get_certificate_chain(unit_slot) == chain
        assert scm.list_certificate_slots() == [unit_slot]
        with pytest.raises(NotFoundError, match="no trust root"):
            scm.verify_certificate_chain(unit_slot)
        with pytest.raises(CertificateError, match="names issuer"):  # not self-signed
            scm.store_trust_root("leaf", chain[0])
        scm.store_trust_root("fleet", chain[1])
        assert scm.list_trust_roots() == ["fleet"] and scm.get_trust_root("fleet") == chain[1]
        assert scm.verify_certificate_chain(unit_slot) == "fleet"
        later = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=6)).timestamp()
        with pytest.raises(CertificateError, match="expired"):
            scm.verify_certificate_chain(unit_slot, at=later)
        scm.remove_certificate_chain(unit_slot)
        scm.remove_trust_root("fleet")
        with pytest.raises(NotFoundError):
            scm.get_certificate_chain(unit_slot)
        with pytest.raises(NotFoundError):
            scm.remove_trust_root("fleet")
        events = [e.event for e in scm.read_log()[0]]
    assert {Event.CERT_STORED, Event.CERT_REMOVED, Event.TRUST_ROOT_CHANGED} <= set(events)


def test_files_through_scmd_survive_a_restart(daemon_factory):
    daemon = daemon_factory("files")
    start4 = bytes(range(256)) * 4096  # 1 MiB
    with daemon.connect() as scm:
        stored = scm.put_file("boot/start4.elf", start4)
        scm.put_file("boot/bootcode4.bin", b"\x7fboot")
        assert stored.size == len(start4) and len(stored.sha256) == 32
        with pytest.raises(InvalidArgumentError):
            scm.put_file("../etc/passwd", b"x")
        with pytest.raises(InvalidArgumentError):
            scm.put_file("big", bytes(4 * 1024 * 1024 + 1))
    daemon.stop()
    daemon.start()
    with daemon.connect() as scm:
        assert scm.get_file("boot/start4.elf") == start4
        assert [f.name for f in scm.list_files("boot/")] == ["boot/bootcode4.bin", "boot/start4.elf"]
        scm.remove_file("boot/bootcode4.bin")
        with pytest.raises(NotFoundError):
            scm.get_file("boot/bootcode4.bin")
        events = [e.event for e in scm.read_log()[0]]
    assert events.count(Event.FILE_STORED) == 2 and Event.FILE_REMOVED in events
