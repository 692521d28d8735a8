"""Command handlers, one class per area; :func:`routes` registers what a module serves.

A live module serves every area; a destroyed one only what needs no keys (status, information,
the LED and the log), so every other command meets the DESTROYED state.
"""

from __future__ import annotations

from ..access.clients import channel_static_key
from ..access.control import OwnerOnly
from ..dispatch import Dispatcher, Route
from ..module import Module
from .access import AccessCommands
from .admin import AdminCommands
from .boot import BootCommands, BootPartitions
from .cert import CertCommands
from .clients import ClientCommands
from .disk import DiskCommands
from .files import FileCommands
from .keys import KeyCommands
from .log import LogCommands
from .operations import OperationCommands
from .selftest import SelfTestCommands
from .sensors import SensorCommands
from .wallet import WalletCommands


def dispatcher(module: Module) -> Dispatcher:
    """The dispatcher of ``module``'s routes, enforcing its access control."""
    access = module.services.access if module.services is not None else OwnerOnly()
    return Dispatcher(module, routes(module), module.counters, access)


def routes(module: Module) -> list[Route]:
    """Every route ``module`` serves in its present life (live or destroyed)."""
    table = [*AdminCommands(module, module.rng).routes(), *LogCommands(module.state_dir, module.events).routes()]
    services = module.services
    if services is None:
        return table
    mode = lambda: module.mode  # noqa: E731
    return table + [
        *KeyCommands(services.keys, services.wallets, module.events, mode).routes(),
        *OperationCommands(services.keys, services.lockbox, services.lockstreams, services.access).routes(),
        *AccessCommands(services.access).routes(),
        *WalletCommands(services.wallets).routes(),
        *SensorCommands(module.sensors, services.clock, module.led, services.monitor, module.policy,
                        module.save_policy, module.events, mode).routes(),
        *SelfTestCommands(services.selftests, module).routes(),
        *DiskCommands(services.disk).routes(),
        *BootCommands(services.boot, BootPartitions(module.config.boot_partitions), services.monitor, mode,
                      module.events).routes(),
        *ClientCommands(services.clients,
                        lambda: channel_static_key(services.store).public_key().public_bytes_raw()).routes(),
        *CertCommands(services.certs, module.events, services.clock.now).routes(),
        *FileCommands(services.files, module.events).routes(),
    ]
