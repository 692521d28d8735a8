"""The randomness seam: every function that needs random bytes takes an ``rng`` like this."""

from __future__ import annotations

import os
from collections.abc import Callable

Rng = Callable[[int], bytes]

system_rng: Rng = os.urandom
