"""libsoftscm-pkcs11.so against a real scmd and the real tools: pkcs11-tool (OpenSC), OpenSSL's pkcs11
engine (libp11), ssh-keygen/ssh/sshd (OpenSSH), p11tool (GnuTLS), p11-kit, and python-pkcs11 in this
process from several threads; and the raw C entry points with bad input."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pkcs11
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from pkcs11 import KDF, Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_named_curve_parameters

import softscm
from softscm.host.cli.main import cli
from softscm.pkcs11.attributes import Template, ulong
from softscm.pkcs11.constants import CKA, CKD, CKK, CKM, CKO, CKR, SessionFlag
from softscm.pkcs11.errors import Pkcs11Error
from softscm.pkcs11.library import InitArgs, Library
from softscm.pkcs11.mechanisms import EcdhParams
from softscm.pkcs11.mechanisms import Mechanism as Mech
from softscm.pkcs11.objects import KeyRef, ObjectKind
from softscm.pkcs11.paths import library_path

from ..conftest import Daemon

LIBRARY = str(library_path())
ENGINE = "/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so"
RAW = Path(__file__).with_name("pkcs11_raw.py")
C_HOST = Path(__file__).with_name("pkcs11_host.c")
P11_KIT_MODULE = Path("/usr/share/p11-kit/modules/softscm.module")
MECHANISMS = ("ECDSA-KEY-PAIR-GEN", "EC-EDWARDS-KEY-PAIR-GEN", "EC-MONTGOMERY-KEY-PAIR-GEN", "ECDSA,",
              "ECDSA-SHA256", "ECDSA-SHA384", "ECDSA-SHA512", "EDDSA", "ECDH1-DERIVE")


def own_scmd(tmp_path_factory, name: str) -> Iterator[Daemon]:
    """A module-scoped scmd of its own (for a fixture)."""
    base = tmp_path_factory.mktemp(name)
    daemon = Daemon(base / "scm", base / "scm.sock", [], env=dict(os.environ)).start()
    yield daemon
    daemon.stop()


def library_env(scmd: Daemon, tmp_path_factory) -> dict[str, str]:
    """What a program using the library needs: scmd's URL and a private label store."""
    state = tmp_path_factory.mktemp("xdg")
    return {**os.environ, "SOFTSCM_URL": scmd.url, "XDG_STATE_HOME": str(state),
            "SOFTSCM_PKCS11_CONF": str(state / "none.conf")}


@pytest.fixture(scope="module")
def scmd(tmp_path_factory) -> Iterator[Daemon]:
    yield from own_scmd(tmp_path_factory, "pkcs11")


@pytest.fixture(scope="module")
def env(scmd, tmp_path_factory) -> dict[str, str]:
    return library_env(scmd, tmp_path_factory)


@pytest.fixture(scope="module")
def scm(scmd) -> Iterator[softscm.host.client.Client]:
    with scmd.connect() as client:
        yield client


def run(*args: str, env: dict[str, str], ok: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, cwd=cwd)
    assert "Traceback" not in result.stderr, result.stderr
    if ok:
        assert result.returncode == 0, f"{args[0]} failed: {result.stdout}\n{result.stderr}"
    return result


def tool(*args: str, env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess[str]:
    return run("pkcs11-tool", "--module", LIBRARY, *args, env=env, ok=ok)


def public_key(scm, slot: int):
    return serialization.load_pem_public_key(scm.get_public_key_pem(slot).encode())


def test_scmctl_prints_the_library_path():
    result = CliRunner().invoke(cli, ["pkcs11", "path"])
    assert result.exit_code == 0 and result.output == f"{LIBRARY}\n"
    assert Path(LIBRARY).is_file()


# -- pkcs11-tool ---------------------------------------------------------------------------------------


def test_pkcs11_tool_lists_the_token_its_mechanisms_and_the_module_keys(env, scm):
    out = tool("--list-slots", "--list-mechanisms", "--list-objects", env=env).stdout
    info = scm.info()
    assert f"serial num         : {info.serial}" in out
    assert f"token label        : {info.model}" in out
    for mechanism in MECHANISMS:
        assert mechanism in out
    assert "Private Key Object; EC\n  label:      slot-0\n  ID:         00\n  Usage:      sign, derive" in out
    # every factory key pair is a private and a public key object
    assert out.count("Private Key Object") == out.count("Public Key Object") == len(scm.list_slots().slots)


@pytest.mark.parametrize("key_type, curve, mechanism", [
    ("EC:prime256v1", "nistp256", "ECDSA-SHA256"),
    ("EC:secp256k1", "secp256k1", "ECDSA"),
    ("EC:edwards25519", "ed25519", "EDDSA"),
])
def test_pkcs11_tool_generates_signs_and_verifies(env, scm, tmp_path, key_type, curve, mechanism):
    label = f"tool-{curve}"
    out = tool("--keypairgen", "--key-type", key_type, "--label", label, env=env).stdout
    slot = int(re.search(r"ID:\s+([0-9a-f]+)", out).group(1), 16)
    assert f"label:      {label}" in out
    assert dict(scm.list_slots().slots)[slot].label == curve
    key = public_key(scm, slot)
    point = re.search(r"EC_POINT:\s+([0-9a-f]+)", out).group(1)
    raw = key.public_bytes(*((serialization.Encoding.Raw, serialization.PublicFormat.Raw) if curve == "ed25519" else
                             (serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)))
    assert bytes.fromhex(point)[2:] == raw  # CKA_EC_POINT: the DER OCTET STRING of the module's key

    data = tmp_path / "data"
    data.write_bytes(b"signed through pkcs11-tool " * 3)
    signed = data.read_bytes() if mechanism != "ECDSA" else hashlib.sha256(data.read_bytes()).digest()
    data.write_bytes(signed)
    key_id = f"{slot:02x}"  # pkcs11-tool 0.23 picks the key to sign with by --id only
    tool("--sign", "--mechanism", mechanism, "--id", key_id, "-i", str(data), "-o", str(tmp_path / "sig"), env=env)
    signature = (tmp_path / "sig").read_bytes()
    assert len(signature) == 64
    if curve == "ed25519":
        key.verify(signature, signed)
    else:
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        algorithm = ec.ECDSA(Prehashed(hashes.SHA256())) if mechanism == "ECDSA" else ec.ECDSA(hashes.SHA256())
        key.verify(der, signed, algorithm)
    out = tool("--verify", "--mechanism", mechanism, "--id", key_id, "-i", str(data), "--signature-file",
               str(tmp_path / "sig"), env=env).stdout
    assert "Signature is valid" in out
    (tmp_path / "sig").write_bytes(signature[:32] + bytes(32))
    bad = tool("--verify", "--mechanism", mechanism, "--id", key_id, "-i", str(data), "--signature-file",
               str(tmp_path / "sig"), env=env, ok=False)
    assert "Invalid signature" in bad.stdout + bad.stderr


# -- OpenSSL, OpenSSH, GnuTLS, p11-kit ----------------------------------------------------------------------


def test_openssl_signs_by_pkcs11_uri_and_makes_a_certificate(env, scm, tmp_path):
    slot = scm.gen_key_pair("nistp256")
    conf = tmp_path / "openssl.cnf"
    conf.write_text(f"openssl_conf = init\n[init]\nengines = engines\n[engines]\npkcs11 = pkcs11\n[pkcs11]\n"
                    f"engine_id = pkcs11\ndynamic_path = {ENGINE}\nMODULE_PATH = {LIBRARY}\ninit = 0\n")
    # libp11 0.4.12 stops at the Ed25519 keys the token also holds: show it the ECDSA keys only
    ossl = {**env, "OPENSSL_CONF": str(conf), "SOFTSCM_PKCS11_KEY_TYPES": "nistp256,secp256k1"}
    uri = f"pkcs11:token={scm.info().model};id=%{slot:02x};type=private"
    data = tmp_path / "data"
    data.write_bytes(b"signed by openssl through the module")
    run("openssl", "dgst", "-sha256", "-engine", "pkcs11", "-keyform", "engine", "-sign", uri, "-out",
        str(tmp_path / "sig"), str(data), env=ossl)
    (tmp_path / "pub.pem").write_text(scm.get_public_key_pem(slot))
    out = run("openssl", "dgst", "-sha256", "-verify", str(tmp_path / "pub.pem"), "-signature", str(tmp_path / "sig"),
              str(data), env=env).stdout
    assert "Verified OK" in out
    run("openssl", "req", "-new", "-x509", "-engine", "pkcs11", "-keyform", "engine", "-key", uri, "-subj",
        "/CN=softscm pkcs11 test", "-days", "1", "-out", str(tmp_path / "cert.pem"), env=ossl)
    cert = x509.load_pem_x509_certificate((tmp_path / "cert.pem").read_bytes())
    assert cert.subject.rfc4514_string() == "CN=softscm pkcs11 test"
    assert cert.public_key() == public_key(scm, slot)
    cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ssh_keygen_lists_the_keys_and_ssh_logs_in_with_one(env, scm, tmp_path):
    slot = scm.gen_key_pair("nistp256")
    wanted = public_key(scm, slot).public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    listed = run("ssh-keygen", "-D", LIBRARY, env=env).stdout.splitlines()
    mine = [line for line in listed if line.startswith(wanted.decode() + " ")]
    assert mine == [f"{wanted.decode()} slot-{slot}"]
    assert len([line for line in listed if line.startswith("ecdsa-sha2-nistp256 ")]) >= 17  # 16 factory keys too

    ssh = tmp_path / "ssh"
    ssh.mkdir(mode=0o700)
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh / "host_key"), env=env)
    (ssh / "authorized_keys").write_text(mine[0] + "\n")
    (ssh / "id.pub").write_text(mine[0] + "\n")
    port = _free_port()
    (ssh / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {ssh / 'host_key'}\nPidFile none\n"
        f"AuthorizedKeysFile {ssh / 'authorized_keys'}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    sshd = subprocess.Popen([shutil.which("sshd") or "/usr/sbin/sshd", "-f", str(ssh / "sshd_config"), "-D", "-e"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert sshd.poll() is None and time.monotonic() < deadline, "sshd did not start"
                time.sleep(0.05)
        user = pwd.getpwuid(os.getuid()).pw_name
        out = run("ssh", "-F", "/dev/null", "-I", LIBRARY, "-i", str(ssh / "id.pub"), "-p", str(port),
                  "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
                  "-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={ssh / 'known_hosts'}",
                  f"{user}@127.0.0.1", "echo", "ok", env=env).stdout
        assert out.strip() == "ok"
    finally:
        sshd.terminate()
        _, log = sshd.communicate(timeout=10)
    assert "Accepted publickey" in log


def test_p11tool_and_p11_kit_see_the_token(env, scm):
    info = scm.info()
    out = run("p11tool", "--provider", LIBRARY, "--list-privkeys", f"pkcs11:token={info.model}", env=env).stdout
    assert f"serial={info.serial}" in out and "Type: Private key (EC/ECDSA-SECP256R1)" in out
    # setup.sh (as root, as CI runs it) registers the library with p11-kit from deploy/p11-kit
    installed = P11_KIT_MODULE.read_text()
    registered = re.search(r"^module: (.+)$", installed, re.MULTILINE).group(1)
    template = (Path(__file__).parents[2] / "deploy" / "p11-kit" / "softscm.module").read_text()
    assert installed == template.replace("@LIBRARY@", registered)
    out = run("p11-kit", "list-modules", env=env).stdout
    assert f"softscm: {registered}\n    library-description: softscm PKCS#11 module" in out
    if registered == LIBRARY:  # on a shared machine another checkout's setup may have registered its own copy
        assert f"serial-number: {info.serial}" in out


# -- python-pkcs11, in this process ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def token(env, scm):
    for name in ("SOFTSCM_URL", "XDG_STATE_HOME", "SOFTSCM_PKCS11_CONF"):
        os.environ[name] = env[name]  # read by C_Initialize, which pkcs11.lib() calls now
    return pkcs11.lib(LIBRARY).get_token(token_serial=scm.info().serial.encode())


def test_python_pkcs11_from_several_threads(token, scm):
    p256 = encode_named_curve_parameters("secp256r1")
    peer = ec.generate_private_key(ec.SECP256R1())
    peer_point = b"\x04\x41" + peer.public_key().public_bytes(serialization.Encoding.X962,
                                                             serialization.PublicFormat.UncompressedPoint)
    failures: list[BaseException] = []
    results: dict[int, int] = {}

    def worker(index: int) -> None:
        try:
            with token.open(rw=True) as session:
                params = session.create_domain_parameters(KeyType.EC, {Attribute.EC_PARAMS: p256}, local=True)
                pub, priv = params.generate_keypair(store=True, label=f"thread-{index}")
                slot = int.from_bytes(priv[Attribute.ID], "big")
                key = public_key(scm, slot)
                assert pub[Attribute.EC_POINT][3:] == key.public_bytes(
                    serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)[1:]
                assert session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=f"thread-{index}") == priv
                for n in range(15):
                    message = f"thread {index} message {n}".encode()
                    signature = priv.sign(message, mechanism=Mechanism.ECDSA_SHA256)
                    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                               int.from_bytes(signature[32:], "big"))
                    key.verify(der, message, ec.ECDSA(hashes.SHA256()))
                    assert pub.verify(message, signature, mechanism=Mechanism.ECDSA_SHA256)
                    assert not pub.verify(message + b"!", signature, mechanism=Mechanism.ECDSA_SHA256)
                shared = peer.exchange(ec.ECDH(), key)
                for kdf, expected in ((KDF.NULL, shared), (KDF.SHA256, X963KDF(hashes.SHA256(), 32, b"ctx").derive(shared))):
                    derived = priv.derive_key(KeyType.GENERIC_SECRET, 256, mechanism=Mechanism.ECDH1_DERIVE,
                                              mechanism_param=(kdf, b"ctx" if kdf is KDF.SHA256 else None, peer_point),
                                              store=False, template={Attribute.SENSITIVE: False,
                                                                     Attribute.EXTRACTABLE: True})
                    assert derived[Attribute.VALUE] == expected
                results[index] = slot
                priv.destroy()
                assert slot not in dict(scm.list_slots().slots)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    with token.open(user_pin="any PIN") as login:  # one login for the application, all sessions share it
        with pytest.raises(pkcs11.UserAlreadyLoggedIn):
            token.open(user_pin="any PIN")
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert login.token.serial == token.serial
    assert not failures, failures
    assert len(set(results.values())) == 4


def test_python_pkcs11_eddsa_labels_and_session_keys(token, scm):
    with token.open(rw=True) as session:
        ed_params = session.create_domain_parameters(
            KeyType.EC_EDWARDS, {Attribute.EC_PARAMS: encode_named_curve_parameters("1.3.101.112")}, local=True)
        pub, priv = ed_params.generate_keypair(store=False, mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN)
        slot = int.from_bytes(priv[Attribute.ID], "big")
        assert not priv[Attribute.TOKEN] and priv[Attribute.SENSITIVE] and not priv[Attribute.EXTRACTABLE]
        with pytest.raises(pkcs11.AttributeSensitive):
            priv[Attribute.VALUE]
        message = b"x" * 1000
        signature = priv.sign(message, mechanism=Mechanism.EDDSA)
        ed25519.Ed25519PublicKey.from_public_bytes(scm.get_public_key(slot)).verify(signature, message)
        assert pub.verify(message, signature, mechanism=Mechanism.EDDSA)
        assert pub[Attribute.LABEL] == f"slot-{slot}"
        priv[Attribute.LABEL] = "renamed"
        assert session.get_key(object_class=ObjectClass.PUBLIC_KEY, label="renamed") == pub
        with pytest.raises(pkcs11.AttributeReadOnly):
            priv[Attribute.ID] = b"\x01"
        assert slot in dict(scm.list_slots().slots)
    assert slot not in dict(scm.list_slots().slots)  # a session key pair leaves with its session


def test_the_typed_api_does_x25519_and_foreign_keys(env, scm, monkeypatch):
    """The mapping below the C entry points (what no Debian tool reaches: X25519 ECDH, C_CreateObject)."""
    for name in ("SOFTSCM_URL", "XDG_STATE_HOME", "SOFTSCM_PKCS11_CONF"):
        monkeypatch.setenv(name, env[name])
    library = Library()
    library.initialize(InitArgs())
    try:
        state = library.state()
        session = state.session(state.open_session(0, SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION))
        public, private = session.generate_key_pair(
            Mech(CKM.EC_MONTGOMERY_KEY_PAIR_GEN),
            Template([(CKA.TOKEN, b"\x01"), (CKA.EC_PARAMS, b"\x13\x0acurve25519"), (CKA.LABEL, b"x")]),
            Template([(CKA.DERIVE, b"\x01")]))
        slot = KeyRef.from_handle(private).slot
        assert dict(scm.list_slots().slots)[slot].label == "x25519"
        peer = x25519.X25519PrivateKey.generate()
        peer_raw = peer.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        secret = session.derive(Mech(CKM.ECDH1_DERIVE, EcdhParams(CKD.SHA256_KDF, b"info", b"\x04\x20" + peer_raw)),
                                private, Template([(CKA.VALUE_LEN, ulong(48))]))
        shared = peer.exchange(x25519.X25519PublicKey.from_public_bytes(scm.get_public_key(slot)))
        assert session.get_attributes(secret, [CKA.VALUE]) == [X963KDF(hashes.SHA256(), 48, b"info").derive(shared)]
        with pytest.raises(Pkcs11Error) as caught:
            session.sign_init(Mech(CKM.EDDSA), private)
        assert caught.value.rv is CKR.KEY_FUNCTION_NOT_PERMITTED

        # a public key stored through C_CreateObject is a foreign key: it verifies, and goes on destroy
        signer = ec.generate_private_key(ec.SECP256K1())
        point = signer.public_key().public_bytes(serialization.Encoding.X962,
                                                 serialization.PublicFormat.UncompressedPoint)
        foreign = session.create_object(Template([
            (CKA.CLASS, ulong(CKO.PUBLIC_KEY)), (CKA.KEY_TYPE, ulong(CKK.EC)), (CKA.TOKEN, b"\x01"),
            (CKA.EC_PARAMS, encode_named_curve_parameters("secp256k1")), (CKA.EC_POINT, b"\x04\x41" + point),
            (CKA.LABEL, b"peer")]))
        ref = KeyRef.from_handle(foreign)
        assert ref.foreign and session.get_attributes(foreign, [CKA.LABEL, CKA.ID]) == [b"peer", ref.id]
        digest = hashlib.sha256(b"foreign").digest()
        der = signer.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        r, s = decode_dss_signature(der)
        session.verify_init(Mech(CKM.ECDSA), foreign)
        session.verify(digest, r.to_bytes(32, "big") + s.to_bytes(32, "big"))
        session.verify_init(Mech(CKM.ECDSA), foreign)
        with pytest.raises(Pkcs11Error) as caught:
            session.verify(digest, (r + 1).to_bytes(32, "big") + s.to_bytes(32, "big"))
        assert caught.value.rv is CKR.SIGNATURE_INVALID
        session.destroy(foreign)
        session.destroy(public)
        assert ref.slot not in dict(scm.list_slots(foreign=True).slots)
        assert slot not in dict(scm.list_slots().slots)
    finally:
        library.finalize()


def test_a_session_reconnects_after_scmd_restarts(daemon, tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTSCM_URL", daemon.url)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    library = Library()
    library.initialize(InitArgs())
    try:
        state = library.state()
        session = state.session(state.open_session(0, SessionFlag.SERIAL_SESSION))
        digest = hashlib.sha256(b"reconnect").digest()
        session.sign_init(Mech(CKM.ECDSA), KeyRef(ObjectKind.PRIVATE_KEY, 0).handle)
        first = session.sign(digest)
        daemon.stop()
        session.sign_init(Mech(CKM.ECDSA), KeyRef(ObjectKind.PRIVATE_KEY, 0).handle)
        with pytest.raises(Pkcs11Error) as caught:
            session.sign(digest)
        assert caught.value.rv is CKR.DEVICE_REMOVED
        daemon.start()
        session.sign_init(Mech(CKM.ECDSA), KeyRef(ObjectKind.PRIVATE_KEY, 0).handle)
        second = session.sign(digest)  # the same session, on a new connection
        with daemon.connect() as scm:
            key = public_key(scm, 0)
        for raw in (first, second):
            der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
            key.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    finally:
        library.finalize()


# -- raw calls -------------------------------------------------------------------------------------------------------


def test_raw_calls_with_bad_input_get_the_right_return_values(env, scm):
    result = run(sys.executable, str(RAW), LIBRARY, env=env)
    got = json.loads(result.stdout)
    expected = {
        "before_init_get_slot_list": 0x190, "before_init_finalize": 0x190, "get_function_list_null": 0x7,
        "get_function_list": 0, "function_list_is_the_exports": True, "function_list_version": [2, 40],
        "init_two_callbacks": 0x7, "init_callbacks_without_os_locking": 0xA, "init_reserved": 0x7,
        "init_os_locking": 0, "init_again": 0x191, "slot_list_too_small": [0x150, 1], "slot_list": [0, 1, 0],
        "slot_list_null_count": 0x7, "bad_slot": 0x3, "open_not_serial": 0xB4, "bad_session": 0xB3,
        "sign_unknown_mechanism": 0x70, "sign_bad_key_handle": 0x60, "sign_with_public_key": 0x68,
        "sign_eddsa_on_p256": 0x63, "sign_not_initialised": 0x91, "sign_init": 0, "sign_init_twice": 0x90,
        "sign_length": [0, 64], "sign_too_small": [0x150, 64], "sign_after_end": 0x91,
        "sign_null_data": [0, 0x7, 0x91], "private_value": [0x11, 2**64 - 1, 1, 0, 2**64 - 1],
        "ec_point_too_small": [0x150, 2**64 - 1], "ec_point_length": [0, 67], "attribute_bad_handle": 0x82,
        "destroy_read_only": 0xB5, "destroy_factory_key": 0x1B, "generate_p384": 0x140,
        "generate_null_handles": 0x7, "random": [0, True], "encrypt": 0x54, "login": [0, 0x100, 0, 0x101, 0x103],
        "fork_child_exit": 0, "parent_after_fork": [0, 0], "finalize": [0, 0x190, 0x190],
    }
    signature = got.pop("sign")
    assert got == expected
    assert signature[:2] == [0, 64]
    raw = bytes.fromhex(signature[2])
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public_key(scm, 0).verify(der, bytes(range(32)), ec.ECDSA(Prehashed(hashes.SHA256())))


def test_a_c_program_signs_from_threads_and_forks(env, tmp_path):
    """dlopen from C (Python started by the library), 4 threads signing at once, then fork()."""
    run("gcc", "-O1", "-Wall", "-o", str(tmp_path / "host"), str(C_HOST), "-lpthread", "-ldl", env=env)
    out = run(str(tmp_path / "host"), LIBRARY, env=env).stdout.split("\n")
    assert out == ["initialize 0", *["thread 0"] * 4, "child_before_init 400", "child_initialize 0", "child_signs 0",
                   "child_exit 0", "parent_signs 0", ""]
