"""Fuzzing with hypothesis: the frame decoder, and every command's arguments through a real scmd.

Both runners are plain functions taking a case count, so the test suite runs a short version and
``scripts/reliability.sh`` the full one. A case fails on anything but a typed answer: an exception
other than :class:`ScmError` from the decoder; a missing, late (over 1 s), misattributed or
``INTERNAL`` reply from the daemon, or a daemon that stops serving. Every failed case is kept as a
:class:`Case` (its command, its arguments abbreviated, its time), and so are the :data:`SLOWEST`
slowest served commands, so a run shows what came closest to the limit even when all pass.
"""

from __future__ import annotations

import heapq
import os
import random
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

import cbor2
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from softscm.module.sensors.simulated import ACTIONS
from softscm.wire.codec import Reply, Request
from softscm.wire.defs import Command, ErrorCode
from softscm.wire.errors import ScmError

from .rawclient import RawClient

# every argument name a handler reads (scanned from module/commands) and the simulator's
NAMES = sorted(set("""wallet action axis blob chain_code channel claim count data deterministic entropy events extendable
flashes foreign full group_count group_index group_threshold hardened high index info integrity items
iteration_exponent iterations kat key kind length limit log low lp_max_bits lp_period_us master_gen_key master_slot
max_delay_ns member_count member_threshold min_delay_ns mnemonic name node_addr notify off_ms on_ms parent_slot
passphrase path pattern pct peer_foreign peer_public_key peer_slot pem policy_id precise private_key public_key recid
return_chain_code salt seed self_destruct signature since_seq size sleep slot strategy threshold timeout_ms variant
version wallet_name where xpub key_type kdf celsius volts g direction samples ppm seconds details""".split()))

# commands that would end the run's usefulness (production mode for good, self-destruct
# policies, armed faults) or wait for events instead of answering
EXCLUDED = {Command.LOCK_BINDING, Command.PERIMETER_SET_ACTIONS, Command.BATTERY_POLICY, Command.TEMP_POLICY,
            Command.BOOT_SET_POLICY, Command.FAULT_INJECT, Command.WAIT_TAP, Command.WAIT_PERIMETER,
            Command.SUBSCRIBE, Command.HELLO}
COMMANDS = sorted(set(Command) - EXCLUDED)
SAFE_ACTIONS = [a for a in ACTIONS if a not in ("power_lost", "battery_removed")]

BATCH = 50
"""Cases per hypothesis example: hypothesis draws a seed and a batch is expanded from it with
:class:`random.Random` (hypothesis spends about a millisecond per example of its own, so the
million cases of the full run draw 20,000 examples); a failure names its seed and index."""

_WORDS = ["secp256k1", "nistp256", "ed25519", "x25519", "hkdf-sha256", "pbkdf2-sha512", "m/0/1'", "m", "bip39",
          "slip39", "all", "x", "", "\u00e9\u0000", *SAFE_ACTIONS]
_SPECIAL_INTS = [0, 1, -1, 15, 16, 17, 2**31, 2**32, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**40, -(10**40)]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A random CBOR-able value, weighted towards what handlers read (ints, bytes, names)."""
    kind = rng.randrange(13 if depth < 3 else 11)
    if kind == 0:
        return rng.randrange(-3, 40)
    if kind == 1:
        return rng.choice(_SPECIAL_INTS)
    if kind == 2:
        return rng.randrange(-(2**70), 2**70)
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return rng.choice([0.0, -0.5, 1e308, float("inf"), float("-inf"), float("nan"), rng.uniform(-1e3, 1e3)])
    if kind == 5:
        return rng.randbytes(rng.choice([0, 1, 16, 31, 32, 33, 64, 65, rng.randrange(200)]))
    if kind in (6, 7):
        return rng.choice(_WORDS)
    if kind == 8:
        return "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randrange(12)))
    if kind in (9, 10):
        return rng.randbytes(32)
    if kind == 11:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {rng.choice(NAMES): random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def random_args(rng: random.Random) -> dict[str, Any]:
    names = [rng.choice(NAMES) if rng.random() < 0.9 else rng.choice(_WORDS) for _ in range(rng.randrange(8))]
    return {name: random_value(rng) for name in names}


def random_frame(rng: random.Random) -> bytes:
    """A frame payload: a plausible request, a mangled one, or noise."""
    kind = rng.randrange(5)
    if kind == 0:
        return rng.randbytes(rng.randrange(200))
    request = cbor2.dumps({0: random_value(rng) if rng.random() < 0.3 else rng.randrange(1, 2**32),
                           1: random_value(rng) if rng.random() < 0.3 else int(rng.choice(list(Command))),
                           2: random_args(rng) if rng.random() < 0.8 else random_value(rng)})
    if kind == 1 and request:
        cut = rng.randrange(len(request))
        return request[:cut]
    if kind == 2 and request:
        flipped = bytearray(request)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        return bytes(flipped)
    return request


LATE = 1.0
"""A served request answered after this many seconds is a failure (issue 17)."""

SLOWEST = 5
"""How many of the slowest served commands a report keeps."""

_CODES = frozenset(int(code) for code in ErrorCode)


class _Cut:
    """Stands for a value too long to show whole: its repr is the abbreviation."""

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return self._text


def _shorten(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)) and len(value) > 16:
        return _Cut(f"{bytes(value[:8])!r}...<{len(value)} bytes>")
    if isinstance(value, str) and len(value) > 40:
        return _Cut(f"{value[:24]!r}...<{len(value)} chars>")
    if isinstance(value, list):
        items = [_shorten(item) for item in value[:8]]
        return items + [_Cut(f"...<{len(value)} items>")] if len(value) > 8 else items
    if isinstance(value, dict):
        return {_shorten(k): _shorten(v) for k, v in value.items()}
    return value


def brief(value: Any, limit: int = 300) -> str:
    """``value``'s repr with long bytes, text and lists abbreviated, at most ``limit`` characters."""
    text = repr(_shorten(value))
    return text if len(text) <= limit else text[:limit - 3] + "..."


@dataclass(frozen=True)
class Case:
    """One fuzz case kept as evidence: what was sent, what came back, when and how long it took."""

    command: str  # the command's name (``frame`` for a decoder case)
    args: str  # the arguments (or frame), abbreviated by :func:`brief`
    outcome: str  # why it failed ("late", "untyped", ...) or, for a slow one, its status
    seconds: float  # from sending to the reply (0 for the decoder)
    when: str  # UTC time of day it ended, and the machine's load then
    where: str  # the hypothesis seed and index that reproduce it

    def __str__(self) -> str:
        return (f"{self.command} {self.args}: {self.outcome}, {self.seconds * 1000:.0f} ms at {self.when} "
                f"({self.where})")


def _now() -> str:
    load = os.getloadavg()[0]
    return f"{time.strftime('%H:%M:%S', time.gmtime())} UTC, load {load:.1f}"


@dataclass
class FuzzReport:
    cases: int = 0
    failures: list[Case] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    _slow: list[tuple[float, int, Case]] = field(default_factory=list)  # a min-heap of the slowest

    @property
    def slowest(self) -> float:
        """The slowest served reply's seconds (0 with none)."""
        return max((seconds for seconds, _, _ in self._slow), default=0.0)

    @property
    def slowest_cases(self) -> list[Case]:
        """The :data:`SLOWEST` slowest served commands, slowest first."""
        return [case for _, _, case in sorted(self._slow, key=lambda entry: -entry[0])]

    def served(self, seconds: float, make: Callable[[], Case]) -> None:
        """Count a reply of ``seconds`` among the slowest; ``make`` builds its case only if it is."""
        if len(self._slow) < SLOWEST:
            heapq.heappush(self._slow, (seconds, self.cases, make()))
        elif seconds > self._slow[0][0]:
            heapq.heapreplace(self._slow, (seconds, self.cases, make()))


def _examples(cases: int) -> int:
    return max(1, -(-cases // BATCH))


def fuzz_decoder(cases: int, *, seed_value: int = 0) -> FuzzReport:
    """Random frames into :meth:`Request.parse`: a request or a typed error, never anything else."""
    report = FuzzReport()

    @seed(seed_value)
    @settings(max_examples=_examples(cases), database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, 2**64))
    def batch(batch_seed: int) -> None:
        rng = random.Random(batch_seed)
        for index in range(BATCH):
            data = random_frame(rng)
            report.cases += 1
            try:
                Request.parse(data)
            except ScmError:
                pass
            except Exception as exc:  # noqa: BLE001 - the finding
                report.failures.append(Case("frame", brief(data), f"untyped {type(exc).__name__}: {exc!s:.100}",
                                            0.0, _now(), f"seed {batch_seed}, case {index}"))

    batch()
    return report


def _designed_wait(command: Command, args: Any) -> float:
    """How long a request waits by design before its reply (a precise TIME waits for the next
    second boundary, up to 1 s, without holding the loop): added to :data:`LATE`."""
    return 1.0 if command is Command.TIME and isinstance(args, dict) and args.get("precise") is True else 0.0


def judge(report: FuzzReport, command: Command, args: Any, request_id: int, reply: Reply, elapsed: float,
          where: str) -> None:
    """Count one served case in ``report``: among the slowest, and a failure if its reply names
    another id, is untyped (``INTERNAL`` or an unknown status) or came after :data:`LATE`."""
    report.statuses[reply.status] = report.statuses.get(reply.status, 0) + 1
    status = ErrorCode(reply.status).name if reply.status in _CODES else "OK" if not reply.status else reply.status
    report.served(elapsed, lambda: Case(command.name, brief(args), f"status {status}", elapsed, _now(), where))
    wrong = [what for what, failed in (
        (f"misattributed: the reply names id {reply.id}", reply.id != request_id),
        (f"untyped: INTERNAL ({reply.body!s:.80})", reply.status == ErrorCode.INTERNAL),
        (f"untyped: unknown status {reply.status}", bool(reply.status) and reply.status not in _CODES),
        (f"late: over {LATE:.0f} s (status {status})", elapsed > LATE + _designed_wait(command, args))) if failed]
    if wrong:
        report.failures.append(Case(command.name, brief(args), "; ".join(wrong), elapsed, _now(), where))


def fuzz_commands(socket_path: str, cases: int, *, seed_value: int = 0) -> FuzzReport:
    """Random arguments for every command (but :data:`EXCLUDED`) through a real scmd on one
    connection, then a check that a new client is served."""
    report = FuzzReport()
    raw = RawClient(socket_path, timeout=10)
    raw.hello()
    ids = iter(range(2, 2**31))

    @seed(seed_value)
    @settings(max_examples=_examples(cases), database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, 2**64))
    def batch(batch_seed: int) -> None:
        rng = random.Random(batch_seed)
        for index in range(BATCH):
            one(rng.choice(COMMANDS), random_args(rng), f"seed {batch_seed}, case {index}")

    def one(command: Command, args: dict[str, Any], where: str) -> None:
        report.cases += 1
        request_id = next(ids)
        started = time.monotonic()
        try:
            raw.send(cbor2.dumps({0: request_id, 1: int(command), 2: args}))
            reply = raw.reply(timeout=10)
        except Exception as exc:  # noqa: BLE001 - the finding
            report.failures.append(Case(command.name, brief(args), f"lost: no reply ({type(exc).__name__})",
                                        time.monotonic() - started, _now(), where))
            raise
        judge(report, command, args, request_id, reply, time.monotonic() - started, where)

    try:
        batch()
    except Exception:  # noqa: BLE001 - recorded above; the connection is gone
        pass
    raw.close()
    try:
        check = RawClient(socket_path, timeout=5)
        check.hello()
        check.close()
    except Exception as exc:  # noqa: BLE001
        report.failures.append(Case("HELLO", "(a new client)", f"lost: the daemon stopped serving ({exc})", 0.0,
                                    _now(), "after the run"))
    return report
