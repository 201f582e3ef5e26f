"""botocore's retries in tests: every decision is botocore's own, but nothing waits in real time.

The bot's clients use botocore's adaptive retry mode (`diagnostics.aws.cloudwatch.client_config`), which waits in
two places:

- the backoff between attempts (`botocore.retries.standard.ExponentialBackoff.delay_amount`, slept by
  `botocore.endpoint` with `time.sleep`), and
- the client-side rate limiter (`botocore.retries.adaptive.ClientRateLimiter`): after the first throttling answer
  it takes a token from a `botocore.retries.bucket.TokenBucket` before every send, and blocks on a condition
  variable until the bucket has refilled at the rate it computed from the throttling.

`NoWaitRetries.install` replaces both waits. The backoff delay botocore computes is recorded and 0 is slept. The
limiter keeps its own rate arithmetic (`RateClocker`, `CubicCalculator`, the bucket's refill), but its clock is a
`VirtualClock`, and where the bucket would block the clock is moved on by the time it would have blocked for (which
is recorded). The virtual clock moves only by those waits, so the limiter's decisions do not depend on how fast the
machine is.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import CapacityNotAvailableError
from botocore.retries import bucket, standard

#: Where the virtual clock starts: a whole number of seconds, so RateClocker's half-second buckets line up the same
#: way in every run.
VIRTUAL_START = 1_000_000.0


class VirtualClock(bucket.Clock):
    """`botocore.retries.bucket.Clock` whose time moves only when something sleeps on it."""

    def __init__(self, start: float = VIRTUAL_START) -> None:
        self.start = start
        self.now = start
        self._lock = threading.Lock()

    def sleep(self, amount: float) -> None:
        with self._lock:
            self.now += amount

    def current_time(self) -> float:
        with self._lock:
            return self.now


class NonBlockingTokenBucket(bucket.TokenBucket):
    """botocore's token bucket, except that a wait for capacity moves the (virtual) clock instead of blocking.

    Each blocking `acquire` appends the seconds it would have waited to `waits`."""

    def __init__(self, max_rate: float, clock: bucket.Clock, min_rate: float = bucket.TokenBucket._MIN_RATE, *,
                 waits: list[float]) -> None:
        super().__init__(max_rate, clock, min_rate=min_rate)
        self.waits = waits

    def acquire(self, amount: int = 1, block: bool = True) -> bool:
        if not block:
            return super().acquire(amount, block=False)
        waited = 0.0
        while True:
            try:
                super().acquire(amount, block=False)
            except CapacityNotAvailableError:
                # What botocore would wait for (TokenBucket._sleep_amount), at least a microsecond so rounding in the
                # refill cannot loop for ever.
                wait = max((amount - self.available_capacity) / self.max_rate, 1e-6)
                self._clock.sleep(wait)
                waited += wait
                continue
            if waited:
                self.waits.append(waited)
            return True


class NoWaitRetries:
    """What botocore's retries would have waited, recorded instead of slept.

    `backoffs`: every backoff delay botocore computed (one per retry it decided on); `limiter_waits`: every time the
    adaptive rate limiter held a request back, the seconds it would have blocked; `clock`: the limiter's clock."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.backoffs: list[float] = []
        self.limiter_waits: list[float] = []

    @property
    def retries(self) -> int:
        return len(self.backoffs)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> NoWaitRetries:
        original_delay = standard.ExponentialBackoff.delay_amount

        def delay_amount(backoff: standard.ExponentialBackoff, context: Any) -> float:
            self.backoffs.append(original_delay(backoff, context))
            return 0.0

        def token_bucket(max_rate: float, clock: bucket.Clock, **kwargs: Any) -> NonBlockingTokenBucket:
            return NonBlockingTokenBucket(max_rate, clock, waits=self.limiter_waits, **kwargs)

        monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", delay_amount)
        # botocore.retries.adaptive.register_retry_handler builds its limiter from `bucket.Clock()` and
        # `bucket.TokenBucket(...)`, looked up on the module at every client creation.
        monkeypatch.setattr(bucket, "Clock", lambda: self.clock)
        monkeypatch.setattr(bucket, "TokenBucket", token_bucket)
        return self
