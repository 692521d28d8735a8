"""What the encrypted channel and the serial line cost: P-256 sign round trips per second.

One real scmd serves, in the same run: the Unix socket plain and with the channel, TCP (loopback,
channel) and a serial line made of two real pseudo-terminals joined by a relay process (channel,
COBS/CRC framing). One synchronous client signs a 32-byte digest with one key, for ``--seconds``
per transport; rounds alternate the transports so that machine noise hits them alike, and the
median of the rounds is reported (a second plain client shows how far two identical clients
differ in the same run: the noise). Target: the channel costs at most 15 % on the Unix socket.

On a shared, busy machine the round trips are mostly scheduler noise, so the run also reports what
the channel adds in CPU per round trip (two records sealed, two opened: a request and its reply,
measured in-process), next to the plain round trip: the load-independent part of the cost.

    .venv/bin/python bench/channel.py [--seconds 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT))
from core import DIGEST, measure  # noqa: E402
from scmd_runner import running_scmd  # noqa: E402

import softscm  # noqa: E402
from softscm.host.client_keys import create_client_key  # noqa: E402
from softscm.module import lifecycle  # noqa: E402
from softscm.module.access.clients import channel_static_key  # noqa: E402
from softscm.wire.noise import public_bytes  # noqa: E402


def _relay(directory: str, stop: mp.synchronize.Event) -> None:
    from tests.integration.pty_line import PtyLine  # the tests' pty pair and relay

    line = PtyLine(Path(directory))
    stop.wait()
    line.close()


def _enrol(base: Path) -> tuple[Path, bytes]:
    module = lifecycle.start(base / "state")
    try:
        key_file = base / "client.key"
        services = module.live()
        services.clients.enroll("bench", public_bytes(create_client_key(key_file)))
        return key_file, public_bytes(channel_static_key(services.store))
    finally:
        lifecycle.close(module)


def channel_cpu_per_round_trip(payload: int = 120, count: int = 20_000) -> float:
    """Seconds of CPU the channel adds to one round trip: seal and open a request, then a reply."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    from softscm.wire.channel import ClientHandshake, ServerHandshake

    client_key, module_key = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    client = ClientHandshake(client_key, public_bytes(module_key))
    server = ServerHandshake(module_key)
    established = server.complete(client.answer(server.answer(client.open_request())))
    near, far = client.finish(established.channel.seal(b"")), established.channel
    data = bytes(payload)
    start = time.process_time()
    for _ in range(count):
        far.open(near.seal(data))
        near.open(far.seal(data))
    return (time.process_time() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        key_file, module_key = _enrol(base)
        stop = mp.Event()
        relay = mp.Process(target=_relay, args=(tmp, stop), daemon=True)
        relay.start()
        while not (base / "ttyACM0").exists():
            time.sleep(0.01)
        try:
            with running_scmd(base, "--tcp", "127.0.0.1:0", "--listen", f"serial:{base / 'ttyGS0'}") as unix:
                tcp = next(u for u in (base / "scmd.ready").read_text().split() if u.startswith("tcp:"))
                keys = {"client_key": key_file, "module_key": module_key}
                clients = {
                    "unix, plain": softscm.connect(unix),
                    "unix, plain (2nd client)": softscm.connect(unix),
                    "unix, channel": softscm.connect(unix, **keys),
                    "tcp, channel": softscm.connect(tcp, **keys),
                    "serial pty, channel": softscm.connect(f"serial:{base / 'ttyACM0'}", **keys),
                }
                slot = clients["unix, plain"].gen_key_pair("nistp256")
                clients["unix, plain"].grant_key(slot, "client:bench")  # the channel clients use it too
                rates: dict[str, list[float]] = {name: [] for name in clients}
                for _ in range(options.rounds):
                    for name, scm in clients.items():
                        rate, _ = measure(lambda scm=scm: scm.sign(slot, DIGEST), options.seconds)
                        rates[name].append(rate)
                for scm in clients.values():
                    scm.close()
        finally:
            stop.set()
            relay.join(5)
    median = {name: statistics.median(values) for name, values in rates.items()}
    plain = median["unix, plain"]
    print(f"P-256 sign round trips per second, 1 client, median of {options.rounds} x {options.seconds:g} s")
    for name, rate in median.items():
        print(f"  {name:<22} {rate:>8.0f} /s   {rate / plain:6.2f}x unix plain")
    cost = 1 - median["unix, channel"] / plain
    print(f"channel cost on the Unix socket: {cost:.1%} (target: at most 15 %)")
    crypto = channel_cpu_per_round_trip()
    print(f"channel CPU per round trip: {crypto * 1e6:.1f} us, {crypto * plain:.1%} of a plain round trip "
          f"({1e6 / plain:.0f} us)")


if __name__ == "__main__":
    main()
