"""Sources whose reads wait for each other: an answer comes only when its reads run at the same time.

    barrier = threading.Barrier(2, timeout=60)
    logs, metrics = Meeting(workspace, barrier, "run_kql"), Meeting(metrics_source, barrier, "read")

Read one after the other, the first read waits out the barrier's timeout and breaks it (the read raises, the test
fails): a test waits for the event, never for a time. Each read also notes the question's deadline it saw.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from diagnostics.deadline import remaining


class Meeting:
    """`source`, whose first read (`method`), or every read `when(*args)` accepts, first waits at `barrier`."""

    def __init__(self, source: Any, barrier: threading.Barrier, method: str,
                 when: Callable[..., bool] | None = None) -> None:
        self._source, self._barrier, self._method, self._when = source, barrier, method, when
        self._met = False
        self.deadlines: list[float | None] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._source, name)
        if name != self._method:
            return attr

        def read(*args: Any, **kwargs: Any) -> Any:
            self.deadlines.append(remaining())
            if self._when(*args) if self._when is not None else not self._met:
                self._met = True
                self._barrier.wait()
            return attr(*args, **kwargs)

        return read
