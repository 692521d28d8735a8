"""Time, LED, accelerometer, temperature, battery, perimeter (tamper), policies and the simulator."""

from __future__ import annotations

import asyncio
import json
import math
from typing import TYPE_CHECKING, Any

from ...wire.defs import Command, Event
from ...wire.errors import NotPermittedError
from ..args import Args
from ..dispatch import ANY_STATE, READY_OR_HOLD, command
from ..sensors.simulated import SimulatedDevice

if TYPE_CHECKING:
    from ..module import Module

SENSOR_STATES = READY_OR_HOLD


@command(Command.TIME, states=SENSOR_STATES, blocking=True)
def get_time(module: Module, args: Args) -> Any:
    """Module time (drift-corrected RTC); ``precise`` waits for the next second boundary."""
    precise = args.bool("precise", False)

    async def read() -> float:
        now = module.clock.now()
        if precise:
            await asyncio.sleep(math.ceil(now) - now)
            return float(round(module.clock.now()))
        return now

    return read()


@command(Command.RTC_DRIFT, states=SENSOR_STATES)
def rtc_drift(module: Module, args: Args) -> float:
    """Measure the RTC drift against the host's reference clock; ppm (positive: fast)."""
    return module.clock.calibrate()


@command(Command.LED_SET, states=SENSOR_STATES)
def led_set(module: Module, args: Args) -> None:
    """``pattern`` on, off or flash (``on_ms``, ``off_ms`` (0: same as on), ``flashes`` (0: forever))."""
    pattern = args.str("pattern")
    if pattern not in ("on", "off", "flash"):
        raise NotPermittedError("the LED pattern is on, off or flash")
    on_ms = args.int("on_ms", 0, min=0, max=60_000)
    off_ms = args.int("off_ms", 0, min=0, max=60_000) or on_ms
    module.led.set(pattern, on_ms, off_ms, args.int("flashes", 0, min=0, max=1_000_000))
    module.sensors.set_led(pattern != "off")


@command(Command.LED_GET, states=ANY_STATE)
def led_get(module: Module, args: Args) -> dict[str, Any]:
    return module.led.describe()


@command(Command.ACCEL_READ, states=SENSOR_STATES)
def accel_read(module: Module, args: Args) -> dict[str, Any]:
    """The latest acceleration per axis (g) and the direction of the last tap per axis."""
    module.monitor.poll()
    return module.monitor.accelerometer()


@command(Command.TAP_SENSITIVITY, states=SENSOR_STATES)
def tap_sensitivity(module: Module, args: Args) -> dict[str, float]:
    """Set ``axis`` (x, y, z or all) to ``pct`` 0..100 (0 disables); ``log`` records taps in the log."""
    module.monitor.taps.set_sensitivity(args.str("axis", "all"), args.float("pct", 50.0))
    module.policy.tap_sensitivity = dict(module.monitor.taps.sensitivity)
    if args.has("log"):
        module.policy.log_taps = args.bool("log")
    module.save_policy()
    return module.policy.tap_sensitivity


@command(Command.WAIT_TAP, states=SENSOR_STATES, blocking=True)
def wait_tap(module: Module, args: Args) -> Any:
    """Wait for a tap; ``timeout_ms`` -1 waits for ever. :raises ScmTimeoutError: on timeout."""
    return module.monitor.wait_tap(args.int("timeout_ms", -1, min=-1))


@command(Command.CPU_TEMP, states=SENSOR_STATES)
def cpu_temp(module: Module, args: Args) -> float:
    return module.sensors.cpu_temp()


@command(Command.AUX_TEMP, states=SENSOR_STATES)
def aux_temp(module: Module, args: Args) -> float:
    temps = module.sensors.aux_temps()
    index = args.int("index", 0, min=0, max=max(len(temps) - 1, 0))
    if not temps:
        raise NotPermittedError("this module has no auxiliary temperature sensor")
    return temps[index]


@command(Command.BATTERY_VOLT, states=SENSOR_STATES)
def battery_volt(module: Module, args: Args) -> dict[str, Any]:
    battery = module.sensors.battery()
    return {"volts": battery.volts, "present": battery.present}


@command(Command.PERIMETER_SET_ACTIONS, states=SENSOR_STATES)
def perimeter_set_actions(module: Module, args: Args) -> None:
    """Set a channel's actions. In production mode this can be done once."""
    channel = args.int("channel", min=0, max=1)
    module.policy.set_perimeter_actions(channel, args.bool("notify", True), args.bool("self_destruct", False),
                                        module.mode)
    module.save_policy()
    module.record(Event.POLICY_CHANGE, perimeter_channel=channel, notify=module.policy.perimeter[channel].notify,
                  self_destruct=module.policy.perimeter[channel].self_destruct)


@command(Command.PERIMETER_SET_PARAMS, states=SENSOR_STATES)
def perimeter_set_params(module: Module, args: Args) -> None:
    """Digital perimeter: ``lp_period_us``, ``lp_max_bits``, ``min_delay_ns``, ``max_delay_ns``."""
    module.policy.set_perimeter_params(
        module.mode,
        lp_period_us=args.optional(args.int, "lp_period_us"),
        lp_max_bits=args.optional(args.int, "lp_max_bits"),
        min_delay_ns=args.optional(args.int, "min_delay_ns"),
        max_delay_ns=args.optional(args.int, "max_delay_ns"),
    )
    module.save_policy()
    module.record(Event.POLICY_CHANGE, perimeter_params=True)


@command(Command.PERIMETER_INFO, states=ANY_STATE)
def perimeter_info(module: Module, args: Args) -> list[float]:
    """First-breach time per channel since the last clear (0: none)."""
    if module.destroyed:
        return []
    module.monitor.poll()
    return [c.first_breach for c in module.policy.perimeter]


@command(Command.PERIMETER_CLEAR, states=SENSOR_STATES)
def perimeter_clear(module: Module, args: Args) -> None:
    """Clear the first-breach times and re-arm the latches."""
    for channel, settings in enumerate(module.policy.perimeter):
        module.sensors.clear_latch(channel)
        settings.first_breach = 0.0
    module.save_policy()
    module.record(Event.TAMPER_CLEARED)


@command(Command.WAIT_PERIMETER, states=SENSOR_STATES, blocking=True)
def wait_perimeter(module: Module, args: Args) -> Any:
    """Wait for a perimeter breach on a notifying channel. :raises ScmTimeoutError: on timeout."""
    return module.monitor.wait_perimeter(args.int("timeout_ms", -1, min=-1))


@command(Command.BATTERY_POLICY, states=SENSOR_STATES)
def battery_policy(module: Module, args: Args) -> None:
    """``threshold`` (< 2.5 V) and the action: ``sleep`` or ``self_destruct``. Frozen in production."""
    module.policy.set_battery(
        module.mode,
        threshold=args.optional(args.float, "threshold"),
        sleep=args.optional(args.bool, "sleep"),
        self_destruct=args.optional(args.bool, "self_destruct"),
    )
    module.save_policy()
    module.record(Event.POLICY_CHANGE, battery=True)


@command(Command.TEMP_POLICY, states=SENSOR_STATES)
def temp_policy(module: Module, args: Args) -> None:
    """``low``/``high`` thresholds (°C) and ``self_destruct``. Frozen in production."""
    module.policy.set_temperature(
        module.mode,
        low=args.optional(args.float, "low"),
        high=args.optional(args.float, "high"),
        self_destruct=args.optional(args.bool, "self_destruct"),
    )
    module.save_policy()
    module.record(Event.POLICY_CHANGE, temperature=True)


@command(Command.BOOT_SET_POLICY, states=SENSOR_STATES)
def boot_policy(module: Module, args: Args) -> None:
    """0 do nothing, 1 self-destruct, 2 hold the host in reset. Allowed in every mode."""
    module.policy.set_boot_policy(args.int("policy_id"))
    module.save_policy()
    module.record(Event.POLICY_CHANGE, boot_policy=module.policy.boot_policy)


@command(Command.POLICY_GET, states=ANY_STATE)
def policy_get(module: Module, args: Args) -> dict[str, Any]:
    return {} if module.destroyed else json.loads(module.policy.to_json())


@command(Command.SIM_SET, states=SENSOR_STATES)
def sim_set(module: Module, args: Args) -> None:
    """Drive the simulated device (``action`` plus its arguments); the monitor runs at once.

    :raises NotPermittedError: if the module runs on real sensors.
    """
    if not isinstance(module.sensors, SimulatedDevice):
        raise NotPermittedError("the module runs on real sensors; there is nothing to simulate")
    values = {k: v for k, v in args.values().items() if k != "action"}
    module.sensors.apply(args.str("action"), **values)
    module.monitor.poll()
