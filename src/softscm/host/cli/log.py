"""scmctl log: show, follow, export (also from a copy of a failed module's state), verify,
checkpoint, keys, forward to syslog/journald; scmctl host-events."""

from __future__ import annotations

import json
import syslog
import time
from pathlib import Path

import click

from ...sealedlog.reader import read_log
from ...sealedlog.records import Checkpoint, Entry, read_jsonl, write_jsonl
from ...sealedlog.verify import verify as verify_log
from ..events import HostWatcher
from . import render
from .context import Cli, parse_hex, pass_cli, write_output
from .exits import handle_errors
from .sensors import parse_values


@click.group()
def log() -> None:
    """The module's sealed audit log."""


def _line(entry: Entry) -> str:
    return f"{entry.seq:>7} {render.timestamp(entry.time)} {entry.event_name} {render.details(entry.details)}"


@log.command()
@click.option("--since", "since_seq", default=0, help="First sequence number.")
@click.option("--event", "events", multiple=True, help="Only these events (e.g. TAMPER); repeatable.")
@click.option("--follow", is_flag=True, help="Keep printing new entries.")
@click.option("--interval", default=0.5, show_default=True, help="Seconds between polls with --follow.")
@pass_cli
def show(cli: Cli, since_seq: int, events: tuple[str, ...], follow: bool, interval: float) -> None:
    """Print log entries."""
    scm = cli.client()
    while True:
        entries, _ = scm.read_log(since_seq=since_seq, events=events)
        for entry in entries:
            click.echo(entry.to_json() if cli.as_json else _line(entry))
            since_seq = entry.seq + 1
        if not follow:
            return
        time.sleep(interval)


@log.command()
@click.option("--state-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Read a (copy of a) module state directory offline; the module need not run.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Write JSON lines here.")
@pass_cli
def export(cli: Cli, state_dir: Path | None, out: Path | None) -> None:
    """Export the whole log as JSON lines (entries, then checkpoints)."""
    if state_dir is not None:
        try:
            entries, checkpoints = read_log(state_dir)
        except FileNotFoundError as exc:
            raise click.ClickException(str(exc)) from None
    else:
        entries, checkpoints = cli.client().read_log(limit=10_000)
        while entries and len(entries) % 10_000 == 0:
            more, _ = cli.client().read_log(since_seq=entries[-1].seq + 1, limit=10_000)
            if not more:
                break
            entries += more
    text = write_jsonl(entries, checkpoints)
    if out is None:
        click.echo(text, nl=False)
    else:
        write_output(out, text.encode())
        click.echo(f"{len(entries)} entries and {len(checkpoints)} checkpoints written to {out}", err=True)


@log.command("verify")
@click.argument("source", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--state-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None)
@click.option("--public-key", required=True, help="The log's checkpoint public key (hex).")
@click.option("--mac-key", "ask_mac_key", is_flag=True, help="Prompt for the initial MAC key to check every MAC.")
@click.option("--trusted", type=click.Path(exists=True, path_type=Path), default=None,
              help="A checkpoint (JSON line) you saved earlier: detects truncation after it.")
def verify_command(source: Path | None, state_dir: Path | None, public_key: str, ask_mac_key: bool,
                   trusted: Path | None) -> None:
    """Verify an export (SOURCE) or a state directory; says exactly which check failed."""
    from .context import read_secret

    if (source is None) == (state_dir is None):
        raise click.UsageError("give an export file or --state-dir")
    if state_dir is not None:
        entries, checkpoints = read_log(state_dir)
    else:
        assert source is not None  # exactly one was given (checked above)
        entries, checkpoints = read_jsonl(source.read_text())
    mac_key = parse_hex(read_secret("Initial MAC key (hex)"), "MAC key") if ask_mac_key else None
    trusted_cp = Checkpoint.from_json(trusted.read_text().strip()) if trusted else None
    with handle_errors():
        report = verify_log(entries, checkpoints, parse_hex(public_key, "--public-key"), initial_mac_key=mac_key,
                            trusted=trusted_cp)
    click.echo(f"log verifies: {report.entries} entries ({report.first_seq}..{report.last_seq}), "
               f"{report.checkpoints} checkpoints, MACs {'checked' if report.macs_checked else 'not checked'}")


@log.command()
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Save the checkpoint (to verify later).")
@pass_cli
def checkpoint(cli: Cli, out: Path | None) -> None:
    """Sign the log's head now."""
    signed = cli.client().log_checkpoint()
    if signed is None:
        raise click.ClickException("the log is empty or the disk is full")
    if out is not None:
        write_output(out, (signed.to_json() + "\n").encode())
    cli.emit(json.loads(signed.to_json()), human=f"checkpoint at entry {signed.seq}")


@log.command()
@click.option("--claim", is_flag=True, help="Also take the initial MAC key (handed out only once).")
@pass_cli
def keys(cli: Cli, claim: bool) -> None:
    """The checkpoint public key (and, once, the initial MAC key)."""
    data = cli.client().log_keys(claim=claim)
    human = f"public key {data.public_key.hex()}\nentries {data.head_seq}, unlogged {data.unlogged}"
    if claim:
        key = data.initial_mac_key
        human += f"\ninitial MAC key {key.hex()} (keep it safe; it will not be shown again)" if key else \
            "\nthe initial MAC key was already claimed"
    cli.emit(data, human=human)


@log.command()
@click.option("--follow", is_flag=True)
@click.option("--interval", default=1.0, show_default=True)
@pass_cli
def forward(cli: Cli, follow: bool, interval: float) -> None:
    """Send entries to syslog (and so journald) as structured KEY=value fields."""
    syslog.openlog("softscm", 0, syslog.LOG_AUTH)
    since = 0
    while True:
        entries, _ = cli.client().read_log(since_seq=since)
        for entry in entries:
            fields = " ".join([f"SOFTSCM_SEQ={entry.seq}", f"SOFTSCM_EVENT={entry.event_name}",
                               *(f"SOFTSCM_{k.upper()}={v}" for k, v in entry.details.items())])
            syslog.syslog(syslog.LOG_WARNING if entry.event_name in ("TAMPER", "SELF_DESTRUCT") else syslog.LOG_INFO,
                          fields)
            since = entry.seq + 1
        if not follow:
            click.echo(f"forwarded up to entry {since - 1}", err=True)
            return
        time.sleep(interval)


@click.group("host-events")
def host_events() -> None:
    """Host-side events recorded in the module's log."""


@host_events.command()
@click.argument("kind", type=click.Choice(["power_cycle", "network_up", "network_down", "time_jump", "boot",
                                           "shutdown", "custom"]))
@click.argument("values", nargs=-1)
@pass_cli
def record(cli: Cli, kind: str, values: tuple[str, ...]) -> None:
    """Record one host event with NAME=VALUE details."""
    cli.client().record_host_event(kind, **parse_values(values))
    cli.emit({"recorded": kind}, human=f"recorded {kind}")


@host_events.command()
@click.option("--state-file", type=click.Path(path_type=Path), default=Path.home() / ".local/state/softscm-host.json",
              show_default=True, help="Where the last boot id is kept.")
@click.option("--interval", default=5.0, show_default=True)
@click.option("--once", is_flag=True, help="Poll once and exit.")
@pass_cli
def watch(cli: Cli, state_file: Path, interval: float, once: bool) -> None:
    """Watch for power cycles, network changes and time jumps, and record them in the module."""
    watcher = HostWatcher(state_file)
    while True:
        for kind, details in watcher.poll():
            cli.client().record_host_event(kind, **details)
            click.echo(f"recorded {kind} {details}")
        if once:
            return
        time.sleep(interval)
