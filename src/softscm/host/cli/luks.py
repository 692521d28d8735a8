"""scmctl luks: enrol LUKS2 volumes under the module, re-key, unlock, escrow and recover."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

from ...wire.errors import EnrolmentError
from ..luks import ClientCustody, Cryptsetup, Enroller, EnrolState, Pbkdf, ReencryptProgress, Step, VolumeStatus
from ..luks.escrow import EscrowRecord, parse_identities, parse_recipient
from ..luks.enroll import read_status
from ..luks.recovery import (add_recovery_passphrase, escrow_is_current, escrow_volume, header_escrow,
                             recover_volume_key)
from .context import Cli, pass_cli, read_input, read_secret

DEVICE = click.argument("device", type=click.Path(exists=True, dir_okay=False, path_type=Path))

STEP_TEXT = {
    Step.WRITE_TOKEN: "new key from the module, locked blob written to the volume's token",
    Step.ADD_KEY: "module key added to the volume",
    Step.BIND_TOKEN: "token assigned to the module's key slot",
    Step.VERIFY: "module key opens the volume",
    Step.REMOVE_DEFAULT: "default key slots removed",
    Step.REKEY_START: "re-encryption to a new volume key recorded",
    Step.REKEY_DATA: "re-encrypting the data",
    Step.FINISH: "re-encryption finished",
}


class _Reporter:
    """Step lines and a re-encryption progress bar on stderr (nothing under --json)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.console = Console(stderr=True)
        self.progress: Progress | None = None
        self.task: Any = None

    def step(self, step: Step) -> None:
        if not self.quiet:
            self.console.print(f"[bold]{step.value}[/bold]: {STEP_TEXT[step]}")

    def reencrypt(self, report: ReencryptProgress) -> None:
        if self.quiet:
            return
        if self.progress is None:
            self.progress = Progress("re-encrypting", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                                     TimeRemainingColumn(), console=self.console, transient=False)
            self.progress.start()
            self.task = self.progress.add_task("re-encrypt", total=report.total_bytes)
        self.progress.update(self.task, completed=report.done_bytes)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def _enroller(cli: Cli, reporter: _Reporter | None = None) -> Enroller:
    return Enroller(ClientCustody(cli.client()), Cryptsetup(), on_step=reporter.step if reporter else None,
                    on_progress=reporter.reencrypt if reporter else None)


def _status_dict(status: VolumeStatus) -> dict[str, Any]:
    return {"device": status.device, "uuid": status.uuid, "state": status.state.value if status.state else None,
            "serial": status.serial, "keyslot": status.keyslot, "keyslots": list(status.keyslots),
            "default_keyslots": list(status.default_keyslots), "token_id": status.token_id,
            "reencrypting": status.reencrypting}


@click.group()
def luks() -> None:
    """LUKS2 volumes whose key the module holds."""


@luks.command()
@DEVICE
@click.option("--reencrypt", is_flag=True, help="Also re-encrypt to a new volume key for this unit alone.")
@click.option("--default-key-file", type=click.Path(allow_dash=True, path_type=Path), default=None,
              help="Read the default key from this file ('-': stdin) instead of a passphrase prompt.")
@click.option("--key-size", type=click.Choice(["32", "64"]), default="64", show_default=True,
              help="Bytes of the module's random key.")
@pass_cli
def enroll(cli: Cli, device: Path, reencrypt: bool, default_key_file: Path | None, key_size: str) -> None:
    """Put DEVICE under the module: add the module's key, check it, remove the default key slot.

    Resumable: run it again after an interruption and it continues where it stopped. The default
    passphrase is prompted (or one line of stdin) until the module's key slot exists.
    """
    reporter = _Reporter(cli.as_json)
    enroller = _enroller(cli, reporter)
    status = enroller.status(device)
    default = None
    if status.state is None or (status.state is EnrolState.ADDING and status.keyslot not in status.keyslots):
        default = read_input(default_key_file) if default_key_file else read_secret(
            "Default passphrase").encode()
    try:
        result = enroller.enroll(device, default, reencrypt=reencrypt, key_size=int(key_size))
    finally:
        reporter.close()
    cli.emit({"device": str(device), "state": result.state.value, "keyslot": result.keyslot,
              "token_id": result.token_id, "steps": [s.value for s in result.steps]},
             human=f"{device}: {result.state.value} (module key in slot {result.keyslot})")


@luks.command()
@DEVICE
@pass_cli
def rekey(cli: Cli, device: Path) -> None:
    """Re-encrypt an enrolled DEVICE to a new random volume key (or finish a re-key that was cut off)."""
    reporter = _Reporter(cli.as_json)
    try:
        result = _enroller(cli, reporter).rekey(device)
    finally:
        reporter.close()
    cli.emit({"device": str(device), "state": result.state.value, "keyslot": result.keyslot,
              "steps": [s.value for s in result.steps]},
             human=f"{device}: {result.state.value} (module key in slot {result.keyslot})")


@luks.command()
@DEVICE
@click.option("--name", default=None, help="Open DEVICE as /dev/mapper/NAME (otherwise only check the key).")
@pass_cli
def unlock(cli: Cli, device: Path, name: str | None) -> None:
    """Have the module unlock DEVICE's key; check it opens DEVICE, or open it with --name.

    The key is never printed (the boot path uses scm-luks-unlock).
    """
    enroller = _enroller(cli)
    key = enroller.unlock_key(device)
    if name is not None:
        enroller.cryptsetup.open(device, name, key)
    cli.emit({"device": str(device), "opens": True, "name": name},
             human=f"{device}: opened as /dev/mapper/{name}" if name else f"{device}: the module's key opens it")


@luks.command()
@DEVICE
@pass_cli
def status(cli: Cli, device: Path) -> None:
    """DEVICE's enrolment state and escrow (no module needed)."""
    cryptsetup = Cryptsetup()
    state = read_status(cryptsetup, device)
    record = header_escrow(cryptsetup, device)
    data = {**_status_dict(state), "escrow_in_header": record is not None,
            "escrow_current": bool(record and escrow_is_current(cryptsetup, device, record))}

    def human(d: dict[str, Any]) -> None:
        cli.table(str(device), ["field", "value"], [[k, "-" if v is None else v] for k, v in d.items()])

    cli.emit(data, human=human)


@luks.command()
@DEVICE
@click.option("--recipient", "recipients", multiple=True,
              help="An age recipient (age1...) or an OpenSSH public key line; repeatable.")
@click.option("--recipients-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A file of recipients, one a line (e.g. an authorized_keys or age recipients file).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the armored escrow record to this file.")
@click.option("--no-header", is_flag=True, help="Do not keep the record in the volume's header.")
@pass_cli
def escrow(cli: Cli, device: Path, recipients: tuple[str, ...], recipients_file: Path | None, out: Path | None,
           no_header: bool) -> None:
    """Seal DEVICE's volume key to operators' public keys for recovery without the module."""
    lines = list(recipients)
    if recipients_file is not None:
        lines += [line for line in recipients_file.read_text().splitlines() if line.strip()
                  and not line.lstrip().startswith("#")]
    if not lines:
        raise click.UsageError("give at least one --recipient or --recipients-file")
    record = escrow_volume(_enroller(cli), device, [parse_recipient(line) for line in lines],
                           in_header=not no_header)
    if out is not None:
        out.write_text(record.to_armor())
    cli.emit({"device": str(device), "volume_uuid": str(record.volume_uuid), "recipients": len(lines),
              "in_header": not no_header, "out": str(out) if out else None},
             human=f"{device}: volume key escrowed to {len(lines)} recipient(s)")


@luks.command()
@DEVICE
@click.option("--identity", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="The operator's private key: an age identity file or an unencrypted OpenSSH key.")
@click.option("--escrow", "escrow_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="The armored escrow record (default: the one in the volume's header).")
@click.option("--name", default=None, help="Open DEVICE as /dev/mapper/NAME with the recovered volume key.")
@click.option("--pbkdf", type=click.Choice(["argon2id", "argon2i", "pbkdf2"]), default="argon2id", show_default=True,
              help="How the new passphrase's key slot stretches it.")
@click.option("--pbkdf-force-iterations", "iterations", type=click.IntRange(min=1), default=None,
              help="Fixed PBKDF iterations instead of cryptsetup's benchmark.")
@pass_cli
def recover(cli: Cli, device: Path, identity: Path, escrow_file: Path | None, name: str | None, pbkdf: str,
            iterations: int | None) -> None:
    """Recover DEVICE with an operator's private key when the module is lost: add a new passphrase
    (prompted, or one line of stdin) or, with --name, open it."""
    cryptsetup = Cryptsetup()
    record = EscrowRecord.parse_armor(escrow_file.read_text()) if escrow_file else header_escrow(cryptsetup, device)
    if record is None:
        raise EnrolmentError(f"{device} keeps no escrow record in its header; give --escrow")
    identities = parse_identities(identity.read_bytes())
    if name is not None:
        cryptsetup.open(device, name, recover_volume_key(cryptsetup, device, record, identities), volume_key=True)
        cli.emit({"device": str(device), "name": name}, human=f"{device}: opened as /dev/mapper/{name}")
        return
    passphrase = read_secret("New passphrase", confirm=True).encode()
    if not passphrase:
        raise click.UsageError("the new passphrase is empty")
    slot = add_recovery_passphrase(cryptsetup, device, record, identities, passphrase,
                                   pbkdf=Pbkdf(pbkdf, iterations=iterations))
    cli.emit({"device": str(device), "keyslot": slot}, human=f"{device}: recovery passphrase added in slot {slot}")
