"""LUKS2 volumes under a real scmd, with the real cryptsetup on image files made here.

The baseline is what a factory would flash: a small ext4 file system encrypted in place by
``cryptsetup reencrypt --encrypt`` under a shared default passphrase; each test copies it, as each
unit gets a copy. This kernel has no device-mapper, so "open and mount" is shown with the same
key cryptsetup accepts: see :func:`read_file_with`.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pyrage
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from softscm.host.cli.exits import Exit
from softscm.host.cli.main import cli
from softscm.host.luks import ClientCustody, Cryptsetup, Enroller, EnrolResult, EnrolState, Pbkdf, Step
from softscm.host.luks.escrow import EscrowRecord, parse_identities, parse_recipient
from softscm.host.luks.keyscript import KeyscriptExit
from softscm.host.luks.recovery import (add_recovery_passphrase, escrow_is_current, escrow_volume, header_escrow,
                                        recover_volume_key)
from softscm.module.selftest.kat import KAT_NAMES
from softscm.wire.defs import BootPolicy, Event, ModuleState
from softscm.wire.errors import AuthenticationError, EnrolmentError, LuksKeyError

from ..conftest import Daemon

DEFAULT = b"factory default passphrase"
CHEAP = Pbkdf("pbkdf2", iterations=1000)
CONTENT = b"unit data written before encryption\n"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="loop devices and mount need root (CI runs as root)")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """A LUKS2 image holding an ext4 file system with one file, opened by ``DEFAULT``."""
    image = tmp_path_factory.mktemp("baseline") / "baseline.img"
    with open(image, "wb") as out:
        out.truncate(12 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image), "8M"], check=True)
    mount = image.parent / "mnt"
    mount.mkdir()
    subprocess.run(["mount", "-o", "loop", str(image), str(mount)], check=True)
    try:
        (mount / "hello.txt").write_bytes(CONTENT)
    finally:
        subprocess.run(["umount", str(mount)], check=True)
    subprocess.run(["cryptsetup", "reencrypt", "--encrypt", "--type", "luks2", "--batch-mode",
                    "--reduce-device-size", "4M", "--luks2-metadata-size", "16k", "--luks2-keyslots-size", "2m",
                    *CHEAP.args(), "--key-file", "-", str(image)], input=DEFAULT, check=True, capture_output=True)
    return image


@pytest.fixture
def unit(baseline, tmp_path) -> Path:
    """This unit's copy of the baseline image."""
    copy = tmp_path / "unit.img"
    shutil.copyfile(baseline, copy)
    return copy


@pytest.fixture(scope="module")
def daemon(tmp_path_factory) -> Iterator[Daemon]:
    """One scmd for the file's tests (each test enrols its own copy of the baseline)."""
    root = tmp_path_factory.mktemp("scmd")
    daemon = Daemon(root / "scm", root / "scm.sock").start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def module(daemon):
    with daemon.connect() as client:
        yield client


@pytest.fixture
def enroller(module) -> Enroller:
    return Enroller(ClientCustody(module), Cryptsetup(), pbkdf=CHEAP)


def read_file_with(image: Path, key: bytes, tmp_path: Path) -> bytes:
    """Read the file on the volume with ``key``: cryptsetup checks the key and gives the volume key
    (``luksDump --dump-volume-key``); the data segment is decrypted as dm-crypt would
    (aes-xts-plain64, 512-byte sectors, the sector number as the tweak) into a plain image, which is
    loop-mounted and read. (This kernel has no device-mapper for ``cryptsetup open``.)"""
    cryptsetup = Cryptsetup()
    volume_key = cryptsetup.volume_key(image, key)
    segment = json.loads(subprocess.run(["cryptsetup", "luksDump", "--dump-json-metadata", str(image)], check=True,
                                        capture_output=True).stdout)["segments"]["0"]
    assert segment["encryption"] == "aes-xts-plain64" and segment["sector_size"] == 512
    data = image.read_bytes()[int(segment["offset"]):]
    plain = bytearray()
    for sector in range(len(data) // 512):
        decryptor = Cipher(algorithms.AES(volume_key), modes.XTS(sector.to_bytes(16, "little"))).decryptor()
        plain += decryptor.update(data[sector * 512:(sector + 1) * 512]) + decryptor.finalize()
    copy = tmp_path / "decrypted.img"
    copy.write_bytes(plain)
    mount = tmp_path / "mnt"
    mount.mkdir(exist_ok=True)
    subprocess.run(["mount", "-o", "loop,ro", str(copy), str(mount)], check=True)
    try:
        return (mount / "hello.txt").read_bytes()
    finally:
        subprocess.run(["umount", str(mount)], check=True)
        copy.unlink()


def test_after_enrolment_only_the_module_key_opens_the_volume(enroller, unit, baseline, tmp_path):
    cryptsetup = enroller.cryptsetup
    result = enroller.enroll(unit, DEFAULT)
    assert result.state is EnrolState.ENROLLED
    assert result.steps == (Step.WRITE_TOKEN, Step.ADD_KEY, Step.BIND_TOKEN, Step.VERIFY, Step.REMOVE_DEFAULT)
    key = enroller.unlock_key(unit)
    assert len(key) == 64
    assert cryptsetup.opens(unit, key) and not cryptsetup.opens(unit, DEFAULT)
    meta = cryptsetup.metadata(unit)
    assert list(meta.keyslots) == [result.keyslot]
    token = cryptsetup.export_token(unit, result.token_id)
    assert token["type"] == "softscm" and token["keyslots"] == [str(result.keyslot)]
    assert token["serial"] == enroller.custody.serial and token["version"] == 1
    assert key not in base64.b64decode(token["blob"]) and key not in unit.read_bytes()  # only the locked blob
    # without re-encryption the volume key is still the baseline's
    assert cryptsetup.volume_key(unit, key) == cryptsetup.volume_key(baseline, DEFAULT)
    assert read_file_with(unit, key, tmp_path) == CONTENT
    # a rerun has nothing left to do
    assert enroller.enroll(unit, None).steps == ()
    status = enroller.status(unit)
    assert status.state is EnrolState.ENROLLED and status.default_keyslots == () and not status.reencrypting


def test_a_second_module_cannot_unlock_the_token(enroller, unit, daemon_factory):
    enroller.enroll(unit, DEFAULT)
    blob = base64.b64decode(enroller.cryptsetup.export_token(unit, 0)["blob"])
    volume = uuid.UUID(enroller.cryptsetup.uuid(unit)).bytes
    with pytest.raises(AuthenticationError):
        enroller.custody.unlock_volume_key(blob, uuid.uuid4().bytes)  # this module, another volume
    with daemon_factory("other").connect() as other:
        custody = ClientCustody(other)
        assert custody.serial != enroller.custody.serial
        with pytest.raises(AuthenticationError):
            custody.unlock_volume_key(blob, volume)
        stranger = Enroller(custody, enroller.cryptsetup, pbkdf=CHEAP)
        with pytest.raises(AuthenticationError):
            stranger.unlock_key(unit)
        with pytest.raises(EnrolmentError, match="enrolled with module"):
            stranger.enroll(unit, DEFAULT)


def test_the_default_passphrase_must_open_the_volume(enroller, unit):
    with pytest.raises(LuksKeyError):
        enroller.enroll(unit, b"not the default")
    assert enroller.status(unit).state is None  # nothing was written


def test_reencryption_gives_each_unit_its_own_volume_key(enroller, baseline, tmp_path):
    cryptsetup = enroller.cryptsetup
    shared = cryptsetup.volume_key(baseline, DEFAULT)
    volume_keys = {}
    for name, reencrypt in (("plain-a", False), ("plain-b", False), ("own-a", True), ("own-b", True)):
        image = tmp_path / f"{name}.img"
        shutil.copyfile(baseline, image)
        progress = []
        enroller_with_progress = Enroller(enroller.custody, cryptsetup, pbkdf=CHEAP, on_progress=progress.append)
        result = enroller_with_progress.enroll(image, DEFAULT, reencrypt=reencrypt)
        assert result.state is (EnrolState.REKEYED if reencrypt else EnrolState.ENROLLED)
        assert (Step.REKEY_DATA in result.steps) is reencrypt and bool(progress) is reencrypt
        key = enroller.unlock_key(image)
        volume_keys[name] = cryptsetup.volume_key(image, key)
        assert not cryptsetup.opens(image, DEFAULT) and list(cryptsetup.metadata(image).keyslots) == [result.keyslot]
    assert volume_keys["plain-a"] == volume_keys["plain-b"] == shared  # the option matters:
    assert len({volume_keys["own-a"], volume_keys["own-b"], shared}) == 3  # without it, units share a key
    if progress:
        assert progress[-1].done_bytes == progress[-1].total_bytes > 0
    assert read_file_with(tmp_path / "own-a.img", enroller.unlock_key(tmp_path / "own-a.img"), tmp_path) == CONTENT


_ENROL_AND_DIE = textwrap.dedent("""
    import os, signal, sys, threading
    import softscm
    from softscm.host.luks import ClientCustody, Cryptsetup, Enroller, Pbkdf, Step
    url, image, kill_at, midway = sys.argv[1], sys.argv[2], Step(sys.argv[3]), sys.argv[4] == "midway"
    def die():
        os.killpg(0, signal.SIGKILL)  # this process and any cryptsetup it runs
    def die_once_reencrypting():  # cryptsetup marks the header before it touches the data
        while True:
            with open(image, "rb") as header:
                if b"online-reencrypt" in header.read(16384):
                    die()
    def on_step(step):
        if step is kill_at:
            if midway:
                threading.Thread(target=die_once_reencrypting, daemon=True).start()
            else:
                die()  # the previous steps done, this one not started
    with softscm.connect(url) as client:
        Enroller(ClientCustody(client), Cryptsetup(), pbkdf=Pbkdf("pbkdf2", iterations=1000),
                 on_step=on_step).enroll(image, sys.stdin.buffer.read(), reencrypt=True)
    print("finished")
""")


def _enrol_and_die(url: str, unit: Path, kill_at: Step, *, midway: bool = False) -> None:
    run = subprocess.run([sys.executable, "-c", _ENROL_AND_DIE, url, str(unit), kill_at.value,
                          "midway" if midway else "before"],
                         input=DEFAULT, capture_output=True, start_new_session=True, timeout=60)
    assert run.returncode == -signal.SIGKILL, run.stderr.decode()


def _openers(enroller: Enroller, unit: Path) -> tuple[bool, bool]:
    """Whether the default passphrase, and the key the module unlocks, open the volume now."""
    cryptsetup = enroller.cryptsetup
    status = enroller.status(unit)
    module_opens = status.state is not None and cryptsetup.opens(
        unit, enroller.custody.unlock_volume_key(base64.b64decode(cryptsetup.export_token(unit, 0)["blob"]),
                                                 uuid.UUID(cryptsetup.uuid(unit)).bytes))
    return cryptsetup.opens(unit, DEFAULT), module_opens


def _assert_finished(enroller: Enroller, unit: Path, result: EnrolResult) -> None:
    assert result.state is EnrolState.REKEYED
    key = enroller.unlock_key(unit)
    assert enroller.cryptsetup.opens(unit, key) and not enroller.cryptsetup.opens(unit, DEFAULT)
    assert list(enroller.cryptsetup.metadata(unit).keyslots) == [result.keyslot]
    assert not enroller.status(unit).reencrypting


def test_an_enrolment_killed_before_each_step_in_turn_never_locks_the_volume_and_finishes(daemon, enroller, unit):
    """Run after run is SIGKILLed, each just before the next step would start (so each run does one
    step); after every kill the default key or the module's opens the volume, and the last run
    finishes."""
    steps = list(Step)
    for kill_at in steps:
        _enrol_and_die(daemon.url, unit, kill_at)
        default_opens, module_opens = _openers(enroller, unit)
        assert default_opens or module_opens, kill_at  # never neither
        assert default_opens is (steps.index(kill_at) <= steps.index(Step.REMOVE_DEFAULT)), kill_at
        assert module_opens is (steps.index(kill_at) > steps.index(Step.ADD_KEY)), kill_at
    result = enroller.enroll(unit, None, reencrypt=True)
    assert result.steps == (Step.FINISH,)  # the killed runs did every step before it
    _assert_finished(enroller, unit, result)


def test_an_enrolment_killed_inside_the_reencryption_resumes(daemon, enroller, unit):
    os.truncate(unit, 24 * 1024 * 1024)  # a longer data segment (its size follows the device)
    _enrol_and_die(daemon.url, unit, Step.REKEY_DATA, midway=True)
    status = enroller.status(unit)
    # killed inside cryptsetup: the new volume key's slot is written (the data may have begun)
    assert len(status.keyslots) > 1 and status.state is EnrolState.REKEYING
    default_opens, module_opens = _openers(enroller, unit)
    assert module_opens and not default_opens
    result = enroller.enroll(unit, None, reencrypt=True)
    assert result.steps[0] in (Step.REKEY_DATA, Step.FINISH)
    _assert_finished(enroller, unit, result)


def _keyscript(url: str, image: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "softscm.host.luks.keyscript", "--url", url],
                          env={**os.environ, "CRYPTTAB_SOURCE": str(image)}, capture_output=True, timeout=60)


def test_the_keyscript_prints_the_key_only_while_the_module_is_ready(daemon_factory, unit):
    daemon = daemon_factory("scm", "--allow-fault-injection")
    with daemon.connect() as client:
        enroller = Enroller(ClientCustody(client), Cryptsetup(), pbkdf=CHEAP)
        enroller.enroll(unit, DEFAULT)
        key = enroller.unlock_key(unit)
        ready = _keyscript(daemon.url, unit)
        assert ready.returncode == KeyscriptExit.OK and ready.stdout == key, ready.stderr
        piped = subprocess.run(["cryptsetup", "open", "--test-passphrase", "--key-file", "-", str(unit)],
                               input=ready.stdout, check=False)
        assert piped.returncode == 0
        # a supervised boot policy closes the gate until the boot partition verifies in this boot
        client.set_supervised_boot_policy(int(BootPolicy.HOLD))
        gated = _keyscript(daemon.url, unit)
        assert gated.returncode == KeyscriptExit.NOT_READY and gated.stdout == b"" and b"boot" in gated.stderr
        client.set_supervised_boot_policy(int(BootPolicy.NONE))
        assert _keyscript(daemon.url, unit).stdout == key
        client.inject_fault(kat=KAT_NAMES[0])
        client.run_self_test()
        assert client.status().state is ModuleState.ERROR
        refused = _keyscript(daemon.url, unit)
        assert refused.returncode == KeyscriptExit.NOT_READY and refused.stdout == b""
        assert b"ERROR" in refused.stderr and key.hex().encode() not in refused.stderr
        entries, _ = client.read_log(events=["DISK_KEY_RELEASED", "DISK_KEY_REFUSED"])
        refusals = [e.details for e in entries if e.event == Event.DISK_KEY_REFUSED]
        assert [r["reason"] for r in refusals] == ["boot not verified"]  # in ERROR the command is not served
        assert sum(e.event == Event.DISK_KEY_RELEASED for e in entries) >= 3
        assert all(key.hex() not in json.dumps(e.details) for e in entries)
    daemon.stop()
    gone = _keyscript(daemon.url, unit)
    assert gone.returncode == KeyscriptExit.UNREACHABLE and gone.stdout == b""


def test_escrow_and_recovery_open_the_volume_without_the_module(enroller, unit, tmp_path):
    cryptsetup = enroller.cryptsetup
    enroller.enroll(unit, DEFAULT)
    operator = pyrage.x25519.Identity.generate()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "op_ssh")], check=True)
    recipients = [parse_recipient(str(operator.to_public())),
                  parse_recipient((tmp_path / "op_ssh.pub").read_text())]
    record = escrow_volume(enroller, unit, recipients)
    assert EscrowRecord.parse(record.to_bytes()) == record == EscrowRecord.parse_armor(record.to_armor())
    assert header_escrow(cryptsetup, unit) == record and escrow_is_current(cryptsetup, unit, record)
    volume_key = cryptsetup.volume_key(unit, enroller.unlock_key(unit))
    # the module is gone: only the operator's private key and the volume remain
    identity_file = tmp_path / "operator.age"
    identity_file.write_text(f"# operator\n{operator}\n")
    identities = parse_identities(identity_file.read_bytes())
    assert recover_volume_key(cryptsetup, unit, record, identities) == volume_key
    assert recover_volume_key(cryptsetup, unit, record, parse_identities((tmp_path / "op_ssh").read_bytes())) \
        == volume_key
    # stock age reads it too (the sealed part is UUID || volume key)
    sealed = tmp_path / "sealed.age"
    sealed.write_bytes(record.sealed)
    plain = subprocess.run(["age", "--decrypt", "-i", str(identity_file), str(sealed)], check=True,
                           capture_output=True).stdout
    assert plain == record.volume_uuid.bytes + volume_key
    recovery = b"operator recovery passphrase"
    slot = add_recovery_passphrase(cryptsetup, unit, record, identities, recovery, pbkdf=CHEAP)
    cryptsetup.test_key(unit, recovery, keyslot=slot)
    assert read_file_with(unit, recovery, tmp_path) == CONTENT
    with pytest.raises(AuthenticationError):
        recover_volume_key(cryptsetup, unit, record, [pyrage.x25519.Identity.generate()])


def test_rekey_rotates_the_volume_key_and_an_escrow_goes_stale(enroller, unit):
    cryptsetup = enroller.cryptsetup
    enroller.enroll(unit, DEFAULT)
    operator = pyrage.x25519.Identity.generate()
    record = escrow_volume(enroller, unit, [operator.to_public()], in_header=False)
    before = cryptsetup.volume_key(unit, enroller.unlock_key(unit))
    result = enroller.rekey(unit)
    assert result.state is EnrolState.REKEYED and result.steps[0] is Step.REKEY_START
    middle = cryptsetup.volume_key(unit, enroller.unlock_key(unit))
    enroller.rekey(unit)  # a further rotation
    after = cryptsetup.volume_key(unit, enroller.unlock_key(unit))
    assert len({before, middle, after}) == 3
    assert not escrow_is_current(cryptsetup, unit, record)
    with pytest.raises(EnrolmentError, match="older volume key"):
        recover_volume_key(cryptsetup, unit, record, [operator])


def test_scmctl_luks_enrol_status_unlock_escrow_rekey_recover(daemon, unit, tmp_path):
    def scmctl(*args: str, input: bytes | None = None):
        result = CliRunner().invoke(cli, ["--url", daemon.url, "--json", *args], input=input)
        assert "Traceback" not in result.output, result.output
        return result, (json.loads(result.stdout) if result.exit_code == 0 else None)

    result, status = scmctl("luks", "status", str(unit))
    assert result.exit_code == 0 and status["state"] is None and status["keyslots"] == [0]
    result, _ = scmctl("luks", "enroll", str(unit), input=b"wrong passphrase\n")
    assert result.exit_code == Exit.VERIFICATION_FAILED
    result, enrolled = scmctl("luks", "enroll", str(unit), input=DEFAULT + b"\n")
    assert result.exit_code == 0 and enrolled["state"] == "enrolled", result.output
    assert enrolled["steps"] == ["write-token", "add-key", "bind-token", "verify", "remove-default"]
    assert DEFAULT.decode() not in result.output
    result, opened = scmctl("luks", "unlock", str(unit))
    assert result.exit_code == 0 and opened["opens"] is True
    operator = pyrage.x25519.Identity.generate()
    identity = tmp_path / "operator.age"
    identity.write_text(f"{operator}\n")
    armored = tmp_path / "escrow.txt"
    result, escrowed = scmctl("luks", "escrow", str(unit), "--recipient", str(operator.to_public()), "--out",
                              str(armored))
    assert result.exit_code == 0 and escrowed["recipients"] == 1
    result, status = scmctl("luks", "status", str(unit))
    assert status["state"] == "enrolled" and status["escrow_in_header"] and status["escrow_current"]
    result, rekeyed = scmctl("luks", "rekey", str(unit))
    assert result.exit_code == 0 and rekeyed["state"] == "rekeyed" and "rekey-data" in rekeyed["steps"]
    result, status = scmctl("luks", "status", str(unit))
    assert status["state"] == "rekeyed" and not status["escrow_current"]  # re-keyed since: escrow again
    human = CliRunner().invoke(cli, ["--url", daemon.url, "luks", "rekey", str(unit)])
    assert human.exit_code == 0 and "rekey-data" in human.output and "re-encrypting" in human.output
    assert "rekeyed (module key in slot" in human.output
    result, _ = scmctl("luks", "recover", str(unit), "--identity", str(identity), "--escrow", str(armored),
                       input=b"new\nnew\n")
    assert result.exit_code == Exit.NOT_PERMITTED and "older volume key" in result.output
    scmctl("luks", "escrow", str(unit), "--recipient", str(operator.to_public()))
    recovery = b"operator recovery passphrase"
    result, recovered = scmctl("luks", "recover", str(unit), "--identity", str(identity), "--pbkdf", "pbkdf2",
                               "--pbkdf-force-iterations", "1000", input=recovery + b"\n" + recovery + b"\n")
    assert result.exit_code == 0, result.output
    Cryptsetup().test_key(unit, recovery, keyslot=recovered["keyslot"])
    # this kernel has no device-mapper: opening fails as a typed LUKS error, not a traceback
    result, _ = scmctl("luks", "unlock", str(unit), "--name", "softscm-test")
    if Path("/dev/mapper/control").exists() and result.exit_code == 0:
        subprocess.run(["cryptsetup", "close", "softscm-test"], check=True)
    else:
        assert result.exit_code == Exit.MODULE_ERROR and "LuksError" in result.output


HOOK = Path(__file__).resolve().parents[2] / "deploy" / "initramfs" / "hooks" / "softscm-luks"


def test_the_initramfs_hook_brings_a_keyscript_that_unlocks_from_inside_the_initramfs(unit, tmp_path):
    """The hook fills an initramfs tree (on the skeleton and with the cryptsetup that mkinitramfs and
    the cryptroot hook provide); the key script then runs chrooted in that tree, against the module's
    Unix socket (bound into the tree, as the initramfs reaches a module on the same host), and its
    output opens the volume there, as cryptroot pipes it."""
    module = Daemon(tmp_path / "scm", tmp_path / "run" / "scm.sock").start()
    root = tmp_path / "initramfs"
    with ExitStack() as cleanup:
        cleanup.callback(module.stop)
        with module.connect() as client:
            enroller = Enroller(ClientCustody(client), Cryptsetup(), pbkdf=CHEAP)
            enroller.enroll(unit, DEFAULT)
            key = enroller.unlock_key(unit)
        for directory in ("usr/bin", "usr/sbin", "usr/lib/x86_64-linux-gnu", "usr/lib64", "dev", "proc"):
            (root / directory).mkdir(parents=True, exist_ok=True)
        for link in ("bin", "sbin", "lib", "lib64"):
            (root / link).symlink_to(f"usr/{link}")
        (root / "usr/lib64/ld-linux-x86-64.so.2").symlink_to("../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
        conf = tmp_path / "luks-unlock.conf"
        conf.write_text(f"SOFTSCM_PYTHON={sys.executable}\nSOFTSCM_URL=unix:/run/softscm/scm.sock\n")
        env = {**os.environ, "DESTDIR": str(root), "verbose": "n", "SOFTSCM_LUKS_CONF": str(conf)}
        subprocess.run(["sh", "-c", ". /usr/share/initramfs-tools/hook-functions; "
                        "copy_exec /usr/sbin/cryptsetup || true; copy_exec /bin/sh || true"], env=env, check=True)
        subprocess.run(["sh", str(HOOK)], env=env, check=True)
        assert (root / "usr/lib/softscm/python/softscm/host/luks/keyscript.py").exists()
        assert not (root / "usr/lib/softscm/python/softscm/module").exists()  # never the module side
        shutil.copyfile(unit, root / "volume.img")
        (root / "run" / "softscm").mkdir(parents=True)
        for target, args in (("dev", ["--bind", "/dev"]), ("proc", ["-t", "proc", "proc"]),
                             ("run/softscm", ["--bind", str(tmp_path / "run")])):
            subprocess.run(["mount", *args, str(root / target)], check=True)
            cleanup.callback(subprocess.run, ["umount", str(root / target)], check=True)
        boot = {"PATH": "/usr/sbin:/usr/bin", "CRYPTTAB_SOURCE": "/volume.img"}  # the URL from the copied conf
        printed = subprocess.run(["chroot", str(root), "/lib/cryptsetup/scripts/scm-luks-unlock"], env=boot,
                                 capture_output=True, timeout=60)
        assert printed.returncode == 0 and printed.stdout == key, printed.stderr
        opened = subprocess.run(["chroot", str(root), "sh", "-c", "/lib/cryptsetup/scripts/scm-luks-unlock | "
                                 "cryptsetup open --test-passphrase --key-file - /volume.img"], env=boot,
                                capture_output=True, timeout=60)
        assert opened.returncode == 0, opened.stderr
