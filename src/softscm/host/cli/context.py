"""What every scmctl command shares: the module URL and client, output, input helpers.

Output goes through :mod:`.render`; errors become exit codes in :mod:`.exits` (the root group wraps
every command in :func:`.exits.handle_errors`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

import softscm

from ..client import Client
from ..files import write_file
from . import render

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Cli:
    """The root context object: where the module is, how to print, and the one client connection."""

    url: str | None
    as_json: bool
    timeout: float
    login: bool = False
    _client: Client | None = field(default=None, repr=False)

    def client(self) -> Client:
        """Connect on first use (and log in with the administrator PIN, prompted, with ``--login``).

        :raises TransportError: if the module cannot be reached.
        :raises AccessDeniedError: for a wrong PIN.
        """
        if self._client is None:
            self._client = softscm.connect(self.url, timeout=self.timeout)
            if self.login:
                self._client.login(read_secret("Administrator PIN"))
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def emit(self, data: Any, *, human: Callable[[Any], None] | str | None = None) -> None:
        """Print ``data`` as JSON with ``--json``; otherwise call ``human`` (or print its text)."""
        render.emit(data, as_json=self.as_json, human=human)

    @staticmethod
    def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        render.table(title, columns, rows)

    @staticmethod
    def fields(title: str | None, rows: Sequence[tuple[str, Any]]) -> None:
        render.fields(title, rows)


def pass_cli(func: F) -> F:
    """Give the command the :class:`Cli` as its first argument."""
    return click.pass_obj(func)  # type: ignore[return-value]  # click types the wrapper loosely; it keeps F's call


def read_secret(prompt: str, *, confirm: bool = False) -> str:
    """Read a secret from the terminal without echo, or one line from stdin when it is not a terminal.

    Secrets never come from argv, where other users and shell history could see them.
    """
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, default="", show_default=False)


def parse_hex(value: str, what: str) -> bytes:
    """Hex (optionally ``0x``-prefixed) to bytes. :raises click.BadParameter: for anything else."""
    try:
        return bytes.fromhex(value.strip().removeprefix("0x"))
    except ValueError:
        raise click.BadParameter(f"{what} must be hex") from None


def read_input(path: str | Path) -> bytes:
    """The bytes of a file, or of stdin for ``-``."""
    return sys.stdin.buffer.read() if str(path) == "-" else Path(path).read_bytes()


def write_output(path: str | Path, data: bytes) -> None:
    """Write bytes to stdout for ``-``, else to a file created owner-only (0600) and complete or not at all
    (:func:`~softscm.host.files.write_file`): the bytes may be plaintext or a secret."""
    if str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        write_file(path, data)
