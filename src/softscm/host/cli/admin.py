"""scmctl admin: initialise, inspect and bind the module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

import softscm

from ...wire.messages.admin import ModuleInfo, Status
from . import render
from .context import Cli, pass_cli


@click.group()
def admin() -> None:
    """Module administration."""


@admin.command()
@click.option("--state-dir", type=click.Path(path_type=Path), required=True, help="Directory to initialise.")
@click.pass_obj
def init(cli: Cli, state_dir: Path) -> None:
    """Initialise a module state directory in this process (or verify an existing one) and show its info.

    A directory holding anything that is not a verifiable module is refused and left untouched.
    """
    with softscm.connect(f"embedded:{state_dir}", timeout=cli.timeout) as scm:
        data = scm.info()
    cli.emit(data, human=lambda i: _info_table(cli, i, f"module in {state_dir}"))


@admin.command()
@pass_cli
def info(cli: Cli) -> None:
    """Model, firmware, serial number, identity key and capacities."""
    cli.emit(cli.client().info(), human=lambda i: _info_table(cli, i, None))


def _info_table(cli: Cli, info: ModuleInfo, title: str | None) -> None:
    cli.fields(title, [(name.replace("_", " "), getattr(info, name)) for name in info.__dataclass_fields__])


@admin.command()
@pass_cli
def status(cli: Cli) -> None:
    """State, mode, binding, uptime, LED, self tests and operation counters."""
    data = cli.client().status()
    cli.emit(data, human=lambda d: cli.fields(None, _status_rows(d)))


def _status_rows(status: Status) -> list[tuple[str, Any]]:
    """``admin status`` for a person: durations, dates and yes/no instead of raw values."""
    tests = [f"{kind} {'passed' if r.passed else 'FAILED'} in {render.duration(r.seconds)} "
             f"at {render.timestamp(r.started)}" for kind, r in sorted(status.self_test.items())]
    rows: list[tuple[str, Any]] = [
        ("state", status.state.name), ("mode", status.mode.name.lower()), ("bound", status.bound),
        ("uptime", render.duration(status.uptime)),
        ("led", status.led.code or status.led.pattern or "-"),
        ("self tests", "; ".join(tests) or "-"),
        ("operations", dict(sorted(status.ops.items()))),
        ("errors", dict(sorted(status.errors.items()))),
    ]
    if status.suspended:
        rows.append(("suspended", "; ".join(status.suspended.values())))
    if status.self_destruct_seconds is not None:
        rows.append(("self-destruct took", render.duration(status.self_destruct_seconds)))
    if status.error:
        rows.append(("error", status.error))
    return rows


@admin.command("lock-binding")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_cli
def lock_binding(cli: Cli, yes: bool) -> None:
    """Enter production mode for good: bind the module to this host."""
    if not yes:
        click.confirm("Production mode is permanent and binds the module to this host. Continue?", abort=True)
    cli.client().lock_binding()
    cli.emit({"binding_is_locked": True}, human="module bound to this host; production mode")
