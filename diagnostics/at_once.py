"""Reads that do not depend on each other, run at the same time.

Against Log Analytics, Azure Monitor or CloudWatch each read is a round trip of a second or more, most of it waiting
on the network: an answer that needs three independent reads should wait for the slowest, not their sum. Each read
runs in a copy of the caller's context, so the question's deadline (`diagnostics.deadline`) holds in every thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from typing import Any

from diagnostics.timefmt import Progress


def at_once(*reads: Callable[[], Any], most: int | None = None) -> list[Any]:
    """Each read's result, in the order given. The first read that raises raises here, once every read has ended
    (a read never outlives the call). One read (or none) runs on the caller's thread; `most`: at most that many at
    a time."""
    if len(reads) <= 1:
        return [read() for read in reads]
    with ThreadPoolExecutor(max_workers=min(len(reads), most or len(reads)), thread_name_prefix="vpnbot-read") as pool:
        futures = [pool.submit(copy_context().run, read) for read in reads]
        return [future.result() for future in futures]


def one_at_a_time(progress: Progress | None) -> Progress | None:
    """`progress` called by one read at a time: a Slack progress message edited by two threads at once could end
    on the older of two lines."""
    if progress is None:
        return None
    lock = threading.Lock()

    def said(line: str) -> None:
        with lock:
            progress(line)

    return said
