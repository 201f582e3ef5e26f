"""The production Log Analytics source pointed at the local endpoint (tests/support/loganalytics_server.py), and
azure-core's waits between retries recorded instead of slept.

azure-core's `RetryPolicy` waits through the transport (`HttpTransport.sleep`): the server's `Retry-After` when the
answer carries one, its exponential backoff otherwise. `TransportSleeps.install` replaces that one method, so the
retry decisions stay azure-core's own and a test can check what the client waited for, and when: each wait is
recorded with the number of requests the watched server had received at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from azure.core.pipeline.transport import HttpTransport

from diagnostics.azure.loganalytics import AzureLogAnalyticsSource
from support.loganalytics_server import LogAnalyticsServer


@dataclass(frozen=True)
class Wait:
    seconds: float
    after_requests: int | None  # requests the watched server had received when the client waited


class TransportSleeps:
    """Every wait azure-core's retry policy asked its transport for, in order, without waiting."""

    def __init__(self) -> None:
        self.waits: list[Wait] = []
        self.server: LogAnalyticsServer | None = None

    def watch(self, server: LogAnalyticsServer) -> None:
        self.server = server

    def install(self, monkeypatch: pytest.MonkeyPatch) -> TransportSleeps:
        def sleep(transport: Any, duration: float) -> None:
            seen = len(self.server.requests) if self.server is not None else None
            self.waits.append(Wait(duration, seen))

        monkeypatch.setattr(HttpTransport, "sleep", sleep)
        return self


def source_for(server: LogAnalyticsServer, workspace_id: str, **options: Any) -> AzureLogAnalyticsSource:
    """An `AzureLogAnalyticsSource` on `server`'s endpoint that trusts its test certificate; `options` as the
    constructor takes them (credential, retry_total, ...)."""
    options = {"endpoint": server.endpoint, "connection_verify": server.ca_path, **options}
    return AzureLogAnalyticsSource(workspace_id, **options)
