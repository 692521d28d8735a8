"""scmctl sensors, tamper, policy, sim and events."""

from __future__ import annotations

import json

import click

from ...wire.errors import ScmTimeoutError
from . import render
from .context import Cli, pass_cli


@click.group()
def sensors() -> None:
    """Time, temperature, battery, accelerometer, LED."""


@sensors.command()
@pass_cli
def show(cli: Cli) -> None:
    """Every sensor reading at once."""
    scm = cli.client()
    data = {"time": scm.get_module_time(), "rtc_drift_ppm": scm.get_rtc_drift(), "cpu_temp": scm.get_cpu_temp(),
            "battery": scm.get_battery(), "accelerometer": scm.get_accelerometer(), "led": scm.get_led()}
    cli.emit(data, human=lambda d: cli.fields(None, [
        (k.replace("_", " "), render.timestamp(v) if k == "time" else v) for k, v in d.items()]))


@sensors.command("wait-tap")
@click.option("--timeout-ms", default=-1, show_default=True)
@pass_cli
def wait_tap(cli: Cli, timeout_ms: int) -> None:
    """Wait for a tap (exit 1 on timeout)."""
    cli.client().wait_for_tap(timeout_ms)
    cli.emit({"tap": True}, human="tap")


@sensors.command("tap-sensitivity")
@click.argument("pct", type=click.FloatRange(0, 100))
@click.option("--axis", type=click.Choice(["x", "y", "z", "all"], case_sensitive=False), default="all")
@click.option("--log/--no-log", default=None, help="Record each tap in the audit log.")
@pass_cli
def tap_sensitivity(cli: Cli, pct: float, axis: str, log: bool | None) -> None:
    """Set the tap sensitivity (0 disables)."""
    cli.emit(cli.client().set_tap_sensitivity(axis, pct, log=log))


@click.group()
def tamper() -> None:
    """Perimeter (tamper) detection."""


@tamper.command()
@pass_cli
def info(cli: Cli) -> None:
    """First-breach time per channel since the last clear (JSON: epoch seconds, 0 for none)."""
    times = cli.client().get_perimeter_detect_info()
    cli.emit({"first_breach": times}, human=lambda d: cli.table(None, ["channel", "first breach"], [
        (i, render.timestamp(t)) for i, t in enumerate(d["first_breach"])]))


@tamper.command()
@pass_cli
def clear(cli: Cli) -> None:
    """Clear the breach times and re-arm."""
    cli.client().clear_perimeter_detect_info()
    cli.emit({"cleared": True}, human="cleared and re-armed")


@tamper.command("set-action")
@click.argument("channel", type=click.IntRange(0, 1))
@click.option("--notify/--no-notify", default=True, show_default=True)
@click.option("--self-destruct/--no-self-destruct", default=False, show_default=True)
@pass_cli
def set_action(cli: Cli, channel: int, notify: bool, self_destruct: bool) -> None:
    """Set a channel's actions (once only in production mode)."""
    cli.client().set_perimeter_event_actions(channel, notify=notify, self_destruct=self_destruct)
    cli.emit({"channel": channel, "notify": notify, "self_destruct": self_destruct}, human="set")


@tamper.command()
@click.option("--timeout-ms", default=-1, show_default=True)
@pass_cli
def wait(cli: Cli, timeout_ms: int) -> None:
    """Wait for a perimeter breach on a notifying channel."""
    cli.client().wait_for_perimeter_event(timeout_ms)
    cli.emit({"breach": True}, human="perimeter breached")


@click.group()
def policy() -> None:
    """Environment and boot policies."""


@policy.command("show")
@pass_cli
def policy_show(cli: Cli) -> None:
    cli.emit(cli.client().get_policy(), human=lambda d: click.echo(json.dumps(d, indent=2)))


@policy.command()
@click.option("--threshold", type=float, default=None, help="Volts, below 2.5.")
@click.option("--action", type=click.Choice(["none", "sleep", "self-destruct"]), default=None)
@pass_cli
def battery(cli: Cli, threshold: float | None, action: str | None) -> None:
    """Battery threshold and action (frozen in production mode)."""
    kwargs = {} if action is None else {"sleep": action == "sleep", "self_destruct": action == "self-destruct"}
    cli.client().set_battery_policy(threshold=threshold, **kwargs)
    cli.emit({"ok": True}, human="set")


@policy.command()
@click.option("--low", type=float, default=None)
@click.option("--high", type=float, default=None)
@click.option("--self-destruct/--no-self-destruct", default=None)
@click.option("--suspend/--no-suspend", default=None, help="Refuse key operations while out of range.")
@pass_cli
def temperature(cli: Cli, low: float | None, high: float | None, self_destruct: bool | None,
                suspend: bool | None) -> None:
    """CPU temperature thresholds (°C) and actions (frozen in production mode)."""
    cli.client().set_temperature_policy(low=low, high=high, self_destruct=self_destruct, suspend=suspend)
    cli.emit({"ok": True}, human="set")


@policy.command()
@click.argument("policy_id", type=click.IntRange(0, 2))
@pass_cli
def boot(cli: Cli, policy_id: int) -> None:
    """Supervised boot fault action: 0 nothing, 1 self-destruct, 2 hold the host in reset."""
    cli.client().set_supervised_boot_policy(policy_id)
    cli.emit({"boot_policy": policy_id}, human="set")


SIM_HELP = """Drive the running module's simulated device. ACTION is one of perimeter-open,
perimeter-close, temperature, battery, battery-removed, battery-inserted, power-lost,
power-restored, rtc-drift, tap; give its values as NAME=VALUE (channel=1, celsius=70, volts=2.1,
ppm=20, axis=x direction=-1 g=2). To act on the simulated hardware of a stopped module, use
`scmsim --state-dir DIR ACTION ...` (it runs on the module side)."""


def parse_values(values: tuple[str, ...]) -> dict[str, float | int | str]:
    """``NAME=VALUE`` pairs; numbers become ints or floats."""
    args: dict[str, float | int | str] = {}
    for item in values:
        name, _, text = item.partition("=")
        if not text:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE")
        try:
            args[name] = int(text) if text.lstrip("-").isdigit() else float(text)
        except ValueError:
            args[name] = text
    return args


@click.command(help=SIM_HELP)
@click.argument("action")
@click.argument("values", nargs=-1)
@pass_cli
def sim(cli: Cli, action: str, values: tuple[str, ...]) -> None:
    args = parse_values(values)
    cli.client().simulate(action.replace("-", "_"), **args)
    cli.emit({"applied": action, **args}, human=f"applied {action}")


@click.command()
@click.option("--follow", is_flag=True, help="Keep printing events as they come.")
@click.option("--timeout", "idle", type=float, default=None, help="Stop after this many idle seconds.")
@pass_cli
def events(cli: Cli, follow: bool, idle: float | None) -> None:
    """Print module events (tamper, tap, temperature, battery, power, mode...) as they happen."""
    try:
        for event in cli.client().events(timeout=idle if (idle or not follow) else None):
            if cli.as_json:
                click.echo(json.dumps(event, default=str))
            else:
                click.echo(f"{render.timestamp(event['time'])} {event['name']} {render.details(event['details'])}")
    except ScmTimeoutError:
        return
