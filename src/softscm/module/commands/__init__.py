"""Command handlers; importing this package registers them in :data:`softscm.module.dispatch.TABLE`."""

from . import core, keys, log, operations, selftest, sensors, wallets

__all__ = ["core", "keys", "log", "operations", "selftest", "sensors", "wallets"]
