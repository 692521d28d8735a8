"""How long the most expensive legal request of each command holds scmd's event loop.

Starts a real scmd, and for every command of the wire contract sends the costliest request the
contract allows (the largest batches, counts, lengths and frames, PBKDF2 at its work limit, a
wallet path of the greatest depth, a full log page, SLIP-39 with the most groups and iterations,
the verification of a 64 MiB boot tree, 4 MiB files...) while a second client sends HELLO in a
loop. For each it prints the heavy request's time and the longest a ping waited meanwhile: that
wait is what "holds the loop" means. The budget: a ping waits at most ``--budget`` ms (100 on an
idle machine); the idle ping's worst wait, measured first in the same run, is the baseline.

    .venv/bin/python bench/loop_budget.py [--budget 100] [--only GEN_KEYS,SIGN_BATCH] [--boot-mib 64]

Commands that wait for an event (``WAIT_TAP``, ``WAIT_PERIMETER``) get a short timeout; the ones
that end the module's usefulness (``LOCK_BINDING``, ``FAULT_INJECT``, self-destruct policies) are
listed as skipped with the reason.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scmd_runner import running_scmd

import softscm
from softscm.module.crypto.stream import MAX_RECORDS_PER_UPDATE
from softscm.host import x509 as scmx509
from softscm.host.api.base import same
from softscm.wire.defs import PROTOCOL_VERSION, BootAuthMethod, Command, KdfType, KeyType, Role
from softscm.wire.errors import ScmError, TransportError
from softscm.wire.messages import CONTRACT, Request
from softscm.wire.messages import access as m_access
from softscm.wire.messages import admin as m_admin
from softscm.wire.messages import boot as m_boot
from softscm.wire.messages import cert as m_cert
from softscm.wire.messages import clients as m_clients
from softscm.wire.messages import disk as m_disk
from softscm.wire.messages import files as m_files
from softscm.wire.messages import keys as m_keys
from softscm.wire.messages import log as m_log
from softscm.wire.messages import operations as m_ops
from softscm.wire.messages import selftest as m_selftest
from softscm.wire.messages import sensors as m_sensors
from softscm.wire.messages import wallet as m_wallet
from softscm.wire.messages.log import HostEventKind
from softscm.wire.messages.sensors import LedPattern

MIB = 1 << 20
SMALL_CHUNK = 2 * MIB // MAX_RECORDS_PER_UPDATE  # a 2 MiB stream piece of the most chunks allowed
SKIPPED = {
    Command.LOCK_BINDING: "binds the module to this machine for good (production mode)",
    Command.FAULT_INJECT: "arms a self-test fault (the module goes to ERROR)",
    Command.BOOT_SET_POLICY: "a boot policy could hold the module",
    Command.PERIMETER_SET_ACTIONS: "a perimeter action could destroy the module",
}


class Pinger:
    """A second client sending HELLO in a loop; keeps each ping's (sent, answered) times."""

    def __init__(self, url: str) -> None:
        self._client = softscm.connect(url, timeout=600)
        self._stop = threading.Event()
        self.pings: list[tuple[float, float]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        hello = m_admin.HelloRequest(PROTOCOL_VERSION)
        while not self._stop.is_set():
            sent = time.perf_counter()
            self._client._call(hello, same)
            self.pings.append((sent, time.perf_counter()))
            time.sleep(0.001)

    def worst_wait(self, start: float, end: float) -> float:
        """The longest a ping overlapping ``[start, end]`` waited for its answer (seconds)."""
        return max((done - sent for sent, done in list(self.pings) if done >= start and sent <= end), default=0.0)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=600)
        self._client.close()


@dataclass
class Context:
    """The state the heavy requests need, made (untimed) before each one."""

    url: str
    scm: Any
    slots: dict[KeyType, int] = field(default_factory=dict)
    made: dict[str, Any] = field(default_factory=dict)

    def call(self, request: Request[Any]) -> Any:
        return self.scm._call(request, same)

    def reconnect_if_dropped(self, error: ScmError) -> None:
        """A new connection after the module closed this one (a finding in itself)."""
        if isinstance(error, TransportError):
            self.scm.close()
            self.scm = softscm.connect(self.url, timeout=600)


Heavy = Callable[[Context], Request[Any] | list[Request[Any]]]
"""Does the (untimed) set-up and returns the request (or the requests, timed together) to time."""


def _wallet(name: str, key_type: KeyType = KeyType.SECP256K1) -> m_wallet.NewWallet:
    return m_wallet.NewWallet(key_type, name)


def _master(ctx: Context) -> int:
    if "master" not in ctx.made:
        ctx.made["master"] = ctx.call(m_wallet.WalletCreateRequest(_wallet("setup"))).slot
    return int(ctx.made["master"])


def _deep_path() -> str:
    path = "m"
    while len(path) + len("/2147483647'") <= 256:
        path += "/2147483647'"
    return path


def _blob(ctx: Context) -> bytes:
    if "blob" not in ctx.made:
        ctx.made["blob"] = ctx.call(m_ops.LockRequest(os.urandom(2 * MIB))).blob
    return bytes(ctx.made["blob"])


def _slip39_generated(ctx: Context) -> list[Request[Any]]:
    """16 groups of 16 members at the highest iteration exponent: start, then set every group."""
    ctx.call(m_wallet.Slip39CancelRequest())
    return [m_wallet.Slip39GenerateRequest(_wallet("slip39"), 16, 16, iteration_exponent=5, passphrase="p" * 1024)]


def _slip39_set_group(ctx: Context) -> Request[Any]:
    ctx.call(_slip39_generated(ctx)[0])
    return m_wallet.Slip39SetGroupRequest(0, 16, 16)


def _slip39_shares(ctx: Context) -> list[Request[Any]]:
    ctx.call(m_wallet.Slip39CancelRequest())
    ctx.call(m_wallet.Slip39GenerateRequest(_wallet("slip39-shares"), 1, 1, iteration_exponent=5,
                                            passphrase="p" * 1024))
    ctx.call(m_wallet.Slip39SetGroupRequest(0, 16, 16))
    return [m_wallet.Slip39NextShareRequest(passphrase="p" * 1024)]


def _slip39_restore(ctx: Context) -> list[Request[Any]]:
    """Make 16 shares of a 16-of-16 single group (exponent 5), then restore from them: the last
    share triggers the decryption."""
    ctx.call(m_wallet.Slip39CancelRequest())
    ctx.call(m_wallet.Slip39GenerateRequest(_wallet("slip39-src"), 1, 1, iteration_exponent=5))
    ctx.call(m_wallet.Slip39SetGroupRequest(0, 16, 16))
    shares = [ctx.call(m_wallet.Slip39NextShareRequest()).mnemonic for _ in range(16)]
    ctx.call(m_wallet.Slip39RestoreRequest(_wallet("slip39-restored")))
    for share in shares[:-1]:
        ctx.call(m_wallet.Slip39AddShareRequest(share))
    return [m_wallet.Slip39AddShareRequest(shares[-1])]


def _chain(ctx: Context) -> tuple[int, list[bytes]]:
    """A P-256 slot and its chain (leaf, root), made once."""
    if "chain" not in ctx.made:
        root_slot, leaf_slot = ctx.scm.gen_key_pair("nistp256"), ctx.scm.gen_key_pair("nistp256")
        root = scmx509.self_sign(ctx.scm, root_slot, scmx509.device_subject("root"), ca=True, days=10)
        csr = scmx509.make_csr(ctx.scm, leaf_slot, scmx509.device_subject("leaf"))
        leaf = scmx509.issue(ctx.scm, root_slot, root, csr, days=5)
        ctx.made["chain"] = (leaf_slot, [scmx509.to_der(leaf), scmx509.to_der(root)])
    slot, chain = ctx.made["chain"]
    return slot, list(chain)


def _admin_shares(ctx: Context) -> list[str]:
    if "admin_shares" not in ctx.made:
        groups = ctx.call(m_boot.BootSetupRequest(admin_group_threshold=1, admin_groups=((16, 16),),
                                                  admin_passphrase=b"p" * 1024)).groups
        ctx.made["admin_shares"] = list(groups[0])
    return list(ctx.made["admin_shares"])


def _stream(ctx: Context) -> int:
    reply = ctx.call(m_ops.LockStreamRequest(chunk_size=SMALL_CHUNK))
    return int(reply.handle)


def cases() -> dict[Command, Heavy]:
    """The costliest legal request of every command (each builds what it needs first)."""
    p256, k1 = KeyType.NISTP256, KeyType.SECP256K1
    digests = tuple(os.urandom(32) for _ in range(4096))
    return {
        Command.HELLO: lambda c: m_admin.HelloRequest(PROTOCOL_VERSION),
        Command.INFO: lambda c: m_admin.InfoRequest(),
        Command.STATUS: lambda c: m_admin.StatusRequest(),
        Command.TIME: lambda c: m_sensors.TimeRequest(precise=True),
        Command.RANDOM: lambda c: m_admin.RandomRequest(MIB),
        Command.SUBSCRIBE: lambda c: m_admin.SubscribeRequest(),
        Command.GEN_KEY: lambda c: m_keys.GenKeyRequest(KeyType.X25519),
        Command.GEN_EPHEMERAL: lambda c: m_keys.GenEphemeralRequest(KeyType.X25519),
        Command.INVALIDATE_EPHEMERAL: lambda c: m_keys.InvalidateEphemeralRequest(),
        Command.GEN_KEYS: lambda c: m_keys.GenKeysRequest(KeyType.X25519, 1024),
        Command.LIST_SLOTS: lambda c: m_keys.ListSlotsRequest(),
        Command.REMOVE_KEY: lambda c: m_keys.RemoveKeyRequest(c.scm.gen_key_pair("nistp256")),
        Command.GET_PUBLIC_KEY: lambda c: m_keys.GetPublicKeyRequest(c.slots[p256], pem=True),
        Command.DISABLE_EXPORT: lambda c: m_keys.DisableExportRequest(c.scm.gen_key_pair("nistp256")),
        Command.STORE_FOREIGN: lambda c: m_keys.StoreForeignRequest(p256, c.scm.get_public_key(c.slots[p256])),
        Command.IMPORT_KEY: lambda c: m_keys.ImportKeyRequest(KeyType.X25519, os.urandom(32)),
        Command.SIGN: lambda c: m_ops.SignRequest(c.slots[KeyType.ED25519], os.urandom(MIB)),
        Command.SIGN_BATCH: lambda c: m_ops.SignBatchRequest(c.slots[p256], digests, recid=True),
        Command.VERIFY: lambda c: m_ops.VerifyRequest(
            m_ops.Verifier(slot=c.slots[KeyType.ED25519]), b"m" * MIB,
            c.call(m_ops.SignRequest(c.slots[KeyType.ED25519], b"m" * MIB)).raw),
        Command.VERIFY_BATCH: lambda c: m_ops.VerifyBatchRequest(
            m_ops.Verifier(slot=c.slots[p256]),
            tuple(zip(digests, (s.raw for s in c.call(m_ops.SignBatchRequest(c.slots[p256], digests)).signatures)))),
        Command.ECDH: lambda c: m_ops.EcdhRequest(c.slots[KeyType.X25519], peer_slot=c.slots[KeyType.X25519],
                                                  peer_foreign=False, kdf=KdfType.PBKDF2_SHA512, salt=b"s" * 128,
                                                  iterations=125_000, length=1024),
        Command.LOCK: lambda c: m_ops.LockRequest(os.urandom(2 * MIB)),
        Command.UNLOCK: lambda c: m_ops.UnlockRequest(_blob(c)),
        Command.LOCK_STREAM: lambda c: m_ops.LockStreamRequest(chunk_size=SMALL_CHUNK, data=os.urandom(2 * MIB),
                                                               final=True),
        Command.UNLOCK_STREAM: lambda c: m_ops.UnlockStreamRequest(
            data=c.call(m_ops.LockStreamRequest(chunk_size=SMALL_CHUNK, data=os.urandom(2 * MIB - 128 * 1024),
                                                final=True)).data,  # a locked stream that fits one piece
            final=True),
        Command.STREAM_UPDATE: lambda c: m_ops.StreamUpdateRequest(_stream(c), os.urandom(2 * MIB), final=True),
        Command.STREAM_CANCEL: lambda c: m_ops.StreamCancelRequest(_stream(c)),
        Command.WALLET_CREATE: lambda c: m_wallet.WalletCreateRequest(_wallet("created"), passphrase="p" * 1024),
        Command.WALLET_RESTORE_BIP39: lambda c: m_wallet.WalletRestoreBip39Request(
            _wallet("restored"), " ".join(["abandon"] * 23 + ["art"]), passphrase="p" * 1024),
        Command.WALLET_DERIVE: lambda c: m_wallet.WalletDeriveRequest(_master(c), path=_deep_path(),
                                                                      return_chain_code=True),
        Command.WALLET_OVERSIGHT: lambda c: m_wallet.WalletOversightRequest(
            _wallet("watch"), node_addr=_deep_path(),
            public_key=c.scm.get_public_key(c.slots[k1]), chain_code=b"c" * 32),
        Command.WALLET_NODE_INFO: lambda c: m_wallet.WalletNodeRequest(_master(c)),
        Command.WALLET_FIND_SLOT: lambda c: m_wallet.WalletFindSlotRequest(_deep_path(), master_slot=_master(c)),
        Command.WALLET_LIST: lambda c: m_wallet.WalletListRequest(),
        Command.SLIP39_GEN_START: _slip39_generated,
        Command.SLIP39_GEN_SET_GROUP: _slip39_set_group,
        Command.SLIP39_GEN_NEXT_SHARE: _slip39_shares,
        Command.SLIP39_RESTORE_START: lambda c: [m_wallet.Slip39CancelRequest(),
                                                 m_wallet.Slip39RestoreRequest(_wallet("r2"), "p" * 1024)],
        Command.SLIP39_RESTORE_ADD: _slip39_restore,
        Command.SLIP39_CANCEL: lambda c: m_wallet.Slip39CancelRequest(),
        Command.LED_SET: lambda c: m_sensors.LedSetRequest(LedPattern.FLASH, 60_000, 60_000, 1_000_000),
        Command.LED_GET: lambda c: m_admin.LedGetRequest(),
        Command.ACCEL_READ: lambda c: m_sensors.AccelReadRequest(),
        Command.TAP_SENSITIVITY: lambda c: m_sensors.TapSensitivityRequest(pct=50.0),
        Command.WAIT_TAP: lambda c: m_sensors.WaitTapRequest(timeout_ms=50),
        Command.RTC_DRIFT: lambda c: m_sensors.RtcDriftRequest(),
        Command.CPU_TEMP: lambda c: m_sensors.CpuTempRequest(),
        Command.AUX_TEMP: lambda c: m_sensors.AuxTempRequest(),
        Command.BATTERY_VOLT: lambda c: m_sensors.BatteryRequest(),
        Command.PERIMETER_SET_PARAMS: lambda c: m_sensors.PerimeterParamsRequest(),
        Command.PERIMETER_INFO: lambda c: m_sensors.PerimeterInfoRequest(),
        Command.PERIMETER_CLEAR: lambda c: m_sensors.PerimeterClearRequest(),
        Command.WAIT_PERIMETER: lambda c: m_sensors.WaitPerimeterRequest(timeout_ms=50),
        Command.BATTERY_POLICY: lambda c: m_sensors.BatteryPolicyRequest(threshold=3.0, sleep=False,
                                                                         self_destruct=False),
        Command.TEMP_POLICY: lambda c: m_sensors.TempPolicyRequest(low=-40.0, high=100.0, self_destruct=False),
        Command.BINDING_INFO: lambda c: m_admin.BindingInfoRequest(),
        Command.POLICY_GET: lambda c: m_sensors.PolicyGetRequest(),
        Command.SIM_SET: lambda c: m_sensors.SimulateRequest("tap", {"direction": "x"}),
        Command.BOOT_ADD_FILE: lambda c: m_boot.BootAddFileRequest("initrd.img"),
        Command.BOOT_REMOVE_FILE: lambda c: [m_boot.BootAddFileRequest("extra.bin"),
                                             m_boot.BootRemoveFileRequest("extra.bin")],
        Command.BOOT_SIGN_ALL: lambda c: m_boot.BootSignAllRequest(),
        Command.BOOT_MANIFEST: lambda c: m_boot.BootManifestRequest(),
        Command.BOOT_VERIFY: lambda c: m_boot.BootVerifyRequest(),
        Command.BOOT_REMEDIATE: lambda c: m_boot.BootRemediateRequest(),
        Command.BOOT_CHALLENGE: lambda c: m_boot.BootChallengeRequest(),
        Command.BOOT_SETUP: lambda c: m_boot.BootSetupRequest(admin_group_threshold=16,
                                                              admin_groups=((16, 16),) * 16,
                                                              admin_passphrase=b"p" * 1024),
        Command.BOOT_AUTHORIZE: lambda c: m_boot.BootAuthorizeRequest(
            BootAuthMethod.SLIP39, shares=tuple(_admin_shares(c)), passphrase=b"p" * 1024),
        Command.BOOT_CONFIRM: lambda c: m_boot.BootConfirmRequest(),
        Command.LOG_READ: lambda c: m_log.LogReadRequest(limit=10_000),
        Command.LOG_CHECKPOINT: lambda c: m_log.LogCheckpointRequest(),
        Command.LOG_PUBLIC_KEY: lambda c: m_log.LogKeysRequest(),
        Command.LOG_HOST_EVENT: lambda c: m_log.HostEventRequest(
            HostEventKind.BOOT, {f"k{i}": "x" * (MIB // 8) for i in range(31)}),
        Command.METRICS: lambda c: m_admin.MetricsRequest(),
        Command.SELFTEST_RUN: lambda c: m_selftest.SelfTestRunRequest(full=True),
        Command.SELFTEST_REPORT: lambda c: m_selftest.SelfTestReportRequest(),
        Command.CERT_STORE: lambda c: m_cert.CertStoreRequest(_chain(c)[0], tuple(_chain(c)[1])),
        Command.CERT_GET: lambda c: m_cert.CertGetRequest(_chain(c)[0]),
        Command.CERT_LIST: lambda c: m_cert.CertListRequest(),
        Command.CERT_ROOT_STORE: lambda c: m_cert.CertRootStoreRequest("root", _chain(c)[1][-1]),
        Command.CERT_ROOT_GET: lambda c: m_cert.CertRootGetRequest("root"),
        Command.CERT_ROOT_LIST: lambda c: m_cert.CertRootListRequest(),
        Command.CERT_VERIFY: lambda c: m_cert.CertVerifyRequest(_chain(c)[0]),
        Command.CERT_REMOVE: lambda c: m_cert.CertRemoveRequest(_chain(c)[0]),
        Command.CERT_ROOT_REMOVE: lambda c: m_cert.CertRootRemoveRequest("root"),
        Command.DISK_NEW_KEY: lambda c: m_disk.DiskNewKeyRequest(64, b"v" * 64),
        Command.DISK_UNLOCK: lambda c: m_disk.DiskUnlockRequest(
            c.call(m_disk.DiskNewKeyRequest(64, b"v" * 64)).blob, b"v" * 64),
        Command.FILE_PUT: lambda c: m_files.FilePutRequest("big", os.urandom(4 * MIB - 4096)),
        Command.FILE_GET: lambda c: m_files.FileGetRequest("big"),
        Command.FILE_LIST: lambda c: m_files.FileListRequest(),
        Command.FILE_REMOVE: lambda c: m_files.FileRemoveRequest("big"),
        Command.CLIENTS_ENROLL: lambda c: m_clients.ClientsEnrollRequest("host", os.urandom(32)),
        Command.CLIENTS_LIST: lambda c: m_clients.ClientsListRequest(),
        Command.CLIENTS_REVOKE: lambda c: m_clients.ClientsRevokeRequest("host"),
        Command.ACCESS_WHOAMI: lambda c: m_access.WhoAmIRequest(),
        Command.ACCESS_LIST: lambda c: m_access.AccessListRequest(),
        Command.ACCESS_SET_ROLE: lambda c: m_access.SetRoleRequest("uid:4242", Role.USER),
        Command.ACCESS_GRANT_KEY: lambda c: m_access.GrantKeyRequest(c.slots[p256], "uid:4242"),
        Command.ACCESS_REVOKE_KEY: lambda c: m_access.RevokeKeyRequest(c.slots[p256], "uid:4242"),
        Command.ACCESS_SET_PIN: lambda c: m_access.SetPinRequest("1" * 128),
        Command.ACCESS_LOGIN: lambda c: m_access.LoginRequest("1" * 128),
        Command.ACCESS_LOGOUT: lambda c: m_access.LogoutRequest(),
        Command.ACCESS_RESET_PIN: lambda c: [m_access.LoginRequest("1" * 128), m_access.ResetPinRequest("1" * 128)],
    }


@dataclass(frozen=True)
class Result:
    command: Command
    seconds: float  # the heavy request(s)
    ping_wait: float  # the longest a ping waited meanwhile
    outcome: str  # "ok" or the typed error's name


def measure(ctx: Context, pinger: Pinger, command: Command, heavy: Heavy) -> Result:
    """Set up, then time ``command``'s heavy request(s) and the pings that overlapped them."""
    try:
        made = heavy(ctx)
    except ScmError as exc:
        ctx.reconnect_if_dropped(exc)
        return Result(command, 0.0, 0.0, f"set-up failed: {type(exc).__name__}: {exc}")
    requests = made if isinstance(made, list) else [made]
    time.sleep(0.05)  # the pinger answers quickly again before the heavy request
    started = time.perf_counter()
    outcome = "ok"
    try:
        for request in requests:
            ctx.call(request)
    except ScmError as exc:
        outcome = f"{type(exc).__name__}: {str(exc)[:80]}"
        ctx.reconnect_if_dropped(exc)
    ended = time.perf_counter()
    time.sleep(0.05)  # a ping sent just before the end is answered
    return Result(command, ended - started, pinger.worst_wait(started, ended), outcome)


def _boot_tree(directory: Path, mib: int) -> None:
    """The Raspberry Pi CM4 boot files, ``mib`` MiB in all (the initrd and kernel most of it)."""
    from softscm.wire.defs import DEFAULT_CM4_FILES

    shares = {"initrd.img": 0.55, "kernel8.img": 0.30, "start4.elf": 0.06, "bootcode.bin": 0.03,
              "bcm2711-rpi-cm4.dtb": 0.03, "overlays/vc4-kms-v3d.dtbo": 0.02, "config.txt": 0.005,
              "cmdline.txt": 0.005}
    for path in DEFAULT_CM4_FILES:
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(os.urandom(max(1, int(mib * MIB * shares.get(path, 0.005)))))
    (directory / "extra.bin").write_bytes(b"extra")


@contextmanager
def _module(base: Path, boot_mib: int) -> Iterator[str]:
    boot = base / "boot"
    _boot_tree(boot, boot_mib)
    with running_scmd(base, "--boot-partition", str(boot), "--selftest-interval", "3600", "3600",
                      user_capacity=2048) as url:
        yield url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=100.0, help="ms a ping may wait")
    parser.add_argument("--only", default="", help="comma-separated command names")
    parser.add_argument("--boot-mib", type=int, default=64)
    options = parser.parse_args()
    table = cases()
    untested = sorted(set(CONTRACT) - set(table) - set(SKIPPED), key=int)
    if untested:
        print("no heavy case for: " + ", ".join(c.name for c in untested))
        return 2
    wanted = [Command[name] for name in options.only.split(",") if name] or list(table)
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="softscm-loop-", dir=shm) as tmp, _module(Path(tmp), options.boot_mib) as url:
        scm = softscm.connect(url, timeout=600)
        ctx = Context(url, scm)
        ctx.slots = {kt: scm.gen_key_pair(kt) for kt in KeyType}
        pinger = Pinger(url)
        time.sleep(1.0)
        idle = pinger.worst_wait(0.0, time.perf_counter())
        print(f"{len(CONTRACT)} commands; budget: a ping waits at most {options.budget:.0f} ms; "
              f"idle ping's worst wait {idle * 1000:.1f} ms; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'command':24} {'request ms':>10} {'ping wait ms':>12} {'x idle':>7}  verdict  outcome")
        over: list[str] = []
        for command in wanted:
            if command in SKIPPED:
                print(f"{command.name:24} {'-':>10} {'-':>12} {'-':>7}  skipped  {SKIPPED[command]}")
                continue
            result = measure(ctx, pinger, command, table[command])
            verdict = "OK" if result.ping_wait * 1000 <= options.budget else "OVER"
            if verdict == "OVER":
                over.append(command.name)
            print(f"{command.name:24} {result.seconds * 1000:10.1f} {result.ping_wait * 1000:12.1f} "
                  f"{result.ping_wait / max(idle, 1e-6):7.1f}  {verdict:7}  {result.outcome}", flush=True)
        pinger.close()
        ctx.scm.close()
    print(f"over the budget: {', '.join(over) if over else 'none'}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
