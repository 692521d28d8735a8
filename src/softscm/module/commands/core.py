"""Session, information, time and randomness."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ... import __version__
from ...wire.defs import PROTOCOL_VERSION, Command, Mode
from ...wire.errors import UnsupportedVersionError
from ..args import Args
from ..dispatch import ANY_STATE, READY_OR_HOLD, command

from ..module import MODEL

if TYPE_CHECKING:
    from ..module import Module

MAX_RANDOM = 1024 * 1024


@command(Command.HELLO, states=ANY_STATE)
def hello(module: Module, args: Args) -> dict[str, Any]:
    """Version handshake. :raises UnsupportedVersionError: for a version this module lacks."""
    version = args.int("version")
    if version != PROTOCOL_VERSION:
        raise UnsupportedVersionError(f"protocol version {version} is not supported (this module speaks {PROTOCOL_VERSION})")
    return {"version": PROTOCOL_VERSION, "serial": module.serial, "state": module.state.name}


@command(Command.INFO, states=ANY_STATE)
def info(module: Module, args: Args) -> dict[str, Any]:
    return {
        "model": MODEL,
        "firmware_version": __version__,
        "serial": module.serial,
        "protocol_version": PROTOCOL_VERSION,
        "identity_public_key": b"" if module.destroyed else module.identity_public,
        "user_capacity": 0 if module.destroyed else module.store.user_capacity,
        "foreign_capacity": 0 if module.destroyed else module.store.foreign_capacity,
        "wallet_capacity": 0 if module.destroyed else module.store.wallet_capacity,
    }


@command(Command.STATUS, states=ANY_STATE)
def status(module: Module, args: Args) -> dict[str, Any]:
    return {
        "state": module.state.name,
        "mode": module.mode.name,
        "bound": module.bound,
        "uptime": time.time() - module.started,
        "ops": dict(module.counters.ops),
        "errors": dict(module.counters.errors),
        "suspended": dict(module.suspended),
        "led": module.led.describe(),
        "self_destruct_seconds": getattr(module, "destroy_seconds", None),
        "self_test": {kind: {"passed": r.passed, "seconds": r.duration_s, "started": r.started}
                      for kind, r in module.reports.items()},
        "error": module.error,
    }


@command(Command.RANDOM, states=READY_OR_HOLD)
def random_bytes(module: Module, args: Args) -> bytes:
    return module.rng(args.int("size", min=0, max=MAX_RANDOM))


@command(Command.LOCK_BINDING, states=READY_OR_HOLD)
def lock_binding(module: Module, args: Args) -> None:
    """Permanent production mode: the module is bound to this host and actions are carried out."""
    module.lock_binding()


@command(Command.BINDING_INFO, states=ANY_STATE)
def binding_info(module: Module, args: Args) -> dict[str, bool]:
    """``binding_is_locked``: production mode; ``is_bound``: the module serves this host."""
    return {"binding_is_locked": module.mode is Mode.PRODUCTION, "is_bound": True}


@command(Command.METRICS, states=ANY_STATE)
def metrics(module: Module, args: Args) -> dict[str, Any]:
    """Counters and gauges for the host's metrics exporter."""
    return {
        "state": module.state.name,
        "mode": module.mode.name,
        "uptime": time.time() - module.started,
        "boot_count": module.boot_count,
        "ops": dict(module.counters.ops),
        "errors": dict(module.counters.errors),
        "seconds": dict(module.counters.seconds),
        "gauges": module.sensor_gauges(),
    }
