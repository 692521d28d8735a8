"""scmctl sign, verify, ecdh, lock, unlock, random."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import click

from ...wire.defs import KdfType, KeyType
from ..client import Client
from .context import Cli, parse_hex, pass_cli
from .keys import KEY_TYPES

HASHES = click.Choice(["sha256", "sha3-256", "none"])


def _slot_type(scm: Client, slot: int, foreign: bool = False) -> KeyType | None:
    return dict(scm.list_slots(foreign=foreign).slots).get(slot)


def _data(key_type: KeyType | None, digest: str | None, file: Path | None, hash_name: str) -> bytes:
    """What gets signed: Ed25519 signs the message itself; ECDSA a 32-byte digest."""
    if (digest is None) == (file is None):
        raise click.UsageError("give exactly one of --digest or --file")
    if digest is not None:
        return parse_hex(digest, "--digest")
    content = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()  # type: ignore[union-attr]
    if key_type is KeyType.ED25519 or hash_name == "none":
        return content
    return hashlib.new(hash_name.replace("-", "_"), content).digest()


@click.command()
@click.argument("slot", type=int)
@click.option("--digest", default=None, help="A 32-byte digest as hex (Ed25519: the message as hex).")
@click.option("--file", type=click.Path(allow_dash=True, path_type=Path), default=None,
              help="A file to sign (hashed for ECDSA; '-' for stdin).")
@click.option("--hash", "hash_name", type=HASHES, default="sha256", show_default=True)
@click.option("--deterministic", is_flag=True, help="RFC 6979 deterministic ECDSA.")
@click.option("--recid", is_flag=True, help="Also return the ECDSA recovery id.")
@pass_cli
def sign(cli: Cli, slot: int, digest: str | None, file: Path | None, hash_name: str, deterministic: bool,
         recid: bool) -> None:
    """Sign with the key in SLOT; prints the raw signature (r||s) as hex."""
    scm = cli.client()
    data = _data(_slot_type(scm, slot), digest, file, hash_name)
    signature = scm.sign(slot, data, deterministic=deterministic, recid=recid)
    human = signature.raw.hex() + (f" recid={signature.recovery_id}" if recid else "")
    cli.emit({"slot": slot, "signature": signature.raw, "recovery_id": signature.recovery_id}, human=human)


@click.command()
@click.argument("slot", type=int, required=False)
@click.option("--foreign", is_flag=True, help="SLOT is a foreign key slot.")
@click.option("--pubkey", default=None, help="Verify with this public key (hex) instead of a slot.")
@click.option("--type", "key_type", type=KEY_TYPES, default=None, help="The type of --pubkey.")
@click.option("--digest", default=None)
@click.option("--file", type=click.Path(allow_dash=True, path_type=Path), default=None)
@click.option("--hash", "hash_name", type=HASHES, default="sha256", show_default=True)
@click.option("--signature", required=True, help="The raw signature as hex.")
@pass_cli
def verify(cli: Cli, slot: int | None, foreign: bool, pubkey: str | None, key_type: str | None,
           digest: str | None, file: Path | None, hash_name: str, signature: str) -> None:
    """Verify a signature; exit status 0 if it is valid, 4 if not."""
    scm = cli.client()
    sig = parse_hex(signature, "--signature")
    if pubkey is not None:
        if key_type is None:
            raise click.UsageError("--pubkey needs --type")
        parsed_type = KeyType.parse(key_type)
        scm.verify_public(parsed_type, parse_hex(pubkey, "--pubkey"), _data(parsed_type, digest, file, hash_name), sig)
    elif slot is not None:
        data = _data(_slot_type(scm, slot, foreign), digest, file, hash_name)
        scm.verify(slot, data, sig, foreign=foreign)
    else:
        raise click.UsageError("give a SLOT or --pubkey")
    cli.emit({"valid": True}, human="signature is valid")


@click.command()
@click.argument("slot", type=int)
@click.option("--peer", default=None, help="The peer public key as hex.")
@click.option("--peer-slot", type=int, default=None, help="Use a stored key as the peer.")
@click.option("--peer-local", is_flag=True, help="--peer-slot is a local key slot, not a foreign one.")
@click.option("--kdf", type=click.Choice([k.name.lower().replace("_", "-") for k in KdfType]), default="none",
              show_default=True)
@click.option("--salt", default="", help="Hex.")
@click.option("--info", default="", help="Hex.")
@click.option("--iterations", default=1, show_default=True, help="PBKDF2 only.")
@click.option("--length", default=32, show_default=True)
@pass_cli
def ecdh(cli: Cli, slot: int, peer: str | None, peer_slot: int | None, peer_local: bool, kdf: str, salt: str,
         info: str, iterations: int, length: int) -> None:
    """ECDH between SLOT and a peer key, then the KDF; prints the derived key as hex."""
    if (peer is None) == (peer_slot is None):
        raise click.UsageError("give exactly one of --peer or --peer-slot")
    peer_key: bytes | int = parse_hex(peer, "--peer") if peer is not None else peer_slot  # type: ignore[assignment]
    secret = cli.client().ecdh(slot, peer_key, kdf=kdf, salt=parse_hex(salt, "--salt"), info=parse_hex(info, "--info"),
                               iterations=iterations, length=length, peer_foreign=not peer_local)
    cli.emit({"key": secret}, human=secret.hex())


def _read(path: str) -> bytes:
    return sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()


def _write(path: str, data: bytes) -> None:
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        Path(path).write_bytes(data)


@click.command()
@click.argument("source")
@click.argument("destination")
@click.option("--cloud", is_flag=True, help="Use the cloud key (a backend may also hold it).")
@pass_cli
def lock(cli: Cli, source: str, destination: str, cloud: bool) -> None:
    """Encrypt SOURCE into DESTINATION, bound to this module ('-' for stdin/stdout)."""
    blob = cli.client().lock(_read(source), key="cloud" if cloud else "module")
    _write(destination, blob)
    if destination != "-":
        cli.emit({"bytes": len(blob)}, human=f"locked into {destination} ({len(blob)} bytes)")


@click.command()
@click.argument("source")
@click.argument("destination")
@pass_cli
def unlock(cli: Cli, source: str, destination: str) -> None:
    """Decrypt a locked blob; exit status 4 if it fails authentication."""
    data = cli.client().unlock(_read(source))
    _write(destination, data)
    if destination != "-":
        cli.emit({"bytes": len(data)}, human=f"unlocked into {destination} ({len(data)} bytes)")


@click.command("random")
@click.argument("size", type=click.IntRange(0, 1024 * 1024))
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the bytes to a file.")
@pass_cli
def random_bytes(cli: Cli, size: int, out: Path | None) -> None:
    """SIZE random bytes from the module (hex unless --out)."""
    data = cli.client().get_random(size)
    if out is not None:
        out.write_bytes(data)
        cli.emit({"bytes": size, "file": str(out)}, human=f"{size} bytes written to {out}")
    else:
        cli.emit({"random": data}, human=data.hex())
