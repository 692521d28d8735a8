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
from ..wire.errors import InvalidArgumentError, ScmError
from . import lifecycle
from .endpoints import Endpoint, Listener, TcpEndpoint, UnixEndpoint, bind_all
from .allocator import reuse_large_buffers
from .hardening import disable_core_dumps
from .module import Module, ModuleConfig
from .sensors.linux import LinuxPaths
from .server import Server
from .store.atomic import check_private_dir, check_writable

log = logging.getLogger("softscm.scmd")


def default_state_dir() -> Path:
    """``/var/lib/softscm`` for root, else ``$XDG_STATE_HOME/softscm`` (``~/.local/state/softscm``)."""
    if os.geteuid() == 0:
        return Path("/var/lib/softscm")
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "softscm"


async def _serve(module: Module, listeners: list[Listener], serial: list[Path], ready_file: Path | None) -> None:
    server = Server(module)
    try:
        for listener in listeners:
            await server.serve(listener)
        for path in serial:
            server.listen_serial(path)
    except ScmError:
        await server.close()
        raise
    endpoints = [listener.url for listener in listeners] + [f"serial:{path}" for path in serial]
    log.info("module %s serving on %s", module.serial, ", ".join(endpoints))
    if ready_file is not None:  # whole or not at all: a supervisor polls for it and reads it at once
        partial = ready_file.with_name(f".{ready_file.name}.{os.getpid()}")
        partial.write_text("\n".join(endpoints) + "\n")
        os.replace(partial, ready_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.close()


def endpoints_from_options(socket_path: Path | None, no_unix: bool, tcp: str | None, listen: tuple[str, ...] = (),
                           socket_group: str | None = None) -> tuple[list[Endpoint], list[Path]]:
    """Where to listen, from the command line: every option checked here, before anything is
    created. Returns the socket endpoints and the serial lines.

    :raises click.UsageError: for a contradiction or a malformed or non-loopback address.
    """
    if no_unix and socket_path is not None:
        raise click.UsageError("--socket and --no-unix contradict each other")
    if no_unix and socket_group is not None:
        raise click.UsageError("--socket-group needs the Unix socket")
    group = _group_id(socket_group) if socket_group is not None else None
    endpoints: list[Endpoint] = [] if no_unix else [
        UnixEndpoint((socket_path or default_socket_path()).absolute(), group)]
    serial: list[Path] = []
    urls = ([("--tcp", f"tcp:{tcp}")] if tcp is not None else []) + [("--listen", url) for url in listen]
    for option, text in urls:
        scheme, _, rest = text.partition(":")
        if scheme == "serial" and rest:
            serial.append(Path(rest))
            continue
        if scheme != "tcp":
            raise click.BadParameter(f"{text!r}: use serial:/dev/ttyGS0 or tcp:127.0.0.1:PORT", param_hint=option)
        try:
            endpoints.append(TcpEndpoint.parse(rest))
        except InvalidArgumentError as exc:
            raise click.BadParameter(exc.message, param_hint=option) from None
    if not endpoints and not serial:
        raise click.UsageError("--no-unix leaves nothing to listen on: add --tcp HOST:PORT or --listen URL")
    return endpoints, serial


def _group_id(name: str) -> int:
    """A group's id from its name or number. :raises click.BadParameter: for an unknown group."""
    if name.isdigit():
        return int(name)
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise click.BadParameter(f"no group named {name!r}", param_hint="'--socket-group'") from None


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
              help="Also listen on TCP: loopback only (127.0.0.0/8, [::1], localhost), encrypted channel with an "
                   "enrolled client key required; port 0 picks a free one.")
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
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], case_sensitive=False))
def main(state_dir: Path | None, socket_path: Path | None, no_unix: bool, socket_group: str | None, tcp: str | None,
         listen: tuple[str, ...], user_capacity: int, foreign_capacity: int, wallet_capacity: int, sensors: str,
         sysfs_root: Path, selftest_interval: tuple[float, float], allow_fault_injection: bool,
         accept_code_digest: bool, boot_partitions: tuple[str, ...], ready_file: Path | None, log_level: str) -> None:
    """Run the softscm module daemon."""
    disable_core_dumps()  # before any key is loaded: a core would hold them
    reuse_large_buffers()  # a megabyte to lock costs no page faults once the daemon is warm
    endpoints, serial = endpoints_from_options(socket_path, no_unix, tcp, listen, socket_group)
    state_dir = (state_dir or default_state_dir()).absolute()
    if ready_file is not None and not ready_file.absolute().parent.is_dir():
        raise click.BadParameter(f"{ready_file.parent} is not a directory", param_hint="'--ready-file'")
    logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s scmd %(levelname)s %(name)s: %(message)s")
    config = ModuleConfig(user_capacity=user_capacity, foreign_capacity=foreign_capacity,
                          wallet_capacity=wallet_capacity,
                          linux_sensors=LinuxPaths.under(sysfs_root) if sensors == "linux" else None,
                          background_interval=selftest_interval, fault_injection=allow_fault_injection,
                          accept_code_digest=accept_code_digest, boot_partitions=tuple(boot_partitions))
    try:
        if state_dir.exists():
            check_private_dir(state_dir)
            check_writable(state_dir)
        listeners = bind_all(endpoints)  # before the module starts: a taken address leaves no new state behind
    except ScmError as exc:
        raise click.ClickException(f"cannot start: {exc.message}") from None
    try:
        try:
            module = lifecycle.start(state_dir, config=config)
        except ScmError as exc:
            raise click.ClickException(f"cannot start the module on {state_dir}: {exc.message}") from None
        except OSError as exc:  # whatever the checks above missed: a clear line, never a traceback
            raise click.ClickException(f"cannot start the module on {state_dir}: {exc.strerror} "
                                       f"({exc.filename or 'the state directory'})") from None
        try:
            _run(_serve(module, listeners, serial, ready_file))
        except ScmError as exc:
            raise click.ClickException(exc.message) from None
        finally:
            lifecycle.close(module)
    finally:
        for listener in listeners:
            listener.close()


if __name__ == "__main__":
    main()
