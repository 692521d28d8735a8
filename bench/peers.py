"""softscm beside SoftHSM2 (PKCS#11, in-process through python-pkcs11) and the underlying libraries,
all measured in one run on this machine. Installs nothing: it uses Debian's softhsm2 and the
`bench` extra that scripts/setup.sh installs.

    .venv/bin/python bench/peers.py [--seconds 1.5]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import subprocess
import sys
import tempfile
import multiprocessing as mp
import queue
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, str(Path(__file__).parent))
from core import baselines, concurrent, measure, pct  # noqa: E402
from scmd_runner import running_scmd  # noqa: E402

import softscm  # noqa: E402
from softscm.host.aio import AsyncClient  # noqa: E402
from softscm.host.lockfiles import lock_file, unlock_file  # noqa: E402

SOFTHSM_LIB = next((p for p in ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                                "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so") if os.path.exists(p)), None)
DIGEST = hashlib.sha256(b"bench").digest()
SMALL, LARGE = b"m" * 64, os.urandom(1 << 20)
HARDWARE = {"YubiHSM 2 (75 ms/sign)": 1 / 0.075, "ATECC608 (115 ms/sign)": 1 / 0.115, "TPM 2.0 (~5 signs/s)": 5.0}
PIPELINE = 256
TOKEN = "bench"


class SoftHsm:
    """A SoftHSM2 token in a temp dir, with the keys the benchmark needs."""

    def __init__(self, base: Path) -> None:
        import pkcs11
        from pkcs11 import Attribute, KeyType, Mechanism
        from pkcs11.util.ec import encode_named_curve_parameters

        self.conf = base / "softhsm2.conf"
        (base / "tokens").mkdir()
        self.conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
        os.environ["SOFTHSM2_CONF"] = str(self.conf)  # before the library loads: SoftHSM2 reads it at C_Initialize
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--so-pin", "1234", "--pin",
                        "1234"], check=True, capture_output=True, env={**os.environ, "SOFTHSM2_CONF": str(self.conf)})
        self.pkcs11, self.Mechanism, self.Attribute, self.KeyType = pkcs11, Mechanism, Attribute, KeyType
        self.token = _find_token(pkcs11.lib(SOFTHSM_LIB), str(self.conf))
        self.session = self.token.open(user_pin="1234", rw=True)
        self.p256 = self.session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True)
        self.ed_params = self.session.create_domain_parameters(
            KeyType.EC_EDWARDS, {Attribute.EC_PARAMS: encode_named_curve_parameters("1.3.101.112")}, local=True)
        self.pub, self.priv = self.p256.generate_keypair(store=True, label="sign")
        self.sig = self.priv.sign(DIGEST, mechanism=Mechanism.ECDSA)
        _, self.ed = self.ed_params.generate_keypair(store=True, label="ed", mechanism=Mechanism.EC_EDWARDS_KEY_PAIR_GEN)
        peer_pub, _ = self.p256.generate_keypair(store=False)
        self.peer_point = peer_pub[Attribute.EC_POINT]
        self.aes = self.session.generate_key(KeyType.AES, 256, store=True, label="aes")

    def ops(self) -> dict[str, Callable[[], object]]:
        from pkcs11.mechanisms import GCMParams

        m, a, kt = self.Mechanism, self.Attribute, self.KeyType

        def ecdh() -> object:
            return self.priv.derive_key(kt.GENERIC_SECRET, 256, mechanism=m.ECDH1_DERIVE,
                                        mechanism_param=(self.pkcs11.KDF.NULL, None, self.peer_point),
                                        store=False, template={a.SENSITIVE: False, a.EXTRACTABLE: True})

        def gcm(data: bytes) -> Callable[[], object]:
            return lambda: self.aes.encrypt(data, mechanism=m.AES_GCM,
                                            mechanism_param=GCMParams(os.urandom(12), b"", 128))

        nonce = os.urandom(12)
        sealed = self.aes.encrypt(LARGE, mechanism=m.AES_GCM, mechanism_param=GCMParams(nonce, b"", 128))

        return {
            "sign nistp256": lambda: self.priv.sign(DIGEST, mechanism=m.ECDSA),
            "verify nistp256": lambda: self.pub.verify(DIGEST, self.sig, mechanism=m.ECDSA),
            "sign ed25519": lambda: self.ed.sign(SMALL, mechanism=m.EDDSA),
            "ecdh nistp256": ecdh,
            "keygen nistp256 (stored)": lambda: self.p256.generate_keypair(store=True),
            "lock 64 B": gcm(SMALL),
            "lock 1 MiB": gcm(LARGE),
            "unlock 1 MiB": lambda: self.aes.decrypt(sealed, mechanism=m.AES_GCM,
                                                     mechanism_param=GCMParams(nonce, b"", 128)),
        }

    def processes(self, count: int, seconds: float) -> float:
        """Total P-256 sign ops/s of ``count`` processes, each its own PKCS#11 application and session
        (python-pkcs11 gets CKR_GENERAL_ERROR from SoftHSM2 when a second thread signs).

        Each worker is handed this token's configuration file explicitly. The first worker that
        fails (or dies, or a run that overstays) ends the measurement at once:

        :raises WorkerError: with the worker's own error.
        """
        spawn = mp.get_context("spawn")  # a PKCS#11 library is not fork-safe
        results: mp.Queue = spawn.Queue()
        start = time.time() + 3.0  # spawned interpreters need a moment to import
        procs = [spawn.Process(target=_softhsm_worker, args=(str(self.conf), seconds, start, results), daemon=True)
                 for _ in range(count)]
        for proc in procs:
            proc.start()
        rates: list[float] = []
        deadline = start + seconds + 30.0
        try:
            while len(rates) < count:
                try:
                    ok, value = results.get(timeout=0.2)
                except queue.Empty:
                    dead = [proc.exitcode for proc in procs if proc.exitcode not in (None, 0)]
                    if dead:
                        raise WorkerError(f"a SoftHSM2 worker died (exit code {dead[0]}) without a result") from None
                    if time.time() > deadline:
                        raise WorkerError(f"the SoftHSM2 workers gave {len(rates)} of {count} results in time") from None
                    continue
                if not ok:
                    raise WorkerError(value)
                rates.append(value)
        finally:
            for proc in procs:
                if proc.is_alive():
                    proc.terminate()
                proc.join()
        return sum(rates)


class WorkerError(RuntimeError):
    """A benchmark worker process failed; the message is its own error."""


def _find_token(lib: object, conf: str) -> object:
    """The ``bench`` token, looked up a few times (a token directory another process is writing
    can be missed once). :raises pkcs11.NoSuchToken: naming the configuration and the tokens seen."""
    import pkcs11

    for attempt in range(5):
        try:
            return lib.get_token(token_label=TOKEN)  # type: ignore[attr-defined]
        except pkcs11.NoSuchToken:
            time.sleep(0.1 * (attempt + 1))
    seen = [slot.get_token().label for slot in lib.get_slots(token_present=True)]  # type: ignore[attr-defined]
    raise pkcs11.NoSuchToken(f"no token {TOKEN!r} with SOFTHSM2_CONF={conf} (tokens seen: {seen})")


def _softhsm_worker(conf: str, seconds: float, start: float, results: mp.Queue) -> None:
    """Sign for ``seconds`` from ``start``; puts ``(True, ops/s)`` or ``(False, the error)``."""
    os.environ["SOFTHSM2_CONF"] = conf  # before the library loads in this process
    try:
        import pkcs11

        token = _find_token(pkcs11.lib(SOFTHSM_LIB), conf)
        with token.open(user_pin="1234") as session:
            key = session.get_key(object_class=pkcs11.ObjectClass.PRIVATE_KEY, label="sign")
            while time.time() < start:
                time.sleep(0.001)
            results.put((True, measure(lambda: key.sign(DIGEST, mechanism=pkcs11.Mechanism.ECDSA), seconds)[0]))
    except Exception as exc:  # any failure goes back to the parent, which ends the run with it
        results.put((False, f"SoftHSM2 worker {os.getpid()} with SOFTHSM2_CONF={conf}: {type(exc).__name__}: {exc}"))


def library_ops() -> dict[str, Callable[[], object]]:
    """core.py's in-process baselines under this table's names, plus secp256k1 on OpenSSL and
    AES-GCM alone (SoftHSM2's lock is AES-GCM without a signature)."""
    base = baselines()
    k1_openssl = ec.generate_private_key(ec.SECP256K1())
    aes = AESGCM(os.urandom(32))
    nonce = os.urandom(12)
    sealed = aes.encrypt(nonce, LARGE, b"")
    return {
        "sign nistp256": base["sign nistp256"],
        "verify nistp256": base["verify nistp256"],
        "sign ed25519": base["sign ed25519"],
        "ecdh nistp256": base["ecdh nistp256"],
        "x25519": base["ecdh x25519"],
        "sign secp256k1": base["sign secp256k1"],
        "sign secp256k1 (cryptography)": lambda: k1_openssl.sign(DIGEST, ec.ECDSA(Prehashed(hashes.SHA256()))),
        "keygen nistp256 (stored)": base["keygen nistp256"],
        "lock 64 B": lambda: aes.encrypt(os.urandom(12), SMALL, b""),
        "lock 1 MiB": lambda: aes.encrypt(os.urandom(12), LARGE, b""),
        "unlock 1 MiB": lambda: aes.decrypt(nonce, sealed, b""),
    }


def softscm_ops(scm: softscm.host.client.Client) -> dict[str, Callable[[], object]]:
    p256 = scm.gen_key_pair("nistp256")
    sig = scm.sign(p256, DIGEST).raw
    peer = scm.get_public_key(scm.gen_key_pair("nistp256"))
    k1, ed, xs = scm.gen_key_pair("secp256k1"), scm.gen_key_pair("ed25519"), scm.gen_key_pair("x25519")
    xpeer = scm.get_public_key(scm.gen_key_pair("x25519"))
    streamed = scm.lock_stream(LARGE, final=True).data
    return {
        "sign nistp256": lambda: scm.sign(p256, DIGEST),
        "verify nistp256": lambda: scm.verify(p256, DIGEST, sig),
        "sign ed25519": lambda: scm.sign(ed, SMALL),
        "ecdh nistp256": lambda: scm.ecdh(p256, peer),
        "x25519": lambda: scm.ecdh(xs, xpeer),
        "sign secp256k1": lambda: scm.sign(k1, DIGEST),
        "keygen nistp256 (stored)": lambda: scm.gen_key_pair("nistp256"),
        "lock 64 B": lambda: scm.lock(SMALL),
        "lock 1 MiB": lambda: scm.lock_stream(LARGE, final=True),  # streamed: chunked AES-GCM, one request
        "unlock 1 MiB": lambda: scm.unlock_stream(streamed, final=True),
        "lock 1 MiB (signed blob)": lambda: scm.lock(LARGE),
    }


async def _pipelined(url: str, seconds: float) -> float:
    """One connection, PIPELINE sign requests in flight at a time."""
    client = await AsyncClient.connect(url)
    slot = await client.gen_key_pair("nistp256")
    done, end = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < end:
        await asyncio.gather(*(client.sign(slot, DIGEST) for _ in range(PIPELINE)))
        done += PIPELINE
    rate = done / (time.perf_counter() - start)
    await client.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--only-lock", action="store_true", help="Only the lock rows and the file throughput.")
    parser.add_argument("--file-mib", type=int, default=256, help="Size of the file for the throughput run.")
    options = parser.parse_args()
    if SOFTHSM_LIB is None:
        raise SystemExit("SoftHSM2 is not installed; run scripts/setup.sh")
    seconds = options.seconds
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "hsm").mkdir()
        hsm = SoftHsm(base / "hsm")
        for _ in range(0 if options.only_lock else 500):  # SoftHSM2's file store with 500 objects present
            hsm.p256.generate_keypair(store=True)
        wanted = (lambda name: name.startswith(("lock", "unlock"))) if options.only_lock else (lambda name: True)
        lib = library_ops()
        rows: dict[str, dict[str, float]] = {}
        failures: list[str] = []
        for name, fn in hsm.ops().items():
            if wanted(name):
                rows.setdefault(name, {})["softhsm"], lat = measure(fn, seconds)
                rows[name]["softhsm_p99"] = pct(lat, 99)
        if not options.only_lock:
            try:
                rows["sign nistp256"]["softhsm 4 procs"] = hsm.processes(4, seconds)
            except WorkerError as exc:
                failures.append(f"softhsm 4 procs: {exc}")
        for name, fn in lib.items():
            if wanted(name):
                rows.setdefault(name, {})["library"] = measure(fn, seconds)[0]
        with running_scmd(base, user_capacity=1_000_000) as url:
            with softscm.connect(url) as scm:
                if not options.only_lock:
                    scm.gen_key_pairs("nistp256", 500)  # keygen is measured with 500 keys present
                for name, fn in softscm_ops(scm).items():
                    if wanted(name):
                        rate, lat = measure(fn, seconds)
                        rows.setdefault(name, {}).update({"scm 1": rate, "scm_p50": pct(lat, 50),
                                                          "scm_p99": pct(lat, 99)})
                throughput = file_throughput(scm, base, options.file_mib)
            if options.only_lock:
                _print_lock(rows, throughput)
                return
            with softscm.connect(url) as scm:
                batch_slot = scm.gen_key_pair("nistp256")
                digests = [DIGEST] * PIPELINE
                rows["sign nistp256"]["scm batch"] = measure(lambda: scm.sign_batch(batch_slot, digests),
                                                             seconds)[0] * PIPELINE
            for name in ("sign nistp256", "sign ed25519", "sign secp256k1", "keygen nistp256 (stored)"):
                rows[name]["scm 4"] = concurrent(url, _CORE_NAMES.get(name, name), 4, seconds)[0]
            rows["sign nistp256"]["scm pipelined"] = asyncio.run(_pipelined(url, seconds))
    _print(rows)
    _print_lock(rows, throughput)
    if failures:
        print("\nnot measured:", *failures, sep="\n  ")
        raise SystemExit(1)


_CORE_NAMES = {"keygen nistp256 (stored)": "keygen nistp256"}


def file_throughput(scm: softscm.host.client.Client, base: Path, mib: int) -> dict[str, float]:
    """MB/s of a streamed file lock and unlock through scmd (file to file, as scmctl does it), and of
    `cryptography`'s AES-GCM alone over the same bytes in the same 1 MiB chunks, in this process."""
    plain, locked, out = base / "file.bin", base / "file.lock", base / "file.out"
    with open(plain, "wb") as stream:
        for _ in range(mib):
            stream.write(os.urandom(1 << 20))
    size = mib * (1 << 20) / 1e6

    def timed(action: Callable[[], object]) -> float:
        start = time.perf_counter()
        action()
        return size / (time.perf_counter() - start)

    def lock() -> None:
        with open(plain, "rb") as source, open(locked, "wb") as destination:
            lock_file(scm, source, destination)

    def unlock() -> None:
        with open(locked, "rb") as source, open(out, "wb") as destination:
            unlock_file(scm, source, destination)

    aes, nonce = AESGCM(os.urandom(32)), os.urandom(12)

    def gcm() -> None:
        with open(plain, "rb") as source:
            while chunk := source.read(1 << 20):
                aes.encrypt(nonce, chunk, b"")

    rates = {"scm lock": timed(lock), "scm unlock": timed(unlock), "AES-GCM alone": timed(gcm)}
    if plain.read_bytes() != out.read_bytes():
        raise SystemExit("the file did not survive its lock and unlock")
    return rates


def _print_lock(rows: dict[str, dict[str, float]], throughput: dict[str, float]) -> None:
    """The streamed lock's own table and targets (this run's figures)."""
    print(f"\n{'lock ops/s':28s}" + "".join(f"{c:>18s}" for c in ("library", "softhsm", "scm 1")))
    for name in ("lock 1 MiB", "unlock 1 MiB", "lock 1 MiB (signed blob)"):
        row = rows.get(name, {})
        print(f"{name:28s}" + "".join(f"{row[c]:>18,.0f}" if c in row else f"{'-':>18s}"
                                      for c in ("library", "softhsm", "scm 1")))
    print("targets (issue 16), ratios from this run:")
    for name in ("lock 1 MiB", "unlock 1 MiB"):
        ratio = rows[name]["scm 1"] / rows[name]["softhsm"]
        print(f"  {name} streamed through scmd / SoftHSM2 {ratio:8.2f}x  (target >= 1x) "
              f"{'met' if ratio >= 1 else 'NOT met'}")
    print("file throughput, MB/s: " + ", ".join(f"{k} {v:,.0f}" for k, v in throughput.items()))


def _print(rows: dict[str, dict[str, float]]) -> None:
    columns = ("library", "softhsm", "softhsm 4 procs", "scm 1", "scm 4", "scm pipelined", "scm batch")
    print(f"{'ops/s':28s}" + "".join(f"{c:>18s}" for c in columns) + f"{'scm p50/p99 us':>18s}")
    for name, row in rows.items():
        cells = "".join(f"{row[c]:>18,.0f}" if c in row else f"{'-':>18s}" for c in columns)
        latency = f"{row['scm_p50']:.0f}/{row['scm_p99']:.0f}" if "scm_p50" in row else "-"
        print(f"{name:28s}{cells}{latency:>18s}")
    sign, ed, k1, keygen = rows["sign nistp256"], rows["sign ed25519"], rows["sign secp256k1"], rows["keygen nistp256 (stored)"]
    best_sign = max(sign.get("scm pipelined", 0), sign.get("scm batch", 0))
    checks = [
        ("P-256 sign, 4 clients / SoftHSM2 single session", sign["scm 4"] / sign["softhsm"], 2.0),
        ("P-256 sign, 1 sync client / SoftHSM2", sign["scm 1"] / sign["softhsm"], 0.6),
        ("P-256 sign, pipelined or batched / SoftHSM2", best_sign / sign["softhsm"], 3.0),
        ("Ed25519 sign (4 clients) / SoftHSM2", ed["scm 4"] / ed["softhsm"], 3.0),
        ("secp256k1 sign (4 clients) / cryptography alone", k1["scm 4"] / rows["sign secp256k1 (cryptography)"]["library"],
         10.0),
        ("durable keygen (4 clients) / SoftHSM2 with 500 keys", keygen["scm 4"] / keygen["softhsm"], 20.0),
    ]
    print("\ntargets (speed issue), ratios from this run:")
    for label, ratio, target in checks:
        print(f"  {label:55s} {ratio:8.2f}x  (target >= {target}x) {'met' if ratio >= target else 'NOT met'}")
    for name in ("sign nistp256", "sign ed25519", "sign secp256k1"):
        for column in ("scm 1", "scm 4"):
            worst = min(rows[name][column] / rate for rate in HARDWARE.values())
            best = max(rows[name][column] / rate for rate in HARDWARE.values())
            print(f"  {name} ({column.replace('scm ', '')} client{'s' if column == 'scm 4' else ''}) / hardware figures"
                  f"{'':14s} {worst:6.0f}x to {best:6.0f}x  (target >= 1000x) {'met' if worst >= 1000 else 'NOT met'}")


if __name__ == "__main__":
    main()
