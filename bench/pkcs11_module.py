"""libsoftscm-pkcs11.so beside SoftHSM2's library, both driven by the same python-pkcs11 code in this
one process: P-256 and Ed25519 sign (one session) and durable key-pair generation. Rounds alternate
between the two libraries, each measured right after the other and in turn first, so that load on
the machine falls on both alike; 'ratio' divides the median rates, 'paired' (what the targets are
read from) is the median of the rounds' own ratios.
The softscm client column is the same operation through softscm's own client (no PKCS#11 layer).
The floor row is P-256 sign through that client against bench/floor.py's bare server (a Python
server with a thread per connection that only signs): what any module in its own process, reached
over a Unix socket, can reach here; SoftHSM2 signs inside the calling process.

    .venv/bin/python bench/pkcs11_module.py [--seconds 1.0] [--rounds 3]

Targets (PKCS#11 issue): P-256 sign, single session, at least 0.8x SoftHSM2; keygen at least 10x.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import time
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pkcs11
import softscm
from pkcs11 import Attribute, KeyType, Mechanism
from pkcs11.util.ec import encode_named_curve_parameters

sys.path.insert(0, str(Path(__file__).parent))
from core import measure, pair_ratios, pct  # noqa: E402
from floor import bare_server  # noqa: E402
from peers import SOFTHSM_LIB  # noqa: E402
from scmd_runner import running_scmd  # noqa: E402

from softscm.pkcs11.paths import library_path  # noqa: E402

DIGEST = hashlib.sha256(b"bench").digest()
MESSAGE = b"m" * 64
P256 = encode_named_curve_parameters("secp256r1")
ED25519 = encode_named_curve_parameters("1.3.101.112")


def operations(token: pkcs11.Token, pin: str | None) -> tuple[dict[str, Callable[[], object]], pkcs11.Session]:
    """The same calls for either library: one read-write session, keys made through PKCS#11."""
    session = token.open(rw=True, user_pin=pin)
    p256 = session.create_domain_parameters(KeyType.EC, {Attribute.EC_PARAMS: P256}, local=True)
    ed = session.create_domain_parameters(KeyType.EC_EDWARDS, {Attribute.EC_PARAMS: ED25519}, local=True)
    _, p256_key = p256.generate_keypair(store=True, label="bench-p256")
    _, ed_key = ed.generate_keypair(store=True, label="bench-ed25519", mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN)
    return {
        "sign nistp256": lambda: p256_key.sign(DIGEST, mechanism=Mechanism.ECDSA),
        "sign ed25519": lambda: ed_key.sign(MESSAGE, mechanism=Mechanism.EDDSA),
        "keygen nistp256 (stored)": lambda: p256.generate_keypair(store=True),
        "keygen ed25519 (stored)": lambda: ed.generate_keypair(store=True, mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN),
    }, session


def client_operations(scm: softscm.host.client.Client) -> dict[str, Callable[[], object]]:
    p256, ed = scm.gen_key_pair("nistp256"), scm.gen_key_pair("ed25519")
    return {
        "sign nistp256": lambda: scm.sign(p256, DIGEST),
        "sign ed25519": lambda: scm.sign(ed, MESSAGE),
        "keygen nistp256 (stored)": lambda: scm.gen_key_pair("nistp256"),
        "keygen ed25519 (stored)": lambda: scm.gen_key_pair("ed25519"),
    }


def softhsm_token(base: Path) -> pkcs11.Token:
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--so-pin", "1234", "--pin", "1234"],
                   check=True, capture_output=True)
    return pkcs11.lib(SOFTHSM_LIB).get_token(token_label="bench")


def paired(these: list[float], those: list[float]) -> float:
    """The median of the rounds' ratios (each round measures both back to back)."""
    return statistics.median(pair_ratios(these, those))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    if SOFTHSM_LIB is None or not library_path().exists():
        raise SystemExit("SoftHSM2 or libsoftscm-pkcs11.so is missing; run scripts/setup.sh")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "hsm").mkdir()
        (base / "scm").mkdir()
        hsm_ops, hsm_session = operations(softhsm_token(base / "hsm"), "1234")
        bare_path = str(base / "bare.sock")
        bare = mp.Process(target=bare_server, args=(bare_path,), daemon=True)
        bare.start()
        while not Path(bare_path).exists():
            time.sleep(0.02)
        floor_client = softscm.connect(f"unix:{bare_path}")
        floor: list[float] = []
        with running_scmd(base / "scm", user_capacity=100_000) as url:
            os.environ["SOFTSCM_URL"] = url
            os.environ["XDG_STATE_HOME"] = str(base / "xdg")
            scm_token = pkcs11.lib(str(library_path())).get_token(token_label="softscm-SCM")
            scm_ops, scm_session = operations(scm_token, None)
            client = softscm.connect(url)
            direct = client_operations(client)
            rates: dict[str, dict[str, list[float]]] = {name: {"softhsm": [], "softscm": [], "client": []}
                                                        for name in hsm_ops}
            latency: dict[str, list[float]] = {}
            floor_sign = ("floor", lambda: floor_client.sign(0, DIGEST))
            for round_ in range(options.rounds):
                for name in hsm_ops:
                    runs = [("softhsm", hsm_ops[name]), ("softscm", scm_ops[name]), ("client", direct[name])]
                    if name == "sign nistp256":
                        runs.append(floor_sign)
                    for column, operation in runs[::-1] if round_ % 2 else runs:  # back to back, in turn first
                        rate, took = measure(operation, options.seconds)
                        if column == "floor":
                            floor.append(rate)
                            continue
                        rates[name][column].append(rate)
                        if column == "softscm":
                            latency.setdefault(name, []).extend(took)
            scm_session.close()
            client.close()
        floor_client.close()
        bare.terminate()
        hsm_session.close()
    print(f"{'ops/s (median of ' + str(options.rounds) + ' rounds)':32s}{'SoftHSM2':>10s}{'softscm':>10s}{'ratio':>8s}"
          f"{'paired':>8s}{'p50/p99 us':>14s}{'softscm client':>16s}")
    ratios = {}
    for name, row in rates.items():
        hsm, scm = statistics.median(row["softhsm"]), statistics.median(row["softscm"])
        ratios[name] = paired(row["softscm"], row["softhsm"])
        latencies = f"{pct(latency[name], 50):.0f}/{pct(latency[name], 99):.0f}"
        print(f"{name:32s}{hsm:10,.0f}{scm:10,.0f}{scm / hsm:7.2f}x{ratios[name]:7.2f}x{latencies:>14s}"
              f"{statistics.median(row['client']):16,.0f}")
    sign = rates["sign nistp256"]
    print(f"{'floor: P-256 sign, bare server':32s}{statistics.median(floor):20,.0f}  = "
          f"{paired(floor, sign['softhsm']):.2f}x SoftHSM2; softscm PKCS#11 sign = "
          f"{paired(sign['softscm'], floor):.2f}x the floor (paired)")
    print("\ntargets:")
    for name, target in (("sign nistp256", 0.8), ("keygen nistp256 (stored)", 10.0)):  # paired ratios
        print(f"  {name:30s} {ratios[name]:6.2f}x  (target >= {target}x) {'met' if ratios[name] >= target else 'NOT met'}")


if __name__ == "__main__":
    main()
