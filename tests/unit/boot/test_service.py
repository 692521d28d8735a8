"""BootService: policies in development and production, hold and release, remediation, rollback."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from softscm.module.boot.partition import FatImagePartition
from softscm.module.boot.remediation import AUTOBOOT_FILE, GoldenStore
from softscm.module.boot.service import BootHooks, BootService
from softscm.module.crypto.aead import open_sealed, seal
from softscm.module.crypto.keys import PublicKey
from softscm.wire.boottoken import AuthorizationToken
from softscm.wire.defs import (
    DEFAULT_CM4_FILES,
    BootAuthAction,
    BootOutcome,
    BootPolicy,
    BootUnlistedPolicy,
    Event,
    KeyType,
    Mode,
)
from softscm.wire.errors import (
    BootAuthorizationError,
    BootHeldError,
    BootManifestError,
    BusyError,
    InvalidArgumentError,
    ModuleStateError,
)

from tests.stepping import inline

from .helpers import P256Signer

KEK = bytes(32)


class Meta(dict):
    def get_meta(self, name):
        return self.get(name)

    def set_meta(self, name, value):
        self[name] = bytes(value)


@dataclass
class Module:
    """Records what the service asked the module to do."""

    events: list = field(default_factory=list)
    leds: list = field(default_factory=list)
    state: str = "READY"
    policy: list = field(default_factory=list)
    suspended: bool = True

    def hooks(self) -> BootHooks:
        return BootHooks(enter_hold=lambda: setattr(self, "state", "HOLD"),
                         leave_hold=lambda: setattr(self, "state", "READY"),
                         destroy=lambda: setattr(self, "state", "DESTROYED"),
                         record=lambda event, **fields: self.events.append((event, fields)),
                         show_led=lambda *code: self.leds.append(code),
                         release_suspension=lambda: setattr(self, "suspended", False))

    def kinds(self):
        return [e for e, _ in self.events]


class Clock:
    now = 5000.0

    def __call__(self):
        return self.now


@pytest.fixture
def rig(tmp_path, signer):
    module, meta, clock, remote = Module(), Meta(), Clock(), P256Signer()
    policy = [BootPolicy.NONE]
    golden = GoldenStore(tmp_path / "golden", lambda label, d, rng: seal(KEK, d, label.encode(), rng),
                         lambda label, b: open_sealed(KEK, b, label.encode()))
    service = BootService(meta, module.hooks(), policy=lambda: policy[0], signer=lambda slot: signer,
                          verifier=lambda slot: signer.verifier,
                          serial="SCM-1", golden=golden, clock=clock, workers=2,
                          known_keys=lambda: {200: PublicKey(KeyType.NISTP256, remote.public)})
    module.policy = policy  # the module keeps the boot policy with its other settings
    return service, module, meta, clock, remote


def guard(service, image, **options):
    partition = FatImagePartition(image)
    inline(service.sign_defaults(partition, unlisted=BootUnlistedPolicy.FAIL, **options))
    return partition


def test_no_manifest_lets_the_boot_go_on(rig, image):
    service, module, *_ = rig
    decision = service.verify(FatImagePartition(image), Mode.PRODUCTION)
    assert decision.outcome is BootOutcome.NOT_CONFIGURED and decision.outcome.boot_may_continue


def test_a_clean_partition_verifies_and_confirm_raises_the_minimum(rig, image):
    service, module, meta, *_ = rig
    partition = guard(service, image, security_version=4)
    assert [e.path for e in service.files()] == sorted(DEFAULT_CM4_FILES)
    with pytest.raises(ModuleStateError):
        service.confirm()
    decision = service.verify(partition, Mode.PRODUCTION)
    assert decision.outcome is BootOutcome.VERIFIED and Event.BOOT_VERIFIED in module.kinds()
    assert service.confirm() == 4 and service.minimum_version == 4
    with pytest.raises(InvalidArgumentError):
        inline(service.sign_all(partition, security_version=3))


def test_production_log_only(rig, image):
    service, module, *_ = rig
    partition = guard(service, image)
    partition.write_file("cmdline.txt", b"init=/bin/sh\n")
    decision = service.verify(partition, Mode.PRODUCTION)
    assert decision.outcome is BootOutcome.LOGGED and module.state == "READY"
    failed = [f for e, f in module.events if e is Event.BOOT_VERIFY_FAILED]
    assert failed and failed[-1]["files"] == ["cmdline.txt"]
    assert module.leds == [(4, 2)]


def test_production_hold_then_remediate_and_authorise(rig, image):
    service, module, meta, clock, remote = rig
    partition = guard(service, image)
    module.policy[0] = BootPolicy.HOLD
    partition.write_file("kernel8.img", b"evil")
    assert service.verify(partition, Mode.PRODUCTION).outcome is BootOutcome.HELD
    assert module.state == "HOLD" and service.held and Event.BOOT_HOLD in module.kinds()
    with pytest.raises(BootHeldError):
        inline(service.add_or_update(partition, "kernel8.img"))  # no re-signing a way out
    result = inline(service.remediate(partition))
    assert result.restore.restored == ("kernel8.img",) and result.report.ok
    assert module.state == "HOLD"  # still held until authorised
    challenge = service.challenge()
    token = AuthorizationToken(challenge.nonce, "SCM-1", BootAuthAction.RELEASE_HOLD, int(clock() + 60))
    with pytest.raises(BootAuthorizationError):
        service.authorize_token(token.signed(P256Signer()).to_bytes())
    assert module.state == "HOLD" and Event.BOOT_AUTH_REFUSED in module.kinds()
    challenge = service.challenge()
    token = AuthorizationToken(challenge.nonce, "SCM-1", BootAuthAction.RELEASE_HOLD, int(clock() + 60)).signed(remote)
    service.authorize_token(token.to_bytes())
    assert module.state == "READY" and not service.held
    authorised = [f for e, f in module.events if e is Event.BOOT_AUTHORIZED]
    assert authorised == [{"method": "token", "action": "release_hold", "foreign_slot": 200}]
    assert service.verify(partition, Mode.PRODUCTION).outcome is BootOutcome.VERIFIED


def test_hold_survives_a_restart_of_the_service(rig, image, signer):
    service, module, meta, clock, remote = rig
    partition = guard(service, image)
    module.policy[0] = BootPolicy.HOLD
    partition.remove_file("start4.elf")
    service.verify(partition, Mode.PRODUCTION)
    again = BootService(meta, module.hooks(), policy=lambda: BootPolicy.HOLD, signer=lambda s: signer,
                        verifier=lambda s: signer.verifier,
                        serial="SCM-1")
    assert again.held
    assert again.verify(partition, Mode.PRODUCTION).outcome is BootOutcome.HELD


def test_production_self_destruct(rig, image):
    service, module, *_ = rig
    partition = guard(service, image)
    module.policy[0] = BootPolicy.SELF_DESTRUCT
    partition.write_file("ssh", b"")  # unlisted under the strict policy
    assert service.verify(partition, Mode.PRODUCTION).outcome is BootOutcome.DESTROYED
    assert module.state == "DESTROYED"
    assert partition.read_file("kernel8.img") != bytes(1 << 20)  # files are not wiped unless asked


def test_self_destruct_can_also_wipe_the_guarded_files(rig, image):
    service, module, *_ = rig
    partition = guard(service, image)
    module.policy[0] = BootPolicy.SELF_DESTRUCT
    service.set_wipe_on_destroy(True)
    partition.write_file("cmdline.txt", b"init=/bin/sh\n")
    assert service.verify(partition, Mode.PRODUCTION).outcome is BootOutcome.DESTROYED
    assert partition.read_file("kernel8.img") == bytes(1 << 20)
    assert partition.read_file("cmdline.txt") == bytes(13)
    wiped = [f for e, f in module.events if e is Event.SELF_DESTRUCT]
    assert len(wiped[0]["wiped"]) == 8 and module.state == "DESTROYED"


@pytest.mark.parametrize("policy", list(BootPolicy))
def test_development_shows_the_code_allows_and_re_signs(rig, image, policy):
    service, module, *_ = rig
    partition = guard(service, image)
    module.policy[0] = policy
    partition.write_file("config.txt", b"dtparam=debug\n")
    decision = service.verify(partition, Mode.DEVELOPMENT)
    assert decision.outcome is BootOutcome.ALLOWED_DEVELOPMENT and decision.outcome.boot_may_continue
    assert module.state == "READY" and module.leds == [(4, 2)]
    changes = [f["change"] for e, f in module.events if e is Event.BOOT_MANIFEST_CHANGE]
    assert changes == ["sign-all", "development re-sign"]
    assert service.verify(partition, Mode.DEVELOPMENT).outcome is BootOutcome.VERIFIED


def test_a_forged_manifest_shows_the_process_failure_code(rig, image, signer):
    service, module, meta, *_ = rig
    partition = guard(service, image)
    from softscm.module.boot.manifest import BootManifest
    forged = BootManifest.parse(meta["boot.manifest"]).signed(P256Signer())
    meta["boot.manifest"] = forged.to_bytes()
    module.policy[0] = BootPolicy.HOLD
    assert service.verify(partition, Mode.PRODUCTION).outcome is BootOutcome.HELD
    assert module.leds == [(22, 9)]


def test_remediation_falls_back_to_the_recovery_partition(rig, image):
    service, module, meta, *_ = rig
    partition = guard(service, image)
    service._golden.discard("initrd.img")
    partition.write_file("initrd.img", b"evil")
    result = inline(service.remediate(partition, recovery_partition=3, normal_partition=2))
    assert result.restore.unrestorable == ("initrd.img",) and not result.report.ok
    assert result.recovery is not None
    assert b"boot_partition=3" in FatImagePartition(image).read_file(AUTOBOOT_FILE)
    assert Event.BOOT_RECOVERY in module.kinds()


def test_manifest_edits(rig, image):
    service, module, meta, *_ = rig
    partition = guard(service, image)
    service.remove("bootcode.bin")
    assert "bootcode.bin" not in [e.path for e in service.files()]
    assert not service._golden.has("bootcode.bin")
    partition.write_file("cmdline.txt", b"quiet\n")
    entry = inline(service.add_or_update(partition, "/cmdline.txt"))
    assert entry.size == 6 and service.manifest().entry("cmdline.txt") == entry
    with pytest.raises(FileNotFoundError):
        inline(service.add_or_update(partition, "absent.txt"))
    with pytest.raises(InvalidArgumentError):
        service.remove("bootcode.bin")
    meta["boot.manifest"] = b"garbage"
    with pytest.raises(BootManifestError):
        service.manifest()


def test_tap_and_slip39_authorise_and_each_attempt_is_logged(rig, image):
    service, module, meta, clock, _ = rig
    partition = guard(service, image)
    module.policy[0] = BootPolicy.HOLD
    partition.write_file("kernel8.img", b"x")
    service.verify(partition, Mode.PRODUCTION)
    with pytest.raises(BootAuthorizationError):
        service.authorize_tap([0.0, 0.2], now=5.0)  # no code set yet
    service.set_tap_code((2,))
    with pytest.raises(BootAuthorizationError):
        service.authorize_tap([0.0], now=5.0)
    service.authorize_tap([0.0, 0.2], now=5.0)
    assert module.state == "READY"
    service.verify(partition, Mode.PRODUCTION)
    assert module.state == "HOLD"
    shares = inline(service.create_admin_shares(1, [(2, 3)], iteration_exponent=0))[0]
    with pytest.raises(BootAuthorizationError):
        service.authorize_slip39(shares[:1])
    service.authorize_slip39(shares[1:])
    assert module.state == "READY"
    methods = [(e, f["method"]) for e, f in module.events if e in (Event.BOOT_AUTHORIZED, Event.BOOT_AUTH_REFUSED)]
    refused, authorised = Event.BOOT_AUTH_REFUSED, Event.BOOT_AUTHORIZED
    assert methods == [(refused, "tap"), (refused, "tap"), (authorised, "tap"),
                       (refused, "slip39"), (authorised, "slip39")]


def test_a_verification_runs_from_a_plan_and_refuses_a_manifest_changed_meanwhile(rig, image):
    service, module, *_ = rig
    partition = guard(service, image)
    plan = service.plan()
    report = plan.run(partition)  # the module runs this on a worker thread
    assert service.conclude(partition, plan, report, Mode.PRODUCTION).outcome is BootOutcome.VERIFIED
    plan = service.plan()
    report = plan.run(partition)
    service.remove("bootcode.bin")
    with pytest.raises(BusyError):
        service.conclude(partition, plan, report, Mode.PRODUCTION)


def test_an_authorisation_can_release_a_battery_suspension(rig):
    service, module, meta, clock, remote = rig
    challenge = service.challenge(BootAuthAction.RELEASE_SUSPENSION)
    token = AuthorizationToken(challenge.nonce, "SCM-1", BootAuthAction.RELEASE_SUSPENSION, int(clock() + 60))
    with pytest.raises(BootAuthorizationError):  # a token for the suspension does not release a hold
        service.authorize_token(token.signed(remote).to_bytes(), BootAuthAction.RELEASE_HOLD)
    assert module.suspended
    challenge = service.challenge(BootAuthAction.RELEASE_SUSPENSION)
    token = AuthorizationToken(challenge.nonce, "SCM-1", BootAuthAction.RELEASE_SUSPENSION, int(clock() + 60))
    service.authorize_token(token.signed(remote).to_bytes(), BootAuthAction.RELEASE_SUSPENSION)
    assert not module.suspended


def test_adding_a_file_hashes_and_copies_off_the_loop_and_puts_the_copy_in_place_at_the_end(rig, image):
    service, module, *_ = rig
    partition = guard(service, image)
    partition.write_file("config.txt", b"dtparam=new\n")
    steps = service.add_or_update(partition, "config.txt")
    hashed = next(steps)()  # both steps are work for a worker thread, not the loop
    staged = steps.send(hashed)()
    golden = service._golden
    assert golden.get(service.manifest().entry("config.txt")) != b"dtparam=new\n"  # nothing in place yet
    with pytest.raises(StopIteration) as done:
        steps.send(staged)
    entry = done.value.value
    assert golden.get(entry) == b"dtparam=new\n" and service.manifest().entry("config.txt") == entry


def test_a_remediation_that_outlives_its_manifest_is_logged_and_refused(rig, image):
    service, module, *_ = rig
    partition = guard(service, image)
    partition.write_file("kernel8.img", b"evil")
    steps = service.remediate(partition)
    work = next(steps)
    restored = work()  # the restore runs on a worker; meanwhile another request re-signs
    inline(service.add_or_update(partition, "cmdline.txt"))
    with pytest.raises(BusyError, match="changed during the remediation"):
        steps.send(restored)
    assert Event.BOOT_REMEDIATION in module.kinds()
