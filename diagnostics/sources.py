"""What every log backend returns, so the rule engine never cares where rows came from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class SourceError(RuntimeError):
    """A backend failed after its retries. The message names the backend and says what to check."""


@dataclass
class KqlResult:
    columns: list[str]
    rows: Iterable[Sequence[Any]]
    partial_error: str | None = None  # Log Analytics returned some rows but not all
    types: list[str] = field(default_factory=list)  # Kusto column types, when the backend knows them


class KqlBackend(Protocol):
    """Something that runs KQL over AzureDiagnostics: Log Analytics, or the local DuckDB workspace."""

    backend: str  # "log-analytics" | "local"
    label: str  # for people: "Log Analytics workspace 0f1e…", "demo workspace"
    origin: str  # workspace id or file names, for provenance

    def run_kql(self, query: str, start: datetime, end: datetime) -> KqlResult: ...


@dataclass(frozen=True)
class QueryRecord:
    """A query as it was run, so anyone can re-run it: the JSON answer's `queries[]`."""

    backend: str
    text: str
    origin: str = ""
    start: datetime | None = None
    end: datetime | None = None
    rows: int = 0


@dataclass
class Fetch:
    """What running the queries told, besides the rows: what ran, what to say, which backends failed."""

    queries: list[QueryRecord] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
