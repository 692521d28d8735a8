"""Running a module generator of steps (:data:`softscm.module.offload.Step`) on the test's thread."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

R = TypeVar("R")


def inline(steps: Generator[Any, Any, R]) -> R:
    """Run ``steps`` to the end, each offloaded step's work at once; returns the generator's value."""
    sent: Any = None
    while True:
        try:
            step = steps.send(sent)
        except StopIteration as done:
            return done.value
        sent = step() if step is not None else None
