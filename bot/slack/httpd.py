"""`POST /slack/events` and `GET /healthz` for a Bolt app, on one asyncio loop in a thread.

Why not `http.server`, nor asyncio streams: a thread per connection (http.server), or a task and timers per
read (streams), cost more than the acknowledgement itself. Under a burst (a channel's worth of commands when an
incident starts) 200 simultaneous requests were acknowledged at p99 in ~120 ms with threads, ~170 ms with
streams, ~60 ms with this protocol, which parses requests as their bytes arrive and answers in the same callback.
The loop calls `app.dispatch()` inline: that is safe only because every listener of the app acknowledges and
enqueues (microseconds) and never does I/O.

The HTTP it speaks is what Slack sends: HTTP/1.1, Content-Length bodies, keep-alive honoured.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from slack_bolt import App, BoltRequest

from bot.slack.logs import redact

log = logging.getLogger("vpnbot.slack")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_HEAD = 64 * 1024
MAX_BODY = 1 << 20  # Slack's payloads are a few kB
IDLE_S = 30.0  # a connection with nothing to say (idle keep-alive, or a request that never finishes) is closed
SWEEP_S = 5.0
REASONS = {s.value: s.phrase for s in HTTPStatus}


class EventsServer:
    """Serves one Bolt app. `health()` supplies the /healthz document; `"ok": false` answers 503."""

    def __init__(self, app: App, health: Callable[[], Mapping[str, Any]] | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.app = app
        self.health = health or (lambda: {"ok": True})
        self._address = (host, port)
        self._bound: tuple[str, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.connections: set[_HttpProtocol] = set()

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
                log.error("HTTP server stopped: %s", redact(repr(exc)))

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
                idle_since = time.monotonic() - IDLE_S
                for connection in [c for c in self.connections if c.last_active < idle_since]:
                    connection.transport.close()
            server.close()
            for connection in list(self.connections):
                connection.transport.close()

    def answer(self, method: str, path: str, headers: Mapping[str, str],
               body: bytes) -> tuple[int, Mapping[str, Any], bytes]:
        route, _, query = path.partition("?")
        if route == EVENTS_PATH and method == "POST":
            request = BoltRequest(body=body.decode("utf-8", errors="replace"), query=query, headers=dict(headers))
            response = self.app.dispatch(request)
            return response.status, response.headers, (response.body or "").encode("utf-8")
        if route == HEALTH_PATH and method in ("GET", "HEAD"):
            doc = dict(self.health())
            return (200 if doc.get("ok") else 503), {"content-type": ["application/json"]}, json.dumps(doc).encode()
        if route in (EVENTS_PATH, HEALTH_PATH):
            return 405, {}, b"method not allowed"
        return 404, {}, b"not found"


class _HttpProtocol(asyncio.Protocol):
    """One connection: requests are parsed as their bytes arrive and answered in the same callback."""

    def __init__(self, server: EventsServer) -> None:
        self.server = server
        self.buffer = bytearray()
        self.last_active = time.monotonic()
        self.transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        self.last_active = time.monotonic()
        self.buffer += data
        while not self.transport.is_closing():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    self._reply(431, b"headers too large", keep_alive=False)
                return
            method, path, headers, keep_alive = parse_head(bytes(self.buffer[:end]))
            raw_length = headers.get("content-length", "0") or "0"
            length = int(raw_length) if raw_length.isdigit() else -1
            if not method or length < 0 or "chunked" in headers.get("transfer-encoding", "").lower():
                self._reply(400, b"bad request", keep_alive=False)
                return
            if length > MAX_BODY:
                self._reply(413, b"too large", keep_alive=False)
                return
            if len(self.buffer) < end + 4 + length:
                return  # the rest of the body is on its way
            body = bytes(self.buffer[end + 4:end + 4 + length])
            del self.buffer[:end + 4 + length]
            try:
                status, extra, payload = self.server.answer(method, path, headers, body)
            except Exception as exc:  # Bolt answers errors itself; this is a bug on our side
                log.error("request failed: %s", redact(repr(exc)))
                status, extra, payload, keep_alive = 500, {}, b"internal error", False
            self._reply(status, payload, extra, keep_alive)

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


def parse_head(head: bytes) -> tuple[str, str, dict[str, str], bool]:
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
