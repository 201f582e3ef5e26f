"""`POST /slack/events` and `GET /healthz` for a Bolt app, on one asyncio loop in a thread.

Why not `http.server`, nor asyncio streams: a thread per connection (http.server), or a task and timers per
read (streams), cost more than the acknowledgement itself. Under a burst (a channel's worth of commands when an
incident starts) 200 simultaneous requests were acknowledged at p99 in ~120 ms with threads, ~170 ms with
streams, ~60 ms with this protocol, which parses requests as their bytes arrive and answers in the same callback.
The loop calls `app.dispatch()` inline: that is safe only because every listener of the app acknowledges and
enqueues (microseconds) and never does I/O.

The HTTP it speaks is what Slack sends: HTTP/1.1, Content-Length bodies, keep-alive honoured.

What the port is open to (it faces the internet behind a load balancer), each bounded by a `Limits` field:
a request has `deadline_s` from its first byte to its last, however slowly it trickles (408); at most
`max_connections` are open at once (503 beyond); the unfinished requests of all connections hold at most
`max_buffered` bytes (a body counts for its declared length, reserved in one buffer of that size and released once
answered; past the cap the connections holding the most are closed with 503). The signature is checked here,
before Bolt parses anything: a request Slack did not sign costs an HMAC, gets 401 and at most a short, throttled
log line; a signed body that is not a Slack payload gets 400 and one short warning. `POST /alerts/azure` (Azure
Monitor alerts, bot/slack/alerts.py) is served by the route given as `alerts`, under the same limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.logs import RefusalLog, logger, preview

log = logger("vpnbot.slack")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
ALERTS_PATH = "/alerts/azure"  # Azure Monitor alerts (bot/slack/alerts.py), when a token is configured
MAX_HEAD = 64 * 1024  # a request's line and headers
MAX_BODY = 1 << 20  # Slack's payloads are a few kB
REQUEST_DEADLINE_S = 10.0  # from a request's first byte to its last, however it trickles
IDLE_S = 30.0  # a kept-alive connection with no request under way is closed after this
MAX_CONNECTIONS = 512  # open at once; more are answered 503 and closed (bench_ack opens 200 at once)
MAX_BUFFERED = 32 << 20  # bytes held by unfinished requests across all connections
SIGNATURE_MAX_AGE_S = 300  # Slack's replay window: a timestamp further from now is refused
SWEEP_S = 5.0
REASONS = {s.value: s.phrase for s in HTTPStatus}
JSON = {"content-type": ["application/json"]}
REFUSED = b'{"error": "invalid request"}'  # what Bolt answers a request it refuses


#: A route besides Bolt's: (query string, headers, body) -> (status, headers, body). Runs on the loop: no I/O.
Route = Callable[[str, Mapping[str, str], "bytes | bytearray | memoryview"], tuple[int, Mapping[str, Any], bytes]]


@dataclass(frozen=True)
class Limits:
    """What one server allows (the module's constants; tests make them small)."""

    max_head: int = MAX_HEAD
    max_body: int = MAX_BODY
    deadline_s: float = REQUEST_DEADLINE_S
    idle_s: float = IDLE_S
    max_connections: int = MAX_CONNECTIONS
    max_buffered: int = MAX_BUFFERED


class EventsServer:
    """Serves one Bolt app. `health()` supplies the /healthz document; `"ok": false` answers 503.

    `signing_secret` defaults to the app's own (Bolt keeps it); `clock` (monotonic seconds) paces the idle sweep and
    the log lines about refused requests."""

    def __init__(self, app: App, health: Callable[[], Mapping[str, Any]] | None = None, host: str = "127.0.0.1",
                 port: int = 0, *, signing_secret: str | None = None, limits: Limits | None = None,
                 clock: Callable[[], float] = time.monotonic, alerts: Route | None = None) -> None:
        self.app = app
        self.alerts = alerts  # POST /alerts/azure: (query, headers, body) -> reply; None: 404 like any other path
        self.health = health or (lambda: {"ok": True})
        secret = signing_secret if signing_secret is not None else getattr(app, "_signing_secret", "")
        if not secret:
            raise ValueError("HTTP mode needs the signing secret: requests are refused unless Slack signed them")
        self.verifier = SignatureVerifier(secret)
        self.limits = limits or Limits()
        self.clock = clock
        self.refusals = RefusalLog(log, clock=clock)
        self._address = (host, port)
        self._bound: tuple[str, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.connections: set[_HttpProtocol] = set()
        self.buffered = 0  # bytes held by the unfinished requests of every connection

    @property
    def host(self) -> str:
        assert self._bound is not None, "the server is not running"
        return self._bound[0]

    @property
    def port(self) -> int:
        assert self._bound is not None, "the server is not running"
        return self._bound[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{EVENTS_PATH}"

    def start(self) -> EventsServer:
        """Listen (raises OSError when the address is taken) and serve in a background thread."""
        self._thread = threading.Thread(target=self._run, name="vpnbot-http", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        """Stop accepting, close the connections (every request received has been answered), close the port."""
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(), or logged when it happens later
            if not self._ready.is_set():
                self._error = exc
                self._ready.set()
            else:
                log.error("HTTP server stopped", exc_info=exc)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await self._loop.create_server(lambda: _HttpProtocol(self), *self._address, backlog=1024)
        self._bound = server.sockets[0].getsockname()[:2]
        self._ready.set()
        async with server:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), SWEEP_S)
                if self._stop.is_set():
                    break
                idle_since = self.clock() - self.limits.idle_s  # a request under way has its own deadline
                for connection in [c for c in self.connections if c.started is None and c.idle_since < idle_since]:
                    connection.transport.close()
            server.close()
            for connection in list(self.connections):
                connection.transport.close()

    def hold(self, connection: _HttpProtocol, held: int) -> None:
        """`connection` now holds `held` bytes; past `max_buffered` in all, the biggest holders are closed (503)."""
        self.buffered += held - connection.held
        connection.held = held
        if self.buffered > self.limits.max_buffered:
            for biggest in sorted(self.connections, key=lambda c: c.held, reverse=True):
                if self.buffered <= self.limits.max_buffered:
                    break
                biggest.refuse(503, b"busy")  # releases what it held

    def answer(self, method: str, path: str, headers: Mapping[str, str],
               body: bytes | bytearray | memoryview) -> tuple[int, Mapping[str, Any], bytes]:
        route, _, query = path.partition("?")
        if route == EVENTS_PATH and method == "POST":
            return self.slack(query, headers, body)
        if route == ALERTS_PATH and self.alerts is not None:
            return self.alerts(query, headers, body) if method == "POST" else (405, {}, b"method not allowed")
        if route == HEALTH_PATH and method in ("GET", "HEAD"):
            doc = dict(self.health())
            return (200 if doc.get("ok") else 503), JSON, json.dumps(doc).encode()
        if route in (EVENTS_PATH, HEALTH_PATH):
            return 405, {}, b"method not allowed"
        return 404, {}, b"not found"

    def slack(self, query: str, headers: Mapping[str, str],
              body: bytes | bytearray | memoryview) -> tuple[int, Mapping[str, Any], bytes]:
        """A request to the app: refused (401) unless Slack signed it, 400 if Bolt cannot read its body."""
        text = str(body, "utf-8", "replace")
        refusal = self.unsigned(headers, text)
        if refusal:
            self.refusals.refused(refusal, text)
            return 401, JSON, REFUSED
        try:
            request = BoltRequest(body=text, query=query, headers=dict(headers))
            problem = payload_problem(request.body)
        except Exception as exc:  # Bolt parses the body as it builds the request: JSON or a form it cannot read
            problem = type(exc).__name__
        if problem:
            log.warning("a signed request's body is not a Slack payload (%s): %s", problem, preview(text))
            return 400, {}, b"bad request"
        response = self.app.dispatch(request)
        return response.status, response.headers, (response.body or "").encode("utf-8")

    def unsigned(self, headers: Mapping[str, str], text: str) -> str:
        """Why the request is not one Slack signed in the last 5 minutes ("" when it is)."""
        timestamp = headers.get("x-slack-request-timestamp", "")
        if not (0 < len(timestamp) <= 12 and timestamp.isascii() and timestamp.isdigit()):
            return "no timestamp" if not timestamp else "a timestamp that is not a number"
        if abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE_S:
            return "a timestamp more than 5 minutes away"
        if not self.verifier.is_valid(text, timestamp, headers.get("x-slack-signature", "")):
            return "a signature that does not match"
        return ""


class _HttpProtocol(asyncio.Protocol):
    """One connection: requests are parsed as their bytes arrive and answered in the same callback.

    A request is read in two parts: its head into `buffer` (at most `max_head` and one read), then its body into
    `body`, one buffer of the declared length (unless it came with the head). Both are dropped once the request is
    answered."""

    def __init__(self, server: EventsServer) -> None:
        self.server = server
        self.limits = server.limits
        self.buffer = bytearray()
        self.head: tuple[str, str, dict[str, str], bool] | None = None  # parsed, its body on its way
        self.body: bytearray | memoryview | None = None
        self.filled = 0  # bytes of `body` received
        self.held = 0  # bytes counted in server.buffered
        self.started: float | None = None  # loop time of the first byte of the request under way
        self.deadline: asyncio.TimerHandle | None = None  # set while a request is under way after a read
        self.idle_since = server.clock()
        self.transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.loop = asyncio.get_running_loop()
        if len(self.server.connections) >= self.limits.max_connections:
            self._reply(503, b"busy", keep_alive=False)
            return
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self._drop()

    def data_received(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self.transport.is_closing():
            if self.started is None:  # a request's first byte
                self.started = self.loop.time()
            view = self._read_head(view) if self.head is None else self._read_body(view)
        if self.started is not None and self.deadline is None and not self.transport.is_closing():
            # A request still under way (one that came whole was answered without a timer, as Slack's are).
            self.deadline = self.loop.call_at(self.started + self.limits.deadline_s, self.refuse, 408,
                                              b"request timeout")

    def _read_head(self, data: memoryview) -> memoryview:
        """Bytes for the request's head; what follows it (the body, or another request) is returned."""
        start = max(0, len(self.buffer) - 3)
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n", start)
        if end < 0 or end > self.limits.max_head:
            if end >= 0 or len(self.buffer) > self.limits.max_head:
                self.refuse(431, b"headers too large")
            else:
                self.server.hold(self, len(self.buffer))
            return memoryview(b"")
        method, path, headers, keep_alive = parse_head(self.buffer[:end])
        rest = memoryview(bytes(self.buffer[end + 4:]))
        self.buffer = bytearray()  # a fresh one: the old one's capacity goes with it
        raw_length = headers.get("content-length", "0") or "0"
        length = int(raw_length) if raw_length.isascii() and raw_length.isdigit() and len(raw_length) < 12 else -1
        if not method or length < 0 or "chunked" in headers.get("transfer-encoding", "").lower():
            self.refuse(400, b"bad request")
        elif length > self.limits.max_body:
            self.refuse(413, b"too large")
        elif len(rest) >= length:  # the body came with the head, as Slack's do: nothing to hold
            self.head, self.body = (method, path, headers, keep_alive), rest[:length]
            self._answer()
            return rest[length:]
        else:
            self.head = (method, path, headers, keep_alive)
            self.body, self.filled = bytearray(length), 0
            self.server.hold(self, length)
        return rest

    def _read_body(self, data: memoryview) -> memoryview:
        assert isinstance(self.body, bytearray)
        take = min(len(data), len(self.body) - self.filled)
        self.body[self.filled:self.filled + take] = data[:take]
        self.filled += take
        if self.filled == len(self.body):
            self._answer()
        return data[take:]

    def _answer(self) -> None:
        assert self.head is not None and self.body is not None
        (method, path, headers, keep_alive), body = self.head, self.body
        self._drop()
        try:
            status, extra, payload = self.server.answer(method, path, headers, body)
        except Exception:  # Bolt answers errors itself; this is a bug on our side
            log.error("request failed", exc_info=True)
            status, extra, payload, keep_alive = 500, {}, b"internal error", False
        self._reply(status, payload, extra, keep_alive)

    def refuse(self, status: int, message: bytes) -> None:
        """Answer `status` and close (the request under way is dropped)."""
        if not self.transport.is_closing():
            self._reply(status, message, keep_alive=False)
        self._drop()

    def _drop(self) -> None:
        """Forget the request under way: its buffers, its deadline, its bytes in the server's count."""
        self.head, self.body, self.filled = None, None, 0
        if self.buffer:
            self.buffer = bytearray()
        self.started = None
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
        self.server.buffered -= self.held
        self.held = 0
        self.idle_since = self.server.clock()

    def _reply(self, status: int, payload: bytes, headers: Mapping[str, Any] | None = None,
               keep_alive: bool = True) -> None:
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, '')}"]
        for name, values in (headers or {}).items():
            if name.lower() not in ("content-length", "connection"):
                lines += [f"{name}: {value}" for value in (values if isinstance(values, list) else [values])]
        lines += [f"Content-Length: {len(payload)}", "Connection: " + ("keep-alive" if keep_alive else "close")]
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)
        if not keep_alive:
            self.transport.close()


def payload_problem(body: Mapping[str, Any]) -> str:
    """What in a parsed payload Bolt would trip over while matching it to a listener ("" for nothing): it reads
    `event`, `view` as objects and `actions[0]` as one."""
    for key in ("event", "view"):
        if key in body and not isinstance(body[key], dict):
            return f"{key} is not an object"
    actions = body.get("actions", [{}])
    if not (isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)):
        return "actions is not a list of objects"
    return ""


def parse_head(head: bytes | bytearray) -> tuple[str, str, dict[str, str], bool]:
    """Request line and headers (names lower-cased), and whether to keep the connection; ("", …) if not HTTP/1.x."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return "", "", {}, False
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if parts[2] == "HTTP/1.1" else connection == "keep-alive"
    return parts[0], parts[1], headers, keep_alive
