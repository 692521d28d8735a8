"""scmctl cert: CSRs and self-signed certificates from module keys (signed inside the module),
chains stored per slot and trusted roots in the module, showing, verifying and converting."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path
from typing import Any

import click
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ...certchain import key_type, load_certificates, parse_der, raw_public_key, verify_chain
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


@cert.command("import")
@click.argument("slot", type=int)
@click.argument("file")
@pass_cli
def import_chain(cli: Cli, slot: int, file: str) -> None:
    """Store the chain in FILE (PEM, leaf first; or one DER certificate) for the key in SLOT."""
    chain = load_certificates(read_input(file))
    cli.client().store_certificate_chain(slot, [scmx509.to_der(c) for c in chain])
    cli.emit({"slot": slot, "length": len(chain)}, human=f"slot {slot}: {len(chain)} certificate(s) stored")


@cert.command()
@click.argument("chain_file", required=False)
@click.option("--root", "root_file", default=None, help="Trusted root certificate(s) for CHAIN_FILE, PEM or DER.")
@click.option("--slot", type=int, default=None,
              help="Check the leaf certifies this slot's key; without CHAIN_FILE, verify the chain stored "
                   "for the slot inside the module, against its stored roots.")
@click.option("--root-name", default=None, help="In the module: only this stored root.")
@click.option("--at", "at_time", default=None, help="Check validity at this ISO 8601 time (default: now).")
@pass_cli
def verify(cli: Cli, chain_file: str | None, root_file: str | None, slot: int | None, root_name: str | None,
           at_time: str | None) -> None:
    """Verify a chain (leaf first) against trusted roots; exit 4 if it does not verify."""
    at = datetime.datetime.fromisoformat(at_time) if at_time else datetime.datetime.now(datetime.timezone.utc)
    if at.tzinfo is None:
        at = at.replace(tzinfo=datetime.timezone.utc)
    if chain_file is None:
        if slot is None:
            fail("usage", "give a CHAIN_FILE, or --slot to verify in the module", Exit.USAGE)
        name = cli.client().verify_certificate_chain(slot, root=root_name, at=at.timestamp() if at_time else None)
        cli.emit({"valid": True, "root": name, "slot": slot}, human=f"valid: slot {slot}'s chain leads to root {name!r}")
        return
    if root_file is None:
        fail("usage", "--root is needed to verify a CHAIN_FILE", Exit.USAGE)
    chain = load_certificates(read_input(chain_file))
    roots = load_certificates(Path(root_file).read_bytes())
    public = cli.client().get_public_key(slot) if slot is not None else None
    root = verify_chain(chain, roots, at=at, public_key=public)
    cli.emit({"valid": True, "root": root.subject.rfc4514_string(), "length": len(chain)},
             human=f"valid: {len(chain)} certificate(s) up to {root.subject.rfc4514_string()}")


@cert.command()
@click.argument("file", required=False)
@click.option("--slot", type=int, default=None, help="Export the chain stored for this slot instead of a FILE.")
@click.option("--der", is_flag=True, help="DER (one certificate) instead of PEM.")
@click.option("--index", default=0, show_default=True, help="Which certificate of the chain, with --der.")
@click.option("--out", default="-", show_default=True, help="Output file ('-': stdout).")
@pass_cli
def export(cli: Cli, file: str | None, slot: int | None, der: bool, index: int, out: str) -> None:
    """The chain stored for a slot (--slot) or the certificates in FILE, as PEM or one of them as DER."""
    if (file is None) == (slot is None):
        fail("usage", "give either FILE or --slot", Exit.USAGE)
    if slot is not None:
        certificates = [parse_der(d) for d in cli.client().get_certificate_chain(slot)]
    else:
        certificates = load_certificates(read_input(file or "-"))
    if not der:
        write_output(out, scmx509.to_pem(certificates))
        return
    if not 0 <= index < len(certificates):
        fail("usage", f"there are {len(certificates)} certificate(s)", Exit.USAGE)
    write_output(out, scmx509.to_der(certificates[index]))


@cert.command()
@click.argument("slot", type=int)
@pass_cli
def remove(cli: Cli, slot: int) -> None:
    """Remove the chain stored for SLOT."""
    cli.client().remove_certificate_chain(slot)
    cli.emit({"slot": slot, "removed": True}, human=f"slot {slot}: chain removed")


@cert.command("list")
@pass_cli
def list_chains(cli: Cli) -> None:
    """Slots with a stored chain, and the stored trust roots."""
    data = {"slots": cli.client().list_certificate_slots(), "roots": cli.client().list_trust_roots()}
    cli.emit(data, human=lambda d: cli.table(None, ["slots with a chain", "trust roots"],
                                             [(", ".join(map(str, d["slots"])), ", ".join(d["roots"]))]))


@cert.group()
def root() -> None:
    """Trusted roots stored in the module."""


@root.command("add")
@click.argument("name")
@click.argument("file")
@pass_cli
def root_add(cli: Cli, name: str, file: str) -> None:
    """Store the self-signed CA certificate in FILE as trusted root NAME."""
    [certificate] = load_certificates(read_input(file))[:1]
    cli.client().store_trust_root(name, scmx509.to_der(certificate))
    cli.emit({"name": name, "stored": True}, human=f"root {name!r} stored")


@root.command("show")
@click.argument("name")
@click.option("--out", default=None, help="Write the root as PEM to this file instead.")
@pass_cli
def root_show(cli: Cli, name: str, out: str | None) -> None:
    """Show (or write out) trusted root NAME."""
    certificate = parse_der(cli.client().get_trust_root(name))
    if out is not None:
        write_output(out, scmx509.to_pem([certificate]))
        return
    described = describe(certificate)
    cli.emit(described, human=lambda d: cli.table(name, ["field", "value"], [(k, v) for k, v in d.items()]))


@root.command("remove")
@click.argument("name")
@pass_cli
def root_remove(cli: Cli, name: str) -> None:
    """Remove trusted root NAME."""
    cli.client().remove_trust_root(name)
    cli.emit({"name": name, "removed": True}, human=f"root {name!r} removed")
