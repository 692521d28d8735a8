"""scmctl selftest: run the self tests, show the reports."""

from __future__ import annotations

import click

from ...wire.messages.selftest import SelfTestReport, SelfTestReports
from .context import Cli, pass_cli


@click.group()
def selftest() -> None:
    """Self tests (power-on, background, commanded)."""


def _show(cli: Cli, report: SelfTestReport) -> None:
    cli.table(f"{report.kind.value} self test: {'PASSED' if report.passed else 'FAILED'} in "
              f"{report.duration_s * 1000:.1f} ms", ["test", "category", "result", "ms", "detail"],
              [(r.name, r.category.value, "pass" if r.passed else "FAIL", f"{r.duration_s * 1000:.2f}", r.detail)
               for r in report.results])


@selftest.command()
@click.option("--full/--quick", default=True, show_default=True, help="--quick runs the integrity checks only.")
@pass_cli
def run(cli: Cli, full: bool) -> None:
    """Run the self tests now (exit status 1 if any fails; the module then stays in ERROR)."""
    report = cli.client().run_self_test(full=full)
    cli.emit(report, human=lambda r: _show(cli, r))
    if not report.passed:
        raise SystemExit(1)


@selftest.command()
@pass_cli
def report(cli: Cli) -> None:
    """The latest report of each kind."""
    data = cli.client().get_self_test_reports()

    def human(d: SelfTestReports) -> None:
        for r in d.reports.values():
            _show(cli, r)
        if d.error:
            click.echo(f"module error: {d.error}")

    cli.emit(data, human=human)
