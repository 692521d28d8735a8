"""``scmd``: the module daemon. Owns one state directory and serves it on a socket."""

from __future__ import annotations

import asyncio
import grp
import logging
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import click

from ..wire.address import default_socket_path
from ..wire.defs import DEFAULT_FOREIGN_CAPACITY, DEFAULT_USER_CAPACITY, DEFAULT_WALLET_CAPACITY
from ..wire.errors import ScmError
from . import lifecycle
from .hardening import disable_core_dumps
from .module import Module, ModuleConfig
from .sensors.linux import LinuxPaths
from .server import Server

log = logging.getLogger("softscm.scmd")


def default_state_dir() -> Path:
    """``/var/lib/softscm`` for root, else ``$XDG_STATE_HOME/softscm`` (``~/.local/state/softscm``)."""
    if os.geteuid() == 0:
        return Path("/var/lib/softscm")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "softscm"


def parse_listen(url: str) -> tuple[str, str]:
    """``serial:PATH`` or ``tcp:HOST:PORT`` as ``(scheme, rest)``.

    :raises click.BadParameter: for anything else.
    """
    scheme, _, rest = url.partition(":")
    if scheme not in ("serial", "tcp") or not rest:
        raise click.BadParameter(f"{url!r}: use serial:/dev/ttyGS0 or tcp:127.0.0.1:PORT")
    return scheme, rest


async def _serve(module: Module, socket_path: Path | None, listen: list[tuple[str, str]],
                 ready_file: Path | None, socket_group: int | None) -> None:
    server = Server(module)
    endpoints = []
    try:
        if socket_path is not None:
            await server.listen_unix(socket_path, group=socket_group)
            endpoints.append(f"unix:{socket_path}")
        for scheme, rest in listen:
            if scheme == "tcp":
                host, _, port = rest.rpartition(":")
                bound = await server.listen_tcp(host or "127.0.0.1", int(port))
                endpoints.append(f"tcp:{host or '127.0.0.1'}:{bound}")
            else:
                server.listen_serial(Path(rest))
                endpoints.append(f"serial:{rest}")
    except (ScmError, ValueError, OSError):
        await server.close()
        raise
    log.info("module %s serving on %s", module.serial, ", ".join(endpoints))
    if ready_file is not None:
        ready_file.write_text("\n".join(endpoints) + "\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.close()


def _group_id(name: str) -> int:
    """A group's id from its name or number. :raises click.BadParameter: for an unknown group."""
    if name.isdigit():
        return int(name)
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise click.BadParameter(f"no group named {name!r}", param_hint="--socket-group") from None


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run the event loop: uvloop when it is installed (the ``fast`` extra), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--state-dir", type=click.Path(path_type=Path), default=None,
              help="Module state directory (default: /var/lib/softscm for root, else $XDG_STATE_HOME/softscm).")
@click.option("--socket", "socket_path", type=click.Path(path_type=Path), default=None,
              help="Unix socket path (default: $XDG_RUNTIME_DIR/softscm/scmd.sock or /run/softscm/scmd.sock).")
@click.option("--no-unix", is_flag=True, help="Do not listen on a Unix socket.")
@click.option("--socket-group", default=None, metavar="GROUP",
              help="Let GROUP (a name or gid) connect to the Unix socket (mode 0660); what each caller may do "
                   "is still decided by the module's access table (scmctl access).")
@click.option("--tcp", default=None, metavar="HOST:PORT",
              help="Also listen on TCP (loopback only; encrypted channel with an enrolled client key required).")
@click.option("--listen", "listen", multiple=True, metavar="URL",
              help="Also serve serial:/dev/ttyGS0 (a USB gadget's serial line) or tcp:HOST:PORT; both carry "
                   "only the encrypted channel. Repeatable.")
@click.option("--user-capacity", default=DEFAULT_USER_CAPACITY, show_default=True,
              help="User key slots, fixed when the module is initialised.")
@click.option("--foreign-capacity", default=DEFAULT_FOREIGN_CAPACITY, show_default=True)
@click.option("--wallet-capacity", default=DEFAULT_WALLET_CAPACITY, show_default=True)
@click.option("--sensors", type=click.Choice(["simulated", "linux"]), default="simulated", show_default=True,
              help="Sensor back end: the scriptable simulated device, or Linux sysfs/GPIO hardware.")
@click.option("--sysfs-root", type=click.Path(path_type=Path), default=Path("/"), show_default=True,
              help="With --sensors linux: where the sysfs tree lives.")
@click.option("--selftest-interval", nargs=2, type=float, default=(60.0, 180.0), show_default=True,
              metavar="MIN MAX", help="Seconds between background integrity checks (randomised).")
@click.option("--allow-fault-injection", is_flag=True, hidden=True,
              help="Tests only: allow FAULT_INJECT (always refused in production mode).")
@click.option("--accept-code-digest", is_flag=True,
              help="Development mode: record the running code's digest as the installed one.")
@click.option("--boot-partition", "boot_partitions", multiple=True, type=click.Path(exists=True),
              help="A boot partition (mounted directory, FAT image or block device) the module may verify "
                   "and repair; repeatable. The first is the default.")
@click.option("--ready-file", type=click.Path(path_type=Path), default=None,
              help="Write the endpoints here once serving (for supervisors and tests).")
@click.option("--log-level", default="INFO", show_default=True)
def main(state_dir: Path | None, socket_path: Path | None, no_unix: bool, socket_group: str | None, tcp: str | None,
         listen: tuple[str, ...],
         user_capacity: int,
         foreign_capacity: int, wallet_capacity: int, sensors: str, sysfs_root: Path,
         selftest_interval: tuple[float, float], allow_fault_injection: bool, accept_code_digest: bool,
         boot_partitions: tuple[str, ...], ready_file: Path | None, log_level: str) -> None:
    """Run the softscm module daemon."""
    disable_core_dumps()  # before any key is loaded: a core would hold them
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s scmd %(levelname)s %(name)s: %(message)s")
    state_dir = (state_dir or default_state_dir()).absolute()
    group = _group_id(socket_group) if socket_group is not None else None
    listeners = [parse_listen(url) for url in listen] + ([("tcp", tcp)] if tcp is not None else [])
    socket_path = None if no_unix else (socket_path or default_socket_path())
    config = ModuleConfig(user_capacity=user_capacity, foreign_capacity=foreign_capacity,
                          wallet_capacity=wallet_capacity,
                          linux_sensors=LinuxPaths.under(sysfs_root) if sensors == "linux" else None,
                          background_interval=selftest_interval, fault_injection=allow_fault_injection,
                          accept_code_digest=accept_code_digest, boot_partitions=tuple(boot_partitions))
    try:
        module = lifecycle.start(state_dir, config=config)
    except ScmError as exc:
        raise click.ClickException(f"cannot start the module on {state_dir}: {exc.message}") from None
    except OSError as exc:  # whatever the checks above missed: a clear line, never a traceback
        raise click.ClickException(f"cannot start the module on {state_dir}: {exc.strerror} "
                                   f"({exc.filename or 'the state directory'})") from None
    try:
        _run(_serve(module, socket_path, listeners, ready_file, group))
    except ScmError as exc:
        raise click.ClickException(exc.message) from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        lifecycle.close(module)
        if socket_path is not None:
            socket_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
