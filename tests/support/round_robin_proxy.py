"""A load balancer in front of several `vpnbot serve` replicas, on 127.0.0.1, as small as one can be: no
stickiness, request i goes to backend i mod N (counting only the requests it chose a backend for).

A test may send one request to one backend by sending it to `pinned_url(j)` (`/_to/j/slack/events`, forwarded as
`/slack/events`; Slack's signature covers the timestamp and the body, not the path): how "Slack's retry of this event
reaches the *other* replica" is made certain rather than likely. Every forwarded request is recorded (`forwarded`),
so a test can ask which backend took a delivery (`backend_of`). A backend that cannot be reached gets the client a
502, as a load balancer without health checks would answer.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

#: `/_to/<index in backends>/<path>`: the request goes to that backend, as `/<path>`.
PINNED = re.compile(r"^/_to/(\d+)(/.*)$")
#: Headers that describe one hop, not the request: never forwarded as they came.
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"}


@dataclass(frozen=True)
class Forwarded:
    backend: int  # index in the proxy's backends
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the backend answered (502: it could not be reached)


class RoundRobinProxy:
    """`RoundRobinProxy([url_a, url_b]).start()`; `url` is where clients send what they would send a backend (the
    backends' paths are kept: a backend URL's own path is ignored)."""

    def __init__(self, backends: Sequence[str], timeout: float = 30.0) -> None:
        self.backends = [urlsplit(b) for b in backends]
        self.timeout = timeout
        self.forwarded: list[Forwarded] = []
        self._next = 0
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> RoundRobinProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="round-robin-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> RoundRobinProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The proxy's /slack/events URL (what Slack is configured with)."""
        assert self._httpd is not None, "the proxy is not running"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/slack/events"

    def pinned_url(self, backend: int) -> str:
        """A /slack/events URL whose requests all go to `backend` (an index in `backends`)."""
        return self.url.replace("/slack/events", f"/_to/{backend}/slack/events")

    def choose(self, path: str) -> tuple[int, str]:
        """(backend, path to forward): the pinned one, else the next in turn."""
        pinned = PINNED.match(path)
        if pinned is not None:
            index = int(pinned.group(1))
            if not 0 <= index < len(self.backends):
                raise ValueError(f"{path}: {index} is not a backend (0-{len(self.backends) - 1})")
            return index, pinned.group(2)
        with self._lock:
            index, self._next = self._next % len(self.backends), self._next + 1
        return index, path

    def backend_of(self, marker: bytes) -> int:
        """The backend that took the first request whose body contains `marker` (a Slack event_id, a trigger id)."""
        with self._lock:
            for request in self.forwarded:
                if marker in request.body:
                    return request.backend
        raise AssertionError(f"no request with {marker!r} went through the proxy")

    def counts(self) -> list[int]:
        """How many requests each backend was given."""
        with self._lock:
            counts = [0] * len(self.backends)
            for request in self.forwarded:
                counts[request.backend] += 1
        return counts

    def forward(self, index: int, method: str, path: str, headers: dict[str, str],
                body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        backend = self.backends[index]
        connection = http.client.HTTPConnection(backend.hostname, backend.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            status, answer, content = response.status, response.getheaders(), response.read()
        except OSError:
            status, answer, content = 502, [("Content-Type", "text/plain")], b"backend unreachable\n"
        finally:
            connection.close()
        with self._lock:
            self.forwarded.append(Forwarded(index, method, path, headers, body, status))
        return status, answer, content


class _Handler(BaseHTTPRequestHandler):
    owner: RoundRobinProxy
    protocol_version = "HTTP/1.1"

    def _proxy(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            index, path = self.owner.choose(self.path)
        except ValueError as exc:
            self._reply(400, [("Content-Type", "text/plain")], f"{exc}\n".encode())
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        status, answer, content = self.owner.forward(index, self.command, path, headers, body)
        self._reply(status, [(k, v) for k, v in answer if k.lower() not in HOP | {"content-length"}], content)

    def _reply(self, status: int, headers: list[tuple[str, str]], content: bytes) -> None:
        self.send_response_only(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = _proxy

    def log_message(self, format: str, *args: object) -> None:  # quiet: the test's output is the bot's
        pass
