"""scmctl access: who may use the module (roles, key grants, the administrator PIN)."""

from __future__ import annotations

import click

from ...wire.defs import Role
from .context import Cli, pass_cli, read_secret

ROLES = click.Choice([r.name.lower() for r in Role], case_sensitive=False)


@click.group()
def access() -> None:
    """Roles, key grants and the administrator PIN (administrator commands need --login once a PIN is set)."""


@access.command()
@pass_cli
def whoami(cli: Cli) -> None:
    """This connection's principal and role."""
    me = cli.client().whoami()
    cli.emit(me, human=f"{me.principal}: {me.role.name.lower()}{' (logged in)' if me.logged_in else ''}")


@access.command("list")
@pass_cli
def list_access(cli: Cli) -> None:
    """Every role given, every key's grants and the PIN's state."""
    table = cli.client().access_table()

    def human(_: object) -> None:
        cli.table("roles", ["principal", "role"], [(p, r.name.lower()) for p, r in sorted(table.roles.items())])
        cli.table("key grants", ["slot", "principals"],
                  [(s, ", ".join(ps)) for s, ps in sorted(table.keys.items(), key=lambda kv: int(kv[0]))])
        state = "locked" if table.pin_locked else "set" if table.pin_set else "not set"
        click.echo(f"administrator PIN: {state} ({table.pin_failures} failed attempts)")

    cli.emit(table, human=human)


@access.command()
@click.argument("principal")
@click.argument("role", type=ROLES)
@pass_cli
def role(cli: Cli, principal: str, role: str) -> None:
    """Give PRINCIPAL (uid:N, gid:N, client:NAME) a ROLE (none removes it)."""
    cli.client().set_role(principal, Role[role.upper()])
    cli.emit({"principal": principal, "role": role.lower()}, human=f"{principal}: {role.lower()}")


@access.command()
@click.argument("slot", type=int)
@click.argument("principal")
@pass_cli
def grant(cli: Cli, slot: int, principal: str) -> None:
    """Let PRINCIPAL use the key in SLOT."""
    cli.client().grant_key(slot, principal)
    cli.emit({"slot": slot, "principal": principal, "granted": True}, human=f"slot {slot}: granted to {principal}")


@access.command()
@click.argument("slot", type=int)
@click.argument("principal")
@pass_cli
def revoke(cli: Cli, slot: int, principal: str) -> None:
    """Take PRINCIPAL's right to use the key in SLOT."""
    cli.client().revoke_key(slot, principal)
    cli.emit({"slot": slot, "principal": principal, "granted": False}, human=f"slot {slot}: revoked from {principal}")


@access.command("set-pin")
@pass_cli
def set_pin(cli: Cli) -> None:
    """Set or change the administrator PIN (prompted)."""
    cli.client().set_pin(read_secret("New administrator PIN", confirm=True))
    cli.emit({"pin_set": True}, human="administrator PIN set")


@access.command("reset-pin")
@pass_cli
def reset_pin(cli: Cli) -> None:
    """Replace a locked or forgotten PIN (only as the user scmd runs as)."""
    cli.client().reset_pin(read_secret("New administrator PIN", confirm=True))
    cli.emit({"pin_set": True}, human="administrator PIN reset")
