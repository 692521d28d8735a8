"""scmctl cert against a real scmd: csr, self-sign, show, verify, export; exit codes."""

from __future__ import annotations

import json
import subprocess

from click.testing import CliRunner
from cryptography import x509

from softscm.host.cli.exits import Exit
from softscm.host.cli.main import cli


def test_cert_commands(daemon, tmp_path):
    runner = CliRunner()

    def scmctl(*args: str):
        result = runner.invoke(cli, ["--url", daemon.url, *args])
        assert "Traceback" not in result.output, result.output
        return result

    csr = tmp_path / "unit.csr"
    assert scmctl("cert", "csr", "0", "--dns", "unit.example", "--eku", "client-auth", "--out", str(csr)).exit_code == 0
    assert subprocess.run(["openssl", "req", "-verify", "-noout", "-in", str(csr)], capture_output=True).returncode == 0
    request = x509.load_pem_x509_csr(csr.read_bytes())
    with daemon.connect() as client:
        serial = client.info().serial
        slot = client.gen_key_pair("secp256k1")
    assert request.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)[0].value == serial

    root = tmp_path / "root.pem"
    assert scmctl("cert", "self-sign", str(slot), "--ca", "--days", "2", "--cn", "Test Root", "--out", str(root)).exit_code == 0
    shown = scmctl("--json", "cert", "show", str(root))
    [described] = json.loads(shown.stdout)
    assert described["ca"] is True and described["key_type"] == "secp256k1" and "CN=Test Root" in described["subject"]

    assert scmctl("cert", "verify", str(root), "--root", str(root), "--slot", str(slot)).exit_code == 0
    assert scmctl("cert", "verify", str(root), "--root", str(root), "--slot", "0").exit_code == Exit.VERIFICATION_FAILED
    expired = scmctl("cert", "verify", str(root), "--root", str(root), "--at", "2100-01-01T00:00:00")
    assert expired.exit_code == Exit.VERIFICATION_FAILED and "expired" in expired.output

    der = tmp_path / "root.der"
    assert scmctl("cert", "export", str(root), "--der", "--out", str(der)).exit_code == 0
    assert x509.load_der_x509_certificate(der.read_bytes()) == x509.load_pem_x509_certificate(root.read_bytes())
    assert scmctl("cert", "export", str(der), "--out", str(tmp_path / "again.pem")).exit_code == 0
    assert (tmp_path / "again.pem").read_bytes() == root.read_bytes()
    assert scmctl("cert", "show", str(csr)).exit_code == Exit.VERIFICATION_FAILED  # a CSR is not a certificate


def test_chains_roots_and_files_in_the_module(daemon, tmp_path):
    runner = CliRunner()

    def scmctl(*args: str, input: bytes | None = None):
        result = runner.invoke(cli, ["--url", daemon.url, *args], input=input)
        assert "Traceback" not in result.output, result.output
        return result

    with daemon.connect() as client:
        slot = client.gen_key_pair("nistp256")
    root = tmp_path / "root.pem"
    assert scmctl("cert", "self-sign", str(slot), "--ca", "--cn", "Fleet", "--out", str(root)).exit_code == 0
    assert scmctl("cert", "import", "0", str(root)).exit_code == Exit.VERIFICATION_FAILED  # not slot 0's key
    assert scmctl("cert", "import", str(slot), str(root)).exit_code == 0
    assert scmctl("cert", "verify", "--slot", str(slot)).exit_code == Exit.NOT_FOUND  # no root stored yet
    assert scmctl("cert", "root", "add", "fleet", str(root)).exit_code == 0
    verified = scmctl("--json", "cert", "verify", "--slot", str(slot))
    assert verified.exit_code == 0 and json.loads(verified.stdout)["root"] == "fleet"
    exported = scmctl("cert", "export", "--slot", str(slot))
    assert exported.exit_code == 0 and exported.stdout_bytes == root.read_bytes()
    listed = json.loads(scmctl("--json", "cert", "list").stdout)
    assert listed == {"slots": [slot], "roots": ["fleet"]}
    assert scmctl("cert", "remove", str(slot)).exit_code == 0
    assert scmctl("cert", "export", "--slot", str(slot)).exit_code == Exit.NOT_FOUND
    assert scmctl("cert", "root", "remove", "fleet").exit_code == 0

    boot = tmp_path / "bootcode4.bin"
    boot.write_bytes(b"\x7f" * 5000)
    put = scmctl("--json", "files", "put", "boot/bootcode4.bin", str(boot))
    assert put.exit_code == 0 and json.loads(put.stdout)["size"] == 5000
    assert scmctl("files", "get", "boot/bootcode4.bin").stdout_bytes == boot.read_bytes()
    listed = json.loads(scmctl("--json", "files", "list", "boot/").stdout)
    assert [(f["name"], f["size"]) for f in listed] == [("boot/bootcode4.bin", 5000)]
    assert scmctl("files", "put", "../x", str(boot)).exit_code == Exit.USAGE
    assert scmctl("files", "remove", "boot/bootcode4.bin").exit_code == 0
    assert scmctl("files", "get", "boot/bootcode4.bin").exit_code == Exit.NOT_FOUND
