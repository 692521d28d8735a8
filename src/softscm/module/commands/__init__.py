"""Command handlers; importing this package registers them in :data:`softscm.module.dispatch.TABLE`."""

from . import core, keys, operations, wallets

__all__ = ["core", "keys", "operations", "wallets"]
