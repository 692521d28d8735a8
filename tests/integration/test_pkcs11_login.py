"""libsoftscm-pkcs11.so's login (the module's administrator PIN) and certificate objects, against a
real scmd (its own: these tests set and lock its PIN) and the real tools: python-pkcs11,
pkcs11-tool, p11tool and OpenSSL's pkcs11 engine."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import softscm
from softscm.pkcs11.attributes import Template, ulong
from softscm.pkcs11.certificates import CertRef
from softscm.pkcs11.constants import CKA, CKC, CKO, CKR, CKU, CertificateCategory, SessionFlag, TokenFlag
from softscm.pkcs11.errors import Pkcs11Error
from softscm.pkcs11.library import InitArgs, Library, State
from softscm.pkcs11.objects import KeyRef, ObjectKind

from ..conftest import Daemon
from .test_pkcs11 import ENGINE, LIBRARY, library_env, own_scmd, run, tool

PIN = "correct horse"
HERE = Path(__file__).parent
RW = SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION


@pytest.fixture(scope="module")
def scmd(tmp_path_factory) -> Iterator[Daemon]:
    yield from own_scmd(tmp_path_factory, "pkcs11-login")  # its own: these tests set and lock the PIN


@pytest.fixture(scope="module")
def env(scmd, tmp_path_factory) -> dict[str, str]:
    return library_env(scmd, tmp_path_factory)


@pytest.fixture(scope="module")
def scm(scmd) -> Iterator[softscm.host.client.Client]:
    """The module owner's client (this process runs as scmd's uid): PIN set, logged in."""
    with scmd.connect() as client:
        client.set_pin(PIN)
        client.login(PIN)
        yield client


@pytest.fixture
def library(env, scm, monkeypatch) -> Iterator[State]:
    """The typed library below the C entry points, in this process."""
    for name in ("SOFTSCM_URL", "XDG_STATE_HOME", "SOFTSCM_PKCS11_CONF"):
        monkeypatch.setenv(name, env[name])
    lib = Library()
    lib.initialize(InitArgs())
    yield lib.state()
    lib.finalize()


def _key_id(slot: int) -> str:
    return f"{slot:02x}"


# -- login ------------------------------------------------------------------------------------------------


def test_python_pkcs11_login_reaches_every_session_and_logout_ends_it(env, scm):
    slots = [scm.gen_key_pair("nistp256") for _ in range(4)]
    out = run(sys.executable, str(HERE / "pkcs11_login.py"), LIBRARY, PIN, *map(str, slots), env=env).stdout
    assert json.loads(out) == {
        "before_login": "UserNotLoggedIn",  # an administrator command needs the PIN: a login would help
        "wrong_pin": "PinIncorrect",
        "logged_in_as": "0",  # CKU_SO
        "opened_before": "ok", "logging_in": "ok", "opened_after": "ok",
        "after_logout": "UserNotLoggedIn", "label_after_logout": f"slot-{slots[3]}",
    }
    listed = dict(scm.list_slots().slots)
    assert [slot in listed for slot in slots] == [False, False, False, True]


def test_wrong_pins_count_toward_the_module_lockout(library, scm):
    session = library.session(library.open_session(0, RW))
    for failures in range(1, 5):
        with pytest.raises(Pkcs11Error) as caught:
            library.login(session, CKU.SO, b"wrong pin")
        assert caught.value.rv is CKR.PIN_INCORRECT
        assert scm.access_table().pin_failures == failures  # the module counts them
    assert not library.token_info(0).flags & TokenFlag.SO_PIN_LOCKED
    with pytest.raises(Pkcs11Error) as caught:
        library.login(session, CKU.USER, b"wrong pin")
    assert caught.value.rv is CKR.PIN_LOCKED
    assert library.token_info(0).flags & (TokenFlag.SO_PIN_LOCKED | TokenFlag.USER_PIN_LOCKED) == \
        TokenFlag.SO_PIN_LOCKED | TokenFlag.USER_PIN_LOCKED
    with pytest.raises(Pkcs11Error) as caught:
        library.login(session, CKU.SO, PIN.encode())  # the right PIN too, once locked
    assert caught.value.rv is CKR.PIN_LOCKED
    assert library.user is None
    scm.reset_pin(PIN)  # the module owner's way out
    assert not library.token_info(0).flags & TokenFlag.SO_PIN_LOCKED
    library.login(session, CKU.SO, PIN.encode())
    assert scm.access_table().pin_failures == 0


def test_the_login_follows_new_and_reconnected_connections_and_the_pin_can_change(library, scm):
    slots = [scm.gen_key_pair("nistp256") for _ in range(3)]
    read_only = library.open_session(0, SessionFlag.SERIAL_SESSION)
    first = library.session(library.open_session(0, RW))
    with pytest.raises(Pkcs11Error) as caught:
        library.login(first, CKU.SO, PIN.encode())
    assert caught.value.rv is CKR.SESSION_READ_ONLY_EXISTS
    library.close_session(read_only)
    with pytest.raises(Pkcs11Error) as caught:
        first.destroy(KeyRef(ObjectKind.PRIVATE_KEY, slots[0]).handle)
    assert caught.value.rv is CKR.USER_NOT_LOGGED_IN
    library.login(first, CKU.USER, PIN.encode())
    with pytest.raises(Pkcs11Error) as caught:
        library.login(first, CKU.SO, PIN.encode())
    assert caught.value.rv is CKR.USER_ANOTHER_ALREADY_LOGGED_IN
    first.destroy(KeyRef(ObjectKind.PRIVATE_KEY, slots[0]).handle)
    first.connection.close()  # a broken connection: the next call reconnects, logged in again
    first.destroy(KeyRef(ObjectKind.PRIVATE_KEY, slots[1]).handle)
    later = library.session(library.open_session(0, RW))
    with pytest.raises(Pkcs11Error) as caught:
        library.set_pin(later, PIN.encode(), b"short")
    assert caught.value.rv is CKR.PIN_LEN_RANGE
    with pytest.raises(Pkcs11Error) as caught:
        library.set_pin(later, b"not the old pin", b"a new PIN")
    assert caught.value.rv is CKR.PIN_INCORRECT
    library.set_pin(later, PIN.encode(), b"a new PIN")  # C_SetPIN
    try:
        later.destroy(KeyRef(ObjectKind.PRIVATE_KEY, slots[2]).handle)  # still logged in, with the new PIN
        with softscm.connect(library.token.url) as other:
            other.login("a new PIN")
    finally:
        library.set_pin(later, b"a new PIN", PIN.encode())
    assert not {slots[0], slots[1], slots[2]} & set(dict(scm.list_slots().slots))
    library.close_all(0)  # closing every session logs the application out
    assert library.user is None


def test_pkcs11_tool_logs_in_with_the_user_or_the_so_pin(env, scm):
    slots = [scm.gen_key_pair("nistp256") for _ in range(2)]
    delete = ("--delete-object", "--type", "privkey")
    refused = tool(*delete, "--id", _key_id(slots[0]), env=env, ok=False)
    assert "CKR_USER_NOT_LOGGED_IN" in refused.stdout + refused.stderr
    wrong = tool("--login", "--pin", "not the pin", *delete, "--id", _key_id(slots[0]), env=env, ok=False)
    assert "CKR_PIN_INCORRECT" in wrong.stdout + wrong.stderr
    tool("--login", "--pin", PIN, *delete, "--id", _key_id(slots[0]), env=env)
    tool("--login", "--login-type", "so", "--so-pin", PIN, *delete, "--id", _key_id(slots[1]), env=env)
    assert not set(slots) & set(dict(scm.list_slots().slots))
    assert scm.access_table().pin_failures == 0  # the right PIN after the wrong one reset the count


# -- certificates ---------------------------------------------------------------------------------------


def _certificate(scm, slot: int, name: str) -> bytes:
    """A certificate for the module key in ``slot``, issued by a test CA."""
    public = serialization.load_pem_public_key(scm.get_public_key_pem(slot).encode())
    ca = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "softscm test CA")]))
            .public_key(public).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .sign(ca, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def test_certificates_written_listed_read_and_loaded_by_the_tools(env, scm, tmp_path):
    slot = scm.gen_key_pair("nistp256")
    der = _certificate(scm, slot, "device one")
    (tmp_path / "cert.der").write_bytes(der)
    write = ("--write-object", str(tmp_path / "cert.der"), "--type", "cert", "--id", _key_id(slot))
    refused = tool(*write, env=env, ok=False)  # storing a certificate is an administrator command
    assert "CKR_USER_NOT_LOGGED_IN" in refused.stdout + refused.stderr
    tool("--login", "--pin", PIN, *write, "--label", "device cert", env=env)
    assert scm.get_certificate_chain(slot) == [der]

    listed = tool("--list-objects", "--type", "cert", env=env).stdout
    serial = x509.load_der_x509_certificate(der).serial_number
    assert f"Certificate Object; type = X.509 cert\n  label:      device cert\n  subject:    DN: CN=device one\n" \
           f"  serial:     {serial.to_bytes(serial.bit_length() // 8 + 1, 'big').hex().upper()}\n" in listed
    assert f"ID:         {_key_id(slot)}" in listed
    tool("--read-object", "--type", "cert", "--id", _key_id(slot), "-o", str(tmp_path / "back.der"), env=env)
    assert (tmp_path / "back.der").read_bytes() == der

    model = scm.info().model
    certs = run("p11tool", "--provider", LIBRARY, "--list-all-certs", f"pkcs11:token={model}", env=env).stdout
    assert f"id=%{_key_id(slot)};object=device%20cert;type=cert" in certs
    assert "Type: X.509 Certificate (EC/ECDSA-SECP256R1)" in certs

    conf = tmp_path / "openssl.cnf"
    conf.write_text(f"openssl_conf = init\n[init]\nengines = engines\n[engines]\npkcs11 = pkcs11\n[pkcs11]\n"
                    f"engine_id = pkcs11\ndynamic_path = {ENGINE}\nMODULE_PATH = {LIBRARY}\ninit = 0\n")
    ossl = {**env, "OPENSSL_CONF": str(conf), "SOFTSCM_PKCS11_KEY_TYPES": "nistp256,secp256k1"}
    uri = f"pkcs11:token={model};id=%{_key_id(slot)};type=cert"
    loaded = subprocess.run([sys.executable, str(HERE / "pkcs11_engine_cert.py"), uri], env=ossl,
                            capture_output=True, timeout=60)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout == der

    tool("--login", "--pin", PIN, "--delete-object", "--type", "cert", "--id", _key_id(slot), env=env)
    assert slot not in scm.list_certificate_slots()
    assert "Certificate Object" not in tool("--list-objects", "--type", "cert", env=env).stdout


def test_certificate_attributes_templates_and_refusals(library, scm):
    slot, other = scm.gen_key_pair("nistp256"), scm.gen_key_pair("secp256k1")
    der = _certificate(scm, slot, "device two")
    cert = x509.load_der_x509_certificate(der)
    session = library.session(library.open_session(0, RW))
    library.login(session, CKU.SO, PIN.encode())
    base = [(CKA.CLASS, ulong(CKO.CERTIFICATE)), (CKA.CERTIFICATE_TYPE, ulong(CKC.X_509)), (CKA.TOKEN, b"\x01"),
            (CKA.VALUE, der)]
    for extra, rv in (([(CKA.ID, bytes([other]))], CKR.TEMPLATE_INCONSISTENT),  # the key in the slot CKA_ID names
                      ([(CKA.ID, b"\x00\x10")], CKR.ATTRIBUTE_VALUE_INVALID),   # not an ID this token gives
                      ([(CKA.ID, b"\x7f")], CKR.ATTRIBUTE_VALUE_INVALID),       # no key there
                      ([(CKA.SUBJECT, b"\x30\x00")], CKR.TEMPLATE_INCONSISTENT),
                      ([(CKA.TRUSTED, b"\x01")], CKR.ATTRIBUTE_VALUE_INVALID)):
        with pytest.raises(Pkcs11Error) as caught:
            session.create_object(Template(base + extra))
        assert caught.value.rv is rv, extra
    with pytest.raises(Pkcs11Error) as caught:
        session.create_object(Template([*base[:3], (CKA.VALUE, b"not DER")]))
    assert caught.value.rv is CKR.ATTRIBUTE_VALUE_INVALID

    handle = session.create_object(Template(base))  # no CKA_ID: the key pair with the certificate's key
    assert handle == CertRef(slot).handle
    serial = cert.serial_number.to_bytes(cert.serial_number.bit_length() // 8 + 1, "big")
    assert session.get_attributes(handle, [CKA.ID, CKA.LABEL, CKA.SUBJECT, CKA.ISSUER, CKA.SERIAL_NUMBER,
                                           CKA.TOKEN, CKA.PRIVATE, CKA.TRUSTED, CKA.CERTIFICATE_CATEGORY,
                                           CKA.CERTIFICATE_TYPE, CKA.VALUE]) == [
        bytes([slot]), f"slot-{slot}".encode(), cert.subject.public_bytes(), cert.issuer.public_bytes(),
        b"\x02" + bytes([len(serial)]) + serial, b"\x01", b"\x00", b"\x00",
        ulong(CertificateCategory.TOKEN_USER), ulong(CKC.X_509), der]

    def found(*template: tuple[int, bytes]) -> list[int]:
        session.find_init(Template(template))
        try:
            return session.find(100)
        finally:
            session.find_final()

    assert found((CKA.CLASS, ulong(CKO.CERTIFICATE))) == [handle]
    assert found((CKA.CLASS, ulong(CKO.CERTIFICATE)), (CKA.ID, bytes([slot]))) == [handle]
    assert found((CKA.ID, bytes([slot]))) == [KeyRef(ObjectKind.PRIVATE_KEY, slot).handle,
                                              KeyRef(ObjectKind.PUBLIC_KEY, slot).handle, handle]
    assert found((CKA.SUBJECT, cert.subject.public_bytes())) == [handle]
    session.set_attributes(handle, Template([(CKA.LABEL, b"tls")]))
    assert found((CKA.CLASS, ulong(CKO.CERTIFICATE)), (CKA.LABEL, b"tls")) == [handle]
    assert session.get_attributes(KeyRef(ObjectKind.PRIVATE_KEY, slot).handle, [CKA.LABEL]) == [f"slot-{slot}".encode()]
    session.destroy(handle)
    assert found((CKA.CLASS, ulong(CKO.CERTIFICATE))) == []
    with pytest.raises(Pkcs11Error) as caught:
        session.get_attributes(handle, [CKA.VALUE])
    assert caught.value.rv is CKR.OBJECT_HANDLE_INVALID
