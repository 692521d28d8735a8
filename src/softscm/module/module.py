"""The module: state machine, request handling and the state directory it owns.

``Module.start(state_dir)`` initialises an empty directory (root key, factory slots 0..15,
serial number) or opens an existing one after verifying it; a directory it cannot verify makes
it raise :class:`StoreCorruptError` and nothing in it is changed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .. import __version__
from ..wire.codec import Reply, Request
from ..wire.defs import (
    DEFAULT_FOREIGN_CAPACITY,
    DEFAULT_USER_CAPACITY,
    DEFAULT_WALLET_CAPACITY,
    EPHEMERAL_SLOT,
    FACTORY_SLOTS,
    Event,
    KeyType,
    Mode,
    ModuleState,
)
from ..wire.errors import (
    DestroyedError,
    InternalError,
    ModuleStateError,
    ProtocolError,
    ScmError,
    SelfTestError,
    SlotEmptyError,
    StoreCorruptError,
)
from .args import Args
from .crypto import generate
from .crypto.keys import PrivateKey
from .crypto.rng import Rng, system_rng
from .audit.log import AuditLog
from .dispatch import READY, TABLE
from .monitor import Monitor
from .policy.settings import Policy
from .sensors.hal import SensorBackend, SensorError
from .sensors.led import FatalCode, LedCode, LedModel
from .sensors.linux import LinuxPaths, LinuxSensors
from .sensors.rtc import ModuleClock
from .sensors.simulated import SimulatedDevice
from .selftest.faults import FaultPlan
from .selftest.health import HealthTestedRng
from .selftest.integrity import DigestMismatchError, compute_code_digest, integrity_checks
from .selftest.pairwise import pairwise_check
from .selftest.report import SelfTestReport
from .selftest.runner import run_background, run_commanded, run_power_on
from .store.atomic import atomic_write, ensure_private_dir
from .store.keystore import KEYSTORE_FILE, KeyStore
from .store.lock import LOCK_FILE, StateLock
from .store.rootkey import ROOT_KEY_FILE, bind_root_key, create_root_key, load_root_key

log = logging.getLogger(__name__)

MODEL = "softscm-SCM"
INITIALISED_MARKER = "initialised"
DESTROYED_MARKER = "destroyed"
SENSORS_DIR = "sensors"
_POLICY = "policy"
_CODE_DIGEST = "code_digest"
_KEY_MATERIAL_DIGEST = "key_material_digest"
SELF_TEST_CODE = LedCode(7)  # a self test failed (the key-area digest has its own code, 6)
_CLOUD_KEY = "sealed:cloud_key"
_LOCK_KEY = "sealed:lock_key"

Listener = Callable[[dict[str, Any]], None]


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

    def sensor_backend(self, state_dir: Path) -> SensorBackend:
        if self.linux_sensors is not None:
            return LinuxSensors(self.linux_sensors)
        return SimulatedDevice(state_dir / SENSORS_DIR)


@dataclass
class Counters:
    """Operation counts and cumulative latency per command, for status and metrics."""

    ops: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


class Module:
    """The security module. Not thread-safe: one owner drives it from one thread."""

    def __init__(self, state_dir: Path, store: KeyStore, root_key: bytes, bound: bool, rng: Rng,
                 config: ModuleConfig, *, fresh: bool = False) -> None:
        self.state_dir = state_dir
        self.store = store
        self.rng = rng
        self.bound = bound
        self.started = time.time()
        self.state = ModuleState.STARTING
        self.ephemeral: PrivateKey | None = None
        self.slip39_session: Any = None  # commands.wallets.Slip39Session while one is open
        self.counters = Counters()
        self.boot_count = 0
        self._listeners: list[Listener] = []
        self.identity = ed25519.Ed25519PrivateKey.from_private_bytes(self._derive(root_key, b"softscm identity v1"))
        self.lock_key = store.open_secret("lock", store.get_meta(_LOCK_KEY) or b"")
        self.cloud_key = store.open_secret("cloud", store.get_meta(_CLOUD_KEY) or b"")
        self._root_key = root_key
        self._serial = (store.get_meta("serial") or b"").decode()
        self._mode = Mode(int(store.get_meta("mode") or b"0"))
        self.destroyed = False
        self.lock: StateLock | None = None
        self.config = config
        self.faults = FaultPlan()
        self.reports: dict[str, SelfTestReport] = {}
        self.error: str | None = None
        self.suspended: dict[str, str] = {}
        stored_policy = store.get_meta(_POLICY)
        self.policy = Policy.from_json(stored_policy) if stored_policy else Policy()
        self.sensors = config.sensor_backend(state_dir)
        self.clock = ModuleClock(self.sensors.rtc_time, ensure_private_dir(state_dir / SENSORS_DIR))
        self.led = LedModel()
        self.monitor = Monitor(self)
        if isinstance(rng, HealthTestedRng):
            rng.on_failure = lambda message: self.enter_error(f"entropy source: {message}")
        audit_keys = (self._derive(root_key, b"softscm audit signing v1"), self._derive(root_key, b"softscm audit seal v1"))
        opener = AuditLog.create if fresh else AuditLog.open
        self.audit: AuditLog | None = opener(state_dir, *audit_keys, clock=self.clock.now, rng=rng)

    @staticmethod
    def _derive(root_key: bytes, label: bytes) -> bytes:
        return HKDF(hashes.SHA256(), 32, None, label).derive(root_key)

    # -- lifecycle -----------------------------------------------------------------------------

    @classmethod
    def start(cls, state_dir: Path | str, *, config: ModuleConfig = ModuleConfig(), rng: Rng = system_rng) -> Module:
        """Open the module in ``state_dir``, initialising it if the directory is empty.

        :raises StoreCorruptError: if the directory holds a half-written or unverifiable module.
        :raises BindingError: if the module is bound to another host.
        :raises StorageFullError: if initialisation runs out of disk.
        :raises SelfTestError: if the entropy source fails its start-up health test (SP 800-90B
            4.3: before any random byte is used).
        :raises BusyError: if another module holds the directory.
        :raises StateDirError: if the directory is open to other users or is not a directory (a
            missing one is created owner-only; an existing one is never chmod-ed).
        """
        from . import commands  # noqa: F401  (registers the command handlers)

        state_dir = Path(state_dir).absolute()
        rng = HealthTestedRng(rng)
        rng.startup_test()
        _refuse_foreign_directory(state_dir)
        lock = StateLock(state_dir)
        try:
            if not any(path.name != LOCK_FILE for path in state_dir.iterdir()):
                module = cls._initialise(state_dir, config, rng)
            elif (state_dir / DESTROYED_MARKER).is_file():
                module = DestroyedModule(state_dir)
            else:
                module = cls._open(state_dir, rng, config)
        except BaseException:
            lock.release()
            raise
        module.lock = lock
        if module.destroyed:
            return module
        module.boot_count = int(module.store.get_meta("boot_count") or b"0") + 1
        module.store.set_meta("boot_count", str(module.boot_count).encode())
        module.record(Event.MODULE_START, version=__version__, boot_count=module.boot_count)
        module.power_on_self_test()
        return module

    @classmethod
    def _open(cls, state_dir: Path, rng: Rng, config: ModuleConfig) -> Module:
        if not (state_dir / INITIALISED_MARKER).is_file():
            raise StoreCorruptError(
                f"{state_dir} holds a half-initialised module (no '{INITIALISED_MARKER}' marker); "
                "it was left untouched"
            )
        root_key, bound = load_root_key(state_dir)
        store = KeyStore.open(state_dir, root_key, rng)
        for slot in range(FACTORY_SLOTS):
            store.get(slot)  # raises if a factory slot is missing
        return cls(state_dir, store, root_key, bound, rng, config)

    @classmethod
    def _initialise(cls, state_dir: Path, config: ModuleConfig, rng: Rng) -> Module:
        log.info("initialising a new module in %s", state_dir)
        root_key = create_root_key(state_dir, rng)
        store = KeyStore.create(
            state_dir,
            root_key,
            user_capacity=config.user_capacity,
            foreign_capacity=config.foreign_capacity,
            wallet_capacity=config.wallet_capacity,
            rng=rng,
        )
        for slot in range(FACTORY_SLOTS):
            store.put_key(generate(KeyType.NISTP256, rng), slot=slot)
        store.set_meta("serial", rng(8).hex().upper().encode())
        store.set_meta("mode", str(int(Mode.DEVELOPMENT)).encode())
        store.set_meta(_LOCK_KEY, store.seal_secret("lock", rng(32)))
        store.set_meta(_CLOUD_KEY, store.seal_secret("cloud", rng(32)))
        store.set_meta(_CODE_DIGEST, compute_code_digest())
        module = cls(state_dir, store, root_key, False, rng, config, fresh=True)
        store.set_meta(_KEY_MATERIAL_DIGEST, module._key_material_digest())
        atomic_write(state_dir / INITIALISED_MARKER, f"softscm {__version__}\n".encode())
        return module

    def close(self) -> None:
        """Record the stop, checkpoint the log, release the stores and the directory."""
        if not self.destroyed and self.audit is not None:
            self.defer_sync(False)
            self.record(Event.MODULE_STOP)
            self.audit.checkpoint()
            self.audit.close()
            self.store.close()
        self.ephemeral = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    # -- properties ------------------------------------------------------------------------------

    @property
    def serial(self) -> str:
        return self._serial

    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def identity_public(self) -> bytes:
        return self.identity.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    def sensor_gauges(self) -> dict[str, float]:
        """Current sensor readings for metrics (a sensor that does not answer is left out)."""
        gauges: dict[str, float] = {
            "audit_log_entries": float(self.audit.head_seq if self.audit else 0),
            "audit_log_unlogged_events": float(self.audit.unlogged if self.audit else 0),
            "tamper_channels_breached": float(sum(1 for c in self.policy.perimeter if c.first_breach)),
            "rtc_drift_ppm": self.clock.drift_ppm,
            "suspended": float(bool(self.suspended)),
        }
        for name, read in (("cpu_temperature_celsius", self.sensors.cpu_temp),
                           ("battery_volts", lambda: self.sensors.battery().volts)):
            try:
                gauges[name] = float(read())
            except SensorError:
                pass
        return gauges

    def save_policy(self) -> None:
        """Persist the policy (MACed in the keystore). :raises StorageFullError: if the disk is full."""
        self.store.set_meta(_POLICY, self.policy.to_json())

    def suspend(self, reason: str, message: str) -> None:
        """Suspend key operations until :meth:`resume` for the same reason."""
        if reason not in self.suspended:
            self.suspended[reason] = message
            self.record(Event.POWER if reason == "power" else Event.BATTERY, suspended=True, reason=message)

    def resume(self, reason: str) -> None:
        if self.suspended.pop(reason, None) is not None:
            self.record(Event.POWER if reason == "power" else Event.BATTERY, suspended=False, reason=reason)

    def show_led_code(self, code: LedCode, *, reason: str) -> None:
        """Development mode's answer to a fatal fault: show the code, record it, carry on."""
        self.led.show(code, time.time())
        self.record(Event.LED_CODE, code=code.text, reason=reason, simulated=self.mode is Mode.DEVELOPMENT)

    # -- self tests ------------------------------------------------------------------------------

    def _key_material_digest(self) -> bytes:
        material = self.identity_public + self.lock_key + self.cloud_key + b"".join(
            self.store.get(slot).public for slot in range(FACTORY_SLOTS))
        return hmac.new(self._derive(self._root_key, b"softscm key material digest v1"), material, hashlib.sha256).digest()

    def _integrity_checks(self) -> dict[str, Callable[[], None]]:
        def keystore() -> None:
            self.store.verify_integrity()
            if "keystore" in self.faults.integrity:
                raise DigestMismatchError("keystore")

        digests = integrity_checks(
            {"code": lambda: self.store.get_meta(_CODE_DIGEST),
             "key_material": lambda: self.store.get_meta(_KEY_MATERIAL_DIGEST)},
            {"code": compute_code_digest, "key_material": self._key_material_digest}, self.faults)
        return {"code_digest": digests["code_digest"], "keystore_digest": keystore,
                "key_material_digest": digests["key_material_digest"]}

    def run_self_test(self, kind: str, *, full: bool = True) -> SelfTestReport:
        """Run the self tests of ``kind`` (power-on, background, commanded); a failure is fatal.

        ``full=False`` (background, quick commanded) runs the integrity checks only.
        """
        checks = self._integrity_checks()
        if kind == "power-on":
            report = run_power_on(peripherals=self.monitor.peripheral_checks(), integrity_checks=checks,
                                  rng=self.rng, faults=self.faults)
        elif kind == "background":
            report = run_background(integrity_checks=checks)
        else:
            report = run_commanded(full, peripherals=self.monitor.peripheral_checks(), integrity_checks=checks,
                                   rng=self.rng, faults=self.faults)
        self.reports[kind] = report
        if report.passed:
            self.record(Event.SELF_TEST, kind=kind, tests=len(report.results), seconds=round(report.duration_s, 6))
        else:
            failed = report.failures[0]
            self.enter_error(f"{kind} self test failed: {failed.name} ({failed.detail})",
                             code=FatalCode.KEY_AREA_DIGEST.value if failed.category == "integrity" else SELF_TEST_CODE)
        return report

    def power_on_self_test(self) -> None:
        """STARTING -> SELF_TEST -> READY, or ERROR if anything fails."""
        if self.config.accept_code_digest and self.mode is Mode.DEVELOPMENT:
            self.store.set_meta(_CODE_DIGEST, compute_code_digest())
        self._set_state(ModuleState.SELF_TEST)
        report = self.run_self_test("power-on")
        if report.passed:
            self._set_state(ModuleState.READY)

    def pairwise(self, key: PrivateKey, public: bytes | None = None) -> None:
        """The conditional pair-wise consistency test of ``key`` against ``public`` (by default the
        public key computed from it; a derived key passes the one its derivation produced); a
        failure is fatal.

        :raises SelfTestError: if the pair is inconsistent (the module is in ERROR then).
        """
        try:
            pairwise_check(key, self.rng, public=public)
        except SelfTestError as exc:
            self.enter_error(f"pair-wise consistency test failed for a new {key.key_type.label} key")
            raise exc

    def enter_error(self, reason: str, *, code: LedCode = SELF_TEST_CODE) -> None:
        """A failed self test: refuse key operations from now on (status and log export still work)."""
        if self.state is ModuleState.ERROR:
            return
        self.error = reason
        self._set_state(ModuleState.ERROR)
        self.led.show(code, time.time())
        self.record(Event.SELF_TEST_FAILED, reason=reason, code=code.text)

    def lock_binding(self) -> None:
        """Enter production mode for good: seal the root key to this host and record the mode.

        Idempotent. :raises StorageFullError: if the disk is full (the module stays as it was).
        """
        if self.mode is Mode.PRODUCTION and self.bound:
            return
        bind_root_key(self.state_dir, self._root_key, self.rng)
        self.bound = True
        self.store.set_meta("mode", str(int(Mode.PRODUCTION)).encode())
        self._mode = Mode.PRODUCTION
        self.faults = FaultPlan()  # production never runs with a fault armed in development
        self.record(Event.BINDING_CHANGE, bound=True)
        self.record(Event.MODE_CHANGE, mode=Mode.PRODUCTION.name)

    def _set_state(self, state: ModuleState) -> None:
        if state is not self.state:
            previous, self.state = self.state, state
            self.record(Event.STATE_CHANGE, previous=previous.name, state=state.name)

    # -- events ---------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every event; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def record(self, event: Event, **details: Any) -> None:
        """Write an event to the audit log and publish it to subscribers. Never raises."""
        if self.audit is not None:
            self.audit.append(event, details)
        self.publish(event, **details)

    def record_many(self, events: list[tuple[Event, dict[str, Any]]]) -> None:
        """Write several events in one durable log append, then publish them. Never raises."""
        if self.audit is not None:
            self.audit.append_many(events)
        for event, details in events:
            self.publish(event, **details)

    def publish(self, event: Event, **details: Any) -> None:
        """Publish an event to subscribers only. Never raises."""
        message = {"event": int(event), "name": event.name, "time": time.time(), "details": details}
        for listener in list(self._listeners):
            try:
                listener(message)
            except Exception:  # a subscriber's failure must not affect the module
                log.exception("event listener failed")

    # -- keys ----------------------------------------------------------------------------------

    def private_key(self, slot: int) -> PrivateKey:
        """The private key in ``slot`` (-1: the ephemeral key).

        :raises SlotEmptyError: if there is none. :raises InvalidSlotError: out of range.
        """
        if slot == EPHEMERAL_SLOT:
            if self.ephemeral is None:
                raise SlotEmptyError("no ephemeral key has been generated")
            return self.ephemeral
        return self.store.load_private(slot)

    # -- requests --------------------------------------------------------------------------------

    def _stores(self) -> list[KeyStore | AuditLog]:
        return [s for s in (None if self.destroyed else self.store, self.audit) if s is not None]

    def defer_sync(self, deferred: bool) -> None:
        """Deferred: commits stay atomic but become durable only at :meth:`sync` (the daemon syncs
        before it sends any reply that depends on them: group commit across connections)."""
        for store in self._stores():
            store.defer_sync(deferred)

    @property
    def changes(self) -> int:
        """A counter that moves whenever anything is written to the keystore or the log (read
        twice per request, so it stays cheap)."""
        total = 0 if self.audit is None else self.audit.changes
        return total if self.destroyed else total + self.store.changes

    def sync(self) -> None:
        """Make every commit so far durable. :raises OSError: if the disk cannot flush."""
        for store in self._stores():
            store.sync()

    def handle(self, request: Request) -> Reply:
        """Run one request. Never raises: every failure becomes an error reply."""
        name = request.command.name
        started = time.perf_counter()
        try:
            result = self.execute(request)
        except ScmError as exc:
            self.counters.errors[name] = self.counters.errors.get(name, 0) + 1
            return Reply.failure(request.id, exc)
        except Exception:
            log.exception("internal error in %s", name)
            self.counters.errors[name] = self.counters.errors.get(name, 0) + 1
            return Reply.failure(request.id, InternalError("internal error; the request had no effect"))
        self.counters.ops[name] = self.counters.ops.get(name, 0) + 1
        self.counters.seconds[name] = self.counters.seconds.get(name, 0.0) + time.perf_counter() - started
        return Reply.success(request.id, result)

    def execute(self, request: Request) -> Any:
        """Run one request and return its result.

        :raises ScmError: the typed error for anything that goes wrong.
        """
        spec = TABLE.get(request.command)
        if spec is None:
            raise ProtocolError(f"{request.command.name} is not served by this module")
        if self.state not in spec.states:
            if self.state is ModuleState.DESTROYED:
                raise DestroyedError("the module has been destroyed; its keys are gone")
            raise ModuleStateError(f"{request.command.name} is not allowed while the module is {self.state.name}")
        if self.suspended and spec.states == READY:
            raise ModuleStateError("security services are suspended: " + "; ".join(self.suspended.values()))
        return spec.handler(self, Args(request.args))

    # -- destruction -----------------------------------------------------------------------------

    def destroy(self, *, reason: str) -> None:
        """Zeroise and remove the root key and every wrapped key; the module becomes DESTROYED,
        for good (a marker file keeps it so across restarts)."""
        started = time.perf_counter()
        self.defer_sync(False)  # the zeroisation and the final log entries are durable at once
        serial = self.serial
        root_file = self.state_dir / ROOT_KEY_FILE
        try:
            size = root_file.stat().st_size
            with open(root_file, "r+b") as fh:
                fh.write(self.rng(size))
                fh.flush()
                os.fsync(fh.fileno())
        except OSError:
            log.error("could not overwrite the root key file")
        self.store.zeroize()
        self.store.close()
        for name in (ROOT_KEY_FILE, KEYSTORE_FILE, KEYSTORE_FILE + "-wal", KEYSTORE_FILE + "-shm"):
            (self.state_dir / name).unlink(missing_ok=True)
        self.ephemeral = None
        self.lock_key = self.cloud_key = self._root_key = b""
        self.identity = ed25519.Ed25519PrivateKey.generate()
        self.destroyed = True
        self.state = ModuleState.DESTROYED
        self.destroy_seconds = time.perf_counter() - started
        self.led.show(FatalCode.SECURE_ELEMENT_MISMATCH.value, time.time())
        marker = {"serial": serial, "time": time.time(), "reason": reason, "seconds": self.destroy_seconds}
        atomic_write(self.state_dir / DESTROYED_MARKER, json.dumps(marker).encode())
        self.record(Event.SELF_DESTRUCT, reason=reason, seconds=round(self.destroy_seconds, 6))
        self.audit.checkpoint()  # the log survives, signed, for extraction from the failed module
        self.audit.close()
        self.audit = None


def _refuse_foreign_directory(state_dir: Path) -> None:
    """A directory with files but no module in it gets no lock file: it is left as it was.

    :raises StoreCorruptError: if ``state_dir`` holds files and none of the module's markers.
    """
    if not state_dir.is_dir():
        return
    names = {path.name for path in state_dir.iterdir()}
    if names and not names & {LOCK_FILE, INITIALISED_MARKER, DESTROYED_MARKER}:
        raise StoreCorruptError(f"{state_dir} holds files that are not a softscm module's; it was left untouched")


class DestroyedModule(Module):
    """A module whose keys were destroyed: it answers status queries and refuses everything else."""

    def __init__(self, state_dir: Path) -> None:  # noqa: super().__init__ needs the keys that are gone
        marker = json.loads((state_dir / DESTROYED_MARKER).read_text())
        self.state_dir = state_dir
        self.rng = system_rng
        self.bound = True
        self.started = time.time()
        self.state = ModuleState.DESTROYED
        self.destroyed = True
        self.ephemeral = None
        self.slip39_session = None
        self.counters = Counters()
        self.boot_count = 0
        self.suspended = {}
        self.led = LedModel()
        self.led.show(FatalCode.SECURE_ELEMENT_MISMATCH.value, marker["time"])
        self._listeners = []
        self.audit = None
        self.lock = None
        self.config = ModuleConfig()
        self.faults = FaultPlan()
        self.reports = {}
        self.error = marker["reason"]
        self._serial = marker["serial"]
        self._mode = Mode.PRODUCTION
        self.destroy_seconds = marker["seconds"]

    def sensor_gauges(self) -> dict[str, float]:
        return {}
