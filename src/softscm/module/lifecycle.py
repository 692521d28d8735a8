"""Opening, initialising and closing a module's state directory.

:func:`start` initialises an empty directory (root key, factory slots 0..15, serial number; built
aside and put in place, so a crash leaves no module or a whole one: ``store/initialise.py``) or
opens an existing one after verifying it; a directory it cannot verify makes it raise
:class:`~softscm.wire.errors.StoreCorruptError` and nothing in it is changed.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .. import __version__
from ..wire.defs import FACTORY_SLOTS, Event, KeyType, Mode
from ..wire.errors import StoreCorruptError
from .audit.log import AuditLog, recorded_store_generation
from .audit.recorder import Recorder
from .crypto import generate
from .crypto.rng import Rng, system_rng
from .module import CLOUD_KEY, DESTROYED_MARKER, LOCK_KEY, Module, ModuleConfig
from .selftest.health import HealthTestedRng
from .selftest.integrity import compute_code_digest
from .selftest.service import CODE_DIGEST, KEY_MATERIAL_DIGEST
from .store.atomic import atomic_write
from .store.initialise import build_then_rename, needs_initialising
from .store.keystore import KeyStore
from .store.lock import LOCK_FILE, StateLock
from .store.rootkey import create_root_key, load_root_key

log = logging.getLogger(__name__)

INITIALISED_MARKER = "initialised"


def start(state_dir: Path | str, *, config: ModuleConfig = ModuleConfig(), rng: Rng = system_rng) -> Module:
    """Open the module in ``state_dir``, initialising it if the directory is empty, and run the
    power-on self test.

    :raises StoreCorruptError: if the directory holds a half-written or unverifiable module.
    :raises StoreRollbackError: if the keystore is older than the audit log says it was.
    :raises StorageUnavailableError: if the directory cannot be written.
    :raises BindingError: if the module is bound to another host.
    :raises StorageFullError: if initialisation runs out of disk.
    :raises SelfTestError: if the entropy source fails its start-up health test (SP 800-90B
        4.3: before any random byte is used).
    :raises BusyError: if another module holds the directory.
    :raises StateDirError: if the directory is open to other users or is not a directory (a
        missing one is created owner-only; an existing one is never chmod-ed).
    """
    state_dir = Path(state_dir).absolute()
    tested = HealthTestedRng(rng)
    tested.startup_test()
    _refuse_foreign_directory(state_dir)
    lock = StateLock(state_dir)
    try:
        if needs_initialising(state_dir, INITIALISED_MARKER):
            build_then_rename(state_dir, lambda work: _close_files(_initialise(work, config, tested)),
                              marker=INITIALISED_MARKER)
            module = _open(state_dir, config, tested)
        elif (state_dir / DESTROYED_MARKER).is_file():
            module = _destroyed(state_dir, config, tested)
        else:
            module = _open(state_dir, config, tested)
    except BaseException:
        lock.release()
        raise
    module.lock = lock
    if module.destroyed:
        return module
    store = module.live().store
    module.boot_count = int(store.get_meta("boot_count") or b"0") + 1
    store.set_meta("boot_count", str(module.boot_count).encode())
    module.events.record(Event.MODULE_START, version=__version__, boot_count=module.boot_count)
    module.power_on_self_test()
    return module


def _refuse_foreign_directory(state_dir: Path) -> None:
    """A directory with files but no module in it gets no lock file: it is left as it was.

    :raises StoreCorruptError: if ``state_dir`` holds files and none of the module's markers.
    """
    if not state_dir.is_dir():
        return
    names = {path.name for path in state_dir.iterdir()}
    if names and not names & {LOCK_FILE, INITIALISED_MARKER, DESTROYED_MARKER}:
        raise StoreCorruptError(f"{state_dir} holds files that are not a softscm module's; it was left untouched")


def _live(state_dir: Path, config: ModuleConfig, rng: Rng, store: KeyStore, root_key: bytes, bound: bool, *,
          fresh: bool) -> Module:
    module = Module(state_dir, config, rng, serial=(store.get_meta("serial") or b"").decode(),
                    mode=Mode(int(store.get_meta("mode") or b"0")), bound=bound, events=Recorder(None))
    services = module.open_services(store, root_key)
    opener = AuditLog.create if fresh else AuditLog.open
    module.events.audit = opener(state_dir, *Module.audit_keys(root_key), clock=services.clock.now, rng=rng)
    module.events.audit.follow_store(lambda: store.generation)
    return module


def _open(state_dir: Path, config: ModuleConfig, rng: Rng) -> Module:
    if not (state_dir / INITIALISED_MARKER).is_file():
        raise StoreCorruptError(
            f"{state_dir} holds a half-initialised module (no '{INITIALISED_MARKER}' marker); it was left untouched")
    root_key, bound = load_root_key(state_dir)
    recorded = recorded_store_generation(state_dir, Module.audit_keys(root_key)[1])
    store = KeyStore.open(state_dir, root_key, rng, min_generation=recorded)  # refuses a rolled-back store
    for slot in range(FACTORY_SLOTS):
        store.get(slot)  # raises if a factory slot is missing
    return _live(state_dir, config, rng, store, root_key, bound, fresh=False)


def _initialise(state_dir: Path, config: ModuleConfig, rng: Rng) -> Module:
    log.info("initialising a new module in %s", state_dir)
    root_key = create_root_key(state_dir, rng)
    store = KeyStore.create(state_dir, root_key, user_capacity=config.user_capacity,
                            foreign_capacity=config.foreign_capacity, wallet_capacity=config.wallet_capacity, rng=rng)
    for slot in range(FACTORY_SLOTS):
        store.put_key(generate(KeyType.NISTP256, rng), slot=slot)
    store.set_meta("serial", rng(8).hex().upper().encode())
    store.set_meta("mode", str(int(Mode.DEVELOPMENT)).encode())
    store.set_meta(LOCK_KEY, store.seal_secret("lock", rng(32)))
    store.set_meta(CLOUD_KEY, store.seal_secret("cloud", rng(32)))
    store.set_meta(CODE_DIGEST, compute_code_digest())
    module = _live(state_dir, config, rng, store, root_key, False, fresh=True)
    store.set_meta(KEY_MATERIAL_DIGEST, module.key_material_digest())
    atomic_write(state_dir / INITIALISED_MARKER, f"softscm {__version__}\n".encode())
    return module


def _close_files(module: Module) -> None:
    """Close a module built to be opened again, recording nothing."""
    module.live().store.close()
    if module.events.audit is not None:
        module.events.audit.close()


def _destroyed(state_dir: Path, config: ModuleConfig, rng: Rng) -> Module:
    marker = json.loads((state_dir / DESTROYED_MARKER).read_text())
    module = Module(state_dir, config, rng, serial=marker["serial"], mode=Mode.PRODUCTION, bound=True,
                    events=Recorder(None))
    module.mark_destroyed(marker)
    return module


def close(module: Module) -> None:
    """Record the stop, checkpoint the log, release the stores and the directory."""
    audit = module.events.audit
    if module.services is not None and audit is not None:
        module.defer_sync(False)
        module.events.record(Event.MODULE_STOP)
        audit.checkpoint()
        audit.close()
        module.services.store.close()
        module.services.keys.ephemeral = None
    if module.lock is not None:
        module.lock.release()
        module.lock = None
