"""Every place that reads a softscm result's fields, one small function per call, so that a
change of a result's shape (a dict becoming a typed record) is adapted here alone."""

from __future__ import annotations

from typing import Any

from .types import ZymkeyAccelAxisData


def info_field(info: Any, name: str) -> str:
    """``model``, ``firmware_version`` or ``serial`` from :meth:`Client.info`."""
    return str(getattr(info, name))


def battery_volts(battery: Any) -> float:
    """The voltage from :meth:`Client.get_battery`."""
    return float(battery.volts)


def accelerometer_axes(reading: Any) -> tuple[ZymkeyAccelAxisData, ZymkeyAccelAxisData, ZymkeyAccelAxisData]:
    """x, y, z from :meth:`Client.get_accelerometer`."""
    g, direction = reading.g_force, reading.tap_direction
    x, y, z = (ZymkeyAccelAxisData(float(g[i]), int(direction[i])) for i in range(3))
    return x, y, z


def slot_numbers(slot_list: Any) -> tuple[list[int], int]:
    """``(slots, capacity)`` from :meth:`Client.list_slots`."""
    return [int(slot) for slot, _ in slot_list.slots], int(slot_list.capacity)


def signature_parts(signature: Any) -> tuple[bytes, int | None]:
    """``(raw r||s, recovery id or None)`` from :meth:`Client.sign`."""
    return bytes(signature.raw), signature.recovery_id


def created_wallet(created: Any) -> tuple[int, str | None]:
    """``(master slot, mnemonic or None)`` from :meth:`Client.create_wallet`."""
    slot, mnemonic = created
    return int(slot), mnemonic


def next_share(share: Any) -> tuple[int, str]:
    """``(slot or -1, mnemonic)`` from :meth:`Client.slip39_next_share`."""
    slot, mnemonic = share
    return int(slot), str(mnemonic)


def binding(info: Any) -> tuple[bool, bool]:
    """``(binding_is_locked, is_bound)`` from :meth:`Client.get_binding_info`."""
    locked, bound = info
    return bool(locked), bool(bound)


def derived_parts(derived: Any) -> tuple[int, bytes | None]:
    """``(slot, chain code or None)`` from :meth:`Client.derive_wallet_key`."""
    return int(derived.slot), derived.chain_code


def wallet_node_parts(node: Any) -> tuple[str, str, int]:
    """``(node_addr, wallet_name, master_slot)`` from :meth:`Client.get_wallet_node`."""
    return str(node.node_addr), str(node.wallet_name), int(node.master_slot)


def notifying_channels(policy: Any) -> list[bool]:
    """Whether each perimeter channel has the notify action, from :meth:`Client.get_policy`
    (a destroyed module reports no policy: no channel)."""
    return [bool(channel["notify"]) for channel in policy.get("perimeter", [])]


def manifest_text(manifest: Any) -> str:
    """The supervised-boot manifest's file paths, separated by spaces, from :meth:`Client.boot_manifest`."""
    return " ".join(str(entry.path) for entry in manifest.files)


LOCK_BLOB_MAGICS = (b"SCL1", b"SCL2")  # both formats put the key id right after the magic
LOCK_BLOB_KEYS = {0: "zymkey", 1: "cloud"}


def lock_blob_key(blob: bytes) -> str | None:
    """Which key a lock blob names in its header (magic | key id | ...), or ``None`` if the
    header is not a lock blob's (the module then refuses it)."""
    if len(blob) < 5 or blob[:4] not in LOCK_BLOB_MAGICS:
        return None
    return LOCK_BLOB_KEYS.get(blob[4])
