"""Where scmd listens: endpoints parsed and checked before anything is created, then bound.

A Unix socket path is taken only from nobody: a socket that a live process answers on is
refused, a stale one (nobody answers) is replaced, and any other file is never removed. On
exit a socket path is removed only while it is still the socket this process bound.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import stat
from dataclasses import dataclass
from pathlib import Path

from ..wire.errors import EndpointInUseError, InvalidArgumentError

BACKLOG = 128
SOCKET_MODE = 0o600
GROUP_SOCKET_MODE = 0o660
LIVENESS_TIMEOUT = 1.0  # seconds a connect to an existing socket may take before it counts as live


@dataclass(frozen=True)
class UnixEndpoint:
    """A Unix socket path: owner-only, or open to ``group`` (mode 0660; a directory scmd creates
    for it 0750 and that group's)."""

    path: Path
    group: int | None = None

    def __str__(self) -> str:
        return f"unix:{self.path}"


@dataclass(frozen=True)
class TcpEndpoint:
    """A TCP address on loopback (port 0: any free port)."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"tcp:{_bracket(self.host)}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> TcpEndpoint:
        """``HOST:PORT`` (``[::1]:PORT`` for IPv6; an empty host is 127.0.0.1; ``localhost`` is 127.0.0.1).

        :raises InvalidArgumentError: without a port, with a port out of range, or for a host that is
            not loopback (the TCP transport is not encrypted: it never leaves this machine).
        """
        host, separator, port_text = text.rpartition(":")
        if not separator or not port_text.isascii() or not port_text.isdigit() or int(port_text) > 65535:
            raise InvalidArgumentError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:7070; port 0 picks a free one)")
        host = host.removeprefix("[").removesuffix("]") or "127.0.0.1"
        if host == "localhost":
            host = "127.0.0.1"
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise InvalidArgumentError(
                f"{host!r} is not a loopback address: the TCP transport is not encrypted, so it listens on "
                "127.0.0.0/8, ::1 or localhost only"
            )
        return cls(host, int(port_text))


Endpoint = UnixEndpoint | TcpEndpoint


@dataclass
class Listener:
    """A bound, listening socket for one endpoint; :meth:`close` undoes exactly what binding did."""

    endpoint: Endpoint
    sock: socket.socket
    _identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the socket file this process made

    @property
    def url(self) -> str:
        """The URL a client uses (with the real port when port 0 was asked for)."""
        if isinstance(self.endpoint, TcpEndpoint):
            return str(TcpEndpoint(self.endpoint.host, int(self.sock.getsockname()[1])))
        return str(self.endpoint)

    def close(self) -> None:
        """Close the socket; remove the socket file only if it is still the one bound here."""
        self.sock.close()
        if isinstance(self.endpoint, UnixEndpoint) and self._identity is not None:
            try:
                info = os.lstat(self.endpoint.path)
            except FileNotFoundError:
                return
            if (info.st_dev, info.st_ino) == self._identity:
                self.endpoint.path.unlink()
            self._identity = None


def bind(endpoint: Endpoint) -> Listener:
    """Bind and listen on ``endpoint``.

    :raises EndpointInUseError: if a live process serves on the socket path or the port is taken.
    :raises InvalidArgumentError: if the socket path holds anything but a socket, or the address
        cannot be bound for another reason.
    """
    if isinstance(endpoint, UnixEndpoint):
        return _bind_unix(endpoint)
    return _bind_tcp(endpoint)


def bind_all(endpoints: list[Endpoint]) -> list[Listener]:
    """Bind every endpoint, or none: on a failure the ones already bound are closed again.

    :raises EndpointInUseError, InvalidArgumentError: as :func:`bind`.
    """
    listeners: list[Listener] = []
    try:
        for endpoint in endpoints:
            listeners.append(bind(endpoint))
    except BaseException:
        for listener in listeners:
            listener.close()
        raise
    return listeners


def _bind_unix(endpoint: UnixEndpoint) -> Listener:
    path = endpoint.path
    try:
        _remove_stale_socket(path)
        if not path.parent.exists():  # an existing directory is left as it is
            path.parent.mkdir(parents=True, mode=0o700)
            if endpoint.group is not None:
                os.chown(path.parent, -1, endpoint.group)
                os.chmod(path.parent, 0o750)
    except OSError as exc:  # e.g. another user's stale socket in a sticky directory
        raise InvalidArgumentError(f"cannot listen on {path}: {exc.strerror}") from None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        sock.bind(str(path))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:  # another scmd bound it between the check and here
            raise EndpointInUseError(f"{path} was taken by another process while scmd started") from None
        raise InvalidArgumentError(f"cannot listen on {path}: {exc.strerror}") from None
    finally:
        os.umask(old_umask)
    info = os.lstat(path)
    listener = Listener(endpoint, sock, (info.st_dev, info.st_ino))
    if endpoint.group is None:
        os.chmod(path, SOCKET_MODE)
    else:
        os.chown(path, -1, endpoint.group)
        os.chmod(path, GROUP_SOCKET_MODE)
    sock.listen(BACKLOG)
    return listener


def _remove_stale_socket(path: Path) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise InvalidArgumentError(
            f"{path} exists and is not a socket; scmd replaces only a stale socket, never another file"
        )
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(LIVENESS_TIMEOUT)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)  # stale: left behind by a process that is gone
        return
    except OSError as exc:
        raise EndpointInUseError(f"cannot tell whether something serves on {path} ({exc.strerror or 'timed out'}); "
                                 "it was left as it was") from None
    finally:
        probe.close()
    raise EndpointInUseError(
        f"a process (another scmd?) is serving on {path}; stop it or choose another --socket"
    )


def _bind_tcp(endpoint: TcpEndpoint) -> Listener:
    family = socket.AF_INET6 if ":" in endpoint.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((endpoint.host, endpoint.port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise EndpointInUseError(f"{endpoint} is already in use by another process") from None
        raise InvalidArgumentError(f"cannot listen on {endpoint}: {exc.strerror}") from None
    sock.listen(BACKLOG)
    return Listener(endpoint, sock)


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
