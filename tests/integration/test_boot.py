"""Supervised boot against a real scmd: policies in both modes, HOLD, remediation, authorisation,
and the initramfs script under dash holding or continuing as the module says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from softscm.host.cli.exits import Exit
from softscm.wire.boottoken import AuthorizationToken
from softscm.wire.defs import BootAuthAction, BootFault, BootOutcome, BootPolicy, KeyType, ModuleState
from softscm.wire.errors import (
    BootAuthorizationError,
    BootHeldError,
    DestroyedError,
    ModuleStateError,
    NotPermittedError,
)

from ..unit.boot.helpers import boot_files, make_image
from .test_cli import runner_for

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "initramfs" / "scripts" / "init-premount" / "scm-bootgate"
BOOTGATE = Path(sys.executable).parent / "scm-bootgate"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("boot-image")
    (root / "staging").mkdir()
    return make_image(root / "boot.img", boot_files(), root / "staging")


@pytest.fixture
def image(template, tmp_path) -> Path:
    copy = tmp_path / "boot.img"
    shutil.copyfile(template, copy)
    return copy


@pytest.fixture
def guarded(daemon_factory, image):
    """A module serving ``image`` as its boot partition, with a signed manifest of its files."""
    daemon = daemon_factory("boot", "--boot-partition", str(image))
    client = daemon.connect()
    client.boot_sign_all(unlisted=1)
    yield daemon, client, image
    client.close()


def corrupt(image: Path, path: str = "kernel8.img") -> None:
    staged = image.parent / "evil"
    staged.write_bytes(b"evil kernel")
    env = dict(os.environ, MTOOLSRC="/dev/null", MTOOLS_SKIP_CHECK="1")
    subprocess.run(["mcopy", "-o", "-i", str(image), str(staged), f"::/{path}"], check=True, env=env)


class RemoteParty:
    """A known party whose P-256 public key the module holds as a foreign key."""

    def __init__(self, client) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        public = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        self.slot = client.store_foreign_public_key(KeyType.NISTP256, public)

    def sign(self, digest: bytes) -> bytes:
        r, s = decode_dss_signature(self.key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def token(self, challenge, *, expires_in: int = 60) -> bytes:
        return AuthorizationToken(challenge.challenge, challenge.serial, challenge.action,
                                  int(time.time()) + expires_in).signed(self.sign).to_bytes()


def test_clean_verification_and_development_mode(guarded, tmp_path):
    daemon, client, image = guarded
    progress: list[tuple[int, int]] = []

    def follow() -> None:
        with daemon.connect() as watcher:
            for event in watcher.events(timeout=10):
                if event["name"] == "BOOT_VERIFY_PROGRESS":
                    progress.append((event["details"]["done"], event["details"]["total"]))
                    if progress[-1][0] == progress[-1][1]:
                        return

    follower = threading.Thread(target=follow)
    follower.start()
    time.sleep(0.5)  # subscribed
    result = client.boot_verify()
    follower.join()
    assert result.outcome is BootOutcome.VERIFIED and result.files_checked == 8
    assert progress[-1] == (result.bytes_hashed, result.bytes_hashed)  # subscribers follow the hashing
    assert set(client.get_supervised_boot_file_manifest().split()) == set(boot_files())
    assert client.boot_confirm() == 1
    with pytest.raises(NotPermittedError):
        client.boot_verify(directory=str(tmp_path))  # only the configured partitions are served
    # development mode: show the code, allow the boot, re-sign; the hold policy is not carried out
    client.set_supervised_boot_policy(BootPolicy.HOLD)
    corrupt(image)
    result = client.boot_verify()
    assert result.outcome is BootOutcome.ALLOWED_DEVELOPMENT
    assert [(f.path, f.reason) for f in result.faults] == [("kernel8.img", BootFault.SIZE)]
    assert client.get_led().code == "4/2" and client.status().state is ModuleState.READY
    assert client.boot_verify().outcome is BootOutcome.VERIFIED  # re-signed


def test_an_authorisation_resumes_key_operations_after_a_battery_fault(daemon_factory):
    daemon = daemon_factory("battery")
    with daemon.connect() as client:
        party = RemoteParty(client)
        client.set_battery_policy(threshold=2.4, sleep=True)
        client.simulate("battery", volts=2.0)
        with pytest.raises(ModuleStateError, match="battery"):
            client.sign(0, bytes(32))
        challenge = client.boot_challenge(BootAuthAction.RELEASE_SUSPENSION)
        client.boot_authorize_token(party.token(challenge), BootAuthAction.RELEASE_SUSPENSION)
        assert len(client.sign(0, bytes(32)).raw) == 64


def test_production_log_only_then_hold_until_remediated_and_authorised(guarded):
    daemon, client, image = guarded
    party = RemoteParty(client)
    client.lock_binding()
    blob = client.lock(b"disk key")
    corrupt(image, "config.txt")
    assert client.boot_verify().outcome is BootOutcome.LOGGED
    assert client.status().state is ModuleState.READY
    entries, _checkpoints = client.read_log(events=["BOOT_VERIFY_FAILED"])
    assert entries and entries[-1].details["files"] == ["config.txt"]

    client.set_supervised_boot_policy(BootPolicy.HOLD)
    shares = client.boot_setup(tap_code=[2], admin_group_threshold=1, admin_groups=[(2, 3)])[0]
    corrupt(image)
    assert client.boot_verify().outcome is BootOutcome.HELD
    assert client.status().state is ModuleState.HOLD  # status still served
    with pytest.raises(BootHeldError):
        client.sign(0, bytes(32))
    with pytest.raises(BootHeldError):
        client.unlock(blob)
    assert client.read_log()[0]  # log reads still served
    client.close()
    daemon.stop()
    daemon.start()  # a restart keeps holding
    client = daemon.connect()
    assert client.status().state is ModuleState.HOLD
    with pytest.raises(BootHeldError):
        client.unlock(blob)
    remedy = client.boot_remediate()
    assert set(remedy.restored) == {"kernel8.img", "config.txt"} and remedy.ok
    with pytest.raises(BootHeldError):
        client.sign(0, bytes(32))  # remediated, not yet authorised
    token = party.token(client.boot_challenge())
    assert client.boot_authorize_token(token).held is False
    with pytest.raises(BootAuthorizationError):
        client.boot_authorize_token(token)  # replayed
    assert client.status().state is ModuleState.READY
    assert client.unlock(blob) == b"disk key"
    assert len(client.sign(0, bytes(32)).raw) == 64

    # SLIP-39 admin shares meeting the threshold release a hold; fewer do not
    corrupt(image)
    assert client.boot_verify().outcome is BootOutcome.HELD
    with pytest.raises(BootAuthorizationError):
        client.boot_authorize_slip39(shares[:1])
    assert client.boot_authorize_slip39(shares[1:]).held is False

    # so does the tap code, tapped on the (simulated) accelerometer while the module waits for it
    assert client.boot_verify().outcome is BootOutcome.HELD

    def tap_twice() -> None:
        time.sleep(1.0)
        now = time.time()
        samples = [[now + i / 400, 0.0, 0.0, 1.0] for i in range(40)]
        for start in (now + 0.1, now + 0.4):
            samples += [[start + i / 400, 0.0, 0.0, 1.0 + (3.0 if i == 0 else 0.0)] for i in range(40)]
        with daemon.connect() as other:
            other.simulate("accel", samples=sorted(samples))

    tapper = threading.Thread(target=tap_twice)
    tapper.start()
    assert client.boot_authorize_tap(timeout_ms=20_000).held is False
    tapper.join()
    attempts = [e.details["method"] for e in client.read_log(events=["BOOT_AUTHORIZED", "BOOT_AUTH_REFUSED"])[0]]
    assert attempts == ["token", "token", "slip39", "slip39", "tap"]
    client.close()


def test_production_self_destruct_keeps_the_log(guarded):
    _daemon, client, image = guarded
    client.lock_binding()
    client.set_supervised_boot_policy(BootPolicy.SELF_DESTRUCT)
    corrupt(image, "start4.elf")
    assert client.boot_verify().outcome is BootOutcome.DESTROYED
    assert client.status().state is ModuleState.DESTROYED
    with pytest.raises(DestroyedError):
        client.sign(0, bytes(32))
    entries, _checkpoints = client.read_log()
    assert any(e.event_name == "SELF_DESTRUCT" for e in entries)


def test_the_initramfs_script_holds_and_continues_as_the_module_says(guarded, tmp_path):
    daemon, client, image = guarded
    party = RemoteParty(client)
    client.lock_binding()
    client.set_supervised_boot_policy(BootPolicy.HOLD)
    config = tmp_path / "gate.conf"
    config.write_text(f"SCM_BOOTGATE={BOOTGATE}\nSCM_BOOTGATE_ARGS='--wait --poll 0.2'\nSCM_BOOTGATE_RETRY=0\n"
                      f"SOFTSCM_URL={daemon.url}\n")
    env = {"PATH": os.environ["PATH"], "SCM_BOOTGATE_CONFIG": str(config)}
    clean = subprocess.run(["dash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert clean.returncode == 0 and "continuing" in clean.stderr
    corrupt(image)
    held = subprocess.Popen(["dash", str(SCRIPT)], env=env, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert held.poll() is None  # still holding the boot
    assert client.status().state is ModuleState.HOLD
    client.boot_remediate()
    client.boot_authorize_token(party.token(client.boot_challenge()))
    assert held.wait(timeout=30) == 0
    assert "released" in held.stderr.read()


def test_scmctl_boot(guarded, tmp_path):
    daemon, client, image = guarded
    invoke = runner_for(daemon.url)
    result, listed = invoke("boot", "manifest", "list", as_json=True)
    assert result.exit_code == 0 and len(listed["files"]) == 8 and listed["unlisted"] == "fail"
    result, _ = invoke("boot", "verify", "--image", str(image))
    assert result.exit_code == 0 and "verified: 8 files" in result.stdout
    corrupt(image, "cmdline.txt")
    result, _ = invoke("boot", "verify")
    assert result.exit_code == Exit.VERIFICATION_FAILED and "cmdline.txt: size" in result.output
    result, entry = invoke("boot", "manifest", "update", "cmdline.txt", as_json=True)
    assert result.exit_code == 0 and entry["size"] == len(b"evil kernel")
    result, _ = invoke("boot", "manifest", "rm", "cmdline.txt")
    assert result.exit_code == 0 and "cmdline.txt" not in client.get_supervised_boot_file_manifest().split()
    result, signed = invoke("boot", "manifest", "sign-all", "--cm4", "--unlisted", "ignore", "--security-version",
                            "2", as_json=True)
    assert result.exit_code == 0 and signed["security_version"] == 2 and len(signed["files"]) == 8
    # a remote token made with scmctl boot token from a challenge, redeemed with scmctl boot authorize
    key_file = tmp_path / "party.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    client.store_foreign_public_key(KeyType.NISTP256, key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    _, challenge = invoke("boot", "challenge", as_json=True)
    token_file = tmp_path / "token.cbor"
    result, _ = invoke("boot", "token", "--key", str(key_file), "--challenge", challenge["challenge"],
                       "--serial", challenge["serial"], "--out", str(token_file))
    assert result.exit_code == 0
    result, authorised = invoke("boot", "authorize", "--token", str(token_file), as_json=True)
    assert result.exit_code == 0 and authorised == {"authorized": "release_hold", "held": False}
    result, _ = invoke("boot", "authorize", "--token", str(token_file))
    assert result.exit_code == Exit.VERIFICATION_FAILED  # replayed
    result, _ = invoke("boot", "remediate", "--recovery", "3", "--normal", "2")
    assert result.exit_code == 0


def test_disk_keys_are_released_only_once_the_boot_verified(daemon_factory, image):
    """The disk area's gate: with a supervised boot policy, a volume key leaves the module only
    after the boot partition verified in this boot (and never while the boot is held)."""
    daemon = daemon_factory("disk-gate", "--boot-partition", str(image))
    with daemon.connect() as client:
        client.boot_sign_all()
        volume = client.disk_new_key(32, b"volume-uuid")
        client.lock_binding()
        client.set_supervised_boot_policy(BootPolicy.HOLD)
        daemon.stop()
        daemon.start()  # a new boot: nothing verified yet
    with daemon.connect() as client:
        with pytest.raises(ModuleStateError):
            client.disk_unlock(volume.blob, b"volume-uuid")
        assert client.boot_verify().outcome is BootOutcome.VERIFIED
        assert client.disk_unlock(volume.blob, b"volume-uuid") == volume.key
        corrupt(image)
        assert client.boot_verify().outcome is BootOutcome.HELD
        with pytest.raises(BootHeldError):
            client.disk_unlock(volume.blob, b"volume-uuid")
