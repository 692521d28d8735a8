"""scmctl cert: CSRs and self-signed certificates from module keys (signed inside the module),
showing, verifying and converting certificates."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path
from typing import Any

import click
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ...certchain import key_type, load_certificates, raw_public_key, verify_chain
from .. import x509 as scmx509
from .context import Cli, pass_cli, read_input, write_output
from .exits import Exit, fail

EKU = {"client-auth": ExtendedKeyUsageOID.CLIENT_AUTH, "server-auth": ExtendedKeyUsageOID.SERVER_AUTH,
       "code-signing": ExtendedKeyUsageOID.CODE_SIGNING}


@click.group()
def cert() -> None:
    """X.509 certificates for module keys."""


def subject_options(func: Any) -> Any:
    for option in reversed([
        click.option("--cn", "common_name", default=None, help="Common name (default: 'MODEL SERIAL')."),
        click.option("--serial", "unit_serial", default=None, help="serialNumber (default: the module's serial)."),
        click.option("--org", "organization", default=None, help="Organisation (O)."),
        click.option("--dns", multiple=True, help="subjectAltName DNS name; repeatable."),
        click.option("--uri", multiple=True, help="subjectAltName URI; repeatable."),
        click.option("--eku", multiple=True, type=click.Choice(sorted(EKU)), help="Extended key usage; repeatable."),
        click.option("--der", is_flag=True, help="DER instead of PEM."),
        click.option("--out", default="-", show_default=True, help="Output file ('-': stdout)."),
    ]):
        func = option(func)
    return func


def _subject(cli: Cli, unit_serial: str | None, common_name: str | None, organization: str | None) -> x509.Name:
    info = cli.client().info()
    serial = unit_serial or info.serial
    return scmx509.device_subject(serial, model=None if unit_serial else info.model, organization=organization,
                                  common_name=common_name)


def _extensions(dns: tuple[str, ...], uri: tuple[str, ...], eku: tuple[str, ...]) -> list[tuple[x509.ExtensionType, bool]]:
    extensions: list[tuple[x509.ExtensionType, bool]] = []
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns] + [x509.UniformResourceIdentifier(u) for u in uri]
    if names:
        extensions.append((x509.SubjectAlternativeName(names), False))
    if eku:
        extensions.append((x509.ExtendedKeyUsage([EKU[e] for e in eku]), False))
    return extensions


@cert.command()
@click.argument("slot", type=int)
@subject_options
@pass_cli
def csr(cli: Cli, slot: int, common_name: str | None, unit_serial: str | None, organization: str | None,
        dns: tuple[str, ...], uri: tuple[str, ...], eku: tuple[str, ...], der: bool, out: str) -> None:
    """A certificate signing request for the key in SLOT, signed inside the module."""
    request = scmx509.make_csr(cli.client(), slot, _subject(cli, unit_serial, common_name, organization),
                               _extensions(dns, uri, eku))
    write_output(out, scmx509.to_der(request) if der else scmx509.to_pem(request))


@cert.command("self-sign")
@click.argument("slot", type=int)
@subject_options
@click.option("--days", default=scmx509.DEFAULT_DAYS, show_default=True, help="Validity in days.")
@click.option("--ca", is_flag=True, help="A CA certificate (basicConstraints CA, keyCertSign).")
@pass_cli
def self_sign(cli: Cli, slot: int, common_name: str | None, unit_serial: str | None, organization: str | None,
              dns: tuple[str, ...], uri: tuple[str, ...], eku: tuple[str, ...], der: bool, out: str, days: int,
              ca: bool) -> None:
    """A self-signed certificate for the key in SLOT (a device certificate, or a root with --ca)."""
    certificate = scmx509.self_sign(cli.client(), slot, _subject(cli, unit_serial, common_name, organization),
                                    ca=ca, days=days, extensions=_extensions(dns, uri, eku))
    write_output(out, scmx509.to_der(certificate) if der else scmx509.to_pem([certificate]))


def describe(certificate: x509.Certificate) -> dict[str, Any]:
    """What a person checks in a certificate."""
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = constraints.ca
    except x509.ExtensionNotFound:
        is_ca = False
    public = certificate.public_key()
    return {
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "serial_number": format(certificate.serial_number, "x"),
        "not_before": certificate.not_valid_before_utc.isoformat(),
        "not_after": certificate.not_valid_after_utc.isoformat(),
        "key_type": key_type(public).label,
        "public_key": raw_public_key(public),
        "ca": is_ca,
        "sha256": hashlib.sha256(scmx509.to_der(certificate)).digest(),
        "extensions": [type(e.value).__name__ for e in certificate.extensions],
    }


@cert.command()
@click.argument("file")
@pass_cli
def show(cli: Cli, file: str) -> None:
    """Print the certificates in FILE (PEM, one or more; or DER)."""
    described = [describe(c) for c in load_certificates(read_input(file))]
    cli.emit(described, human=lambda d: cli.table(None, ["subject", "issuer", "not after", "key", "CA", "sha256"], [
        (c["subject"], c["issuer"], c["not_after"], c["key_type"], c["ca"], c["sha256"].hex()[:16]) for c in d]))


@cert.command()
@click.argument("chain_file")
@click.option("--root", "root_file", required=True, help="Trusted root certificate(s), PEM or DER.")
@click.option("--slot", type=int, default=None, help="Also check the leaf certifies this module slot's key.")
@click.option("--at", "at_time", default=None, help="Check validity at this ISO 8601 time (default: now).")
@pass_cli
def verify(cli: Cli, chain_file: str, root_file: str, slot: int | None, at_time: str | None) -> None:
    """Verify a chain (leaf first) against trusted roots; exit 4 if it does not verify."""
    chain = load_certificates(read_input(chain_file))
    roots = load_certificates(Path(root_file).read_bytes())
    at = datetime.datetime.fromisoformat(at_time) if at_time else datetime.datetime.now(datetime.timezone.utc)
    if at.tzinfo is None:
        at = at.replace(tzinfo=datetime.timezone.utc)
    public = cli.client().get_public_key(slot) if slot is not None else None
    root = verify_chain(chain, roots, at=at, public_key=public)
    cli.emit({"valid": True, "root": root.subject.rfc4514_string(), "length": len(chain)},
             human=f"valid: {len(chain)} certificate(s) up to {root.subject.rfc4514_string()}")


@cert.command()
@click.argument("file")
@click.option("--der", is_flag=True, help="DER (one certificate) instead of PEM.")
@click.option("--index", default=0, show_default=True, help="Which certificate of the file, with --der.")
@click.option("--out", default="-", show_default=True, help="Output file ('-': stdout).")
def export(file: str, der: bool, index: int, out: str) -> None:
    """Convert the certificates in FILE to PEM, or one of them to DER."""
    certificates = load_certificates(read_input(file))
    if not der:
        write_output(out, scmx509.to_pem(certificates))
        return
    if not 0 <= index < len(certificates):
        fail("usage", f"the file holds {len(certificates)} certificate(s)", Exit.USAGE)
    write_output(out, scmx509.to_der(certificates[index]))
