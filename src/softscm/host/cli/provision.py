"""scmctl provision: run the provisioning station over several units, and report its records."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import click
from rich.console import Console
from rich.live import Live
from rich.table import Table

from ...certchain import load_certificates, parse_der
from ..provision import (
    Phase,
    Progress,
    RecordBook,
    Station,
    StationConfig,
    Status,
    UnitSpec,
    export_csv,
    export_json,
)
from ..provision.plugins import LuksDisk, SignedBootPartition
from ..provision.record import RECORDS_FILE
from ..provision.state import STATE_FILE, StationState
from .context import Cli, pass_cli, read_secret, write_output
from .exits import Exit, fail

_STYLE = {Status.RUNNING: "yellow", Status.DONE: "green", Status.SKIPPED: "dim", Status.FAILED: "red"}


@click.group()
def provision() -> None:
    """The provisioning station: fresh modules and disk images to finished units."""


def _unit(value: str) -> UnitSpec:
    url, sep, image = value.rpartition("=")
    if not sep or not url or not image:
        raise click.BadParameter(f"a unit is MODULE_URL=IMAGE, not {value!r}")
    return UnitSpec(url, Path(image))


class ProgressTable:
    """Per-unit progress, kept from the station's threads and drawn as a rich table."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[Phase | None, str, Status, str, float]] = {}
        self._started: dict[str, float] = {}

    def update(self, progress: Progress) -> None:
        with self._lock:
            started = self._started.setdefault(progress.unit, time.monotonic())
            self._rows[progress.unit] = (progress.phase, progress.step, progress.status, progress.detail,
                                         time.monotonic() - started)

    def render(self) -> Table:
        table = Table(title="provisioning")
        for column in ("unit", "phase", "step", "status", "detail", "elapsed"):
            table.add_column(column)
        with self._lock:
            for unit, (phase, step, status, detail, elapsed) in sorted(self._rows.items()):
                table.add_row(unit, phase.label if phase else "", step,
                              f"[{_STYLE.get(status, '')}]{status.label}[/]", detail, f"{elapsed:.1f} s")
        return table


@provision.command()
@click.option("--station-dir", type=click.Path(path_type=Path), required=True,
              help="The station's state and manufacturing records (created owner-only).")
@click.option("--ca-url", required=True, help="The station's own module, which holds the station CA key.")
@click.option("--unit", "units", multiple=True, required=True, type=_unit,
              help="MODULE_URL=IMAGE: one module and its disk image; repeatable (units run in parallel).")
@click.option("--boot-file", "boot_files", multiple=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="A bootloader file pushed into each unit's module as boot/NAME; repeatable.")
@click.option("--disk", is_flag=True,
              help="Enrol each image's root.img under its module and re-encrypt it to its own volume key (the "
                   "baseline's default passphrase is prompted, or read as one line from stdin).")
@click.option("--no-reencrypt", is_flag=True, help="With --disk: enrol only (units keep the baseline's volume key).")
@click.option("--boot", "boot_version", type=int, default=None, metavar="VERSION",
              help="Sign and verify the manifest of each image's boot.img at this security version (the unit's "
                   "scmd must serve that partition: --boot-partition).")
@click.option("--production", is_flag=True, help="Lock binding at the end (production units; cannot be undone).")
@click.option("--org", "organization", default=None, help="Organisation in the certificates.")
@click.option("--days", default=20 * 365, show_default=True, help="Validity of the device certificates.")
@click.option("--identity-slot", default=0, show_default=True, help="Factory slot certified and signing the record.")
@click.option("--max-clock-offset", default=5.0, show_default=True,
              help="Seconds a unit's clock may be off the station's reference clock.")
@pass_cli
def run(cli: Cli, station_dir: Path, ca_url: str, units: tuple[UnitSpec, ...], boot_files: tuple[Path, ...],
        disk: bool, no_reencrypt: bool, boot_version: int | None, production: bool,
        organization: str | None, days: int, identity_slot: int, max_clock_offset: float) -> None:
    """Provision units; a rerun resumes each unit where it stopped. Exit 1 if a unit failed.

    An IMAGE is a directory with the unit's boot.img (FAT) and root.img (LUKS2), copied from the
    baseline. Without --disk or --boot those phases are recorded as skipped.
    """
    luks = LuksDisk(read_secret("Baseline default passphrase: ").encode(), reencrypt=not no_reencrypt) if disk else None
    config = StationConfig(station_dir, ca_url, boot_files={p.name: p.read_bytes() for p in boot_files},
                           production=production, organization=organization, days=days,
                           identity_slot=identity_slot, max_clock_offset=max_clock_offset, disk=luks,
                           boot=None if boot_version is None else SignedBootPartition(boot_version))
    progress = ProgressTable()
    with Station(config, on_progress=progress.update) as station:
        if cli.as_json:
            outcomes = station.run(list(units))
        else:
            with Live(console=Console(), refresh_per_second=8, get_renderable=progress.render):
                outcomes = station.run(list(units))
    data = [{"serial": o.serial, "url": o.url, "completed": o.completed, "error": o.error,
             "phases": {p.label: s.label for p, s in o.statuses.items()}} for o in outcomes]
    cli.emit(data, human=lambda d: cli.table("units", ["serial", "completed", "error"],
                                             [(u["serial"], u["completed"], u["error"] or "") for u in d]))
    if not all(o.completed for o in outcomes):
        fail("ProvisioningError", "not every unit completed", Exit.MODULE_ERROR, code="PROVISIONING")


@provision.command()
@click.option("--station-dir", type=click.Path(path_type=Path, exists=True, file_okay=False), required=True)
@click.option("--root", "root_file", type=click.Path(path_type=Path, exists=True), default=None,
              help="Trusted station CA certificate(s) (default: the one in the station's state).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--out", default="-", show_default=True, help="Output file ('-': stdout).")
def report(station_dir: Path, root_file: Path | None, fmt: str, out: str) -> None:
    """Export the manufacturing records, verifying every row's signature and certificate chain.
    Exit 4 if any row does not verify."""
    if not (station_dir / RECORDS_FILE).is_file():
        fail("NotFoundError", f"{station_dir} holds no manufacturing records", Exit.NOT_FOUND, code="NOT_FOUND")
    if root_file is not None:
        roots = load_certificates(root_file.read_bytes())
    elif not (station_dir / STATE_FILE).is_file():
        fail("ProvisioningError", "the station has no state (and so no CA certificate); give --root", Exit.USAGE)
    else:
        state = StationState(station_dir)
        try:
            der = state.setting("ca_certificate")
        finally:
            state.close()
        if der is None:
            fail("ProvisioningError", "the station has no CA certificate; give --root", Exit.USAGE)
        roots = [parse_der(der)]
    book = RecordBook(station_dir)
    try:
        records, checks = list(book), book.check_all(roots)
    finally:
        book.close()
    text = export_csv(records, checks) if fmt == "csv" else export_json(records, checks)
    write_output(out, text.encode())
    failed = [c for c in checks if not c.ok]
    if failed:
        fail("VerificationError", f"{len(failed)} of {len(checks)} records do not verify: "
             + "; ".join(f"{c.serial}: {c.error}" for c in failed), Exit.VERIFICATION_FAILED)
