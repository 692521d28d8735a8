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

        step("Status")
        status = scm.status()
        print(f"state {status['state']}, mode {status['mode']}, operations so far {sum(status['ops'].values())}")

    step("The same through scmctl")
    scmctl(url, "keys", "list")
    scmctl(url, "random", "16")


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
