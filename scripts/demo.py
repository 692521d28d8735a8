"""A guided tour of softscm: start a real scmd, then exercise the module through the Python API
and scmctl. Run by ./scripts/demo.sh; see the README."""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import softscm
from softscm.wire.errors import AuthenticationError, InvalidSignatureError

BIN = Path(sys.executable).parent


def step(title: str) -> None:
    print(f"\n== {title}")


def start_daemon(state_dir: Path, socket: Path) -> subprocess.Popen[bytes]:
    ready = state_dir.parent / "scmd.ready"
    ready.unlink(missing_ok=True)
    daemon = subprocess.Popen([str(BIN / "scmd"), "--state-dir", str(state_dir), "--socket", str(socket),
                               "--ready-file", str(ready)])
    deadline = time.monotonic() + 30
    while not ready.exists():
        if daemon.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("scmd did not start")
        time.sleep(0.05)
    return daemon


def scmctl(url: str, *args: str) -> None:
    print("$ scmctl " + " ".join(args))
    subprocess.run([str(BIN / "scmctl"), "--url", url, *args], check=False)


def tour(url: str) -> None:
    with softscm.connect(url) as scm:
        step("Module information")
        info = scm.info()
        print(f"model {info.model}, firmware {info.firmware_version}, serial {info.serial}")
        print(f"{info.user_capacity} user slots, {info.foreign_capacity} foreign slots, "
              f"{info.wallet_capacity} wallets")

        step("Key pairs on four curves, signing and verification")
        digest = hashlib.sha256(b"firmware image v1.2").digest()
        for key_type in ("nistp256", "secp256k1", "ed25519"):
            slot = scm.gen_key_pair(key_type)
            data = b"firmware image v1.2" if key_type == "ed25519" else digest
            sig = scm.sign(slot, data, recid=key_type != "ed25519")
            scm.verify(slot, data, sig.raw)
            print(f"slot {slot:3d} {key_type:9s} public {scm.get_public_key(slot).hex()[:24]}...  "
                  f"signature verifies (recovery id {sig.recovery_id})")
            try:
                scm.verify(slot, b"\x00" * len(data), sig.raw)
            except InvalidSignatureError:
                pass

        step("ECDH with HKDF between two module keys (X25519) and with the ephemeral key (P-256)")
        alice, bob = scm.gen_key_pair("x25519"), scm.gen_key_pair("x25519")
        k1 = scm.ecdh(alice, scm.get_public_key(bob), kdf="hkdf-sha256", info=b"demo", length=32)
        k2 = scm.ecdh(bob, scm.get_public_key(alice), kdf="hkdf-sha256", info=b"demo", length=32)
        print(f"both sides derive the same key: {k1 == k2}")
        ephemeral_public = scm.gen_ephemeral_key_pair("nistp256")
        static = scm.gen_key_pair("nistp256")
        same = scm.ecdh(-1, scm.get_public_key(static)) == scm.ecdh(static, ephemeral_public)
        print(f"ephemeral ECDH agrees: {same}")

        step("Foreign (public-only) keys")
        foreign = scm.store_foreign_public_key("ed25519", scm.get_public_key(scm.gen_key_pair("ed25519")))
        print(f"stored in foreign slot {foreign}; foreign slots in use: {len(scm.list_slots(foreign=True).slots)}")

        step("Lock / unlock: data bound to this module")
        blob = scm.lock(b"database password")
        print(f"locked 17 bytes into a {len(blob)}-byte blob; unlocks to {scm.unlock(blob)!r}")
        tampered = bytearray(blob)
        tampered[10] ^= 1
        try:
            scm.unlock(bytes(tampered))
        except AuthenticationError:
            print("a blob with one flipped bit is refused")

        step("HD wallet from a BIP39 mnemonic, and a SLIP-39 (Shamir) backup")
        master, words = scm.create_wallet("secp256k1", "demo-eth", bip39=True)
        print(f"wallet 'demo-eth' (master slot {master}); mnemonic, shown once: {' '.join(words.split()[:4])} ...")
        account = scm.derive_wallet_path(master, "m/44'/60'/0'/0/0")
        print(f"m/44'/60'/0'/0/0 in slot {account}: {scm.get_public_key(account).hex()[:24]}...")
        scm.slip39_generate("ed25519", "demo-vault", group_threshold=2, group_count=3, iteration_exponent=0)
        for group in range(3):
            scm.slip39_set_group(group, 3, 2)
        shares, slot = [], -1
        while slot == -1:
            slot, share = scm.slip39_next_share()
            shares.append(share)
        scm.slip39_restore("ed25519", "demo-vault-restored")
        for share in (shares[4], shares[0], shares[3], shares[1]):
            restored = scm.slip39_add_share(share)
        print(f"9 SLIP-39 shares made; 4 of them (2 groups x 2) restore the wallet: slot {restored}")

        step("Sensors and tamper (the simulated device), development mode")
        scm.set_perimeter_event_actions(1, notify=True, self_destruct=True)
        scm.simulate("perimeter_open", channel=1)
        print(f"perimeter channel 1 opened: first breach {scm.get_perimeter_detect_info()[1]:.0f}; "
              f"development mode shows LED code {scm.get_led().code} instead of destroying the keys")
        scm.simulate("temperature", celsius=72.5)
        print(f"CPU temperature {scm.get_cpu_temp()} C; battery {scm.get_battery().volts} V; "
              f"RTC drift {scm.get_rtc_drift():.1f} ppm")
        scm.set_tap_sensitivity("all", 80)  # 80 %: a tap is 0.88 g or more off the resting value
        scm.simulate("tap", axis="x", direction=-1, g=2.0)
        accel = scm.get_accelerometer()
        print(f"a tap on the x axis: direction {accel.tap_direction}, resting at {accel.g_force} g")

        step("Self test and the sealed audit log")
        report = scm.run_self_test()
        print(f"self test: {len(report.results)} tests, {'passed' if report.passed else 'FAILED'} in "
              f"{report.duration_s * 1000:.1f} ms")
        keys = scm.log_keys(claim=True)
        entries, checkpoints = scm.read_log()
        from softscm.sealedlog.verify import verify
        result = verify(entries, checkpoints, keys.public_key, initial_mac_key=keys.initial_mac_key)
        print(f"log: {result.entries} entries, every hash, MAC and checkpoint verifies; last: "
              f"{entries[-1].event_name}")

        step("Status")
        status = scm.status()
        print(f"state {status.state.name}, mode {status.mode.name}, operations so far {sum(status.ops.values())}, "
              f"power-on self test {status.self_test['power-on'].seconds * 1000:.1f} ms")

    step("The same through scmctl")
    scmctl(url, "random", "16")
    scmctl(url, "tamper", "info")
    scmctl(url, "log", "show", "--event", "TAMPER")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=None, help="module state (default: a temp dir)")
    parser.add_argument("--exit", action="store_true", help="stop scmd after the tour instead of serving on")
    options = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="softscm-demo-"))
    state_dir = options.state_dir or base / "state"
    socket = base / "scmd.sock"
    daemon = start_daemon(state_dir, socket)
    url = f"unix:{socket}"
    try:
        tour(url)
        if not options.exit:
            print(f"\nscmd keeps serving at {url} (state in {state_dir}).")
            print(f"Try: SOFTSCM_URL={url} .venv/bin/scmctl admin status    -- Ctrl-C stops it.")
            daemon.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=15)
        os.environ.pop("SOFTSCM_URL", None)


if __name__ == "__main__":
    main()
