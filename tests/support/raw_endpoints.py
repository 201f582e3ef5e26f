"""Endpoints on 127.0.0.1 that are not the service they stand in for, for the failure paths of the real clients:

- `SilentServer`: accepts every connection, reads what comes and never answers, until `release()` (or `stop()`)
  closes the connections: a service, load balancer or proxy that took the request and hangs.
- `CannedServer`: answers every HTTP request with one fixed status, Content-Type and body: a proxy's or captive
  portal's HTML page where an API was expected.

Both count what reached them (`connections`, `requests`), and `wait_connections(n)` waits for the event instead of
guessing how long it takes.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: How long a silent connection is kept at most if the test never releases it, so no thread outlives a broken test.
HOLD_LIMIT_S = 60.0


class SilentServer:
    """Accepts connections and never replies. `endpoint` is an http:// URL to give a client."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._open: list[socket.socket] = []
        self._released = threading.Event()
        self._stopped = threading.Event()
        self._seen = threading.Condition()
        self._thread = threading.Thread(target=self._accept, name="silent-server", daemon=True)

    def start(self) -> SilentServer:
        self._thread.start()
        return self

    def _accept(self) -> None:
        self._listener.settimeout(0.05)  # a blocked accept() is not woken by close(): look for `stop()` in between
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed
                return
            with self._seen:
                self.connections += 1
                self._seen.notify_all()
                if self._released.is_set():
                    conn.close()
                else:
                    self._open.append(conn)

    def wait_connections(self, n: int = 1, timeout: float = 15.0) -> None:
        with self._seen:
            if not self._seen.wait_for(lambda: self.connections >= n, timeout):
                raise AssertionError(f"{self.connections} connections reached the silent server, not {n}")

    def release(self) -> None:
        """Close every connection held (the clients see the server hang up)."""
        self._released.set()
        with self._seen:
            for conn in self._open:
                conn.close()
            self._open.clear()

    def stop(self) -> None:
        self.release()
        self._stopped.set()
        self._thread.join(timeout=HOLD_LIMIT_S)
        self._listener.close()

    def __enter__(self) -> SilentServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _CannedHandler(BaseHTTPRequestHandler):
    server: _CannedHTTPServer
    protocol_version = "HTTP/1.1"
    timeout = 10

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        owner = self.server.owner
        with owner.lock:
            owner.requests += 1
        self.send_response(owner.status)
        self.send_header("Content-Type", owner.content_type)
        self.send_header("Content-Length", str(len(owner.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(owner.body)
        self.close_connection = True

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


class _CannedHTTPServer(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True

    def __init__(self, owner: CannedServer) -> None:
        super().__init__(("127.0.0.1", 0), _CannedHandler)
        self.owner = owner


class CannedServer:
    """Answers every request with `status`, `content_type` and `body`."""

    def __init__(self, body: bytes | str, content_type: str = "text/html; charset=utf-8", status: int = 200) -> None:
        self.body = body.encode() if isinstance(body, str) else body
        self.content_type = content_type
        self.status = status
        self.requests = 0
        self.lock = threading.Lock()
        self._httpd = _CannedHTTPServer(self)
        self.endpoint = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="canned-server", daemon=True)

    def __enter__(self) -> CannedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)
