"""Waiting for something to have happened in another thread, without guessing how long it takes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(happened: Callable[[], T], what: str, timeout: float = 15.0) -> T:
    """Re-check `happened()` until it is truthy and return its value; fail, saying `what` never happened, after
    `timeout` seconds (a bound for a broken test, not a guess at how long it takes)."""
    deadline = time.monotonic() + timeout
    while not (value := happened()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting until {what}")
        time.sleep(0.01)
    return value
