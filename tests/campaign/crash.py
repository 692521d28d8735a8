"""Crash consistency: SIGKILL at random points of a mixed workload, then check that nothing
acknowledged was lost and nothing removed came back.

A driver process (this module run with ``python -m``) imports softscm once and forks one child
per round. The child starts the module on the state directory (after a kill, that is the
restart) and serves it in-process (the embedded transport: the real codec, session and
dispatch; every write committed durably before its reply), reports what it finds (every slot and its public key, the wallets, the host events in
the audit log, whether old lock blobs still open), then runs random operations (generate,
import and remove keys, create wallets, derive wallet nodes, host events, lock), writing a line
to a pipe before each one and another once it returns (acknowledged: durable, the module syncs
before returning). The driver kills it at a random moment, and checks the next round's report
against every acknowledgement. A module that does not start after a kill is a failure too.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KEY_TYPES = [0, 1, 2, 3]


@dataclass
class CrashReport:
    kills: int = 0
    rounds: int = 0
    acknowledged: int = 0
    checked: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


# -- the child -----------------------------------------------------------------------------------

def _child(state_dir: Path, write_fd: int, seed: int, locks: list[list[str]]) -> None:
    from softscm.embedded import EmbeddedClient
    from softscm.module import lifecycle
    from softscm.module.server import InProcessHost
    from softscm.wire.defs import Event, KeyType

    out = os.fdopen(write_fd, "w", buffering=1)
    rng = random.Random(seed)
    module = lifecycle.start(state_dir)
    host = InProcessHost(module)  # the embedded transport: the real codec, session and dispatch
    scm = EmbeddedClient(host)

    def inventory() -> tuple[dict[int, str], list[tuple[str, int]], list[Any], list[int]]:
        store = module.live().store
        slots = {slot: store.get(slot).public.hex() for slot, _ in store.list_slots()}
        wallets = [(w.name, w.master_slot) for w in store.list_wallets()]
        audit = module.events.audit
        events = [e.details.get("host_tag") for e in audit.read(events=[int(Event.HOST_EVENT)])] if audit else []
        plain = [slot for slot in slots if slot >= 16 and store.get(slot).wallet_id is None]
        return slots, wallets, events, plain

    slots, wallets, events, user = host.call(inventory)
    unlocked = []
    for blob, data in locks:
        try:
            unlocked.append(scm.unlock(bytes.fromhex(blob)).hex() == data)
        except Exception:  # noqa: BLE001 - reported as not unlocked
            unlocked.append(False)
    out.write(json.dumps({"report": {"slots": slots, "wallets": [name for name, _ in wallets], "events": events,
                                     "unlocked": unlocked, "state": module.state.name}}) + "\n")
    masters = [slot for _, slot in wallets]
    step = 0
    while True:
        step += 1
        choice = rng.random()
        if choice < 0.3 or not user:
            op: dict[str, Any] = {"op": "gen", "key_type": rng.choice(KEY_TYPES)}
        elif choice < 0.45:
            op = {"op": "import", "key": rng.randbytes(32).hex()}
        elif choice < 0.6:
            op = {"op": "remove", "slot": rng.choice(user)}
        elif choice < 0.68:
            op = {"op": "wallet", "name": f"w{seed}-{step}"}
        elif choice < 0.76 and masters:
            op = {"op": "derive", "master": rng.choice(masters), "path": f"m/{rng.randrange(4)}/{rng.randrange(4)}"}
        elif choice < 0.9:
            op = {"op": "event", "tag": f"{seed}-{step}"}
        else:
            op = {"op": "lock", "data": rng.randbytes(rng.randrange(1, 64)).hex()}
        out.write(json.dumps({"begin": op}) + "\n")
        try:
            result: Any = None
            if op["op"] == "gen":
                result = scm.gen_key_pair(KeyType(op["key_type"]))
                user.append(result)
            elif op["op"] == "import":
                result = scm.import_key(KeyType.SECP256K1, bytes.fromhex(op["key"]))
                user.append(result)
            elif op["op"] == "remove":
                scm.remove_key(op["slot"])
                user.remove(op["slot"])
            elif op["op"] == "wallet":
                result, _ = scm.create_wallet(KeyType.SECP256K1, op["name"])
                masters.append(result)
            elif op["op"] == "derive":
                result = scm.derive_wallet_path(op["master"], op["path"])
            elif op["op"] == "event":
                scm.record_host_event("custom", tag=op["tag"])
            else:
                result = scm.lock(bytes.fromhex(op["data"])).hex()
            ack: dict[str, Any] = {"ack": op, "result": result}
            if op["op"] in ("gen", "import", "wallet", "derive"):
                ack["public"] = host.call(lambda slot=result: module.live().store.get(slot).public.hex())
            out.write(json.dumps(ack) + "\n")
        except Exception as exc:  # noqa: BLE001 - a typed refusal (no free slot, a node removed...)
            out.write(json.dumps({"refused": op, "error": type(exc).__name__}) + "\n")
            if op["op"] == "remove" and op["slot"] in user:
                user.remove(op["slot"])


# -- the driver ----------------------------------------------------------------------------------

@dataclass
class Model:
    """What the module acknowledged: it must all be there after any kill."""

    keys: dict[int, str] = field(default_factory=dict)  # slot -> public
    removed: set[str] = field(default_factory=set)  # publics acknowledged removed
    wallets: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    locks: list[list[str]] = field(default_factory=list)  # [blob, data]


def _check(report: dict[str, Any], model: Model, failures: list[str], round_no: int,
           in_flight: dict[str, Any] | None) -> int:
    """Check a restart's report against the model; an operation cut by the kill may or may not
    have happened (its slot is not checked)."""
    slots = {int(s): p for s, p in report["slots"].items()}
    uncertain = in_flight["slot"] if in_flight and in_flight["op"] == "remove" else None
    checked = 0
    if report["state"] != "READY":
        failures.append(f"round {round_no}: module {report['state']} after a kill")
    for slot, public in model.keys.items():
        if slot == uncertain:
            continue
        checked += 1
        if slots.get(slot) != public:
            failures.append(f"round {round_no}: acknowledged key in slot {slot} lost")
    for public in model.removed:
        checked += 1
        if public in slots.values():
            failures.append(f"round {round_no}: a removed key came back")
    for name in model.wallets - set(report["wallets"]):
        failures.append(f"round {round_no}: acknowledged wallet {name} lost")
    for tag in model.events - set(report["events"]):
        failures.append(f"round {round_no}: acknowledged log event {tag} lost")
    checked += len(model.wallets) + len(model.events) + len(report["unlocked"])
    if not all(report["unlocked"]):
        failures.append(f"round {round_no}: an acknowledged lock blob no longer opens")
    # settle what was in flight: the module's state is the truth from here on
    model.keys = slots
    model.wallets = set(report["wallets"])
    return checked


def _apply(line: dict[str, Any], model: Model) -> None:
    op = line["ack"]
    if op["op"] in ("gen", "import", "wallet", "derive"):
        model.keys[int(line["result"])] = line["public"]
        model.removed.discard(line["public"])
        if op["op"] == "wallet":
            model.wallets.add(op["name"])
    elif op["op"] == "remove":
        public = model.keys.pop(op["slot"], None)
        if public is not None:
            model.removed.add(public)
    elif op["op"] == "event":
        model.events.add(op["tag"])
    elif op["op"] == "lock":
        model.locks.append([line["result"], op["data"]])
        del model.locks[:-8]  # the last few are enough to check the lock key


def run(state_dir: Path, kills: int, *, seed: int = 0, max_delay: float = 0.05) -> CrashReport:
    """``kills`` rounds of start, report, random work, SIGKILL (see the module docstring)."""
    report = CrashReport()
    model = Model()
    rng = random.Random(seed)
    in_flight: dict[str, Any] | None = None
    started = time.monotonic()
    for round_no in range(kills + 1):
        read_fd, write_fd = os.pipe()
        child_seed = rng.randrange(2**32)
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            try:
                _child(state_dir, write_fd, child_seed, model.locks)
            except BaseException as exc:  # noqa: BLE001
                os.write(write_fd, (json.dumps({"crashed": f"{type(exc).__name__}: {exc}"}) + "\n").encode())
            finally:
                os._exit(0)
        os.close(write_fd)
        reader = os.fdopen(read_fd, "r")
        deadline = None
        last = round_no == kills
        lines: list[dict[str, Any]] = []
        killed = False
        while True:
            timeout = 20.0 if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([reader], [], [], timeout)
            if not ready:
                if deadline is None:
                    report.failures.append(f"round {round_no}: the module did not start within 20 s")
                os.kill(pid, signal.SIGKILL)
                killed = True
                break
            line = reader.readline()
            if not line:
                break
            if not line.endswith("\n"):
                break  # cut by the kill: not acknowledged
            message = json.loads(line)
            lines.append(message)
            if "report" in message:
                report.checked += _check(message["report"], model, report.failures, round_no, in_flight)
                if last:
                    os.kill(pid, signal.SIGKILL)
                    killed = True
                    break
                deadline = time.monotonic() + rng.uniform(0, max_delay)
            elif "crashed" in message:
                report.failures.append(f"round {round_no}: {message['crashed']}")
                break
        os.waitpid(pid, 0)
        # what was acknowledged before the kill (lines read after the kill decision count too)
        in_flight = None
        for message in lines + [json.loads(x) for x in reader.read().splitlines(keepends=True) if x.endswith("\n")]:
            if "begin" in message:
                in_flight = message["begin"]
            elif "ack" in message:
                report.acknowledged += 1
                _apply(message, model)
                in_flight = None
            elif "refused" in message:
                in_flight = None
        reader.close()
        report.rounds += 1
        report.kills += killed and not last
        if report.failures:
            break
    report.seconds = time.monotonic() - started
    return report


if __name__ == "__main__":
    result = run(Path(sys.argv[1]), int(sys.argv[2]), seed=int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    print(json.dumps(asdict(result)))
