"""scmctl metrics: serve the module's metrics for Prometheus."""

from __future__ import annotations

import time

import click

import softscm

from ..metrics import serve_metrics
from .context import Cli


@click.group()
def metrics() -> None:
    """Prometheus metrics."""


@metrics.command()
@click.option("--port", default=9464, show_default=True)
@click.option("--addr", default="127.0.0.1", show_default=True)
@click.pass_obj
def serve(cli: Cli, port: int, addr: str) -> None:
    """Serve /metrics over HTTP; each scrape asks the module for its counters."""
    serve_metrics(lambda: softscm.connect(cli.url, timeout=cli.timeout), port, addr)
    click.echo(f"serving metrics on http://{addr}:{port}/metrics (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:  # the way to stop it: not an error
        click.echo("stopped", err=True)
