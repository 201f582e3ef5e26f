"""Log Analytics as a `KqlBackend`: the real `azure.monitor.query.LogsQueryClient`, with failures in words.

Retries are azure-core's own `RetryPolicy` (it honours `Retry-After` on 429 and retries 5xx), configured from
the constructor; this module only decides what a person reads when the query still fails. Every failure
becomes one `SourceError` sentence that names the workspace and says what to check, because the sentence is
shown in Slack to an engineer in the middle of an incident, who needs the next step, not a stack trace.
Messages are built from status codes and the service's own error text, never from request headers, so a
bearer token cannot leak into them.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.monitor.query import LogsQueryClient, LogsQueryError, LogsQueryPartialResult, LogsTable

from diagnostics.azure.sources import KqlResult
from diagnostics.model import SourceError

DEFAULT_ENDPOINT = "https://api.loganalytics.io"
#: The query API is read-only, so a POST that never reached the service is safe to send again.
RETRY_METHODS = frozenset({"POST", "GET", "HEAD", "OPTIONS"})
CONNECT_TIMEOUT_S = 15
#: Extra read time beyond the server-side timeout, for the answer to travel back.
READ_MARGIN_S = 30
MAX_SERVICE_MESSAGE = 400


class AzureLogAnalyticsSource:
    """Runs the bot's KQL on one Log Analytics workspace (`KqlBackend`)."""

    backend = "log-analytics"

    def __init__(
        self,
        workspace_id: str,
        *,
        credential: TokenCredential,
        endpoint: str = DEFAULT_ENDPOINT,
        connection_verify: str | bool | None = None,
        retry_total: int = 4,
        retry_backoff_factor: float = 0.8,
        retry_backoff_max: float = 30,
        server_timeout: int = 180,
    ) -> None:
        self.workspace_id = workspace_id
        self.endpoint = endpoint.rstrip("/")
        self.label = f"Log Analytics workspace {workspace_id}"
        self.origin = workspace_id
        self.retry_total = retry_total
        self.server_timeout = server_timeout
        self._client = LogsQueryClient(credential, **self._client_options(
            connection_verify, retry_total, retry_backoff_factor, retry_backoff_max))

    def _client_options(self, connection_verify: str | bool | None, retry_total: int,
                        retry_backoff_factor: float, retry_backoff_max: float) -> dict[str, Any]:
        """azure-core settings. `retry_status` follows `retry_total` (azure-core caps status retries at 3
        otherwise); `retry_read=0` because a query that timed out server-side would only time out again."""
        options: dict[str, Any] = {
            "endpoint": self.endpoint,
            "retry_total": retry_total,
            "retry_status": retry_total,
            "retry_connect": retry_total,
            "retry_read": 0,
            "retry_backoff_factor": retry_backoff_factor,
            "retry_backoff_max": retry_backoff_max,
            "connection_timeout": CONNECT_TIMEOUT_S,
            "read_timeout": self.server_timeout + READ_MARGIN_S,
        }
        if connection_verify is not None:
            options["connection_verify"] = connection_verify
        return options

    def run_kql(self, query: str, start: datetime, end: datetime) -> KqlResult:
        """Run `query` over [start, end] (the API's `timespan`); a partial answer keeps its rows and says why."""
        try:
            response = self._client.query_workspace(
                self.workspace_id, query, timespan=(start, end), server_timeout=self.server_timeout,
                retry_on_methods=RETRY_METHODS,
            )
        except AzureError as exc:
            raise SourceError(self.explain(exc)) from exc
        if isinstance(response, LogsQueryPartialResult):
            return _result(response.partial_data or [], partial_message(response.partial_error))
        return _result(response.tables, None)

    def explain(self, exc: BaseException) -> str:
        """One sentence for a failed query: what went wrong with this workspace and what to check."""
        label, endpoint = self.label, self.endpoint
        status = _status_code(exc)
        if status == 401 or (status is None and _caused_by(exc, ClientAuthenticationError)):
            rejected = " (the service rejected its token)" if status == 401 else ""
            return (f"{label}: no usable Azure credential{rejected}; run `az login`, "
                    "or set [azure] credential to the identity this host should use.")
        if status is not None:
            return self._explain_status(status, _service_message(exc))
        if _caused_by(exc, ServiceRequestError):
            if _is_tls_failure(exc):
                return (f"{label}: cannot reach {endpoint}: its TLS certificate is not trusted; check "
                        "[azure] endpoint, and the CA bundle (REQUESTS_CA_BUNDLE) if a proxy inspects TLS.")
            return (f"{label}: cannot reach {endpoint}; check the network, the proxy settings "
                    "and [azure] endpoint.")
        if _caused_by(exc, ServiceResponseError):
            return (f"{label}: {endpoint} did not answer in time or dropped the connection; "
                    "try a shorter window or try again in a minute.")
        return f"{label}: the query failed ({type(exc).__name__}); try again, and check [azure] endpoint."

    def _explain_status(self, status: int, message: str) -> str:
        label, retries = self.label, self.retry_total
        if status == 403:
            return (f"{label}: the identity lacks read access to the workspace; "
                    "grant it the Log Analytics Reader role on the workspace.")
        if status == 404:
            return (f"{label}: workspace id not found at {self.endpoint}; check [azure] workspace_id "
                    "(the Workspace ID on the workspace's Overview page) and [azure] endpoint.")
        if status == 400:
            return f"{label}: the service rejected the query: {message or 'no reason given'}."
        if status == 429:
            return f"{label}: throttled by Log Analytics (still after {retries} retries); try again in a minute."
        if status in (408, 504):
            return (f"{label}: the query timed out on the service (HTTP {status}, after {retries} retries); "
                    "try a shorter window.")
        if status >= 500:
            return (f"{label}: Log Analytics failed with HTTP {status} (still after {retries} retries); "
                    "the service is having trouble, try again in a few minutes.")
        detail = f": {message}" if message else ""
        return f"{label}: Log Analytics answered HTTP {status}{detail}."

    def close(self) -> None:
        """Release the HTTP connection pool (the credential belongs to the caller)."""
        self._client.close()

    def __enter__(self) -> AzureLogAnalyticsSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _result(tables: list[LogsTable], partial_error: str | None) -> KqlResult:
    """The first table (the query's `PrimaryResult`) as a KqlResult; datetimes arrive as `datetime`."""
    if not tables:
        return KqlResult(columns=[], rows=[], partial_error=partial_error, types=[])
    table = tables[0]
    return KqlResult(
        columns=list(table.columns),
        rows=[list(row) for row in table.rows],
        partial_error=partial_error,
        types=list(table.columns_types),
    )


def partial_message(error: LogsQueryError | None) -> str:
    """The reason of a partial answer. The service puts a generic top-level message ("There were some errors
    when processing your query.") and the real reasons in `details[].innererror`: prefer those."""
    if error is None:
        return "Log Analytics returned only part of the rows"
    reasons = [m for d in (error.details or []) if (m := _deepest_message(d))]
    unique = list(dict.fromkeys(reasons))
    if unique:
        return _one_line("; ".join(unique))
    return _one_line(error.message or error.code or "Log Analytics returned only part of the rows")


def _deepest_message(node: Any) -> str:
    message = ""
    while isinstance(node, Mapping):
        message = str(node.get("message") or message)
        node = node.get("innererror")
    return message


def _service_message(exc: BaseException) -> str:
    """The most specific message the service gave (its innermost `innererror`), on one line."""
    model = getattr(exc, "model", None)
    if isinstance(model, LogsQueryError) and model.message:
        return _one_line(model.message)
    odata = getattr(exc, "error", None)
    if odata is not None:
        inner = _deepest_message(getattr(odata, "innererror", None) or {})
        return _one_line(inner or getattr(odata, "message", "") or "")
    return ""


def _one_line(text: str) -> str:
    flat = re.sub(r"\s+", " ", text).strip().rstrip(".")
    return flat if len(flat) <= MAX_SERVICE_MESSAGE else flat[: MAX_SERVICE_MESSAGE - 1] + "…"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (`inner_exception`) and what it was raised from or during."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = getattr(current, "inner_exception", None)
        todo.extend([current.__cause__, current.__context__,
                     inner if isinstance(inner, BaseException) else None])
        todo.extend(a for a in current.args if isinstance(a, BaseException))


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(e, kind) for e in _chain(exc))


def _status_code(exc: BaseException) -> int | None:
    """The HTTP status the service answered, if any (the SDK re-wraps errors, so look down the chain)."""
    for e in _chain(exc):
        if isinstance(e, HttpResponseError) and e.status_code is not None:
            return int(e.status_code)
    return None


def _is_tls_failure(exc: BaseException) -> bool:
    return any(isinstance(e, ssl.SSLError) or type(e).__name__ == "SSLError" for e in _chain(exc))
