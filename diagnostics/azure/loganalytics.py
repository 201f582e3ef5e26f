"""Log Analytics as a `KqlBackend`: the real `azure.monitor.query.LogsQueryClient`, with failures in words.

Retries are azure-core's own `RetryPolicy` decisions (it honours `Retry-After` on 429 and retries 5xx), configured
from the constructor, with the waits bounded (`DeadlineRetryPolicy`): a `Retry-After` is honoured up to
`RETRY_AFTER_CAP_S`, and nothing outlasts the question's deadline (`diagnostics.deadline`): each call's connect and
read timeouts and its total retry time are cut to what is left, and when nothing is left the workspace fails in
one sentence while the other sources still answer.

A query answers at most 500,000 rows or ~100 MB (docs/sources.md#azure-query-limits); beyond that the service
answers the first rows with a partial error (`E_QUERY_RESULT_SET_TOO_LARGE`). When the query sorts its rows by
TimeGenerated, those first rows are complete up to the last instant they reach, so the rest is asked for from
there, as many times as needed, while the rows are consumed (`_pages`): the caller gets every row, and a note that
says how many queries it took. A query that cannot be split (not sorted by time) stays partial, and says so.

This module also decides what a person reads when the query still fails. Every failure becomes one `SourceError`
sentence that names the workspace and says what to check, because the sentence is shown in Slack to an engineer in
the middle of an incident, who needs the next step, not a stack trace: also a 200 whose body is not a query result
(a proxy's HTML page, `{}`, garbage). Messages are built from status codes and the service's own error text, never
from request headers or a body, so a bearer token cannot leak into them.
"""

from __future__ import annotations

import json
import re
import ssl
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.core.pipeline.policies import RetryPolicy
from azure.monitor.query import LogsQueryClient, LogsQueryError, LogsQueryPartialResult, LogsTable

from diagnostics import deadline, replies
from diagnostics.azure.sources import KqlResult
from diagnostics.model import SourceError

DEFAULT_ENDPOINT = "https://api.loganalytics.io"
#: The query API is read-only, so a POST that never reached the service is safe to send again.
RETRY_METHODS = frozenset({"POST", "GET", "HEAD", "OPTIONS"})
CONNECT_TIMEOUT_S = 15
#: Extra read time beyond the server-side timeout, for the answer to travel back.
READ_MARGIN_S = 30
MAX_SERVICE_MESSAGE = 400
#: The longest a `Retry-After` is waited for: the service may ask for an hour, and a person is waiting.
RETRY_AFTER_CAP_S = 30
#: What the SDK raises when it cannot read a 200 body as a query result (JSON syntax, missing keys, wrong types).
UNREADABLE = (ValueError, TypeError, KeyError, AttributeError)
#: How the service says it cut the result at its limits (docs/sources.md#azure-query-limits): "Query result set has
#: exceeded the internal record count limit 500000 (E_QUERY_RESULT_SET_TOO_LARGE)", or the data size limit.
TRUNCATED = re.compile(r"E_QUERY_RESULT_SET_TOO_LARGE|result set has exceeded", re.IGNORECASE)
#: A query whose rows can be read in parts split by time: it ends sorting them by time, oldest first (nulls first,
#: Kusto's default for `asc`: a summary row of a `union` comes first in every part).
TIME_SORTED = re.compile(r"\|\s*(?:sort|order)\s+by\s+TimeGenerated\s+asc(?:\s+nulls\s+first)?\s*$")
#: The next part starts this much before the last instant of the previous one, in case the service's timespan
#: excludes its start; rows before that instant are dropped (they were in the previous part).
SPLIT_OVERLAP = timedelta(milliseconds=1)


class OutOfTime(Exception):
    """The retry policy's answer to a wait or an attempt the question's deadline leaves no time for."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("the question's deadline has passed")
        self.detail = detail  # what the refused wait was for, e.g. "Log Analytics asked to wait 3600 s (HTTP 429)"


class DeadlineRetryPolicy(RetryPolicy):
    """azure-core's `RetryPolicy` (the same decisions and counts), with bounded waits.

    azure-core sleeps for whatever `Retry-After` says: here it is honoured up to `RETRY_AFTER_CAP_S`, and a wait
    (Retry-After or backoff) the question's deadline cannot hold is not begun (`OutOfTime`). Before each attempt the
    connect and read timeouts are cut to what is left of the deadline, as azure-core itself cuts the connect timeout
    to its retry `timeout` (`_configure_timeout`, which this extends).
    """

    def sleep(self, settings: dict[str, Any], transport: Any, response: Any = None) -> None:
        asked = self.get_retry_after(response) if response is not None else None
        wait = min(asked, RETRY_AFTER_CAP_S) if asked else self.get_backoff_time(settings)
        left = deadline.remaining()
        if left is not None and wait >= left:
            status = f"HTTP {response.http_response.status_code}, and " if response is not None else ""
            raise OutOfTime(f"{status}Log Analytics asked to wait {asked:g} s" if asked
                            else f"{status}no time left to retry")
        if wait > 0:
            transport.sleep(wait)

    def _configure_timeout(self, request: Any, absolute_timeout: float, is_response_error: bool) -> None:
        super()._configure_timeout(request, absolute_timeout, is_response_error)
        left = deadline.remaining()
        if left is None:
            return
        if left <= 0:
            raise OutOfTime()
        options = request.context.options
        for key in ("connection_timeout", "read_timeout"):
            if key in options:
                options[key] = min(options[key], left)


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
        self.read_timeout = server_timeout + READ_MARGIN_S
        self._client = LogsQueryClient(credential, **self._client_options(
            connection_verify, retry_total, retry_backoff_factor, retry_backoff_max))

    def _client_options(self, connection_verify: str | bool | None, retry_total: int,
                        retry_backoff_factor: float, retry_backoff_max: float) -> dict[str, Any]:
        """azure-core settings. `retry_status` follows `retry_total` (azure-core caps status retries at 3
        otherwise); `retry_read=0` because a query that timed out server-side would only time out again."""
        retry_policy = DeadlineRetryPolicy(
            retry_total=retry_total, retry_status=retry_total, retry_connect=retry_total, retry_read=0,
            retry_backoff_factor=retry_backoff_factor, retry_backoff_max=retry_backoff_max)
        options: dict[str, Any] = {
            "endpoint": self.endpoint,
            "retry_policy": retry_policy,
            "connection_timeout": CONNECT_TIMEOUT_S,
            "read_timeout": self.read_timeout,
        }
        if connection_verify is not None:
            options["connection_verify"] = connection_verify
        return options

    def run_kql(self, query: str, start: datetime, end: datetime) -> KqlResult:
        """Run `query` over [start, end] (the API's `timespan`); a partial answer keeps its rows and says why; an
        answer cut at the service's limits is completed in parts split by time when the query allows it.

        Under a question's deadline the call's timeouts and retries end with it (`DeadlineRetryPolicy`)."""
        response = self._ask(query, start, end)
        if isinstance(response, LogsQueryPartialResult):
            result = _result(response.partial_data or [], partial_message(response.partial_error))
            if _truncated(response.partial_error) and TIME_SORTED.search(query) and "TimeGenerated" in result.columns:
                whole = KqlResult(result.columns, [], None, result.types)
                whole.rows = self._pages(query, end, result, whole)
                return whole
            return result
        return _result(response.tables, None)

    def _pages(self, query: str, end: datetime, first: KqlResult, whole: KqlResult) -> Iterator[Sequence[Any]]:
        """The rows of a time-sorted query the service cut at its limits, part after part: each part's rows are kept
        up to (not including) the last instant it reached, and the next part is asked for from that instant. Ends
        with a note on `whole` saying how many parts it took, or its partial error when a part could not be read or
        one instant alone holds more rows than a part."""
        at = first.columns.index("TimeGenerated")
        rows, parts, count, cut = list(first.rows), 1, 0, None
        while True:
            times = [r[at] for r in rows if r[at] is not None]
            last = max(times) if times else None
            kept = [r for r in rows if (r[at] is None and parts == 1) or (r[at] is not None and r[at] < last)] \
                if last is not None else []
            if not kept or (cut is not None and last == cut):
                count += len(rows)
                yield from rows
                whole.partial_error = (f"{self.label} returned only {count:,} rows: more rows share one instant than "
                                       "Log Analytics answers at once")
                return
            count += len(kept)
            yield from kept
            cut = last
            try:
                response = self._ask(query, last - SPLIT_OVERLAP, end)
            except SourceError as exc:
                whole.partial_error = f"read {count:,} rows in {parts} parts, then: {exc}"
                return
            parts += 1
            page = _result(response.partial_data or [] if isinstance(response, LogsQueryPartialResult)
                           else response.tables, None)
            rows = [r for r in page.rows if r[at] is not None and r[at] >= last]
            if isinstance(response, LogsQueryPartialResult) and _truncated(response.partial_error):
                continue
            count += len(rows)
            yield from rows
            whole.notes.append(f"{self.label} answers at most 500,000 rows (~100 MB) per query: these {count:,} rows "
                               f"were read in {parts} queries, split by time.")
            if isinstance(response, LogsQueryPartialResult):
                whole.partial_error = partial_message(response.partial_error)
            return

    def _ask(self, query: str, start: datetime, end: datetime) -> Any:
        """One call of the query API: its result (complete or partial), or a SourceError in one sentence."""
        left = deadline.remaining()
        if left is not None and left <= 0:
            raise SourceError(deadline.missed(self.label))
        # Whether the deadline, not this source's own timeouts, is what can cut the connection and the read short.
        connect_cut = left is not None and left < CONNECT_TIMEOUT_S
        read_cut = left is not None and left < self.read_timeout
        timeouts: dict[str, float] = {"connection_timeout": deadline.bounded(CONNECT_TIMEOUT_S),
                                      "read_timeout": deadline.bounded(self.read_timeout)}
        if left is not None:
            timeouts["timeout"] = left  # azure-core's total time for the call, its retries included
        answered: list[Any] = []  # the last HTTP response, to say what came back when it is not a query result
        try:
            response = self._client.query_workspace(
                self.workspace_id, query, timespan=(start, end), server_timeout=self.server_timeout,
                retry_on_methods=RETRY_METHODS, raw_response_hook=lambda r: answered.append(r.http_response),
                **timeouts,
            )
        except OutOfTime as exc:
            raise SourceError(deadline.missed(self.label, exc.detail)) from None
        except AzureError as exc:
            cut = connect_cut if _caused_by(exc, ServiceRequestError) else read_cut
            if deadline.expired() or (cut and _is_timeout(exc)):
                status = status_code(exc)
                detail = f"HTTP {status}" if status else f"no answer from {self.endpoint}"
                raise SourceError(deadline.missed(self.label, detail)) from exc
            if answered and answered[-1].status_code == 200:
                raise SourceError(self.unexpected(answered[-1])) from exc
            raise SourceError(self.explain(exc)) from exc
        except UNREADABLE as exc:
            raise SourceError(self.unexpected(answered[-1] if answered else None)) from exc
        if not isinstance(response, LogsQueryPartialResult) and (not response.tables
                                                                 or not response.tables[0].columns):
            raise SourceError(self.unexpected(answered[-1] if answered else None))
        return response

    def unexpected(self, response: Any) -> str:
        """One sentence for a 200 whose body is not a query result: what came back, and where to look."""
        what = "a body the client could not read"
        if response is not None:
            what = _what_came_back(response.text(), response.headers.get("Content-Type", ""))
        return (f"{self.label} answered 200 with {what}, not a query result{replies.proxy_hint(what)}; check "
                f"[azure] endpoint ({self.endpoint}).")

    def explain(self, exc: BaseException) -> str:
        """One sentence for a failed query: what went wrong with this workspace and what to check."""
        label, endpoint = self.label, self.endpoint
        status = status_code(exc)
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


def _truncated(error: LogsQueryError | None) -> bool:
    """Whether a partial answer was cut at the service's result limits (rather than failing part of the query)."""
    if error is None:
        return False
    details = " ".join(_deepest_message(d) for d in (error.details or []))
    return bool(TRUNCATED.search(f"{error.message or ''} {error.code or ''} {details}"))


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


def status_code(exc: BaseException) -> int | None:
    """The HTTP status the service answered, if any (the SDK re-wraps errors, so look down the chain)."""
    for e in _chain(exc):
        if isinstance(e, HttpResponseError) and e.status_code is not None:
            return int(e.status_code)
    return None


def _what_came_back(text: str, content_type: str) -> str:
    """A 200 body that is not a query result, in a few words: an HTML page, garbage, JSON without a result table."""
    try:
        document = json.loads(text)
    except ValueError:
        return replies.describe(text, content_type)
    tables = document.get("tables") if isinstance(document, dict) else None
    if not isinstance(tables, list) or not tables:
        return "JSON without a result table"
    return "a result table the client could not read"


def _is_timeout(exc: BaseException) -> bool:
    """A connect or read timeout somewhere down the chain (requests, urllib3, the socket)."""
    return any(isinstance(e, TimeoutError) or "Timeout" in type(e).__name__ for e in _chain(exc))


def _is_tls_failure(exc: BaseException) -> bool:
    return any(isinstance(e, ssl.SSLError) or type(e).__name__ == "SSLError" for e in _chain(exc))
