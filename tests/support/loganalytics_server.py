"""A Log Analytics query endpoint on 127.0.0.1 that executes the KQL it receives, for tests of the real client.

It speaks the wire format of `POST https://api.loganalytics.io/v1/workspaces/{id}/query` closely enough for
`azure.monitor.query.LogsQueryClient` to be used unmodified against it: TLS (azure-core refuses to send a
bearer token over plain HTTP, and the production path must not be weakened for tests), bearer-token checks,
the service's JSON shapes for results, partial results and errors, and the `timespan` semantics. Queries run
for real on a `LocalWorkspace` (DuckDB + duckdb-kql) per workspace id, so every KQL string the bot sends is
executed by the tests.

Rows may carry an `_IngestionTime` (when they became queryable; default: their TimeGenerated): `ingestion_time()`
reads it, and a row is not served before the server's `now` reaches it, so tests can make rows arrive late and out of
order.

`row_cap` (settable at any time) cuts every answer longer than that to its first rows, with the partial error the
service gives at its result limits (docs/sources.md#azure-query-limits: 500,000 rows), so the bot's handling of
big answers runs against a small workspace.

Fault injection (`throttle`, `fail`, `partial`, `answer_with`, `hang`) queues canned answers that are served, in
order, to the next requests (of one workspace, when the fault names one); every request is recorded (path, parsed
body, whether a token was presented) for assertions. `hang` holds a request without answering until the test calls
`release()` (or the server stops): an endpoint that accepts the connection and never replies.

Usage::

    with LogAnalyticsServer({"ws-1": rows}) as server:
        source = AzureLogAnalyticsSource("ws-1", credential=StaticTokenCredential(),
                                         endpoint=server.endpoint, connection_verify=server.ca_path)
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import ssl
import tempfile
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.azure.parser.rows import RowError, parse_time
from diagnostics.azure.sources import KqlResult
from diagnostics.model import SourceError

QUERY_PATH = re.compile(r"^/v1/workspaces/(?P<workspace>[^/?#]+)/query/?$")
DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
#: With no timespan the service does not constrain the query; DuckDB wants a finite range.
UNBOUNDED = (datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: A held request is let go after this long even if the test never releases it, so no handler thread outlives a
#: broken test for ever.
HOLD_LIMIT_S = 60.0

#: Error bodies as the service words them (code, message), by HTTP status.
SERVICE_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadArgumentError", "The request had some invalid properties"),
    401: ("AuthorizationRequiredError", "Valid authentication was not provided"),
    403: ("InsufficientAccessError",
          "The provided credentials have insufficient access to perform the requested operation"),
    404: ("WorkspaceNotFoundError", "The workspace could not be found"),
    429: ("ThrottledError", "Your request was throttled. Please wait and try again"),
    500: ("InternalServerError", "An internal error occurred"),
    502: ("BadGateway", "The server received an invalid response from an upstream server"),
    503: ("ServiceUnavailableError", "The service is temporarily unavailable"),
    504: ("GatewayTimeout", "The query took too long to run"),
}


class TimespanError(ValueError):
    """The request's `timespan` is not an ISO 8601 interval the service would accept."""


def parse_duration(text: str) -> timedelta:
    """`PT1H`, `P1DT2H`, `PT3600.0S` (what azure-monitor-query sends for a timedelta) -> timedelta."""
    match = DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT"):
        raise TimespanError(f"not an ISO 8601 duration: {text!r}")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return timedelta(**parts)


def _instant(text: str) -> datetime:
    try:
        return datetime.fromtimestamp(parse_time(text), UTC)
    except RowError as exc:
        raise TimespanError(f"not an ISO 8601 time: {text!r}") from exc


def parse_timespan(text: str | None, now: datetime) -> tuple[datetime, datetime]:
    """An ISO 8601 interval as the service reads it: `start/end`, `start/duration`, `duration/end`, or a
    bare `duration` that ends now. None means no constraint."""
    if not text:
        return UNBOUNDED
    if "/" not in text:
        return now - parse_duration(text), now
    first, _, second = text.partition("/")
    if first.upper().startswith("P"):
        end = _instant(second)
        return end - parse_duration(first), end
    start = _instant(first)
    end = start + parse_duration(second) if second.upper().startswith("P") else _instant(second)
    if end < start:
        raise TimespanError(f"the timespan ends before it starts: {text!r}")
    return start, end


def iso_z(epoch: float) -> str:
    """Epoch seconds -> `2024-05-01T02:10:03.1200000Z`: Kusto prints 7 fractional digits, which the SDK must
    (and does) cope with."""
    moment = EPOCH + timedelta(microseconds=round(epoch * 1_000_000))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def wire_value(value: Any, kusto_type: str) -> Any:
    """A LocalWorkspace cell in the service's JSON: ISO datetimes, and "" (not null) for empty strings."""
    if kusto_type == "datetime":
        return None if value is None else iso_z(float(value))
    if kusto_type == "string":
        return "" if value is None else str(value)
    if value is None:
        return None
    if kusto_type in ("long", "int"):
        return int(value)
    if kusto_type == "real":
        return float(value)
    if kusto_type == "bool":
        return bool(value)
    return value if isinstance(value, str | int | float | bool) else str(value)


def result_table(result: KqlResult) -> dict[str, Any]:
    """A KqlResult as the service's `PrimaryResult` table."""
    types = result.types or ["string"] * len(result.columns)
    return {
        "name": "PrimaryResult",
        "columns": [{"name": n, "type": t} for n, t in zip(result.columns, types, strict=True)],
        "rows": [[wire_value(v, t) for v, t in zip(row, types, strict=True)] for row in result.rows],
    }


def error_body(status: int, message: str | None = None, inner: dict[str, Any] | None = None) -> dict[str, Any]:
    """The service's error envelope: {"error": {"message", "code", "correlationId"[, "innererror"]}}."""
    code, default = SERVICE_ERRORS.get(status, ("Error", f"HTTP {status}"))
    error: dict[str, Any] = {"message": message or default, "code": code, "correlationId": str(uuid.uuid4())}
    if inner:
        error["innererror"] = inner
    return {"error": error}


def partial_error(message: str) -> dict[str, Any]:
    """What the live service attaches to a 200 answer whose rows are incomplete; the specific reason sits in
    `details[].innererror.message`, the top-level message is generic."""
    return {
        "code": "PartialError",
        "message": "There were some errors when processing your query.",
        "details": [{
            "code": "EngineError",
            "message": "Something went wrong processing your query on the server.",
            "innererror": {"code": "-2133196797", "message": message, "severity": 2, "severityName": "Error"},
        }],
    }


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it. The token itself is never kept, only whether one came."""

    method: str
    path: str
    body: Any
    auth_present: bool
    auth_valid: bool
    prefer: str = ""


@dataclass(frozen=True)
class Fault:
    """A canned answer for one future request."""

    kind: str  # "status" | "partial" | "body" | "hang"
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    message: str = ""
    body: bytes = b""  # "body": the bytes answered, as they are
    workspace: str | None = None  # only a request for this workspace gets the fault (None: the next request)


@dataclass
class Reply:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)
    raw: bytes | None = None  # sent as it is instead of `body` as JSON (the Content-Type is then in `headers`)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 and localhost, valid as its own trust anchor.

    It carries the extensions a strict verifier expects of a CA that signs itself (basic constraints, key
    usage with keyCertSign, subject/authority key ids), so `connection_verify=<cert>` works under OpenSSL 3.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vpnbot test Log Analytics")])
    now = datetime.now(UTC)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                         x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Handler(BaseHTTPRequestHandler):
    """Thin HTTP adapter: everything that decides an answer lives in `LogAnalyticsServer.answer`."""

    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    timeout = 10  # a client that connects and never speaks must not pin a thread

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        reply = self.server.owner.answer("POST", self.path, raw, self.headers.get("Authorization"),
                                         self.headers.get("Prefer") or "")
        self._send(reply)

    def do_GET(self) -> None:
        reply = self.server.owner.answer("GET", self.path, b"", self.headers.get("Authorization"), "")
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        payload = json.dumps(reply.body).encode() if reply.raw is None else reply.raw
        self.send_response(reply.status)
        if reply.raw is None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output stays readable, and request lines never reach a log."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins handler threads, so stop() leaves nothing running
    block_on_close = True

    def __init__(self, owner: LogAnalyticsServer, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner
        # The handshake runs on the handler thread's first read, not in the accept loop.
        self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet on TLS handshakes a test deliberately fails (an untrusting client hangs up)."""


class LogAnalyticsServer:
    """A local Log Analytics query endpoint over HTTPS. Not started until `start()` or `with`."""

    def __init__(
        self,
        workspaces: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        *,
        token: str = "test-token",
        now: Callable[[], datetime] | None = None,
        row_cap: int | None = None,
    ) -> None:
        self.token = token
        #: The most rows an answer holds; a longer result is cut as the service cuts it at 500,000 rows.
        self.row_cap = row_cap
        self.now = now or (lambda: datetime.now(UTC))
        self.requests: list[RecordedRequest] = []
        self._workspaces: dict[str, LocalWorkspace] = {}
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._held = threading.Condition(self._lock)
        self.held = 0  # requests held by `hang` so far
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: Path | None = None
        self.ca_path = ""
        for workspace_id, rows in (workspaces or {}).items():
            self.add_workspace(workspace_id, rows)

    # -- set-up ---------------------------------------------------------------------------------------------

    def add_workspace(self, workspace_id: str, rows: Iterable[Mapping[str, Any]] = ()) -> LocalWorkspace:
        """A workspace holding `rows` (AzureDiagnostics column -> value); columns exist only if a row has them."""
        workspace = LocalWorkspace(label=f"workspace {workspace_id}", origin=workspace_id)
        workspace.load_rows(list(rows))
        self._workspaces[workspace_id] = workspace
        return workspace

    def start(self) -> LogAnalyticsServer:
        self._tmp = Path(tempfile.mkdtemp(prefix="vpnbot-la-"))
        cert, key = make_certificate(self._tmp)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.ca_path = str(cert)
        self._httpd = _HTTPServer(self, context)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="loganalytics-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (held requests are released first), close the port, join every thread and delete the
        certificate."""
        self.release()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> LogAnalyticsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        return int(self._httpd.server_address[1])

    @property
    def endpoint(self) -> str:
        """What to pass as the client's `endpoint` (the client appends `/v1`)."""
        return f"https://127.0.0.1:{self.port}"

    # -- fault injection ------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget recorded requests and pending faults, so one running server can serve many tests."""
        self.release()
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self.held = 0
        self._released.clear()

    def throttle(self, n: int, retry_after: float = 0) -> None:
        """The next `n` requests get 429 with `Retry-After`, as the service does when a caller is throttled."""
        headers = (("Retry-After", f"{retry_after:g}"),)
        self._queue(Fault("status", 429, headers) for _ in range(n))

    def fail(self, n: int, status: int = 500) -> None:
        """The next `n` requests get `status` with the service's error body for it."""
        self._queue(Fault("status", status) for _ in range(n))

    def partial(self, message: str) -> None:
        """The next query answers 200 with its tables AND a top-level `error` (a partial result)."""
        self._queue([Fault("partial", message=message)])

    def answer_with(self, body: bytes | str, content_type: str = "text/html; charset=utf-8", status: int = 200,
                    times: int = 1, workspace: str | None = None) -> None:
        """The next `times` requests (for `workspace`, if given) get `body` as it is, with this status and
        Content-Type: what a proxy, a captive portal or a broken gateway in front of the service answers."""
        raw = body.encode() if isinstance(body, str) else body
        headers = (("Content-Type", content_type),)
        self._queue(Fault("body", status, headers, body=raw, workspace=workspace) for _ in range(times))

    def hang(self, times: int = 1, workspace: str | None = None) -> None:
        """The next `times` requests (for `workspace`, if given) are read and then held unanswered, the connection
        open, until `release()`: a service that accepted the query and never answers."""
        self._queue(Fault("hang", workspace=workspace) for _ in range(times))

    def release(self) -> None:
        """Let every held request (and any later `hang`) go on to its normal answer."""
        self._released.set()

    def wait_held(self, n: int = 1, timeout: float = 15.0) -> None:
        """Wait until `n` requests are being (or were) held: the event itself, not a guess at how long it takes."""
        with self._held:
            if not self._held.wait_for(lambda: self.held >= n, timeout):
                raise AssertionError(f"the server held {self.held} requests, not {n}, within {timeout:g} s")

    def _queue(self, faults: Iterable[Fault]) -> None:
        with self._lock:
            self._faults.extend(faults)

    def _next_fault(self, workspace: str | None) -> Fault | None:
        """The first queued fault for this request: one that names its workspace, or names none."""
        with self._lock:
            fault = next((f for f in self._faults if f.workspace in (None, workspace)), None)
            if fault is not None:
                self._faults.remove(fault)
            return fault

    def _hold(self) -> None:
        with self._held:
            self.held += 1
            self._held.notify_all()
        self._released.wait(HOLD_LIMIT_S)

    # -- answering ------------------------------------------------------------------------------------------

    def answer(self, method: str, path: str, raw: bytes, authorization: str | None, prefer: str) -> Reply:
        """Decide the reply to one request: injected fault, then auth, routing, workspace, query."""
        body = _json_or_none(raw)
        presented = (authorization or "").strip()
        auth_valid = presented == f"Bearer {self.token}"
        with self._lock:
            self.requests.append(RecordedRequest(method, path.split("?", 1)[0], body,
                                                 presented.lower().startswith("bearer "), auth_valid, prefer))
        match = QUERY_PATH.match(path.split("?", 1)[0])
        fault = self._next_fault(match["workspace"] if match else None)
        if fault is not None and fault.kind == "hang":
            self._hold()
        if fault is not None and fault.kind == "status":
            return Reply(fault.status, error_body(fault.status), list(fault.headers))
        if fault is not None and fault.kind == "body":
            return Reply(fault.status, None, list(fault.headers), raw=fault.body)
        if not auth_valid:
            return Reply(401, error_body(401), [("WWW-Authenticate", 'Bearer error="invalid_token"')])
        if method != "POST" or not match:
            return Reply(404, {"error": {"message": f"The requested path does not exist: {path}",
                                         "code": "PathNotFoundError"}})
        workspace = self._workspaces.get(match["workspace"])
        if workspace is None:
            return Reply(404, error_body(404, f"The workspace {match['workspace']} could not be found"))
        reply = self._run(workspace, body)
        if fault is not None and fault.kind == "partial" and reply.status == 200:
            reply.body["error"] = partial_error(fault.message)
        return reply

    def _run(self, workspace: LocalWorkspace, body: Any) -> Reply:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return Reply(400, error_body(400, inner={"code": "InvalidBody",
                                                     "message": "The body must be JSON with a 'query' string"}))
        try:
            start, end = parse_timespan(body.get("timespan"), self.now())
        except TimespanError as exc:
            return Reply(400, error_body(400, inner={"code": "InvalidTimespan", "message": str(exc)}))
        try:
            # Rows whose `_IngestionTime` is after the server's now have not arrived yet (docs/watch.md).
            table = result_table(workspace.run_kql(body["query"], start, end, ingested_by=self.now()))
        except SourceError as exc:
            message = str(exc).removeprefix(f"{workspace.label}: ")
            return Reply(400, error_body(400, inner={"code": "SemanticError", "message": message}))
        except Exception as exc:  # an engine failure mid-fetch: the service would answer 500, not hang up
            return Reply(500, error_body(500, f"An internal error occurred: {exc}"))
        cap = self.row_cap
        if cap is not None and len(table["rows"]) > cap:
            # The service's answer beyond its record limit: the first rows, and a partial error that says why.
            table["rows"] = table["rows"][:cap]
            return Reply(200, {"tables": [table], "error": partial_error(
                f"Query result set has exceeded the internal record count limit {cap} "
                "(E_QUERY_RESULT_SET_TOO_LARGE; see https://aka.ms/kustoquerylimits)")})
        return Reply(200, {"tables": [table]})


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


__all__ = ["LogAnalyticsServer", "RecordedRequest", "make_certificate", "parse_duration", "parse_timespan"]
