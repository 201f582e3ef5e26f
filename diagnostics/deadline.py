"""A question's deadline, seen by every log source it reaches without being passed down through every call.

The Slack bot gives each question a deadline (`[slack] question_deadline_s`, 90 s by default) and runs it inside
`within(seconds)`; a source bounds its network calls by what is left (connect and read timeouts, retries,
Retry-After waits) and, when nothing is left, fails in one line naming itself, so the other sources still answer
and no worker waits on a source that never answers. Outside `within` (the CLI, tests) there is no deadline and the
sources keep their own timeouts.

A context variable rather than a parameter: the deadline belongs to the question, and the sources sit several
layers below the code that knows about questions (handlers → investigate → a provider's side → a source).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ends_at: ContextVar[float | None] = ContextVar("vpnbot_deadline", default=None)


@contextmanager
def within(seconds: float | None) -> Iterator[None]:
    """Run the block under a deadline `seconds` from now (None: no deadline; an outer, earlier one still holds)."""
    if seconds is None:
        yield
        return
    ends = time.monotonic() + seconds
    outer = _ends_at.get()
    token = _ends_at.set(ends if outer is None else min(ends, outer))
    try:
        yield
    finally:
        _ends_at.reset(token)


def remaining() -> float | None:
    """Seconds left before the deadline (0 when it has passed), or None when the block has none."""
    ends = _ends_at.get()
    return None if ends is None else max(0.0, ends - time.monotonic())


def bounded(seconds: float) -> float:
    """`seconds`, or what is left of the deadline when that is less: for a timeout or a wait."""
    left = remaining()
    return seconds if left is None else min(seconds, left)


def expired() -> bool:
    left = remaining()
    return left is not None and left <= 0
