"""What every scmctl command shares: the module URL, the output renderer, the exit-code map."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

import softscm

from ...wire.errors import (
    AuthenticationError,
    DestroyedError,
    ExportDisabledError,
    InvalidArgumentError,
    InvalidSignatureError,
    MnemonicError,
    ModuleStateError,
    NotPermittedError,
    PolicyFrozenError,
    ScmError,
    SlotEmptyError,
    TransportError,
)
from ..client import Client

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES: Sequence[tuple[type[ScmError], int]] = (
    (TransportError, 3),
    (InvalidSignatureError, 4),
    (AuthenticationError, 4),
    (MnemonicError, 4),
    (SlotEmptyError, 5),
    (ExportDisabledError, 6),
    (NotPermittedError, 6),
    (PolicyFrozenError, 6),
    (DestroyedError, 6),
    (ModuleStateError, 6),
    (InvalidArgumentError, 2),
)
EXIT_HELP = """Exit codes: 0 success; 1 any other module error; 2 bad usage or argument;
3 module unreachable; 4 invalid signature, failed authentication or bad mnemonic;
5 empty slot or not found; 6 not permitted now (mode, state, policy, export disabled)."""


def exit_code(error: ScmError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(error, cls):
            return code
    return 1


@dataclass
class Cli:
    """The root context object."""

    url: str | None
    as_json: bool
    timeout: float
    _client: Client | None = field(default=None, repr=False)

    def client(self) -> Client:
        if self._client is None:
            self._client = softscm.connect(self.url, timeout=self.timeout)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- rendering --------------------------------------------------------------------------------

    def emit(self, data: Any, *, human: Callable[[Any], None] | str | None = None) -> None:
        """Print ``data`` as JSON with ``--json``; otherwise call ``human`` (or print its text)."""
        if self.as_json:
            click.echo(json.dumps(_jsonable(data), indent=2, sort_keys=True))
        elif callable(human):
            human(data)
        elif human is not None:
            click.echo(human)
        else:
            click.echo(_text(data))

    def table(self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        table = Table(title=title, show_lines=False)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(_text(v) for v in row))
        Console().print(table)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: _jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    if hasattr(value, "name") and hasattr(value, "value"):  # enums
        return value.name
    return value


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if hasattr(value, "label"):
        return str(value.label)
    return str(value)


def pass_cli(func: F) -> F:
    """Give the command the :class:`Cli` as its first argument and map module errors to exit codes."""

    @click.pass_obj
    @wraps(func)
    def wrapper(cli: Cli, *args: Any, **kwargs: Any) -> Any:
        with handle_errors():
            return func(cli, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


@contextmanager
def handle_errors() -> Iterator[None]:
    """The one place module errors become messages on stderr and exit codes (never a traceback)."""
    try:
        yield
    except ScmError as exc:
        click.echo(f"scmctl: {exc.__class__.__name__}: {exc.message}", err=True)
        sys.exit(exit_code(exc))
    except ValueError as exc:
        click.echo(f"scmctl: {exc}", err=True)
        sys.exit(2)


def read_secret(prompt: str, *, confirm: bool = False) -> str:
    """Read a secret from the terminal without echo, or from stdin when it is not a terminal."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, default="", show_default=False)


def parse_hex(value: str, what: str) -> bytes:
    try:
        return bytes.fromhex(value.strip().removeprefix("0x"))
    except ValueError:
        raise click.BadParameter(f"{what} must be hex") from None
