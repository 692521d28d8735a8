"""scmctl keys: generate, list, export, remove, import foreign keys."""

from __future__ import annotations

from pathlib import Path

import click

from ...wire.defs import KeyType
from .context import Cli, parse_hex, pass_cli, write_output
from .params import KEY_TYPE, KEY_TYPE_HELP, SLOT


@click.group()
def keys() -> None:
    """Key slots."""


@keys.command(epilog=KEY_TYPE_HELP)
@click.argument("key_type", type=KEY_TYPE)
@pass_cli
def gen(cli: Cli, key_type: KeyType) -> None:
    """Generate a key pair in the next free user slot."""
    slot = cli.client().gen_key_pair(key_type)
    cli.emit({"slot": slot, "key_type": key_type.label}, human=f"slot {slot}")


@keys.command(epilog=KEY_TYPE_HELP)
@click.argument("key_type", type=KEY_TYPE)
@pass_cli
def ephemeral(cli: Cli, key_type: KeyType) -> None:
    """Replace the ephemeral key; prints its public key.

    Commands that take a SLOT reach it as 'ephemeral' (slot -1 in the API)."""
    public = cli.client().gen_ephemeral_key_pair(key_type)
    cli.emit({"slot": -1, "public_key": public}, human=public.hex())


@keys.command("list")
@click.option("--foreign", is_flag=True, help="List the foreign (public-only) keys.")
@pass_cli
def list_keys(cli: Cli, foreign: bool) -> None:
    """Occupied slots and their key types."""
    result = cli.client().list_slots(foreign=foreign)
    data = {"capacity": result.capacity, "slots": [{"slot": s, "key_type": t.label} for s, t in result.slots]}
    cli.emit(data, human=lambda d: cli.table(
        f"{len(result.slots)} of {result.capacity} {'foreign ' if foreign else ''}slots in use",
        ["slot", "type"], [(s["slot"], s["key_type"]) for s in d["slots"]]))


@keys.command()
@click.argument("slot", type=SLOT)
@click.option("--foreign", is_flag=True, help="SLOT is a foreign (public-only) key slot.")
@click.option("--pem", is_flag=True, help="PEM SubjectPublicKeyInfo instead of raw hex.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write to a file.")
@pass_cli
def pub(cli: Cli, slot: int, foreign: bool, pem: bool, out: Path | None) -> None:
    """Export the public key in SLOT (a number, or 'ephemeral')."""
    scm = cli.client()
    text = scm.get_public_key_pem(slot, foreign=foreign) if pem else scm.get_public_key(slot, foreign=foreign).hex()
    if out is not None:
        write_output(out, (text if pem else text + "\n").encode())
    cli.emit({"slot": slot, "public_key": text}, human=text.rstrip("\n"))


@keys.command()
@click.argument("slot", type=SLOT)
@click.option("--foreign", is_flag=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_cli
def rm(cli: Cli, slot: int, foreign: bool, yes: bool) -> None:
    """Remove a key (a wallet node takes its descendants)."""
    if not yes:
        click.confirm(f"Remove {'foreign ' if foreign else ''}slot {slot} for good?", abort=True)
    cli.client().remove_key(slot, foreign=foreign)
    cli.emit({"removed": slot}, human=f"removed slot {slot}")


@keys.command("import-foreign", epilog=KEY_TYPE_HELP)
@click.argument("key_type", type=KEY_TYPE)
@click.option("--hex", "hex_key", default=None, help="The public key as hex (raw, SEC1 or DER).")
@click.option("--file", "key_file", type=click.Path(exists=True, path_type=Path), default=None,
              help="A PEM or DER public key file.")
@pass_cli
def import_foreign(cli: Cli, key_type: KeyType, hex_key: str | None, key_file: Path | None) -> None:
    """Store someone else's public key in the foreign key store."""
    if (hex_key is None) == (key_file is None):
        raise click.UsageError("give exactly one of --hex or --file")
    if hex_key is not None:
        public = parse_hex(hex_key, "--hex")
    else:
        assert key_file is not None  # exactly one was given (checked above)
        public = _read_public_file(key_file)
    slot = cli.client().store_foreign_public_key(key_type, public)
    cli.emit({"foreign_slot": slot}, human=f"foreign slot {slot}")


def _read_public_file(path: Path) -> bytes:
    from cryptography.hazmat.primitives import serialization

    data = path.read_bytes()
    if b"-----BEGIN" not in data:
        return data
    key = serialization.load_pem_public_key(data)
    try:
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    except ValueError:
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@keys.command("disable-export")
@click.argument("slot", type=SLOT)
@click.option("--foreign", is_flag=True)
@click.option("--yes", is_flag=True)
@pass_cli
def disable_export(cli: Cli, slot: int, foreign: bool, yes: bool) -> None:
    """Permanently disable public key export for a slot."""
    if not yes:
        click.confirm(f"Disable public key export for slot {slot} for good?", abort=True)
    cli.client().disable_public_key_export(slot, foreign=foreign)
    cli.emit({"slot": slot, "exportable": False}, human=f"export disabled for slot {slot}")
