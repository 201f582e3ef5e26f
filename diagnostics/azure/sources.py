"""What every Azure log backend does: run KQL over AzureDiagnostics for a time range.

Log Analytics (`loganalytics.LogAnalyticsSource`) and the local DuckDB workspace (`local_workspace.LocalWorkspace`,
used for exports and the demo) run the same KQL text, so everything the bot sends to Azure also runs in tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass
class KqlResult:
    columns: list[str]
    rows: Iterable[Sequence[Any]]
    partial_error: str | None = None  # Log Analytics returned some rows but not all
    types: list[str] = field(default_factory=list)  # Kusto column types, when the backend knows them
    #: What the backend says about the rows besides them (read in parts, …). Like `partial_error`, complete only
    #: once the rows have been read: a backend may read them in parts as they are consumed.
    notes: list[str] = field(default_factory=list)


class KqlBackend(Protocol):
    """Something that runs KQL over AzureDiagnostics: Log Analytics, or the local DuckDB workspace."""

    backend: str  # "log-analytics" | "local"
    label: str  # for people: "Log Analytics workspace 0f1e…", "demo workspace"
    origin: str  # workspace id or file names, for provenance

    def run_kql(self, query: str, start: datetime, end: datetime) -> KqlResult: ...
