"""CPU-heavy request work, run so that one request cannot stall the others.

The module is single-threaded: its state is touched from the loop's thread only. A handler whose
request would hold the loop for long has two ways out, both results the dispatcher passes through
and the server awaits (:data:`Deferred`) before it sends the reply (or the error):

- pure computation (a large batch, many PBKDF2 iterations): the handler does its state work first
  (load the key, draw randomness) and returns an :class:`Offloaded` holding the rest, which runs
  on a worker thread. The work must not touch module state and must not write.
- work that needs the module's state or its health-tested random generator throughout (generating
  many keys): the handler returns a :class:`Stepped`, a generator run on the loop's thread a step
  at a time, the loop serving other clients and the sensor monitor between steps. Its last step
  may write; the reply waits for the flush to disk. Between steps the module may change state,
  so the dispatcher checks the command is still allowed before each further step.

The offloaded work releases the GIL where it matters (OpenSSL signing and verifying, hashlib's
PBKDF2), so the loop keeps running while it computes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

R = TypeVar("R")

OFFLOAD_ITEMS = 32
"""A batch of this many signatures or verifications runs off the loop (about 5 ms of P-256 work)."""

OFFLOAD_PBKDF2_WORK = 20_000
"""PBKDF2 work (iterations x output blocks) from which a derivation runs off the loop (~5 ms)."""

WORKERS = 2
_pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="softscm-offload")


@dataclass(frozen=True)
class Offloaded:
    """A handler's result still to be computed: ``work()`` on a worker thread gives the reply."""

    work: Callable[[], Any]

    async def result(self) -> Any:
        """Run the work on the offload pool. :raises: whatever the work raises."""
        return await asyncio.get_running_loop().run_in_executor(_pool, self.work)


def maybe_offload(work: Callable[[], Any], heavy: bool) -> Any:
    """``work()`` now for light work, or an :class:`Offloaded` for the server to run elsewhere."""
    return Offloaded(work) if heavy else work()


Step = Callable[[], Any] | None
"""What a :class:`Stepped` generator yields: ``None`` to let the loop serve others, or pure work
to run on a worker thread meanwhile (its result is sent back into the generator)."""


@dataclass(frozen=True)
class Stepped:
    """A handler's result computed on the loop's thread in steps: ``steps`` yields between steps
    (see :data:`Step`) and returns the reply message; ``check`` runs before each step after the first."""

    steps: Generator[Step, Any, Any]
    check: Callable[[], object] = lambda: None

    async def result(self) -> Any:
        """Run the steps, letting the loop serve others between them.

        :raises: whatever a step, its offloaded work or ``check`` raises (the remaining steps are dropped).
        """
        steps = self.steps
        sent: Any = None
        try:
            while True:
                try:
                    step = steps.send(sent)
                except StopIteration as done:
                    return done.value
                if step is None:
                    await asyncio.sleep(0)
                    sent = None
                else:
                    sent = await Offloaded(step).result()
                self.check()
        finally:
            steps.close()


def stepped(steps: Generator[Step, Any, R]) -> R | Stepped:
    """Run ``steps`` on the loop up to its first step: its reply if it has none (light work stays
    in one piece, its refusals come at once), else a :class:`Stepped` for the rest.

    :raises: whatever ``steps`` raises before its first step.
    """
    try:
        first = next(steps)
    except StopIteration as done:
        return done.value

    def rest() -> Generator[Step, Any, R]:
        try:
            step = first
            while True:
                sent = yield step
                try:
                    step = steps.send(sent)
                except StopIteration as done:
                    return done.value
        finally:
            steps.close()

    return Stepped(rest())


Deferred = Offloaded | Stepped
"""A handler's result that the server awaits before it replies."""
