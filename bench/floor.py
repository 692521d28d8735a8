"""How close scmd comes to the fastest a Python server can answer the same request here.

A bare server speaks the same wire protocol on a Unix socket, with a thread per connection (the
fastest layout measured on 2 cores) and nothing but HELLO and a P-256 SIGN with one key held in
memory: no keystore, no state checks, no audit, no counters. Beside it, in the same run, the real
scmd and the signature done in-process; the same synchronous ``softscm`` client drives both
servers (1 and 4 client processes; for each count the two servers run back to back, in turn first, so
that noise hits both alike, and each round's ratio is kept as well as the medians). What the
bare server reaches bounds what any design of scmd could reach on this machine, so its ratio to
the in-process rate shows how much of a 4-client target the machine itself leaves.

Beside the rates, each server's CPU time per request (user + system, from ``/proc``): what the
server itself spends, which scheduling noise on a shared machine moves much less than a rate.
Run as root with ``--realtime`` to shield every process of the run (both servers and all clients
alike) from other jobs on the machine (SCHED_FIFO).

    .venv/bin/python bench/floor.py [--seconds 2] [--rounds 3] [--realtime]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

sys.path.insert(0, str(Path(__file__).parent))
from core import DIGEST, measure  # noqa: E402
from scmd_runner import running_scmd_process  # noqa: E402

import softscm  # noqa: E402
from softscm.wire.codec import Reply, Request  # noqa: E402
from softscm.wire.defs import PROTOCOL_VERSION, Command, ModuleState  # noqa: E402
from softscm.wire.errors import ProtocolError  # noqa: E402
from softscm.wire.framing import HEADER, frame  # noqa: E402

_ECDSA = ec.ECDSA(Prehashed(hashes.SHA256()))


def _answer(key: ec.EllipticCurvePrivateKey, payload: bytes) -> bytes:
    request = Request.parse(payload)
    if request.command is Command.HELLO:
        return frame(Reply.success(request.id, {"version": PROTOCOL_VERSION, "serial": "BARE",
                                                "state": int(ModuleState.READY)}).to_bytes())
    if request.command is not Command.SIGN:
        return frame(Reply.failure(request.id, ProtocolError("the bare server only signs")).to_bytes())
    r, s = decode_dss_signature(key.sign(request.args["data"], _ECDSA))
    return frame(Reply.success(request.id, {"raw": r.to_bytes(32, "big") + s.to_bytes(32, "big")}).to_bytes())


def _connection(key: ec.EllipticCurvePrivateKey, sock: socket.socket) -> None:
    buffer = bytearray()
    with sock:
        while data := sock.recv(65536):
            buffer += data
            replies = []
            while len(buffer) >= HEADER.size:
                (length,) = HEADER.unpack_from(buffer)
                if len(buffer) < HEADER.size + length:
                    break
                replies.append(_answer(key, bytes(buffer[HEADER.size:HEADER.size + length])))
                del buffer[:HEADER.size + length]
            sock.sendall(b"".join(replies))


def bare_server(path: str) -> None:
    """Serve forever on ``path`` (run in its own process)."""
    key = ec.generate_private_key(ec.SECP256R1())
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()
    while True:
        sock, _ = listener.accept()
        threading.Thread(target=_connection, args=(key, sock), daemon=True).start()


def _client(url: str, seconds: float, start: float, queue: mp.Queue) -> None:
    with softscm.connect(url) as scm:
        while time.time() < start:
            time.sleep(0.001)
        queue.put(measure(lambda: scm.sign(0, DIGEST), seconds)[0])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rate(url: str, clients: int, seconds: float, server_pid: int) -> tuple[float, float]:
    """Signatures per second from ``clients`` client processes together, and the server's CPU
    seconds per signature meanwhile."""
    queue: mp.Queue = mp.Queue()
    start = time.time() + 0.5
    procs = [mp.Process(target=_client, args=(url, seconds, start, queue)) for _ in range(clients)]
    for p in procs:
        p.start()
    while time.time() < start:
        time.sleep(0.001)
    before = cpu_seconds(server_pid)
    total = sum(queue.get() for _ in procs)
    used = cpu_seconds(server_pid) - before
    for p in procs:
        p.join()
    return total, used / (total * seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--realtime", action="store_true", help="run every process SCHED_FIFO (needs root)")
    options = parser.parse_args()
    if options.realtime:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))  # inherited by the servers and clients
    key = ec.generate_private_key(ec.SECP256R1())
    library = measure(lambda: key.sign(DIGEST, _ECDSA), options.seconds)[0]
    results: dict[tuple[str, int], list[float]] = {}
    cpu: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, running_scmd_process(Path(tmp)) as (scmd_url, scmd_pid):
        bare_path = str(Path(tmp) / "bare.sock")
        bare = mp.Process(target=bare_server, args=(bare_path,), daemon=True)
        bare.start()
        while not Path(bare_path).exists():
            time.sleep(0.02)
        try:
            assert bare.pid is not None
            servers = [("bare server", f"unix:{bare_path}", bare.pid), ("scmd", scmd_url, scmd_pid)]
            for round_ in range(options.rounds):
                for clients in (1, 4):
                    # the two servers back to back, and in turn first: a pair sees the same machine
                    for name, url, pid in servers[::-1] if round_ % 2 else servers:
                        ops, seconds = rate(url, clients, options.seconds, pid)
                        results.setdefault((name, clients), []).append(ops)
                        cpu.setdefault((name, clients), []).append(seconds)
        finally:
            bare.terminate()
            bare.join()
    print(f"P-256 sign, in-process single thread: {library:,.0f}/s")
    print(f"{'server':12s} {'clients':>7s} {'median/s':>9s} {'best/s':>9s} {'median/lib':>10s} {'of bare':>8s} "
          f"{'paired':>7s} {'cpu us/req':>10s} {'bare/this':>9s}")
    for (name, clients), rates in results.items():
        median = statistics.median(rates)
        bare_rates = results[("bare server", clients)]
        paired = statistics.median(this / bare for this, bare in zip(rates, bare_rates, strict=True))
        used = statistics.median(cpu[(name, clients)])
        bare_used = statistics.median(cpu[("bare server", clients)])
        print(f"{name:12s} {clients:7d} {median:9,.0f} {max(rates):9,.0f} {median / library:10.2f} "
              f"{median / statistics.median(bare_rates):8.2f} {paired:7.2f} {used * 1e6:10.1f} {bare_used / used:9.2f}")
    print("\ntargets: scmd at least 0.9x the bare server with 1 client and 0.95x with 4. 'of bare' divides the "
          "medians; 'paired' is the median of each round's ratio, the two servers measured back to back (the "
          "steadier figure on a noisy machine); 'bare/this' compares the CPU each spends per request")


if __name__ == "__main__":
    main()
