"""scmctl sign, verify, ecdh, lock, unlock, random."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import click

from ...wire.defs import KdfType, KeyType
from ..addresses import keccak256
from ..client import Client
from ..files import atomic_output
from ..lockfiles import STREAM_MAGIC, Prefixed, lock_file, unlock_file
from .context import Cli, parse_hex, pass_cli, read_input, write_output
from .params import KEY_TYPE, SLOT


DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "sha256": lambda data: hashlib.sha256(data).digest(),
    "sha3-256": lambda data: hashlib.sha3_256(data).digest(),
    "keccak256": keccak256,
}
HASHES = click.Choice([*DIGESTS, "none"])


def _data(scm: Client, slot: int | None, key_type: KeyType | None, digest: str | None, file: Path | None,
          hash_name: str, *, foreign: bool = False) -> bytes:
    """What gets signed: Ed25519 signs the message itself (the file); ECDSA a 32-byte digest of it.

    The slot's key type is looked up only when a file has to be hashed for ECDSA but not for Ed25519.
    """
    if (digest is None) == (file is None):
        raise click.UsageError("give exactly one of --digest or --file")
    if digest is not None:
        return parse_hex(digest, "--digest")
    assert file is not None  # exactly one was given (checked above)
    content = read_input(file)
    if hash_name == "none":
        return content
    if key_type is None and slot is not None:
        key_type = dict(scm.list_slots(foreign=foreign).slots).get(slot)
    return content if key_type is KeyType.ED25519 else DIGESTS[hash_name](content)


@click.command()
@click.argument("slot", type=SLOT)
@click.option("--digest", default=None, help="A 32-byte digest as hex (Ed25519: the message as hex).")
@click.option("--file", type=click.Path(allow_dash=True, path_type=Path), default=None,
              help="A file to sign (hashed for ECDSA; '-' for stdin).")
@click.option("--hash", "hash_name", type=HASHES, default="sha256", show_default=True,
              help="How an ECDSA key's --file is hashed ('none': the file is the 32-byte digest).")
@click.option("--deterministic", is_flag=True, help="RFC 6979 deterministic ECDSA.")
@click.option("--recid", is_flag=True, help="Also return the ECDSA recovery id.")
@pass_cli
def sign(cli: Cli, slot: int, digest: str | None, file: Path | None, hash_name: str, deterministic: bool,
         recid: bool) -> None:
    """Sign with the key in SLOT (a number, or 'ephemeral'); prints the raw signature (r||s) as hex."""
    scm = cli.client()
    data = _data(scm, slot, None, digest, file, hash_name)
    signature = scm.sign(slot, data, deterministic=deterministic, recid=recid)
    human = signature.raw.hex() + (f" recid={signature.recovery_id}" if recid else "")
    cli.emit({"slot": slot, "signature": signature.raw, "recovery_id": signature.recovery_id}, human=human)


@click.command()
@click.argument("slot", type=SLOT, required=False)
@click.option("--foreign", is_flag=True, help="SLOT is a foreign key slot.")
@click.option("--pubkey", default=None, help="Verify with this public key (hex) instead of a slot.")
@click.option("--type", "key_type", type=KEY_TYPE, default=None, help="The type of --pubkey (e.g. P-256).")
@click.option("--digest", default=None, help="The signed 32-byte digest as hex (Ed25519: the message as hex).")
@click.option("--file", type=click.Path(allow_dash=True, path_type=Path), default=None,
              help="The signed file (hashed for ECDSA; '-' for stdin).")
@click.option("--hash", "hash_name", type=HASHES, default="sha256", show_default=True)
@click.option("--signature", required=True, help="The raw signature (r||s, or Ed25519's 64 bytes) as hex.")
@pass_cli
def verify(cli: Cli, slot: int | None, foreign: bool, pubkey: str | None, key_type: KeyType | None,
           digest: str | None, file: Path | None, hash_name: str, signature: str) -> None:
    """Verify a signature; exit status 0 if it is valid, 4 if not."""
    scm = cli.client()
    sig = parse_hex(signature, "--signature")
    if pubkey is not None:
        if key_type is None:
            raise click.UsageError("--pubkey needs --type")
        data = _data(scm, None, key_type, digest, file, hash_name)
        scm.verify_public(key_type, parse_hex(pubkey, "--pubkey"), data, sig)
    elif slot is not None:
        data = _data(scm, slot, None, digest, file, hash_name, foreign=foreign)
        scm.verify(slot, data, sig, foreign=foreign)
    else:
        raise click.UsageError("give a SLOT or --pubkey")
    cli.emit({"valid": True}, human="signature is valid")


@click.command()
@click.argument("slot", type=SLOT)
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
    """ECDH between SLOT (a number, or 'ephemeral') and a peer key, then the KDF; prints the derived key as hex."""
    if (peer is None) == (peer_slot is None):
        raise click.UsageError("give exactly one of --peer or --peer-slot")
    peer_key: bytes | int
    if peer is not None:
        peer_key = parse_hex(peer, "--peer")
    else:
        assert peer_slot is not None  # exactly one was given (checked above)
        peer_key = peer_slot
    secret = cli.client().ecdh(slot, peer_key, kdf=kdf, salt=parse_hex(salt, "--salt"), info=parse_hex(info, "--info"),
                               iterations=iterations, length=length, peer_foreign=not peer_local)
    cli.emit({"key": secret}, human=secret.hex())


@click.command()
@click.argument("source")
@click.argument("destination")
@click.option("--cloud", is_flag=True, help="Use the cloud key (a backend may also hold it).")
@pass_cli
def lock(cli: Cli, source: str, destination: str, cloud: bool) -> None:
    """Encrypt SOURCE into DESTINATION ('-' for stdin/stdout), any size, in authenticated chunks under a
    key that stays in the module.

    With '-' as DESTINATION the locked stream is the only output.
    """
    with _reader(source) as reader, _writer(destination) as writer:
        written = lock_file(cli.client(), reader, writer, key="cloud" if cloud else "module")
    if destination != "-":
        cli.emit({"bytes": written}, human=f"locked into {destination} ({written} bytes)")


@click.command()
@click.argument("source")
@click.argument("destination")
@pass_cli
def unlock(cli: Cli, source: str, destination: str) -> None:
    """Decrypt a locked file ('-' for stdin/stdout): a streamed lock of any size, or a one-shot
    lock blob; exit status 4 if it fails authentication, and then DESTINATION is not written.

    With '-' as DESTINATION the data is the only output (a stream's chunks go out as each is
    authenticated, so a failure can follow some of them).
    """
    with _reader(source) as reader:
        head = reader.read(len(STREAM_MAGIC))
        with _writer(destination) as writer:
            if head == STREAM_MAGIC:
                written = unlock_file(cli.client(), Prefixed(head, reader), writer)
            else:
                written = writer.write(cli.client().unlock(head + reader.read()))
    if destination != "-":
        cli.emit({"bytes": written}, human=f"unlocked into {destination} ({written} bytes)")


@contextmanager
def _reader(source: str) -> Iterator[BinaryIO]:
    if source == "-":
        yield sys.stdin.buffer
        return
    with open(source, "rb") as stream:
        yield stream


@contextmanager
def _writer(destination: str) -> Iterator[BinaryIO]:
    """stdout for '-', else a 0600 file that appears only if everything was written."""
    if destination == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with atomic_output(destination) as stream:
        yield stream


@click.command("random")
@click.argument("size", type=click.IntRange(0, 1024 * 1024))
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write the bytes to a file.")
@pass_cli
def random_bytes(cli: Cli, size: int, out: Path | None) -> None:
    """SIZE random bytes from the module (hex unless --out)."""
    data = cli.client().get_random(size)
    if out is not None:
        write_output(out, data)
        cli.emit({"bytes": size, "file": str(out)}, human=f"{size} bytes written to {out}")
    else:
        cli.emit({"random": data}, human=data.hex())
