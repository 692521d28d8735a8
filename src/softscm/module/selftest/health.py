"""SP 800-90B section 4.4 continuous health tests on the entropy source, one sample per byte.

Cutoffs come from the standard's formulas for a declared min-entropy ``H`` per sample and a
false-positive probability ``alpha`` (the standard recommends 2^-20 to 2^-40; 2^-40 here, so a
module that draws a lot of randomness does not trip on chance):

- Repetition Count Test: ``C = 1 + ceil(-log2(alpha) / H)`` identical samples in a row fail.
- Adaptive Proportion Test (non-binary samples, window ``W = 512``): ``C = 1 + CRITBINOM(W,
  2^-H, 1 - alpha)``; the window's first sample occurring ``C`` times in the window fails.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction

from ...wire.errors import SelfTestError

ALPHA_EXPONENT = 40
WINDOW = 512
STARTUP_SAMPLES = 1024


def rct_cutoff(min_entropy: float, alpha_exponent: int = ALPHA_EXPONENT) -> int:
    return 1 + math.ceil(alpha_exponent / min_entropy)


def apt_cutoff(min_entropy: float, window: int = WINDOW, alpha_exponent: int = ALPHA_EXPONENT) -> int:
    """1 + the smallest k with P(Binomial(W, 2^-H) <= k) >= 1 - alpha, computed exactly."""
    p = Fraction(2) ** Fraction(-min_entropy).limit_denominator(1 << 20) if min_entropy != int(min_entropy) \
        else Fraction(1, 2 ** int(min_entropy))
    alpha = Fraction(1, 2 ** alpha_exponent)
    cumulative = Fraction(0)
    for k in range(window + 1):
        cumulative += math.comb(window, k) * p ** k * (1 - p) ** (window - k)
        if cumulative >= 1 - alpha:
            return 1 + k
    return window


class HealthTestedRng:
    """Wraps an entropy source; every byte drawn goes through the RCT and the APT.

    After a failure it stays failed: every further draw raises.

    :raises SelfTestError: from ``__call__`` at the exact sample that reaches a cutoff.
    """

    def __init__(self, source: Callable[[int], bytes], min_entropy: float = 8.0,
                 on_failure: Callable[[str], None] | None = None) -> None:
        self._source = source
        self.rct_cutoff = rct_cutoff(min_entropy)
        self.apt_cutoff = apt_cutoff(min_entropy)
        self._run_pattern = re.compile(rb"(.)\1{%d}" % (self.rct_cutoff - 1), re.DOTALL)
        self._tail = b""  # the last rct_cutoff - 1 samples
        self._window = bytearray()
        self.samples = 0
        self.failure: str | None = None
        self.on_failure = on_failure

    def _fail(self, message: str) -> None:
        self.failure = message
        if self.on_failure is not None:
            self.on_failure(message)
        raise SelfTestError(message)

    def check(self, data: bytes) -> None:
        """Run ``data`` through both tests (also used for the start-up test)."""
        if self.failure is not None:
            raise SelfTestError(self.failure)
        joined = self._tail + data
        match = self._run_pattern.search(joined)
        if match is not None:
            at = self.samples - len(self._tail) + match.end()
            self._fail(f"repetition count test failed at sample {at}")
        position = 0
        while position < len(data):
            take = min(WINDOW - len(self._window), len(data) - position)
            chunk = data[position:position + take]
            if not self._window:
                first = chunk[0]
            else:
                first = self._window[0]
            count = self._window.count(first) if self._window else 0
            for offset, sample in enumerate(chunk):
                if sample == first:
                    count += 1
                    if count >= self.apt_cutoff:
                        self._fail(f"adaptive proportion test failed at sample {self.samples + position + offset + 1}")
            self._window += chunk
            if len(self._window) == WINDOW:
                self._window.clear()
            position += take
        self.samples += len(data)
        self._tail = joined[-(self.rct_cutoff - 1):]

    def startup_test(self) -> None:
        """SP 800-90B 4.3: run the tests over the first 1024 samples before any is used."""
        self.check(self._source(STARTUP_SAMPLES))

    def __call__(self, size: int) -> bytes:
        data = self._source(size)
        self.check(data)
        return data
