"""The scmctl root command; each group lives in its own module and is registered here.

Adding a group is one import and one entry in ``COMMANDS``.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Sequence
from typing import Any

import click

from .access import access
from .admin import admin
from .bench import bench
from .boot import boot
from .clients import clients
from .cert import cert
from .files import files
from .context import Cli
from .exits import EXIT_HELP, handle_errors, run_reporting_click_errors
from .keys import keys
from .log import host_events, log
from .luks import luks
from .metrics import metrics
from .operations import ecdh, lock, random_bytes, sign, unlock, verify
from .pkcs11 import pkcs11
from .provision import provision
from .selftest import selftest
from .sensors import events, policy, sensors, sim, tamper
from .wallet import wallet

COMMANDS = (admin, access, clients, keys, sign, verify, ecdh, lock, unlock, random_bytes, wallet, sensors, tamper,
            policy, sim, events, log, host_events, selftest, metrics, bench, luks, boot, pkcs11, cert, files, provision)


class ScmctlGroup(click.Group):
    """The root group: every command runs inside the one error-to-exit-code mapping, and click's
    own usage errors and aborts are reported the same way (as JSON under ``--json``)."""

    def invoke(self, ctx: click.Context) -> Any:
        with handle_errors():
            return super().invoke(ctx)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        as_json = "--json" in argv[:argv.index("--")] if "--" in argv else "--json" in argv
        run_reporting_click_errors(
            lambda: super(ScmctlGroup, self).main(argv, prog_name, complete_var, standalone_mode=False, **extra),
            as_json=as_json)


@click.group(cls=ScmctlGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_HELP)
@click.option("--url", envvar="SOFTSCM_URL", default=None,
              help="Module URL: unix:PATH, tcp:HOST:PORT, serial:DEVICE (serial:auto: the USB module board) or "
                   "embedded:STATE_DIR (default: $SOFTSCM_URL or the default socket). TCP and serial use "
                   "this host's enrolled client key in ~/.config/softscm.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for the module.")
@click.option("--login", is_flag=True, help="Log in with the administrator PIN first (prompted, or a line on stdin).")
@click.pass_context
def cli(ctx: click.Context, url: str | None, as_json: bool, timeout: float, login: bool) -> None:
    """Control a softscm module."""
    ctx.obj = Cli(url, as_json, timeout, login)
    ctx.call_on_close(ctx.obj.close)


def _json_flag(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and isinstance(ctx.find_root().obj, Cli):
        ctx.find_root().obj.as_json = True


def _summary(help_text: str) -> str:
    """The first sentence of a command's help, whole ("e.g." does not end it)."""
    paragraph = " ".join(inspect.cleandoc(help_text).split("\n\n")[0].split())
    return re.split(r"(?<!e\.g)(?<!i\.e)\.(?:\s|$)", paragraph, maxsplit=1)[0].rstrip(".")


def _finish(command: click.Command) -> None:
    """Accept ``--json`` after any group or command too (``scmctl keys list --json``), not only before
    it, and list every command with its whole first sentence (click would cut it at the terminal's width)."""
    command.params.append(click.Option(["--json"], is_flag=True, expose_value=False, is_eager=True,
                                       callback=_json_flag, help="Machine-readable JSON output."))
    if command.short_help is None and command.help:
        command.short_help = _summary(command.help)
    for sub in getattr(command, "commands", {}).values():
        _finish(sub)


for _command in COMMANDS:
    _finish(_command)
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="scmctl")


if __name__ == "__main__":
    main()
