"""How close scmd comes to the fastest a Python server can answer the same request here.

A bare server speaks the same wire protocol on a Unix socket, with a thread per connection (the
fastest layout measured on 2 cores) and nothing but HELLO and a P-256 SIGN with one key held in
memory: no keystore, no state checks, no audit, no counters. Beside it, in the same run, the real
scmd and the signature done in-process. The same synchronous ``softscm`` client drives both
servers, 1 and 4 client processes, each connected to both at once: the clients sign against one
server for a short block (0.2 s), then all switch to the other together (a barrier), in ABBA order,
so that the two servers of a pair of blocks see the same machine. On a shared VM whose speed
changes from second to second that pairing is what makes the ratio mean something: each pair's
ratio is kept, and the median pair is the figure to read. What the bare server reaches bounds
what any design of scmd could reach on this machine, so its ratio to the in-process rate shows how
much of a 4-client target the machine itself leaves.

Beside the rates, each server's CPU time per request (user + system, from ``/proc``): what the
server itself spends. Run as root with ``--realtime`` to shield every process of the run (both
servers and all clients alike) from other jobs on the machine (SCHED_FIFO).

    .venv/bin/python bench/floor.py [--pairs 20] [--block 0.2] [--realtime]
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
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

sys.path.insert(0, str(Path(__file__).parent))
from core import DIGEST, measure, pair_ratios  # noqa: E402
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _schedule(pairs: int) -> list[int]:
    """Which server (0 or 1) each block goes to: ABBA BAAB ... so that drift falls on both alike."""
    return [server ^ (pair % 2) for pair in range(pairs) for server in (0, 1)]


def _client(urls: list[str], pairs: int, block: float, barrier: Any, queue: mp.Queue) -> None:
    """Sign against ``urls[server]`` for ``block`` seconds per scheduled block; report each
    block's rate."""
    scms = [softscm.connect(url) for url in urls]
    rates = []
    for server in _schedule(pairs):
        barrier.wait()
        scm, done = scms[server], 0
        start = time.perf_counter()
        end = start + block
        while time.perf_counter() < end:
            scm.sign(0, DIGEST)
            done += 1
        rates.append(done / (time.perf_counter() - start))
    for scm in scms:
        scm.close()
    queue.put(rates)


def interleaved(urls: list[str], pids: list[int], clients: int, pairs: int,
                block: float) -> tuple[list[list[float]], list[float]]:
    """Blocks of signatures from ``clients`` client processes, alternating between the two servers.
    Returns each server's rate in each of its blocks (block ``i`` of one server is paired with
    block ``i`` of the other) and each server's CPU seconds per signature over all its blocks."""
    barrier = mp.Barrier(clients + 1)
    queue: mp.Queue = mp.Queue()
    procs = [mp.Process(target=_client, args=(urls, pairs, block, barrier, queue)) for _ in range(clients)]
    for p in procs:
        p.start()
    cpu = [0.0, 0.0]
    schedule = _schedule(pairs)
    for server in schedule:
        barrier.wait()
        before = cpu_seconds(pids[server])
        time.sleep(block)
        cpu[server] += cpu_seconds(pids[server]) - before  # read as the block ends (give or take a request)
    per_client = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    rates: list[list[float]] = [[], []]
    for i, server in enumerate(schedule):
        rates[server].append(sum(client[i] for client in per_client))
    return rates, [cpu[i] / (sum(rates[i]) * block) for i in (0, 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=20, help="pairs of blocks per client count")
    parser.add_argument("--block", type=float, default=0.2, help="seconds per block")
    parser.add_argument("--realtime", action="store_true", help="run every process SCHED_FIFO (needs root)")
    options = parser.parse_args()
    if options.realtime:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))  # inherited by the servers and clients
    key = ec.generate_private_key(ec.SECP256R1())
    library = measure(lambda: key.sign(DIGEST, _ECDSA), 2.0)[0]
    results = {}
    with tempfile.TemporaryDirectory() as tmp, running_scmd_process(Path(tmp)) as (scmd_url, scmd_pid):
        bare_path = str(Path(tmp) / "bare.sock")
        bare = mp.Process(target=bare_server, args=(bare_path,), daemon=True)
        bare.start()
        while not Path(bare_path).exists():
            time.sleep(0.02)
        try:
            assert bare.pid is not None
            for clients in (1, 4):
                results[clients] = interleaved([f"unix:{bare_path}", scmd_url], [bare.pid, scmd_pid], clients,
                                               options.pairs, options.block)
        finally:
            bare.terminate()
            bare.join()
    print(f"P-256 sign, in-process single thread: {library:,.0f}/s; {options.pairs} pairs of "
          f"{options.block:g} s blocks per client count")
    print(f"{'clients':>7s} {'bare/s':>8s} {'scmd/s':>8s} {'paired':>7s} {'p25-p75':>11s} {'of bare':>8s} "
          f"{'bare/lib':>8s} {'cpu us/req bare':>15s} {'scmd':>6s}")
    for clients, ((bare_rates, scmd_rates), (bare_cpu, scmd_cpu)) in results.items():
        pairs = pair_ratios(scmd_rates, bare_rates)
        quartiles = statistics.quantiles(pairs, n=4)
        bare_rate, scmd_rate = statistics.mean(bare_rates), statistics.mean(scmd_rates)
        print(f"{clients:7d} {bare_rate:8,.0f} {scmd_rate:8,.0f} {statistics.median(pairs):7.2f} "
              f"{quartiles[0]:5.2f}-{quartiles[2]:<5.2f} {scmd_rate / bare_rate:8.2f} {bare_rate / library:8.2f} "
              f"{bare_cpu * 1e6:15.1f} {scmd_cpu * 1e6:6.1f}")
    print("\ntargets: scmd at least 0.9x the bare server with 1 client and 0.95x with 4. 'paired' is the median "
          "of the pairs' ratios (scmd's block over the bare server's block beside it), with its quartiles; "
          "'of bare' divides the mean rates")


if __name__ == "__main__":
    main()
