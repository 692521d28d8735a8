"""The boot gate: ask the module to verify the boot partition, then let the boot go on or hold it.

``scm-bootgate`` runs from the initramfs (``deploy/initramfs``) or as the systemd unit
``deploy/scm-bootgate.service`` ordered before ``cryptsetup-pre.target``, so no disk is unlocked
before the module has judged the boot partition. :func:`run_gate` holds the decision logic and
takes the module calls as callables; its exit status is the gate's:

- 0 (:attr:`GateExit.CONTINUE`): verified, logged only, allowed in development, not configured,
  or released from HOLD by an authorisation while waiting;
- 1 (:attr:`GateExit.HOLD`): the module holds the boot (after ``timeout`` when waiting);
- 2 (:attr:`GateExit.DESTROYED`): the module destroyed its keys;
- 3 (:attr:`GateExit.UNREACHABLE`): the module could not be asked (treated as a hold by the
  initramfs script, which retries).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from enum import IntEnum, unique

import click

from ..wire.defs import BootOutcome, ModuleState
from ..wire.errors import ScmError
from .client import connect


@unique
class GateExit(IntEnum):
    CONTINUE = 0
    HOLD = 1
    DESTROYED = 2
    UNREACHABLE = 3


def run_gate(
    verify: Callable[[], BootOutcome],
    state: Callable[[], ModuleState],
    *,
    wait: bool,
    timeout: float | None = None,
    poll_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    say: Callable[[str], None] = lambda message: None,
) -> GateExit:
    """Ask ``verify()`` for the module's verdict; while the module holds and ``wait`` is set,
    poll ``state()`` every ``poll_s`` seconds until it leaves HOLD or ``timeout`` passes.

    Never raises for a module error: an unreachable module is :attr:`GateExit.UNREACHABLE`.
    """
    try:
        outcome = verify()
    except (ScmError, OSError) as exc:
        say(f"the module could not verify the boot: {exc}")
        return GateExit.UNREACHABLE
    say(f"boot verification: {outcome.name.lower()}")
    if outcome.boot_may_continue:
        return GateExit.CONTINUE
    if outcome is BootOutcome.DESTROYED:
        return GateExit.DESTROYED
    if not wait:
        return GateExit.HOLD
    deadline = None if timeout is None else clock() + timeout
    say("the module holds the boot: waiting for remediation and authorisation")
    while True:
        try:
            current = state()
        except (ScmError, OSError):
            current = ModuleState.HOLD
        if current is ModuleState.DESTROYED:
            return GateExit.DESTROYED
        if current is not ModuleState.HOLD:
            say("the module released the boot")
            return GateExit.CONTINUE
        if deadline is not None and clock() >= deadline:
            return GateExit.HOLD
        sleep(poll_s)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", envvar="SOFTSCM_URL", default=None,
              help="Module URL: unix:PATH or tcp:HOST:PORT (default: $SOFTSCM_URL or the default socket).")
@click.option("--dir", "directory", default=None, help="The boot partition as a mounted directory.")
@click.option("--image", default=None, help="The boot partition as a FAT image or block device.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="While the module holds the boot, wait until it releases it.")
@click.option("--timeout", type=float, default=None, help="Seconds to wait while held (default: for ever).")
@click.option("--poll", type=float, default=2.0, show_default=True, help="Seconds between polls while held.")
@click.option("--connect-timeout", type=float, default=60.0, show_default=True,
              help="Seconds to wait for each module reply (a large partition takes a while to verify).")
def main(url: str | None, directory: str | None, image: str | None, wait: bool, timeout: float | None, poll: float,
         connect_timeout: float) -> None:
    """Ask the module to verify the boot partition; exit 0 to let the boot go on, 1 held, 2 destroyed,
    3 module unreachable. Neither --dir nor --image: the module's configured boot partition."""
    def say(message: str) -> None:
        click.echo(f"scm-bootgate: {message}", err=True)

    try:
        client = connect(url, timeout=connect_timeout)
    except (ScmError, OSError) as exc:
        say(f"cannot reach the module: {exc}")
        sys.exit(int(GateExit.UNREACHABLE))
    with client:
        result = run_gate(lambda: client.boot_verify(directory=directory, image=image).outcome,
                          lambda: client.status().state, wait=wait, timeout=timeout, poll_s=poll, say=say)
    sys.exit(int(result))


if __name__ == "__main__":
    main()
