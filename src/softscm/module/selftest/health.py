"""SP 800-90B continuous health tests (section 4.4) on the entropy source, one sample per byte,
and the start-up test (section 4.3) over the first 1024 samples.

Cutoffs follow the standard's formulas for a declared min-entropy ``H`` bits per sample and a
false-positive probability ``alpha = 2^-a`` (a = 20 here, as the standard recommends):

- Repetition Count Test (4.4.1): ``C = 1 + ceil(a / H)``; ``C`` identical samples in a row fail.
- Adaptive Proportion Test (4.4.2), non-binary samples, window ``W = 512``:
  ``C = 1 + CRITBINOM(W, 2^-H, 1 - alpha)``; the window's first sample occurring ``C`` times
  within the window (itself included) fails.

The declared ``H`` defaults to 4 bits per byte. The source is the operating system's generator,
whose output is meant to be full entropy (8 bits per byte), but declaring 8 with alpha = 2^-20
makes the RCT cutoff 4, which a perfect source reaches by chance about once every 16 MiB, and a
health-test failure is fatal to the module. With H = 4 a perfect source trips the RCT (cutoff 6)
with probability 2^-40 per sample and practically never trips the APT (cutoff 62), while a stuck
source is still caught at its sixth sample.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal, localcontext
from fractions import Fraction

from ...wire.errors import InvalidArgumentError, SelfTestError
from .faults import FaultPlan

ALPHA_EXPONENT = 20
WINDOW = 512  # non-binary samples
STARTUP_SAMPLES = 1024
DEFAULT_MIN_ENTROPY_PER_BYTE = 4.0


def _exact(value: float | Fraction) -> Fraction:
    """A declared entropy as an exact fraction (a float is read as the decimal it prints as)."""
    return value if isinstance(value, Fraction) else Fraction(str(value))


def _check(min_entropy: float | Fraction, alpha_exponent: int) -> Fraction:
    h = _exact(min_entropy)
    if not 0 < h <= 8:
        raise InvalidArgumentError("min-entropy per sample must be in (0, 8] bits")
    if not 20 <= alpha_exponent <= 40:
        raise InvalidArgumentError("SP 800-90B asks for 2^-40 <= alpha <= 2^-20")
    return h


def rct_cutoff(min_entropy: float | Fraction, alpha_exponent: int = ALPHA_EXPONENT) -> int:
    """SP 800-90B 4.4.1: ``1 + ceil(alpha_exponent / H)``.

    :raises InvalidArgumentError: for H outside (0, 8] or alpha outside [2^-40, 2^-20].
    """
    return 1 + math.ceil(Fraction(alpha_exponent) / _check(min_entropy, alpha_exponent))


def apt_cutoff(min_entropy: float | Fraction, window: int = WINDOW, alpha_exponent: int = ALPHA_EXPONENT) -> int:
    """SP 800-90B 4.4.2: ``1 + CRITBINOM(W, 2^-H, 1 - 2^-alpha_exponent)``, where CRITBINOM is the
    smallest k with P(Binomial(W, p) <= k) >= 1 - alpha.

    For an integer H the binomial sum is exact integer arithmetic; for any other H, ``2^-H`` is
    irrational and the sum runs in 100-digit decimal arithmetic (its error is far below the gap
    between neighbouring cumulative probabilities).

    :raises InvalidArgumentError: for H outside (0, 8], alpha outside [2^-40, 2^-20] or a window
        under 2.
    """
    h = _check(min_entropy, alpha_exponent)
    if window < 2:
        raise InvalidArgumentError("the APT window is at least 2 samples")
    if h.denominator == 1:
        # p = 1/2^H: P(X <= k) >= 1 - 2^-a  <=>  2^a * sum_{i<=k} C(W,i) (2^H - 1)^(W-i) >= (2^a - 1) 2^(H W)
        base = 1 << int(h)
        target = ((1 << alpha_exponent) - 1) * base ** window
        cumulative = 0
        for k in range(window + 1):
            cumulative += math.comb(window, k) * (base - 1) ** (window - k) << alpha_exponent
            if cumulative >= target:
                return 1 + k
        return 1 + window
    with localcontext() as context:
        context.prec = 100
        p = Decimal(2) ** -(Decimal(h.numerator) / Decimal(h.denominator))
        goal = 1 - Decimal(2) ** -alpha_exponent
        total = Decimal(0)
        for k in range(window + 1):
            total += math.comb(window, k) * p ** k * (1 - p) ** (window - k)
            if total >= goal:
                return 1 + k
    return 1 + window


class HealthTestedRng:
    """An ``rng(n) -> bytes`` that runs every byte of ``source`` through the RCT and the APT.

    A failure is raised at the exact sample that reaches a cutoff; ``failed_at`` holds its
    1-based index (counting every sample tested, the start-up ones included). After a failure the
    generator stays failed: every further draw raises. ``on_failure`` (if set) is called once, with
    the message, when it fails. A ``faults`` plan with an entropy fault armed replaces the source's
    samples with the faulty stream (tests only).
    """

    def __init__(self, source: Callable[[int], bytes], min_entropy_per_byte: float = DEFAULT_MIN_ENTROPY_PER_BYTE,
                 *, alpha_exponent: int = ALPHA_EXPONENT, faults: FaultPlan | None = None,
                 on_failure: Callable[[str], None] | None = None) -> None:
        """:raises InvalidArgumentError: for a min-entropy outside (0, 8] or alpha outside
        [2^-40, 2^-20]."""
        self.source = source
        self.min_entropy_per_byte = min_entropy_per_byte
        self.rct_cutoff = rct_cutoff(min_entropy_per_byte, alpha_exponent)
        self.apt_cutoff = apt_cutoff(min_entropy_per_byte, WINDOW, alpha_exponent)
        self.faults = faults
        self.on_failure = on_failure
        self.samples = 0
        self.failure: str | None = None
        self.failed_at: int | None = None
        self._run = re.compile(rb"(.)\1{%d}" % (self.rct_cutoff - 1), re.DOTALL)
        self._tail = b""  # the last rct_cutoff - 1 samples
        self._apt_value = 0  # the current window's first sample
        self._apt_count = 0  # its occurrences so far in the window
        self._apt_seen = 0  # samples so far in the window

    def _fail(self, test: str, at: int) -> None:
        self.failure = f"{test} failed at sample {at}"
        self.failed_at = at
        if self.on_failure is not None:
            self.on_failure(self.failure)
        raise SelfTestError(f"entropy source health test: {self.failure}")

    def _rct(self, data: bytes) -> None:
        joined = self._tail + data
        match = self._run.search(joined)
        if match is not None:  # the leftmost run of C also ends first
            self._fail("repetition count test", self.samples - len(self._tail) + match.end())
        self._tail = joined[-(self.rct_cutoff - 1):]  # the cutoff is at least 4

    def _apt(self, data: bytes) -> None:
        position = 0
        while position < len(data):
            if self._apt_seen == 0:
                self._apt_value, self._apt_count = data[position], 0
            take = min(WINDOW - self._apt_seen, len(data) - position)
            segment = data[position:position + take]
            found = segment.count(self._apt_value)
            if self._apt_count + found >= self.apt_cutoff:
                index = -1
                for _ in range(self.apt_cutoff - self._apt_count):
                    index = segment.index(self._apt_value, index + 1)
                self._fail("adaptive proportion test", self.samples + position + index + 1)
            self._apt_count += found
            self._apt_seen = (self._apt_seen + take) % WINDOW
            position += take

    def check(self, data: bytes) -> None:
        """Run ``data`` through both tests as the next samples.

        :raises SelfTestError: at the first sample that reaches a cutoff, or if already failed.
        """
        if self.failure is not None:
            raise SelfTestError(f"entropy source health test: {self.failure}")
        self._rct(data)
        self._apt(data)
        self.samples += len(data)

    def _draw(self, size: int) -> bytes:
        faulty = self.faults.entropy_source() if self.faults is not None else None
        return (faulty or self.source)(size)

    def startup_test(self) -> None:
        """SP 800-90B 4.3: test the next 1024 samples and discard them.

        :raises SelfTestError: if they fail.
        """
        self.check(self._draw(STARTUP_SAMPLES))

    def __call__(self, size: int) -> bytes:
        """``size`` health-tested random bytes.

        :raises SelfTestError: if they fail a test, or the generator has failed before.
        """
        if self.failure is not None:
            raise SelfTestError(f"entropy source health test: {self.failure}")
        data = self._draw(size)
        self.check(data)
        return data
