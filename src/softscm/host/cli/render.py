"""scmctl's one renderer: JSON documents for machines (bytes as hex), rich tables and lines for people."""

from __future__ import annotations

import json
import time
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
    """Print a table of ``rows`` under ``columns``, the title on its own line above it (never wrapped
    to the table's width). Cells are never folded: a long hex value stays one piece to copy."""
    if title:
        click.echo(title)
    out = Table(show_lines=False)
    for column in columns:
        out.add_column(column, no_wrap=True, overflow="ignore")
    for row in rows:
        out.add_row(*(text(v) for v in row))
    Console(soft_wrap=True).print(out)


def fields(title: str | None, rows: Sequence[tuple[str, Any]]) -> None:
    """Print name/value pairs as aligned lines without a box, so long values (hex keys) wrap only
    where the terminal wraps them and copy in one piece."""
    if title:
        click.echo(title)
    width = max((len(name) for name, _ in rows), default=0)
    for name, value in rows:
        click.echo(f"{name:<{width}}  {text(value)}")


def timestamp(seconds: float | None) -> str:
    """An epoch time as a UTC date and time (``-`` for none or 0), as ``log show`` prints them."""
    if not seconds:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def details(values: dict[str, Any]) -> str:
    """An event's details as ``name=value`` words; times (``time``, ``*_time``, ``*_at``) as UTC
    dates in ISO form, so no epoch float reaches a person."""
    words = []
    for name, value in values.items():
        is_time = name == "time" or name.endswith(("_time", "_at"))
        if is_time and isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
            value = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
        words.append(f"{name}={value}")
    return " ".join(words)


def duration(seconds: float | None) -> str:
    """Seconds for a person: ``6.8 ms``, ``19.7 s``, ``3 h 05 min``."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes = int(seconds // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"


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
    """One value as a person reads it: bytes as hex, key types by label, yes/no, ``-`` for nothing,
    a mapping as ``name=value`` pairs."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if hasattr(value, "label"):
        return str(value.label)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == {} or value == []:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{k}={text(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1e6 else f"{value:.6g}"
    return str(value)
