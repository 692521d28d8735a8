"""scmctl clients: this host's channel key, and the client keys a module's encrypted channel
accepts (enrol, list, revoke: administrator actions, done over the module's Unix socket)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ...wire.errors import ChannelError, ClientKeyError
from ..client_keys import (
    create_client_key,
    default_client_key_path,
    default_module_key_path,
    load_client_key,
    load_module_key,
    pin_module_key,
)
from .context import Cli, parse_hex, pass_cli

KEY_OPTION = click.option("--key", "key_path", type=click.Path(path_type=Path), default=None,
                          help="This host's client key file (default: ~/.config/softscm/client.key).")
PIN_OPTION = click.option("--pin", "pin_path", type=click.Path(path_type=Path), default=None,
                          help="Where this host pins the module's key (default: ~/.config/softscm/module.pub).")


@click.group()
def clients() -> None:
    """Channel clients: the keys that may use the module over TCP or the serial line."""


def _public_key(key_path: Path | None) -> bytes:
    """This host's client public key, created (0600) on first use."""
    path = key_path or default_client_key_path()
    key = load_client_key(path) if path.exists() else create_client_key(path)
    return key.public_key().public_bytes_raw()


def _pin(module_key: bytes, pin_path: Path | None) -> Path:
    """Pin ``module_key``, or check it against the key already pinned.

    :raises ClientKeyError: if another module key is pinned there.
    """
    path = pin_path or default_module_key_path()
    if not path.exists():
        return pin_module_key(module_key, path)
    if load_module_key(path) != module_key:
        raise ClientKeyError(f"{path} pins another module's key; remove it first to pin this module")
    return path


@clients.command()
@KEY_OPTION
@pass_cli
def keygen(cli: Cli, key_path: Path | None) -> None:
    """Create this host's client key (if there is none) and print its public key, to enrol it."""
    public = _public_key(key_path)
    cli.emit({"public_key": public.hex(), "path": str(key_path or default_client_key_path())},
             human=public.hex())


@clients.command()
@click.argument("name")
@click.option("--public-key", "public_hex", default=None,
              help="Enrol another host's client public key (hex, from its 'scmctl clients keygen').")
@KEY_OPTION
@PIN_OPTION
@pass_cli
def enroll(cli: Cli, name: str, public_hex: str | None, key_path: Path | None, pin_path: Path | None) -> None:
    """Enrol a client key under NAME. Without --public-key: this host's key (created if needed),
    and the module's key is pinned here; with it, print the module key for that host to pin."""
    public = parse_hex(public_hex, "--public-key") if public_hex is not None else _public_key(key_path)
    enrolled = cli.client().enroll_client(name, public)
    pinned = None if public_hex is not None else _pin(enrolled.module_key, pin_path)
    result = {"name": enrolled.client.name, "public_key": public.hex(), "module_key": enrolled.module_key.hex(),
              "pinned": str(pinned) if pinned else None}
    human = (f"enrolled {name}; module key {enrolled.module_key.hex()}"
             + (f" pinned in {pinned}" if pinned else "\non that host: scmctl clients pin " + enrolled.module_key.hex()))
    cli.emit(result, human=human)


@clients.command()
@click.argument("module_key")
@PIN_OPTION
@pass_cli
def pin(cli: Cli, module_key: str, pin_path: Path | None) -> None:
    """Pin the module's channel key (hex, printed by 'scmctl clients enroll' on the module board)."""
    key = parse_hex(module_key, "MODULE_KEY")
    if len(key) != 32:
        raise click.BadParameter("a module key is 32 bytes (64 hex digits)")
    try:
        path = _pin(key, pin_path)
    except ChannelError as exc:
        raise click.ClickException(exc.message) from None
    cli.emit({"module_key": key.hex(), "pinned": str(path)}, human=f"module key pinned in {path}")


@clients.command("list")
@pass_cli
def list_clients(cli: Cli) -> None:
    """The enrolled clients and the module's channel key."""
    listing = cli.client().list_clients()
    rows = [[c.name, c.public_key.hex(), time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(c.created))]
            for c in listing.clients]
    cli.emit({"module_key": listing.module_key.hex(),
              "clients": [{"name": c.name, "public_key": c.public_key.hex(), "created": c.created}
                          for c in listing.clients]},
             human=lambda _: cli.table(f"module key {listing.module_key.hex()}", ["name", "public key", "enrolled (UTC)"],
                                       rows))


@clients.command()
@click.argument("name", required=False)
@click.option("--public-key", "public_hex", default=None, help="Revoke by public key (hex) instead of name.")
@pass_cli
def revoke(cli: Cli, name: str | None, public_hex: str | None) -> None:
    """Revoke a client (by NAME or --public-key); its next connection is refused."""
    client: str | bytes
    if public_hex is not None and name is None:
        client = parse_hex(public_hex, "--public-key")
    elif name is not None and public_hex is None:
        client = name
    else:
        raise click.UsageError("give NAME or --public-key (one of them)")
    revoked = cli.client().revoke_client(client)
    cli.emit({"name": revoked.name, "public_key": revoked.public_key.hex()}, human=f"revoked {revoked.name}")
