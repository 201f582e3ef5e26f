"""Slack's side of the bot, on 127.0.0.1, for tests that drive the real Bolt app over HTTP.

* `FakeSlackAPI`: a local Web API for `WebClient(base_url=…)`. It records every call (method, arguments, time;
  whether the right bot token came, never the token), keeps the state the bot's calls change (messages and their
  edits, reactions, uploaded files and where they are shared) and answers like Slack: HTTP 200 with
  `{"ok": false, "error": …}` for API errors, 429 with `Retry-After` when a test injects throttling. It serves the
  three steps of `files_upload_v2` (getUploadURLExternal, the upload URL, completeUploadExternal), `files.info`,
  the download of a file's `url_private` (its bytes for the bot token, a sign-in page without it; `user_upload`
  puts a user's file there) and the `response_url` of slash commands. `hold(method)` keeps the bot's calls of a
  method waiting until the test releases them: how a test acts while the bot is still busy with an answer, without
  guessing how long it takes.
* `SlackSender`: what Slack sends to the app: slash commands, events and button clicks, signed with
  `slack_sdk.signature.SignatureVerifier` in the real `X-Slack-Signature` / `X-Slack-Request-Timestamp` headers
  (or deliberately badly signed / stale), with `X-Slack-Retry-Num` for re-deliveries.
* `FakeSocketMode`: Slack's Socket Mode WebSocket endpoint, for `vpnbot serve` with SLACK_APP_TOKEN.
* `running_bot(…)`: the bot's parts as `vpnbot serve` wires them (SlackBot and its worker pool, Bolt app, HTTP
  server), in one process on 127.0.0.1 (serve runs the app and its server in a second process; tests of that run
  `vpnbot serve`).
* `answered`, `final_answer`, `header_of`, `buttons_of`, `answer_and_click`: what the Slack tests wait for and read
  in what the bot sent.

Nothing here measures how fast the bot is (benchmarks/bench_ack.py does): tests check what happened, in what order.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier

BOT_TOKEN = "xoxb-1111-2222-fake-bot-token"
SIGNING_SECRET = "fake-signing-secret-0123456789abcdef"
TEAM = "T0000TEAM"
BOT_USER = "U0000BOT"
BOT_ID = "B0000BOT"
APP_TOKEN = "xapp-1-A0VPNBOT-3333-fake-app-token"


@dataclass(frozen=True)
class Call:
    method: str  # "chat.postMessage", …, "upload" (the upload URL), "response_url"
    args: dict[str, Any]
    at: float  # time.monotonic()
    auth_ok: bool

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.args.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else blocks

    @property
    def text(self) -> str:
        return str(self.args.get("text") or "")

    def __getitem__(self, key: str) -> Any:
        return self.args[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.args.get(key, default)


@dataclass
class Fault:
    status: int
    error: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    edits: int = 0


@dataclass
class StoredFile:
    id: str
    name: str
    title: str = ""
    content: bytes = b""
    shares: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # channel -> [{"ts", "thread_ts"}]
    user: str = BOT_USER  # who uploaded it (`user_upload`: someone talking to the bot)
    filetype: str = ""  # Slack's kind of file ("text", "csv", "zip", …)
    mode: str = ""  # "snippet" for a long paste Slack turned into a file ("hosted" for an upload)


#: The longest a held call waits for its release: a test that never releases fails, it does not hang.
HOLD_LIMIT_S = 60.0


@dataclass
class Hold:
    """The bot's calls of `method`, recorded but left unanswered until `release()` (also on leaving `with`)."""

    method: str
    when: Callable[[dict[str, Any]], bool] | None = None  # only the calls whose arguments it accepts
    reached: threading.Event = field(default_factory=threading.Event)  # a call of `method` is being held
    released: threading.Event = field(default_factory=threading.Event)

    def wait_reached(self, timeout: float = 30.0) -> None:
        """Wait until the bot has called `method` (and is waiting for its answer)."""
        if not self.reached.wait(timeout):
            raise AssertionError(f"the bot never called {self.method} within {timeout} s")

    def release(self) -> None:
        self.released.set()

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class FakeSlackAPI:
    """A local Slack Web API. Not serving until `start()` or `with`."""

    def __init__(self, users: Mapping[str, str | None] | None = None, token: str = BOT_TOKEN,
                 not_in: tuple[str, ...] = ()) -> None:
        self.token = token
        self.socket_mode: FakeSocketMode | None = None  # started by start_socket_mode()
        self.users: dict[str, str | None] = dict(users or {})  # user id -> IANA zone (None: Slack has none)
        self.not_in = set(not_in)  # channels the bot is not a member of
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.reactions: dict[tuple[str, str], set[str]] = {}
        self.files: dict[str, StoredFile] = {}
        self.unshared_checks = 0  # files.info answers "not shared yet" this many times
        self.latency = 0.0  # seconds each Web API call takes to be answered, as Slack's servers over the internet
        self._faults: dict[str, deque[Fault]] = {}
        self._holds: dict[str, Hold] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition()  # notified after every call
        self._ts = itertools.count(1)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------------------

    def start(self) -> FakeSlackAPI:
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-slack-api", daemon=True)
        self._thread.start()
        return self

    def start_socket_mode(self, app_token: str = APP_TOKEN) -> FakeSocketMode:
        """Serve Socket Mode too: apps.connections.open (with `app_token`) hands out a local WebSocket URL."""
        self.socket_mode = FakeSocketMode(app_token).start()
        return self.socket_mode

    def stop(self) -> None:
        for hold in list(self._holds.values()):
            hold.release()
        if self.socket_mode is not None:
            self.socket_mode.stop()
            self.socket_mode = None
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> FakeSlackAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root(self) -> str:
        assert self._httpd is not None, "the fake Slack API is not running"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root + "/api/"

    def response_url(self, name: str = "") -> str:
        return f"{self.root}/respond/{name or uuid.uuid4().hex[:12]}"

    # -- fault injection ------------------------------------------------------------------------------------

    def rate_limit(self, method: str, n: int = 1, retry_after: int = 0) -> None:
        """The next `n` calls of `method` get 429 with Retry-After, as Slack answers a caller over its tier."""
        self._queue(method, [Fault(429, "ratelimited", (("Retry-After", str(retry_after)),))] * n)

    def fail(self, method: str, error: str, n: int = 1) -> None:
        """The next `n` calls of `method` get `{"ok": false, "error": error}`."""
        self._queue(method, [Fault(200, error)] * n)

    def _queue(self, method: str, faults: list[Fault]) -> None:
        with self._lock:
            self._faults.setdefault(method, deque()).extend(faults)

    def hold(self, method: str, when: Callable[[dict[str, Any]], bool] | None = None) -> Hold:
        """From now on, calls of `method` (those `when(args)` accepts) are recorded, then wait unanswered until the
        hold is released (on leaving `with api.hold(…)`, or `release()`); later calls pass. The bot is then provably
        busy with that call."""
        hold = Hold(method, when)
        with self._lock:
            self._holds[method] = hold
        return hold

    # -- assertions -----------------------------------------------------------------------------------------

    def calls_to(self, *methods: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method in methods]

    def method_names(self, ignore: tuple[str, ...] = ("auth.test",)) -> list[str]:
        with self._lock:
            return [c.method for c in self.calls if c.method not in ignore]

    def wait_for(self, predicate: Callable[[FakeSlackAPI], Any], timeout: float = 15.0) -> Any:
        """Wait until `predicate(self)` is truthy (re-checked after every call) and return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout} s; calls: {self.method_names()}")
            with self._changed:
                self._changed.wait(min(left, 0.05))

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._faults.clear()

    # -- answering ------------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Mapping[str, str], raw: bytes) -> tuple[int, dict, list]:
        url = urlsplit(path)
        args: dict[str, Any] = dict(parse_qsl(url.query))
        if url.path.startswith("/upload/"):  # the file's bytes, whatever Content-Type the SDK sent them with
            return self._record("upload", {"file": url.path.rsplit("/", 1)[-1], "size": len(raw)}, True,
                                lambda: self._upload(url.path.rsplit("/", 1)[-1], raw), raw_text=True)
        ctype = headers.get("Content-Type", "")
        if raw:
            if "json" in ctype:
                args.update(json.loads(raw))
            elif "form" in ctype:
                args.update(parse_qsl(raw.decode()))
        auth = headers.get("Authorization", "")
        if url.path == "/_stats":  # for a benchmark running this API in another process; not recorded
            with self._lock:
                counts: dict[str, int] = {}
                for call in self.calls:
                    key = f"{call.method}:{call.args['name']}" if call.method == "reactions.add" else call.method
                    counts[key] = counts.get(key, 0) + 1
            return 200, {"ok": True, "calls": counts}, []
        if url.path.startswith("/files-pri/"):  # a file's url_private: the bytes, for the bot token only
            file_id = url.path.split("/")[2].rsplit("-", 1)[-1]
            token_ok = auth == f"Bearer {self.token}"
            return self._record("download", {"file": file_id}, token_ok, lambda: self._download(file_id, token_ok),
                                raw_text=True)
        if url.path.startswith("/respond/"):
            return self._record("response_url", {**args, "url": url.path}, True, lambda: {"ok": True},
                                raw_text=True)
        api = url.path.removeprefix("/api/")
        auth_ok = auth == f"Bearer {self.token}" or args.get("token") == self.token
        if api == "apps.connections.open":  # the app-level token, not the bot's
            auth_ok = self.socket_mode is not None and auth == f"Bearer {self.socket_mode.app_token}"
        return self._record(api, {k: v for k, v in args.items() if k != "token"}, auth_ok,
                            lambda: self._answer(api, args) if auth_ok else {"ok": False, "error": "invalid_auth"})

    def _record(self, method: str, args: dict[str, Any], auth_ok: bool, answer: Callable[[], Any],
                raw_text: bool = False) -> tuple[int, dict, list]:
        with self._lock:
            self.calls.append(Call(method, args, time.monotonic(), auth_ok))
            queue = self._faults.get(method)
            fault = queue.popleft() if queue else None
            hold = self._holds.get(method)
        if hold is not None and not hold.released.is_set() and (hold.when is None or hold.when(args)):
            hold.reached.set()
            with self._changed:
                self._changed.notify_all()
            hold.released.wait(HOLD_LIMIT_S)
        if self.latency:
            time.sleep(self.latency)
        try:
            if fault is not None:
                return fault.status, {"ok": False, "error": fault.error}, list(fault.headers)
            with self._lock:
                body = answer()
            return 200, body, [("X-Raw-Text", "1")] if raw_text and isinstance(body, str) else []
        finally:
            with self._changed:
                self._changed.notify_all()

    def _next_ts(self) -> str:
        return f"1763800000.{next(self._ts):06d}"

    def _answer(self, api: str, args: dict[str, Any]) -> Any:
        handler = getattr(self, "_api_" + api.replace(".", "_"), None)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        return handler(args)

    def _api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake.slack.com/", "team": "Fake", "user": "vpnbot", "team_id": TEAM,
                "user_id": BOT_USER, "bot_id": BOT_ID, "is_enterprise_install": False}

    def _api_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        assert self.socket_mode is not None
        return {"ok": True, "url": self.socket_mode.url}

    def _api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel", "")
        if channel in self.not_in:
            return {"ok": False, "error": "not_in_channel"}
        if not args.get("text") and not args.get("blocks"):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        blocks = args.get("blocks") or []
        message = Message(channel, ts, args.get("text", ""), json.loads(blocks) if isinstance(blocks, str) else blocks,
                          args.get("thread_ts"))
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts,
                "message": {"type": "message", "text": message.text, "ts": ts, "bot_id": BOT_ID}}

    def _api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get((args.get("channel", ""), args.get("ts", "")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        blocks = args.get("blocks") or []
        message.text = args.get("text", message.text)
        message.blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        message.edits += 1
        return {"ok": True, "channel": message.channel, "ts": message.ts, "text": message.text}

    def _api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        names = self.reactions.setdefault((args.get("channel", ""), args.get("timestamp", "")), set())
        if args.get("name") in names:
            return {"ok": False, "error": "already_reacted"}
        names.add(args.get("name", ""))
        return {"ok": True}

    def _api_reactions_remove(self, args: dict[str, Any]) -> dict[str, Any]:
        names = self.reactions.get((args.get("channel", ""), args.get("timestamp", "")), set())
        if args.get("name") not in names:
            return {"ok": False, "error": "no_reaction"}
        names.discard(args.get("name", ""))
        return {"ok": True}

    def _api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = args.get("user", "")
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        profile: dict[str, Any] = {"id": user, "team_id": TEAM, "name": user.lower()}
        if self.users[user]:
            profile.update(tz=self.users[user], tz_label=self.users[user], tz_offset=0)
        return {"ok": True, "user": profile}

    def _api_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{uuid.uuid4().hex[:10].upper()}"
        self.files[file_id] = StoredFile(file_id, args["filename"])
        return {"ok": True, "upload_url": f"{self.root}/upload/{file_id}", "file_id": file_id}

    def _upload(self, file_id: str, raw: bytes) -> str:
        if file_id in self.files:
            self.files[file_id].content = raw
        return f"OK - {len(raw)}"

    def _api_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        listed = json.loads(args.get("files", "[]"))
        out = []
        for item in listed:
            stored = self.files.get(item.get("id", ""))
            if stored is None or not stored.content:
                return {"ok": False, "error": "file_not_found"}
            stored.title = item.get("title") or stored.name
            channel = args.get("channel_id") or args.get("channels", "")
            if channel:
                stored.shares.setdefault(channel, []).append({"ts": self._next_ts(),
                                                              "thread_ts": args.get("thread_ts", "")})
            out.append({"id": stored.id, "name": stored.name, "title": stored.title})
        return {"ok": True, "files": out}

    def user_upload(self, name: str, content: bytes, channel: str, ts: str = "", thread_ts: str = "",
                    user: str = "U0ALICE", filetype: str = "", mode: str = "hosted") -> StoredFile:
        """A file someone uploaded to `channel` (in the thread `thread_ts`), as files.info will show it; a long
        paste Slack turned into a snippet is `mode="snippet"`, `filetype="text"`, often named "Untitled"."""
        stored = StoredFile(f"F{uuid.uuid4().hex[:10].upper()}", name, name, content, user=user, filetype=filetype,
                            mode=mode)
        stored.shares[channel] = [{"ts": ts or self._next_ts(), **({"thread_ts": thread_ts} if thread_ts else {})}]
        with self._lock:
            self.files[stored.id] = stored
        return stored

    def _download(self, file_id: str, token_ok: bool) -> bytes | str:
        """Like Slack: the file's bytes with the bot token, a sign-in web page without it."""
        stored = self.files.get(file_id)
        if not token_ok or stored is None:
            return "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in</body></html>"
        return stored.content

    def _api_files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.get(args.get("file", ""))
        if stored is None:
            return {"ok": False, "error": "file_not_found"}
        shares: dict[str, dict[str, list[dict[str, str]]]] = {}
        channels: list[str] = []
        if self.unshared_checks > 0:
            self.unshared_checks -= 1  # Slack shares asynchronously: not visible yet
        else:
            for channel, places in stored.shares.items():
                kind = "private" if channel[:1] in ("G", "D") else "public"
                shares.setdefault(kind, {})[channel] = places
                channels.append(channel)
        private = f"{self.root}/files-pri/{TEAM}-{stored.id}/{stored.name}"
        return {"ok": True, "file": {"id": stored.id, "name": stored.name, "title": stored.title, "user": stored.user,
                                     "filetype": stored.filetype, "mode": stored.mode,
                                     "size": len(stored.content), "shares": shares, "channels": channels,
                                     "url_private": private, "url_private_download": private + "?download=1",
                                     "permalink": f"https://fake.slack.com/files/{BOT_USER}/{stored.id}/{stored.name}"}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512
    owner: FakeSlackAPI


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 10

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self._send(*self.server.owner.handle("POST", self.path, self.headers, raw))

    def do_GET(self) -> None:
        self._send(*self.server.owner.handle("GET", self.path, self.headers, b""))

    def _send(self, status: int, body: Any, headers: list[tuple[str, str]]) -> None:
        raw_text = ("X-Raw-Text", "1") in headers
        if isinstance(body, bytes):  # a file's content
            payload, kind = body, "application/octet-stream"
        else:
            payload = (body if isinstance(body, str) else json.dumps(body)).encode()
            kind = ("text/html; charset=utf-8" if isinstance(body, str) and body.startswith("<!DOCTYPE")
                    else "text/plain" if raw_text else "application/json; charset=utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers:
            if name != "X-Raw-Text":
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


# ------------------------------------------------------------------------------------------- Socket Mode


class FakeSocketMode:
    """Slack's Socket Mode endpoint: a WebSocket server (RFC 6455, the subset Slack uses) that sends envelopes to
    the connected app and records the acknowledgements it sends back."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, app_token: str) -> None:
        self.app_token = app_token
        self.acks: dict[str, dict[str, Any]] = {}  # envelope_id -> the app's acknowledgement
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self._clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._running = True
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link/?ticket=fake"

    def start(self) -> FakeSocketMode:
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        self._running = False
        with self._lock:
            sockets = [self._listener, *self._clients]
        for sock in sockets:  # shutdown wakes the threads blocked in accept/recv; close alone may not
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="fake-socket-mode")
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = client.recv(4096)
                if not chunk:
                    return
                request += chunk
            key = re.search(rb"(?im)^sec-websocket-key:\s*(\S+)", request)
            assert key is not None, "not a WebSocket handshake"
            accept = base64.b64encode(hashlib.sha1(key.group(1) + self.GUID.encode()).digest()).decode()
            client.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            f"Sec-WebSocket-Accept: {accept}\r\n\r\n").encode())
            with self._changed:
                self._clients.append(client)
                self._changed.notify_all()
            self._send_frame(client, 0x1, json.dumps({"type": "hello", "num_connections": 1}).encode())
            while self._running:
                opcode, payload = self._read_frame(client)
                if opcode == 0x8:
                    return
                if opcode == 0x9:
                    self._send_frame(client, 0xA, payload)
                elif opcode == 0x1:
                    ack = json.loads(payload)
                    with self._changed:
                        self.acks[ack.get("envelope_id", "")] = ack
                        self._changed.notify_all()
        except (OSError, ConnectionError, AssertionError):
            return
        finally:
            with self._changed:
                if client in self._clients:
                    self._clients.remove(client)
            with contextlib.suppress(OSError):
                client.close()

    @staticmethod
    def _read_exactly(client: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = client.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _read_frame(self, client: socket.socket) -> tuple[int, bytes]:
        first, second = self._read_exactly(client, 2)
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(self._read_exactly(client, 2), "big")
        elif length == 127:
            length = int.from_bytes(self._read_exactly(client, 8), "big")
        mask = self._read_exactly(client, 4) if second & 0x80 else b"\0\0\0\0"
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read_exactly(client, length)))
        return first & 0x0F, payload

    @staticmethod
    def _send_frame(client: socket.socket, opcode: int, payload: bytes) -> None:
        head = bytes([0x80 | opcode])
        if len(payload) < 126:
            head += bytes([len(payload)])
        elif len(payload) < 1 << 16:
            head += bytes([126]) + len(payload).to_bytes(2, "big")
        else:
            head += bytes([127]) + len(payload).to_bytes(8, "big")
        client.sendall(head + payload)

    def wait_connected(self, timeout: float = 30.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self._clients, timeout):
                raise AssertionError("the app never connected in Socket Mode")

    def send(self, kind: str, payload: Mapping[str, Any]) -> str:
        """Send one envelope ("slash_commands", "events_api", "interactive") to the app; its envelope_id."""
        envelope_id = uuid.uuid4().hex
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": dict(payload),
                    "accepts_response_payload": kind != "events_api", "retry_attempt": 0, "retry_reason": ""}
        with self._lock:
            client = self._clients[-1]
        self._send_frame(client, 0x1, json.dumps(envelope).encode())
        return envelope_id

    def command(self, text: str, user: str = "U0ALICE", channel: str = "C0INCIDENT", response_url: str = "") -> str:
        return self.send("slash_commands", {
            "token": "x", "team_id": TEAM, "channel_id": channel, "user_id": user, "command": "/vpn", "text": text,
            "api_app_id": "A0VPNBOT", "response_url": response_url, "trigger_id": f"{uuid.uuid4().hex[:10]}.1"})

    def wait_ack(self, envelope_id: str, timeout: float = 15.0) -> dict[str, Any]:
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self.acks, timeout):
                raise AssertionError(f"envelope {envelope_id} was never acknowledged")
            return self.acks[envelope_id]


# ------------------------------------------------------------------------------------------- Slack -> app


@dataclass(frozen=True)
class Reply:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackSender:
    """Slack delivering requests to the app's /slack/events, signed like Slack signs them."""

    def __init__(self, url: str, secret: str = SIGNING_SECRET, team: str = TEAM) -> None:
        self.url = url
        self.secret = secret
        self.team = team
        self._ids = itertools.count(1)

    def post(self, body: str, content_type: str, timestamp: int | None = None, secret: str | None = None,
             headers: Mapping[str, str] | None = None, signature: str | None = None) -> Reply:
        timestamp = int(time.time()) if timestamp is None else timestamp
        sig = signature or SignatureVerifier(secret or self.secret).generate_signature(timestamp=str(timestamp),
                                                                                      body=body)
        parts = urlsplit(self.url)
        all_headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(timestamp),
                       "X-Slack-Signature": sig, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                       **(headers or {})}
        connection = HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            connection.request("POST", parts.path, body=body.encode(), headers=all_headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        return Reply(response.status, text)

    def command(self, text: str, user: str = "U0ALICE", channel: str = "C0INCIDENT", response_url: str = "",
                trigger_id: str | None = None, **sign: Any) -> Reply:
        body = urlencode({
            "token": "legacy-verification-token", "team_id": self.team, "team_domain": "fake",
            "channel_id": channel, "channel_name": "incident", "user_id": user, "user_name": user.lower(),
            "command": "/vpn", "text": text, "api_app_id": "A0VPNBOT", "is_enterprise_install": "false",
            "response_url": response_url,  # "": the bot falls back to chat.postEphemeral (nothing leaves 127.0.0.1)
            "trigger_id": trigger_id or f"{next(self._ids)}.{uuid.uuid4().hex[:10]}",
        })
        return self.post(body, "application/x-www-form-urlencoded", **sign)

    def event(self, event: Mapping[str, Any], event_id: str | None = None, retry_num: int | None = None,
              **sign: Any) -> Reply:
        body = json.dumps({
            "token": "legacy-verification-token", "team_id": self.team, "api_app_id": "A0VPNBOT",
            "event": dict(event), "type": "event_callback", "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": self.team, "user_id": BOT_USER, "is_bot": True}],
        })
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else {}
        return self.post(body, "application/json", headers=headers, **sign)

    def mention(self, text: str, user: str = "U0ALICE", channel: str = "C0INCIDENT", ts: str | None = None,
                thread_ts: str | None = None, **kwargs: Any) -> tuple[Reply, str]:
        ts = ts or f"1763700000.{next(self._ids):06d}"
        event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER}> {text}", "ts": ts, "channel": channel,
                 "event_ts": ts, "team": self.team}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return self.event(event, **kwargs), ts

    def direct_message(self, text: str, user: str = "U0ALICE", channel: str = "D0ALICE",
                       **kwargs: Any) -> tuple[Reply, str]:
        ts = f"1763700000.{next(self._ids):06d}"
        event = {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts, "channel": channel,
                 "event_ts": ts, "team": self.team}
        return self.event(event, **kwargs), ts

    def file_message(self, file: StoredFile, text: str = "", user: str = "U0ALICE", channel: str = "D0ALICE",
                     mention: bool = False, **kwargs: Any) -> Reply:
        """The message that carried an uploaded file: a DM (subtype file_share) or an @mention with the file."""
        ts = file.shares[channel][0]["ts"]
        event: dict[str, Any] = {"type": "app_mention" if mention else "message", "user": user, "ts": ts,
                                 "text": f"<@{BOT_USER}> {text}" if mention else text, "channel": channel,
                                 "event_ts": ts, "team": self.team,
                                 "files": [{"id": file.id, "name": file.name, "size": len(file.content),
                                            "filetype": file.filetype, "mode": file.mode}]}
        if not mention:
            event.update(channel_type="im", subtype="file_share")
        if file.shares[channel][0].get("thread_ts"):
            event["thread_ts"] = file.shares[channel][0]["thread_ts"]
        return self.event(event, **kwargs)

    def file_shared(self, file: StoredFile, channel: str, user: str | None = None, **kwargs: Any) -> Reply:
        """Slack's `file_shared` event: a file was shared where the bot is (no text, no thread: files.info has them)."""
        return self.event({"type": "file_shared", "channel_id": channel, "file_id": file.id,
                           "user_id": user or file.user, "file": {"id": file.id},
                           "event_ts": file.shares[channel][0]["ts"]}, **kwargs)

    def click(self, button: Mapping[str, Any], message_ts: str, thread_ts: str, user: str = "U0ALICE",
              channel: str = "C0INCIDENT", **sign: Any) -> Reply:
        action = {"action_id": button["action_id"], "block_id": "vpn_answer_actions", "type": "button",
                  "value": button.get("value", ""), "text": button["text"], "action_ts": f"{time.time():.6f}"}
        payload = {
            "type": "block_actions", "team": {"id": self.team, "domain": "fake"},
            "user": {"id": user, "username": user.lower(), "team_id": self.team}, "api_app_id": "A0VPNBOT",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                          "is_ephemeral": False, "thread_ts": thread_ts},
            "trigger_id": f"{next(self._ids)}.{uuid.uuid4().hex[:10]}", "channel": {"id": channel, "name": "incident"},
            "message": {"type": "message", "ts": message_ts, "thread_ts": thread_ts, "bot_id": BOT_ID, "text": ""},
            "response_url": "", "actions": [action],
        }
        return self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **sign)


# -------------------------------------------------------------------------------------------- the bot


@dataclass
class RunningBot:
    bot: Any  # bot.slack.core.SlackBot
    pool: Any  # bot.slack.pool.WorkerPool
    server: Any  # bot.slack.httpd.EventsServer
    state: Any  # bot.state.StateStore
    sender: SlackSender

    @property
    def url(self) -> str:
        return self.server.url


@contextlib.contextmanager
def running_bot(api: FakeSlackAPI, workspace: Any, state_path: str | Path, now: datetime | None = None,
                options: Any = None, secret: str = SIGNING_SECRET, alerts_token: str = "") -> Iterator[RunningBot]:
    """The bot's parts wired as `vpnbot serve` wires them (HTTP mode), answering from `workspace` at `now`;
    `alerts_token`: /alerts/azure is served too."""
    from bot.slack.alert_intake import AlertReceiver
    from bot.slack.app import build_app, make_client
    from bot.slack.httpd import EventsServer
    from bot.slack.server import answering
    from bot.state import StateStore

    state = StateStore(state_path)
    client = make_client(api.token, api.base_url)
    clock = (lambda: now) if now else (lambda: datetime.now(UTC))
    bot, pool = answering(client, workspace, state, options, clock)
    app = build_app(pool, client, secret)
    receiver = AlertReceiver(alerts_token, pool.submit) if alerts_token else None
    server = EventsServer(app, lambda: {"ok": True, "pending": pool.pending}, "127.0.0.1", 0, alerts=receiver).start()
    try:
        yield RunningBot(bot, pool, server, state, SlackSender(server.url, secret))
    finally:
        server.stop()
        pool.close(timeout=30)
        state.close()


# ------------------------------------------------------------------------------------ what tests read


#: The reactions that end an answer: ✅ answered, ⚠️ answered although a source failed.
ANSWERED = ("white_check_mark", "warning")


def answered(api: FakeSlackAPI, n: int = 1, outcomes: tuple[str, ...] = ANSWERED, timeout: float = 15.0) -> list[Call]:
    """Wait until `n` answers have ended with one of `outcomes` (their last reaction); those reactions' calls."""
    def ended(a: FakeSlackAPI) -> list[Call]:
        calls = [c for c in a.calls_to("reactions.add") if c["name"] in outcomes]
        return calls if len(calls) >= n else []

    return api.wait_for(ended, timeout)


def header_of(call: Call) -> str:
    """The text of the message's header block ("" without one): an answer's headline."""
    return next((b["text"]["text"] for b in call.blocks if b["type"] == "header"), "")


def final_answer(api: FakeSlackAPI) -> Call:
    """The last edit that made a message an answer (the "Looking…" message edited into one, with its header)."""
    return [c for c in api.calls_to("chat.update") if any(b["type"] == "header" for b in c.blocks)][-1]


def buttons_of(call: Call) -> dict[str, dict[str, Any]]:
    """The answer's buttons, by action_id."""
    (actions,) = [b for b in call.blocks if b["type"] == "actions"]
    return {e["action_id"]: e for e in actions["elements"]}


def answer_and_click(bot: RunningBot, api: FakeSlackAPI, question: str, action_id: str) -> tuple[str, Call, Reply]:
    """Mention the bot with `question`, wait for its answer, click the answer's `action_id` button:
    (the mention's ts, the answer, Slack's reply to the click)."""
    _, ts = bot.sender.mention(question)
    answered(api)
    final = final_answer(api)
    reply = bot.sender.click(buttons_of(final)[action_id], message_ts=final["ts"], thread_ts=ts)
    return ts, final, reply
