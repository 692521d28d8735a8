"""scmctl pkcs11: where the PKCS#11 module is."""

from __future__ import annotations

import click

from ...pkcs11.paths import library_path
from .context import Cli, pass_cli


@click.group()
def pkcs11() -> None:
    """The PKCS#11 module (libsoftscm-pkcs11.so) for OpenSSL, OpenSSH, GnuTLS and p11-kit."""


def _built() -> str:
    path = library_path()
    if not path.exists():
        raise click.ClickException(f"{path} is not built; run scripts/setup.sh (or python -m softscm.pkcs11.build)")
    return str(path)


@pkcs11.command()
@pass_cli
def path(cli: Cli) -> None:
    """Print the library's path (exit status 1 if it is not built)."""
    library = _built()
    cli.emit({"path": library}, human=library)

