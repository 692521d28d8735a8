"""scmctl's one renderer: JSON documents for machines (bytes as hex), rich tables and lines for people."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from enum import Enum, StrEnum
from typing import Any

import click
from rich.console import Console
from rich.table import Table


def emit(data: Any, *, as_json: bool, human: Callable[[Any], None] | str | None = None) -> None:
    """Print ``data`` as one JSON document with ``as_json``; otherwise call ``human`` (or print its text)."""
    if as_json:
        click.echo(json.dumps(jsonable(data), indent=2, sort_keys=True))
    elif callable(human):
        human(data)
    elif human is not None:
        click.echo(human)
    else:
        click.echo(text(data))


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table of ``rows`` under ``columns``."""
    out = Table(title=title, show_lines=False)
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*(text(v) for v in row))
    Console().print(out)


def jsonable(value: Any) -> Any:
    """``value`` with bytes as hex, enums by name and dataclasses as objects."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Enum):
        return value.name
    return value


def text(value: Any) -> str:
    """One value as a person reads it: bytes as hex, key types by label."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if hasattr(value, "label"):
        return str(value.label)
    return str(value)
