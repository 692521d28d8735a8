"""The module's API, written once for both clients.

Each method builds a request and names the parser for its result; :class:`~softscm.host.client.Client`
runs it and returns the result, :class:`~softscm.host.aio.AsyncClient` returns an awaitable of it.
Every method raises the module's typed errors (:mod:`softscm.wire.errors`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..sealedlog.records import Checkpoint, Entry
from ..wire.defs import Command, KdfType, KeyType, LockKey
from .results import DerivedKey, ModuleInfo, Signature, SlotList, WalletNode

T = TypeVar("T")
KeyTypeLike = KeyType | str | int
LockKeyLike = LockKey | str | int


def _lock_key(value: LockKeyLike) -> int:
    if isinstance(value, str):
        names = {"zymkey": LockKey.MODULE, "module": LockKey.MODULE, "cloud": LockKey.CLOUD}
        try:
            return int(names[value.lower()])
        except KeyError:
            raise ValueError(f"unknown lock key {value!r}; use 'module' or 'cloud'") from None
    return int(LockKey(value))


def _key_type(value: KeyTypeLike) -> int:
    return int(KeyType.parse(value))


def _bytes(value: Any) -> bytes:
    return bytes(value)


class ModuleApi:
    """Methods shared by the sync and async clients."""

    def _call(self, command: Command, args: dict[str, Any], parse: Callable[[Any], T] | None = None) -> Any:
        raise NotImplementedError

    # -- information -----------------------------------------------------------------------

    def info(self) -> ModuleInfo:
        """Model, firmware version, serial number, identity key and capacities."""
        return self._call(Command.INFO, {}, ModuleInfo.from_wire)

    def status(self) -> dict[str, Any]:
        """State, mode, binding, uptime, counters, LED and self-test figures."""
        return self._call(Command.STATUS, {})

    def get_time(self) -> float:
        """The module clock, in epoch seconds."""
        return self._call(Command.TIME, {})

    def get_random(self, size: int) -> bytes:
        """``size`` random bytes from the module's health-tested generator."""
        return self._call(Command.RANDOM, {"size": size}, _bytes)

    # -- keys -------------------------------------------------------------------------------

    def gen_key_pair(self, key_type: KeyTypeLike) -> int:
        """Generate a key pair in the lowest free user slot (16+) and return the slot.

        :raises NoFreeSlotError: if every user slot is in use.
        """
        return self._call(Command.GEN_KEY, {"key_type": _key_type(key_type)})

    def gen_key_pairs(self, key_type: KeyTypeLike, count: int) -> list[int]:
        """Generate ``count`` (1..1024) key pairs in one durable transaction; returns their slots.

        :raises NoFreeSlotError: if they do not all fit (then none is stored).
        """
        return self._call(Command.GEN_KEYS, {"key_type": _key_type(key_type), "count": count})

    def gen_ephemeral_key_pair(self, key_type: KeyTypeLike) -> bytes:
        """Replace the volatile ephemeral key (slot -1); returns its public key."""
        return self._call(Command.GEN_EPHEMERAL, {"key_type": _key_type(key_type)}, _bytes)

    def invalidate_ephemeral_key(self) -> None:
        return self._call(Command.INVALIDATE_EPHEMERAL, {})

    def import_key(self, key_type: KeyTypeLike, private_key: bytes) -> int:
        """Store a raw 32-byte private key (development mode only) and return its slot.

        :raises NotPermittedError: in production mode. :raises InvalidKeyError: for a bad key.
        """
        return self._call(Command.IMPORT_KEY, {"key_type": _key_type(key_type), "private_key": bytes(private_key)})

    def remove_key(self, slot: int, *, foreign: bool = False) -> None:
        """Remove a key (a wallet node takes its descendants; a master seed its wallet)."""
        return self._call(Command.REMOVE_KEY, {"slot": slot, "foreign": foreign})

    def get_public_key(self, slot: int, *, foreign: bool = False) -> bytes:
        """The raw public key (64 bytes X||Y for ECDSA curves, 32 for Ed25519/X25519).

        :raises ExportDisabledError: if export is disabled for the slot.
        """
        return self._call(Command.GET_PUBLIC_KEY, {"slot": slot, "foreign": foreign}, _bytes)

    def get_public_key_pem(self, slot: int, *, foreign: bool = False) -> str:
        """The public key as a PEM SubjectPublicKeyInfo."""
        return self._call(Command.GET_PUBLIC_KEY, {"slot": slot, "foreign": foreign, "pem": True})

    def disable_public_key_export(self, slot: int, *, foreign: bool = False) -> None:
        """Permanently disable public key export for ``slot``."""
        return self._call(Command.DISABLE_EXPORT, {"slot": slot, "foreign": foreign})

    def store_foreign_public_key(self, key_type: KeyTypeLike, public_key: bytes) -> int:
        """Store a public key in the foreign store; returns its foreign slot.

        :raises InvalidKeyError: if the key is invalid. :raises NoFreeSlotError: if full.
        """
        return self._call(Command.STORE_FOREIGN, {"key_type": _key_type(key_type), "public_key": bytes(public_key)})

    def list_slots(self, *, foreign: bool = False) -> SlotList:
        """Occupied slots with types (factory slots included) and the total slot count."""
        return self._call(Command.LIST_SLOTS, {"foreign": foreign}, SlotList.from_wire)

    # -- operations ----------------------------------------------------------------------------

    def sign(self, slot: int, data: bytes, *, deterministic: bool = False, recid: bool = False) -> Signature:
        """Sign a 32-byte digest (ECDSA) or a message (Ed25519).

        :raises KeyTypeMismatchError: for an X25519 slot.
        """
        args = {"slot": slot, "data": bytes(data), "deterministic": deterministic, "recid": recid}
        return self._call(Command.SIGN, args, Signature.from_wire)

    def sign_batch(self, slot: int, items: Sequence[bytes], *, deterministic: bool = False) -> list[Signature]:
        """Sign many digests (or messages) with one slot in one round trip."""
        args = {"slot": slot, "data": [bytes(d) for d in items], "deterministic": deterministic}
        return self._call(Command.SIGN_BATCH, args, lambda v: [Signature.from_wire(s) for s in v])

    def verify(self, slot: int, data: bytes, signature: bytes, *, foreign: bool = False) -> None:
        """Verify with the key in ``slot`` (a foreign slot with ``foreign=True``).

        :raises InvalidSignatureError: if the signature does not verify.
        """
        args = {"slot": slot, "data": bytes(data), "signature": bytes(signature), "foreign": foreign}
        return self._call(Command.VERIFY, args, lambda _: None)

    def verify_public(self, key_type: KeyTypeLike, public_key: bytes, data: bytes, signature: bytes) -> None:
        """Verify with a public key given inline.

        :raises InvalidKeyError: for an invalid key. :raises InvalidSignatureError: if it fails.
        """
        args = {"key_type": _key_type(key_type), "public_key": bytes(public_key), "data": bytes(data),
                "signature": bytes(signature)}
        return self._call(Command.VERIFY, args, lambda _: None)

    def verify_batch(self, slot: int, items: Sequence[tuple[bytes, bytes]], *, foreign: bool = False) -> list[bool]:
        """Verify many ``(data, signature)`` pairs against one slot; one boolean each."""
        args = {"slot": slot, "foreign": foreign, "items": [[bytes(d), bytes(s)] for d, s in items]}
        return self._call(Command.VERIFY_BATCH, args)

    def ecdh(
        self,
        slot: int,
        peer: bytes | int,
        *,
        kdf: KdfType | str = KdfType.NONE,
        salt: bytes = b"",
        info: bytes = b"",
        iterations: int = 1,
        length: int = 32,
        peer_foreign: bool = True,
    ) -> bytes:
        """ECDH between ``slot`` (-1: the ephemeral key) and a peer public key or key slot,
        followed by ``kdf`` (``"none"`` returns the raw shared secret).

        :raises KeyTypeMismatchError: for an Ed25519 slot. :raises InvalidKeyError: for a bad peer key.
        """
        args: dict[str, Any] = {"slot": slot, "kdf": int(KdfType.parse(kdf)), "salt": bytes(salt), "info": bytes(info),
                                "iterations": iterations, "length": length}
        if isinstance(peer, int):
            args.update(peer_slot=peer, peer_foreign=peer_foreign)
        else:
            args["peer_public_key"] = bytes(peer)
        return self._call(Command.ECDH, args, _bytes)

    def lock(self, data: bytes, *, key: LockKeyLike = LockKey.MODULE) -> bytes:
        """Encrypt and sign ``data`` under the module key (bound to this module) or the cloud key."""
        return self._call(Command.LOCK, {"data": bytes(data), "key": _lock_key(key)}, _bytes)

    def unlock(self, blob: bytes) -> bytes:
        """Reverse :meth:`lock`. :raises AuthenticationError: if the blob fails authentication."""
        return self._call(Command.UNLOCK, {"blob": bytes(blob)}, _bytes)

    # -- binding and modes -------------------------------------------------------------------------

    def lock_binding(self) -> None:
        """Enter production mode for good and bind the module to this host (cannot be undone)."""
        return self._call(Command.LOCK_BINDING, {})

    def get_binding_info(self) -> tuple[bool, bool]:
        """``(binding_is_locked, is_bound)``."""
        return self._call(Command.BINDING_INFO, {}, lambda v: (bool(v["binding_is_locked"]), bool(v["is_bound"])))

    def metrics(self) -> dict[str, Any]:
        """Operation counts, errors, cumulative latency per command, state and sensor gauges."""
        return self._call(Command.METRICS, {})

    # -- wallets ------------------------------------------------------------------------------------

    def create_wallet(self, key_type: KeyTypeLike, name: str, *, bip39: bool = False, passphrase: str = "",
                      master_gen_key: bytes = b"") -> tuple[int, str | None]:
        """Create a wallet from a random seed, or from a new 24-word BIP39 mnemonic with ``bip39=True``.

        Returns ``(master_slot, mnemonic)``; the mnemonic (BIP39 only) is shown this once.

        :raises WalletError: for a duplicate name. :raises SessionError: while a SLIP-39 session is open.
        """
        args = {"key_type": _key_type(key_type), "name": name, "strategy": "bip39" if bip39 else "none",
                "passphrase": passphrase, "master_gen_key": bytes(master_gen_key)}
        return self._call(Command.WALLET_CREATE, args, lambda v: (int(v["slot"]), v.get("mnemonic")))

    def restore_wallet_seed(self, key_type: KeyTypeLike, name: str, seed: bytes, *,
                            master_gen_key: bytes = b"") -> int:
        """Create a wallet from a raw 16..64-byte seed (development mode only).

        :raises NotPermittedError: in production mode.
        """
        args = {"key_type": _key_type(key_type), "name": name, "strategy": "seed", "seed": bytes(seed),
                "master_gen_key": bytes(master_gen_key)}
        return self._call(Command.WALLET_CREATE, args, lambda v: int(v["slot"]))

    def restore_wallet_bip39(self, key_type: KeyTypeLike, name: str, mnemonic: str, *, passphrase: str = "",
                             master_gen_key: bytes = b"") -> int:
        """Restore a wallet from a BIP39 mnemonic; returns the master slot.

        :raises MnemonicError: for a bad word or checksum.
        """
        args = {"key_type": _key_type(key_type), "name": name, "mnemonic": mnemonic, "passphrase": passphrase,
                "master_gen_key": bytes(master_gen_key)}
        return self._call(Command.WALLET_RESTORE_BIP39, args)

    def slip39_generate(self, key_type: KeyTypeLike, name: str, *, group_threshold: int, group_count: int,
                        iteration_exponent: int = 1, passphrase: str = "", extendable: bool = True,
                        master_gen_key: bytes = b"") -> None:
        """Open a SLIP-39 generation session (then :meth:`slip39_set_group`, :meth:`slip39_next_share`)."""
        args = {"key_type": _key_type(key_type), "name": name, "group_threshold": group_threshold,
                "group_count": group_count, "iteration_exponent": iteration_exponent, "passphrase": passphrase,
                "extendable": extendable, "master_gen_key": bytes(master_gen_key)}
        return self._call(Command.SLIP39_GEN_START, args, lambda _: None)

    def slip39_set_group(self, group_index: int, member_count: int, member_threshold: int) -> None:
        args = {"group_index": group_index, "member_count": member_count, "member_threshold": member_threshold}
        return self._call(Command.SLIP39_GEN_SET_GROUP, args)

    def slip39_next_share(self, passphrase: str = "") -> tuple[int, str]:
        """The next share; the slot is -1 until the last share, then the new wallet's master slot.
        A member passphrase must be empty or the set's (SLIP-39 has one passphrase per set)."""
        return self._call(Command.SLIP39_GEN_NEXT_SHARE, {"passphrase": passphrase},
                          lambda v: (int(v["slot"]), v["mnemonic"]))

    def slip39_restore(self, key_type: KeyTypeLike, name: str, *, passphrase: str = "",
                       master_gen_key: bytes = b"") -> None:
        """Open a SLIP-39 restore session (then :meth:`slip39_add_share`)."""
        args = {"key_type": _key_type(key_type), "name": name, "passphrase": passphrase,
                "master_gen_key": bytes(master_gen_key)}
        return self._call(Command.SLIP39_RESTORE_START, args, lambda _: None)

    def slip39_add_share(self, mnemonic: str, passphrase: str = "") -> int:
        """Add a share: -1 until the thresholds are met, then the master slot.

        :raises MnemonicError: for a corrupt share or one from another set (the session stays open).
        """
        return self._call(Command.SLIP39_RESTORE_ADD, {"mnemonic": mnemonic, "passphrase": passphrase})

    def slip39_cancel(self) -> None:
        return self._call(Command.SLIP39_CANCEL, {})

    def derive_wallet_key(self, parent_slot: int, index: int, *, hardened: bool = False,
                          return_chain_code: bool = False) -> DerivedKey:
        """Derive a child node into a slot (the existing slot if it was derived before)."""
        args = {"parent_slot": parent_slot, "index": index, "hardened": hardened,
                "return_chain_code": return_chain_code}
        return self._call(Command.WALLET_DERIVE, args, DerivedKey.from_wire)

    def derive_wallet_path(self, master_slot: int, node_addr: str) -> int:
        """Derive every node down ``node_addr`` (e.g. ``"m/44'/60'/0'/0/3"``) from the wallet node in
        ``master_slot``; nodes that exist are reused. Returns the last node's slot."""
        return self._call(Command.WALLET_DERIVE, {"parent_slot": master_slot, "path": node_addr},
                          lambda v: int(v["slot"]))

    def create_oversight_wallet(self, key_type: KeyTypeLike, name: str, *, public_key: bytes = b"",
                                chain_code: bytes = b"", node_addr: str = "m", xpub: str | None = None) -> int:
        """A watch-only wallet from an extended public key (parts, or a BIP32 ``xpub``)."""
        args: dict[str, Any] = {"key_type": _key_type(key_type), "name": name, "node_addr": node_addr}
        if xpub is not None:
            args["xpub"] = xpub
        else:
            args.update(public_key=bytes(public_key), chain_code=bytes(chain_code))
        return self._call(Command.WALLET_OVERSIGHT, args)

    def get_wallet_node(self, slot: int) -> WalletNode:
        return self._call(Command.WALLET_NODE_INFO, {"slot": slot}, WalletNode.from_wire)

    def get_wallet_key_slot(self, node_addr: str, *, wallet_name: str | None = None,
                            master_slot: int | None = None) -> int:
        """:raises SlotEmptyError: if that node has not been derived."""
        return self._call(Command.WALLET_FIND_SLOT, {"node_addr": node_addr, "wallet_name": wallet_name,
                                                     "master_slot": master_slot})

    def list_wallets(self) -> list[dict[str, Any]]:
        return self._call(Command.WALLET_LIST, {})

    # -- time, LED, sensors -----------------------------------------------------------------------

    def get_module_time(self, *, precise: bool = False) -> float:
        """Module time (the drift-corrected RTC); ``precise`` waits for the next second boundary."""
        return self._call(Command.TIME, {"precise": precise})

    def get_rtc_drift(self) -> float:
        """The RTC's drift against the host's reference clock, in ppm (positive: fast)."""
        return self._call(Command.RTC_DRIFT, {})

    def led(self, pattern: str, *, on_ms: int = 0, off_ms: int = 0, flashes: int = 0) -> None:
        """``pattern`` is on, off or flash."""
        return self._call(Command.LED_SET, {"pattern": pattern, "on_ms": on_ms, "off_ms": off_ms, "flashes": flashes})

    def get_led(self) -> dict[str, Any]:
        """The LED pattern, the fatal code shown (if any) and the code history."""
        return self._call(Command.LED_GET, {})

    def get_accelerometer(self) -> dict[str, Any]:
        """``{"g_force": [x, y, z], "tap_direction": [dx, dy, dz], "last_tap": t}``."""
        return self._call(Command.ACCEL_READ, {})

    def set_tap_sensitivity(self, axis: str = "all", pct: float = 50.0, *, log: bool | None = None) -> dict[str, float]:
        """0..100 % per axis (0 disables); ``log=True`` records every tap in the audit log."""
        return self._call(Command.TAP_SENSITIVITY, {"axis": axis, "pct": pct, "log": log})

    def wait_for_tap(self, timeout_ms: int = -1) -> None:
        """:raises ScmTimeoutError: if no tap comes within ``timeout_ms`` (-1: wait for ever)."""
        return self._call(Command.WAIT_TAP, {"timeout_ms": timeout_ms}, lambda _: None)

    def get_cpu_temp(self) -> float:
        return self._call(Command.CPU_TEMP, {})

    def get_aux_temp(self, index: int = 0) -> float:
        return self._call(Command.AUX_TEMP, {"index": index})

    def get_battery(self) -> dict[str, Any]:
        """``{"volts": float, "present": bool}``."""
        return self._call(Command.BATTERY_VOLT, {})

    # -- tamper and policies ------------------------------------------------------------------------

    def set_perimeter_event_actions(self, channel: int, *, notify: bool = True, self_destruct: bool = False) -> None:
        """:raises PolicyFrozenError: for a second change in production mode."""
        return self._call(Command.PERIMETER_SET_ACTIONS, {"channel": channel, "notify": notify,
                                                          "self_destruct": self_destruct})

    def set_perimeter_params(self, *, lp_period_us: int | None = None, lp_max_bits: int | None = None,
                             min_delay_ns: int | None = None, max_delay_ns: int | None = None) -> None:
        """Digital perimeter parameters. :raises PolicyFrozenError: in production mode."""
        return self._call(Command.PERIMETER_SET_PARAMS, {"lp_period_us": lp_period_us, "lp_max_bits": lp_max_bits,
                                                         "min_delay_ns": min_delay_ns, "max_delay_ns": max_delay_ns})

    def get_perimeter_detect_info(self) -> list[float]:
        """First-breach epoch time per channel since the last clear (0: none)."""
        return self._call(Command.PERIMETER_INFO, {})

    def clear_perimeter_detect_info(self) -> None:
        """Clear the first-breach times and re-arm."""
        return self._call(Command.PERIMETER_CLEAR, {})

    def wait_for_perimeter_event(self, timeout_ms: int = -1) -> None:
        """:raises ScmTimeoutError: on timeout. :raises InvalidArgumentError: if no channel notifies."""
        return self._call(Command.WAIT_PERIMETER, {"timeout_ms": timeout_ms}, lambda _: None)

    def set_battery_policy(self, *, threshold: float | None = None, sleep: bool | None = None,
                           self_destruct: bool | None = None) -> None:
        """:raises PolicyFrozenError: in production mode. :raises InvalidArgumentError: for both actions."""
        return self._call(Command.BATTERY_POLICY, {"threshold": threshold, "sleep": sleep,
                                                   "self_destruct": self_destruct})

    def set_temperature_policy(self, *, low: float | None = None, high: float | None = None,
                               self_destruct: bool | None = None) -> None:
        """:raises PolicyFrozenError: in production mode."""
        return self._call(Command.TEMP_POLICY, {"low": low, "high": high, "self_destruct": self_destruct})

    def set_supervised_boot_policy(self, policy_id: int = 0) -> None:
        """0 do nothing, 1 self-destruct, 2 hold the host in reset."""
        return self._call(Command.BOOT_SET_POLICY, {"policy_id": policy_id})

    def get_policy(self) -> dict[str, Any]:
        return self._call(Command.POLICY_GET, {})

    def simulate(self, action: str, **args: Any) -> None:
        """Drive the simulated device: ``perimeter_open``/``perimeter_close`` (``channel``),
        ``temperature`` (``celsius``), ``battery`` (``volts``), ``battery_removed``, ``power_lost``,
        ``power_restored``, ``rtc_drift`` (``ppm``), ``tap`` (``axis``, ``direction``, ``g``),
        ``accel`` (``samples``: [[t, x, y, z], ...]).

        :raises NotPermittedError: if the module runs on real sensors.
        """
        return self._call(Command.SIM_SET, {"action": action, **args})

    # -- audit log and host events ------------------------------------------------------------------

    def read_log(self, *, since_seq: int = 0, limit: int = 10_000,
                 events: Sequence[str] = ()) -> tuple[list[Entry], list[Checkpoint]]:
        """Log entries (and every checkpoint); works even on a destroyed module."""
        args = {"since_seq": since_seq, "limit": limit, "events": list(events)}
        return self._call(Command.LOG_READ, args, lambda v: ([Entry.from_json(e) for e in v["entries"]],
                                                             [Checkpoint.from_json(c) for c in v["checkpoints"]]))

    def log_checkpoint(self) -> Checkpoint | None:
        """Sign the log's head now; keep the result to detect later truncation."""
        return self._call(Command.LOG_CHECKPOINT, {}, lambda v: Checkpoint.from_json(v) if v else None)

    def log_keys(self, *, claim: bool = False) -> dict[str, Any]:
        """``public_key`` (checkpoints), ``head_seq``, ``unlogged``; with ``claim=True`` the initial
        MAC key too, the one time it is handed out."""
        return self._call(Command.LOG_PUBLIC_KEY, {"claim": claim})

    def record_host_event(self, kind: str, **details: str | int | float | bool) -> None:
        """Record a host event (power_cycle, network_up, network_down, time_jump, boot, shutdown, custom)."""
        return self._call(Command.LOG_HOST_EVENT, {"kind": kind, "details": details})

    # -- self tests ---------------------------------------------------------------------------------

    def run_self_test(self, *, full: bool = True) -> dict[str, Any]:
        """Run the self tests now; returns the report (each test, result, time). A failure is fatal."""
        return self._call(Command.SELFTEST_RUN, {"full": full})

    def get_self_test_reports(self) -> dict[str, Any]:
        """The latest power-on, background and commanded reports, and the module's error if any."""
        return self._call(Command.SELFTEST_REPORT, {})

    def inject_fault(self, *, kat: str | None = None, where: str = "input", integrity: str | None = None,
                     entropy: str | None = None) -> None:
        """Tests only. :raises NotPermittedError: in production mode or without fault injection enabled."""
        return self._call(Command.FAULT_INJECT, {"kat": kat, "where": where, "integrity": integrity,
                                                 "entropy": entropy})
