"""Command handlers; importing this package registers them in :data:`softscm.module.dispatch.TABLE`."""

from . import core, keys, operations, sensors, wallets

__all__ = ["core", "keys", "operations", "sensors", "wallets"]
