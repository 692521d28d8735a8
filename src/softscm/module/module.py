"""The module: its state machine and the services it owns.

:mod:`.lifecycle` opens, initialises and closes a state directory and hands back a
:class:`Module`. A live module owns its :class:`Services` (keystore, key slots, lock box, wallets,
self tests, the sensor monitor); a destroyed module has none: it is the DESTROYED state, which
answers status and log reads and refuses everything else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .. import __version__
from ..wire.defs import (
    DEFAULT_FOREIGN_CAPACITY,
    DEFAULT_USER_CAPACITY,
    DEFAULT_WALLET_CAPACITY,
    FACTORY_SLOTS,
    PROTOCOL_VERSION,
    BootPolicy,
    Event,
    Mode,
    ModuleState,
)
from ..wire.messages.admin import LedStatus, Metrics, ModuleInfo, Status
from ..wire.messages.selftest import SelfTestKind
from .access.clients import ClientRegistry
from .access.control import AccessControl
from .audit.log import AuditLog
from .audit.recorder import Recorder
from .boot.remediation import GoldenStore
from .boot.service import BootHooks, BootService
from .crypto.lockbox import LockBox
from .crypto.rng import Rng
from .disk import DiskCustody
from .dispatch import Counters
from .keyslots import KeySlots
from .lockstreams import LockStreams
from .policy.monitor import Monitor
from .policy.settings import Policy
from .selftest.health import HealthTestedRng
from .selftest.service import SELF_TEST_CODE, SelfTests
from .sensors.hal import SensorBackend, SensorError
from .sensors.led import FatalCode, LedCode, LedModel
from .sensors.linux import LinuxPaths, LinuxSensors
from .sensors.rtc import ModuleClock
from .sensors.simulated import SimulatedDevice
from .store.atomic import atomic_write, ensure_private_dir
from .store.certs import CertStore
from .store.files import FileStore
from .store.keystore import KEYSTORE_FILE, KeyStore
from .store.lock import StateLock
from .store.rootkey import ROOT_KEY_FILE, bind_root_key
from .wallet.service import WalletService

log = logging.getLogger(__name__)

MODEL = "softscm-SCM"
DESTROYED_MARKER = "destroyed"
SENSORS_DIR = "sensors"
POLICY = "policy"
CLOUD_KEY = "sealed:cloud_key"
LOCK_KEY = "sealed:lock_key"
BOOT_GOLDEN_DIR = "boot-golden"


@dataclass(frozen=True)
class ModuleConfig:
    """Settings fixed at initialisation (capacities) or at start (the sensor back end)."""

    user_capacity: int = DEFAULT_USER_CAPACITY
    foreign_capacity: int = DEFAULT_FOREIGN_CAPACITY
    wallet_capacity: int = DEFAULT_WALLET_CAPACITY
    linux_sensors: LinuxPaths | None = None  # None: the simulated device
    fault_injection: bool = False  # tests only; refused in production mode whatever this says
    background_interval: tuple[float, float] = (60.0, 180.0)  # seconds between background checks
    accept_code_digest: bool = False  # development: record the running code's digest as the good one
    boot_partitions: tuple[str, ...] = ()  # the boot partitions (directories, FAT images) BOOT_* may name

    def sensor_backend(self, state_dir: Path) -> SensorBackend:
        if self.linux_sensors is not None:
            return LinuxSensors(self.linux_sensors)
        return SimulatedDevice(state_dir / SENSORS_DIR)


@dataclass(frozen=True)
class Services:
    """What a live module owns."""

    store: KeyStore
    access: AccessControl
    keys: KeySlots
    lockbox: LockBox
    lockstreams: LockStreams
    wallets: WalletService
    selftests: SelfTests
    monitor: Monitor
    clock: ModuleClock
    disk: DiskCustody
    boot: BootService
    clients: ClientRegistry
    certs: CertStore
    files: FileStore


_SUSPENSION_EVENTS = {"power": Event.POWER, "battery": Event.BATTERY, "temperature": Event.TEMPERATURE}


def derive(root_key: bytes, label: bytes) -> bytes:
    """A 32-byte key for one purpose, derived from the root key."""
    return HKDF(hashes.SHA256(), 32, None, label).derive(root_key)


class Module:
    """The security module. Not thread-safe: one owner drives it from one thread."""

    def __init__(self, state_dir: Path, config: ModuleConfig, rng: Rng, *, serial: str, mode: Mode, bound: bool,
                 events: Recorder) -> None:
        """A module in STARTING state with no services; :meth:`open_services` makes it live."""
        self.state_dir = state_dir
        self.config = config
        self.rng = rng
        self.events = events
        self.bound = bound
        self.started = time.time()
        self.state = ModuleState.STARTING
        self.counters = Counters()
        self.boot_count = 0
        self.led = LedModel()
        self.error: str | None = None
        self.suspended: dict[str, str] = {}
        self.destroy_seconds: float | None = None
        self.lock: StateLock | None = None
        self.services: Services | None = None
        self.identity: ed25519.Ed25519PrivateKey | None = None
        self.policy = Policy()
        self.sensors: SensorBackend  # set by open_services: a destroyed module reads no sensors
        self._serial = serial
        self._mode = mode
        self._root_key = b""

    def open_services(self, store: KeyStore, root_key: bytes) -> Services:
        """Build the services of a live module on its opened keystore."""
        self._root_key = root_key
        self.identity = ed25519.Ed25519PrivateKey.from_private_bytes(derive(root_key, b"softscm identity v1"))
        stored_policy = store.get_meta(POLICY)
        self.policy = Policy.from_json(stored_policy) if stored_policy else Policy()
        self.sensors = self.config.sensor_backend(self.state_dir)
        clock = ModuleClock(self.sensors.rtc_time, ensure_private_dir(self.state_dir / SENSORS_DIR))
        keys = KeySlots(store, self.rng, self._pairwise_failed)
        lockbox = LockBox(store.open_secret("lock", store.get_meta(LOCK_KEY) or b""),
                          store.open_secret("cloud", store.get_meta(CLOUD_KEY) or b""), self.identity, self.rng)
        monitor = Monitor(self)
        selftests = SelfTests(store, self.rng, monitor.peripheral_checks, self.key_material_digest, self.events,
                              self.enter_error, lambda: self._mode, self.config.fault_injection)
        disk = DiskCustody(derive(root_key, b"softscm disk v1"), self.rng, state=lambda: self.state,
                           boot_gate=self.disk_keys_allowed, events=self.events)
        self.services = Services(store, AccessControl(store, self.events, self.rng), keys, lockbox,
                                 LockStreams(lockbox.key, self.rng), WalletService(keys, self.events, lambda: self._mode),
                                 selftests, monitor, clock, disk, self._boot_service(store, keys),
                                 ClientRegistry(store, record=self.events.record), CertStore(store),
                                 FileStore(store, self.state_dir, rng=self.rng))
        if isinstance(self.rng, HealthTestedRng):
            self.rng.on_failure = lambda message: self.enter_error(f"entropy source: {message}")
        return self.services

    def _boot_service(self, store: KeyStore, keys: KeySlots) -> BootService:
        """Supervised boot: HOLD, destruction, the log and the LED are this module's; manifests are
        signed by a factory slot key; remote authorisations by a foreign key."""
        hooks = BootHooks(
            enter_hold=lambda: self._set_state(ModuleState.HOLD),
            leave_hold=lambda: self._set_state(ModuleState.READY),
            destroy=lambda: self.destroy(reason="supervised boot verification failed"),
            record=self.events.record,
            show_led=lambda main, sub: self.show_led_code(LedCode(main, sub), reason="supervised boot"),
            release_suspension=lambda: self.resume("battery"),
        )
        golden = GoldenStore(self.state_dir / BOOT_GOLDEN_DIR, store.seal_secret, store.open_secret)
        return BootService(
            store, hooks, policy=lambda: BootPolicy(self.policy.boot_policy),
            signer=lambda slot: lambda digest: keys.private_key(slot).sign(digest).raw,
            verifier=lambda slot: keys.public_key(slot).verify,
            serial=self.serial, golden=golden, rng=self.rng,
            known_keys=lambda: {slot: store.public_key(slot, foreign=True)
                                for slot, key_type in store.list_foreign() if key_type.can_sign})

    def live(self) -> Services:
        """The services. :raises RuntimeError: on a destroyed module (no route reaches here then)."""
        if self.services is None:
            raise RuntimeError("a destroyed module has no services")
        return self.services

    def disk_keys_allowed(self) -> bool:
        """Whether the boot gate lets disk keys out: no supervised boot policy, or the boot
        partition verified in this boot."""
        return self.policy.boot_policy == BootPolicy.NONE or (self.services is not None and self.services.boot.verified)

    @staticmethod
    def audit_keys(root_key: bytes) -> tuple[bytes, bytes]:
        """The audit log's signing and sealing keys."""
        return derive(root_key, b"softscm audit signing v1"), derive(root_key, b"softscm audit seal v1")

    # -- properties ------------------------------------------------------------------------------

    @property
    def serial(self) -> str:
        return self._serial

    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def destroyed(self) -> bool:
        return self.state is ModuleState.DESTROYED

    @property
    def identity_public(self) -> bytes:
        if self.identity is None:
            return b""
        return self.identity.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def info(self) -> ModuleInfo:
        """Model, firmware, serial, identity key and capacities (zero once destroyed)."""
        store = self.services.store if self.services else None
        return ModuleInfo(MODEL, __version__, self.serial, PROTOCOL_VERSION, self.identity_public,
                          store.user_capacity if store else 0, store.foreign_capacity if store else 0,
                          store.wallet_capacity if store else 0)

    def status(self) -> Status:
        reports = self.services.selftests.reports if self.services else {}
        return Status(self.state, self.mode, self.bound, time.time() - self.started, dict(self.counters.ops),
                      dict(self.counters.errors), dict(self.suspended), self.led.describe(),
                      {kind.value: r.summary() for kind, r in reports.items()}, self.destroy_seconds, self.error)

    def led_status(self) -> LedStatus:
        return self.led.describe()

    def metrics(self) -> Metrics:
        return Metrics(self.state, self.mode, time.time() - self.started, self.boot_count, dict(self.counters.ops),
                       dict(self.counters.errors), dict(self.counters.seconds), self.sensor_gauges())

    def sensor_gauges(self) -> dict[str, float]:
        """Current sensor readings for metrics (a sensor that does not answer is left out)."""
        if self.services is None:
            return {}
        audit = self.events.audit
        gauges: dict[str, float] = {
            "audit_log_entries": float(audit.head_seq if audit else 0),
            "audit_log_unlogged_events": float(audit.unlogged if audit else 0),
            "tamper_channels_breached": float(sum(1 for c in self.policy.perimeter if c.first_breach)),
            "rtc_drift_ppm": self.services.clock.drift_ppm,
            "suspended": float(bool(self.suspended)),
        }
        for name, read in (("cpu_temperature_celsius", self.sensors.cpu_temp),
                           ("battery_volts", lambda: self.sensors.battery().volts)):
            try:
                gauges[name] = float(read())
            except SensorError:
                pass
        return gauges

    # -- policy, suspension, faults ----------------------------------------------------------------

    def save_policy(self) -> None:
        """Persist the policy (MACed in the keystore). :raises StorageFullError: if the disk is full."""
        self.live().store.set_meta(POLICY, self.policy.to_json())

    def suspend(self, reason: str, message: str) -> None:
        """Suspend key operations (``reason``: power, battery or temperature) until :meth:`resume`
        for the same reason."""
        if reason not in self.suspended:
            self.suspended[reason] = message
            self.events.record(_SUSPENSION_EVENTS[reason], suspended=True, reason=message)

    def resume(self, reason: str) -> None:
        if self.suspended.pop(reason, None) is not None:
            self.events.record(_SUSPENSION_EVENTS[reason], suspended=False, reason=reason)

    def show_led_code(self, code: LedCode, *, reason: str) -> None:
        """Development mode's answer to a fatal fault: show the code, record it, carry on."""
        self.led.show(code, time.time())
        self.events.record(Event.LED_CODE, code=code.text, reason=reason, simulated=self.mode is Mode.DEVELOPMENT)

    def enter_error(self, reason: str, code: LedCode = SELF_TEST_CODE) -> None:
        """A failed self test: refuse key operations from now on (status and log export still work)."""
        if self.state in (ModuleState.ERROR, ModuleState.DESTROYED):
            return
        self.error = reason
        self._set_state(ModuleState.ERROR)
        self.led.show(code, time.time())
        self.events.record(Event.SELF_TEST_FAILED, reason=reason, code=code.text)

    def _pairwise_failed(self, reason: str) -> None:
        self.enter_error(reason)

    # -- self tests --------------------------------------------------------------------------------

    def key_material_digest(self) -> bytes:
        """A MAC over the identity key, the lock and cloud keys and the factory slots' public keys."""
        services = self.live()
        material = self.identity_public + services.lockbox.key_material() + b"".join(
            services.store.get(slot).public for slot in range(FACTORY_SLOTS))
        return hmac.new(derive(self._root_key, b"softscm key material digest v1"), material, hashlib.sha256).digest()

    def power_on_self_test(self) -> None:
        """STARTING -> SELF_TEST -> READY, or ERROR if anything fails."""
        selftests = self.live().selftests
        if self.config.accept_code_digest and self.mode is Mode.DEVELOPMENT:
            selftests.accept_code_digest()
        self._set_state(ModuleState.SELF_TEST)
        report = selftests.run(SelfTestKind.POWER_ON)
        if report.passed:
            self._set_state(ModuleState.HOLD if self.live().boot.held else ModuleState.READY)

    # -- binding, state ----------------------------------------------------------------------------

    def lock_binding(self) -> None:
        """Enter production mode for good: seal the root key to this host and record the mode.

        Idempotent. :raises StorageFullError: if the disk is full (the module stays as it was).
        """
        if self.mode is Mode.PRODUCTION and self.bound:
            return
        services = self.live()
        bind_root_key(self.state_dir, self._root_key, self.rng)
        self.bound = True
        services.store.set_meta("mode", str(int(Mode.PRODUCTION)).encode())
        self._mode = Mode.PRODUCTION
        services.selftests.disarm()
        self.events.record(Event.BINDING_CHANGE, bound=True)
        self.events.record(Event.MODE_CHANGE, mode=Mode.PRODUCTION.name)

    def _set_state(self, state: ModuleState) -> None:
        if state is not self.state:
            previous, self.state = self.state, state
            self.events.record(Event.STATE_CHANGE, previous=previous.name, state=state.name)

    # -- durability ------------------------------------------------------------------------------

    def _stores(self) -> list[KeyStore | AuditLog]:
        stores: list[KeyStore | AuditLog] = [self.services.store] if self.services else []
        return stores + ([self.events.audit] if self.events.audit is not None else [])

    def defer_sync(self, deferred: bool) -> None:
        """Deferred: commits stay atomic but become durable only at :meth:`sync` (the daemon syncs
        before it sends any reply that depends on them: group commit across connections)."""
        for store in self._stores():
            store.defer_sync(deferred)

    @property
    def changes(self) -> int:
        """A counter that moves whenever anything is written to the keystore or the log (read
        twice per request, so it stays cheap)."""
        total = 0 if self.events.audit is None else self.events.audit.changes
        return total if self.services is None else total + self.services.store.changes

    def sync(self) -> None:
        """Make every commit so far durable. :raises OSError: if the disk cannot flush."""
        for store in self._stores():
            store.sync()

    # -- destruction -----------------------------------------------------------------------------

    def destroy(self, *, reason: str) -> None:
        """Zeroise and remove the root key and every wrapped key; the module becomes DESTROYED,
        for good (a marker file keeps it so across restarts)."""
        services = self.live()
        started = time.perf_counter()
        self.defer_sync(False)  # the zeroisation and the final log entries are durable at once
        root_file = self.state_dir / ROOT_KEY_FILE
        try:
            size = root_file.stat().st_size
            with open(root_file, "r+b") as fh:
                fh.write(self.rng(size))
                fh.flush()
                os.fsync(fh.fileno())
        except OSError:
            log.error("could not overwrite the root key file")
        try:
            services.files.zeroize()
        except OSError:
            log.error("could not overwrite the stored files")
        services.store.zeroize()
        services.store.close()
        for name in (ROOT_KEY_FILE, KEYSTORE_FILE, KEYSTORE_FILE + "-wal", KEYSTORE_FILE + "-shm"):
            (self.state_dir / name).unlink(missing_ok=True)
        services.keys.ephemeral = None
        self.services = None
        self.identity = None
        self._root_key = b""
        self.state = ModuleState.DESTROYED
        self.destroy_seconds = time.perf_counter() - started
        self.led.show(FatalCode.SECURE_ELEMENT_MISMATCH.value, time.time())
        marker = {"serial": self.serial, "time": time.time(), "reason": reason, "seconds": self.destroy_seconds}
        atomic_write(self.state_dir / DESTROYED_MARKER, json.dumps(marker).encode())
        self.events.record(Event.SELF_DESTRUCT, reason=reason, seconds=round(self.destroy_seconds, 6))
        audit = self.events.audit
        if audit is not None:
            audit.checkpoint()  # the log survives, signed, for extraction from the failed module
            audit.close()
        self.events.audit = None

    def mark_destroyed(self, marker: Mapping[str, object]) -> None:
        """Open as the DESTROYED state a directory whose keys were destroyed earlier."""
        self.state = ModuleState.DESTROYED
        self.bound = True
        self.error = str(marker["reason"])
        seconds = marker["seconds"]
        self.destroy_seconds = float(seconds) if isinstance(seconds, (int, float)) else None
        when = marker["time"]
        self.led.show(FatalCode.SECURE_ELEMENT_MISMATCH.value, float(when) if isinstance(when, (int, float)) else 0.0)
