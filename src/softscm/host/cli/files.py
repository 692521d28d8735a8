"""scmctl files: named files in the module's encrypted store (bootloader files, golden copies)."""

from __future__ import annotations

import click

from .context import Cli, pass_cli, read_input, write_output


@click.group()
def files() -> None:
    """Files kept in the module's encrypted store."""


@files.command()
@click.argument("name")
@click.argument("file")
@pass_cli
def put(cli: Cli, name: str, file: str) -> None:
    """Store FILE ('-': stdin) as NAME (e.g. boot/start4.elf), replacing any older one."""
    stored = cli.client().put_file(name, read_input(file))
    cli.emit(stored, human=f"{stored.name}: {stored.size} bytes, sha256 {stored.sha256.hex()}")


@files.command()
@click.argument("name")
@click.option("--out", default="-", show_default=True, help="Output file ('-': stdout).")
@pass_cli
def get(cli: Cli, name: str, out: str) -> None:
    """Write the stored file NAME out."""
    write_output(out, cli.client().get_file(name))


@files.command("list")
@click.argument("prefix", default="")
@pass_cli
def list_files(cli: Cli, prefix: str) -> None:
    """Stored files (whose names start with PREFIX)."""
    stored = cli.client().list_files(prefix)
    cli.emit(stored, human=lambda d: cli.table(f"{len(d)} files", ["name", "size", "sha256 (first 8 bytes)"],
                                               [(f.name, f.size, f.sha256[:8].hex()) for f in d]))


@files.command()
@click.argument("name")
@pass_cli
def remove(cli: Cli, name: str) -> None:
    """Remove the stored file NAME."""
    cli.client().remove_file(name)
    cli.emit({"name": name, "removed": True}, human=f"{name} removed")
