"""The scmctl root command; each group lives in its own module and is registered here.

Adding a group is one import and one entry in ``COMMANDS``.
"""

from __future__ import annotations

from typing import Any

import click

from .access import access
from .admin import admin
from .bench import bench
from .boot import boot
from .clients import clients
from .context import Cli
from .exits import EXIT_HELP, handle_errors
from .keys import keys
from .log import host_events, log
from .luks import luks
from .metrics import metrics
from .operations import ecdh, lock, random_bytes, sign, unlock, verify
from .selftest import selftest
from .sensors import events, policy, sensors, sim, tamper
from .wallet import wallet

COMMANDS = (admin, access, clients, keys, sign, verify, ecdh, lock, unlock, random_bytes, wallet, sensors, tamper,
            policy, sim, events, log, host_events, selftest, metrics, bench, luks, boot)


class ScmctlGroup(click.Group):
    """The root group: every command runs inside the one error-to-exit-code mapping."""

    def invoke(self, ctx: click.Context) -> Any:
        with handle_errors():
            return super().invoke(ctx)


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


for _command in COMMANDS:
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="scmctl")


if __name__ == "__main__":
    main()
