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
#: How long the deadline in force was when it was set (for the sentence a source fails with: "the question's 90 s
#: deadline").
_length: ContextVar[float | None] = ContextVar("vpnbot_deadline_length", default=None)


@contextmanager
def within(seconds: float | None) -> Iterator[None]:
    """Run the block under a deadline `seconds` from now (None: no deadline; an outer, earlier one still holds)."""
    if seconds is None:
        yield
        return
    ends = time.monotonic() + seconds
    outer = _ends_at.get()
    inner = outer is None or ends < outer
    token = _ends_at.set(ends if inner else outer)
    length = _length.set(seconds if inner else _length.get())
    try:
        yield
    finally:
        _length.reset(length)
        _ends_at.reset(token)


def remaining() -> float | None:
    """Seconds left before the deadline (0 when it has passed), or None when the block has none."""
    ends = _ends_at.get()
    return None if ends is None else max(0.0, ends - time.monotonic())


def bounded(seconds: float) -> float:
    """`seconds`, or what is left of the deadline when that is less: for a timeout or a wait."""
    left = remaining()
    return seconds if left is None else min(seconds, left)


def length() -> float | None:
    """The length in seconds of the deadline in force (as `within` was given it), or None when there is none."""
    return _length.get()


def expired() -> bool:
    left = remaining()
    return left is not None and left <= 0


def missed(who: str, detail: str = "") -> str:
    """The one sentence a source fails with when the question's deadline ran out: it names the source (`who`) and,
    when known, what it was doing (`detail`)."""
    seconds = length()
    limit = "the question's deadline" if seconds is None else f"the question's {seconds:g} s deadline"
    why = f" ({detail})" if detail else ""
    return f"{who} did not answer within {limit}{why}; try again in a minute, or ask about a shorter window."
