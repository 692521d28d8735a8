"""``scmsim``: act on a stopped module's simulated hardware (the latch keeps the event until the
module starts and reads it), as a tamper would happen while the host is off."""

from __future__ import annotations

from pathlib import Path

from typing import Any

import click

from ...wire.errors import BusyError, ScmError
from .simulated import ACTIONS, apply_offline


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--state-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True)
@click.argument("action", type=click.Choice([a.replace("_", "-") for a in ACTIONS if a not in ("accel", "tap")]))
@click.argument("values", nargs=-1)
def main(state_dir: Path, action: str, values: tuple[str, ...]) -> None:
    """Apply ACTION (with NAME=VALUE arguments) to the simulated hardware of a stopped module."""
    args: dict[str, Any] = {}
    for item in values:
        name, _, text = item.partition("=")
        try:
            args[name] = int(text) if text.lstrip("-").isdigit() else float(text)
        except ValueError:
            raise click.BadParameter(f"{item!r} is not NAME=NUMBER") from None
    try:
        apply_offline(state_dir, action.replace("-", "_"), args)
    except BusyError:
        raise click.ClickException(f"a module is running on {state_dir}: scmsim acts only on a stopped module "
                                   "(on a running one use 'scmctl sim')") from None
    except ScmError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"applied {action} to the simulated hardware in {state_dir}")


if __name__ == "__main__":
    main()
