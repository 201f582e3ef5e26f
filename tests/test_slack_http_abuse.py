"""The HTTP front as the internet can use it: requests that trickle, too many connections, too many bytes held,
oversized heads in one read, unsigned floods with forged log lines in their bodies, timestamps that are not numbers
and signed bodies that are not Slack payloads. Each is answered (408, 503, 431, 401, 400) without growing the
process, without a 500 and without a body dumped into the log."""

from __future__ import annotations

import io
import logging
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from urllib.parse import quote

import pytest
from slack_sdk.signature import SignatureVerifier
from support.fake_slack_api import SIGNING_SECRET, FakeSlackAPI
from support.serve import Serve
from support.waiting import wait_until

from bot import logs
from bot.logs import RedactingFilter, Throttle, redact, register_secrets
from bot.slack.app import build_app, make_client
from bot.slack.httpd import MAX_HEAD, EventsServer, Limits
from diagnostics.evidence.redact import RedactionOptions, Redactor

FORGED = "2026-12-07 18:00:00,000 ERROR vpnbot.slack: error id `deadbeef` (mention in C0INCIDENT)"
COMMAND = "team_id=T0000TEAM&channel_id=C0INCIDENT&user_id=U0ALICE&command=%2Fvpn&text=help"


class Jobs:
    def __init__(self) -> None:
        self.jobs: list = []

    def submit(self, job) -> bool:
        self.jobs.append(job)
        return True


class Clock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def api(slack_api) -> FakeSlackAPI:
    return slack_api({"U0ALICE": "Europe/Paris"})


@pytest.fixture
def serving(api):
    """`serving(limits=…, clock=…)`: the real app behind an EventsServer on 127.0.0.1, stopped when the test ends."""
    started: list[EventsServer] = []

    def start(**options) -> EventsServer:
        app = build_app(Jobs(), make_client(api.token, api.base_url), SIGNING_SECRET)
        started.append(EventsServer(app, None, "127.0.0.1", 0, **options).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


def request(body: str | bytes, signed: bool = True, content_type: str = "application/x-www-form-urlencoded",
            timestamp: str | None = None, close: bool = True) -> bytes:
    """A POST to /slack/events, signed like Slack signs it (or not)."""
    data = body.encode() if isinstance(body, str) else body
    ts = timestamp or str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=data) if signed else "v0=0"
    head = (f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {len(data)}"
            f"\r\nX-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {signature}\r\n")
    return (head + ("Connection: close\r\n" if close else "") + "\r\n").encode() + data


@contextmanager
def connected(server: EventsServer) -> Iterator[socket.socket]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        yield sock


def until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as closed)."""
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except ConnectionResetError:
        pass
    return out


def raw(port: int, data: bytes) -> bytes:
    """Send `data` on a new connection and read until the server closes it (it may close before reading all)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        with suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        return until_closed(sock)


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else 0


# ----------------------------------------------------------------------------------------- slow and big bodies


@pytest.mark.parametrize("part", ["head", "body"])
def test_a_request_that_trickles_is_closed_at_its_deadline_however_often_bytes_arrive(serving, part):
    server = serving(limits=Limits(deadline_s=0.5))
    start = request("x" * 1000)[:-900] if part == "body" else b"POST /slack/events HTTP/1.1\r\n"
    with connected(server) as sock:
        sock.sendall(start)
        stop = threading.Event()

        def trickle() -> None:  # a byte every 50 ms: each refreshed the old idle timer, never the deadline
            try:
                while not stop.wait(0.05):
                    sock.sendall(b"x" if part == "body" else b"X-A: b\r\n")
            except OSError:
                pass

        sender = threading.Thread(target=trickle)
        sender.start()
        try:
            reply = until_closed(sock)
        finally:
            stop.set()
            sender.join()
    assert status_of(reply) == 408
    wait_until(lambda: server.buffered == 0 and not server.connections, "the connection's bytes were released")


def test_connections_beyond_the_cap_get_503_and_a_freed_place_serves_again(serving):
    server = serving(limits=Limits(max_connections=3))
    held = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(3)]
    try:
        wait_until(lambda: len(server.connections) == 3, "three connections were open")
        with connected(server) as extra:
            assert status_of(until_closed(extra)) == 503
        held.pop().close()
        wait_until(lambda: len(server.connections) == 2, "a connection was closed")
        assert status_of(raw(server.port, request(COMMAND))) == 200
    finally:
        for sock in held:
            sock.close()


def test_past_the_buffered_bytes_cap_the_biggest_holder_is_closed_and_the_count_returns_to_zero(serving):
    server = serving(limits=Limits(max_buffered=300_000))
    with connected(server) as big, connected(server) as smaller:
        big.sendall(request("x" * 200_000)[:-199_000])  # declares 200 kB, sends 1 kB of it, then waits
        wait_until(lambda: server.buffered == 200_000, "the big body was reserved")
        smaller.sendall(request("y" * 150_000)[:-149_000])  # 350 kB held in all: over the cap
        assert status_of(until_closed(big)) == 503
        wait_until(lambda: server.buffered == 150_000, "the big body was released")
        assert status_of(raw(server.port, request(COMMAND))) == 200  # small requests still go through
    wait_until(lambda: server.buffered == 0 and not server.connections, "every byte held was released")


def test_a_kept_alive_connection_holds_no_buffer_once_a_large_request_is_answered(serving):
    server = serving()
    body = COMMAND + "+" + "x" * 900_000
    with connected(server) as sock:
        sock.sendall(request(body, close=False))
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(65536)
        assert status_of(reply) == 200 and b"keep-alive" in reply
        (connection,) = server.connections
        assert server.buffered == 0 and connection.body is None and sys.getsizeof(connection.buffer) < 1024


def test_a_head_over_the_limit_gets_431_even_when_it_arrives_in_one_read(serving):
    server = serving()
    head = b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * MAX_HEAD + b"\r\nContent-Length: 0\r\n\r\n"
    assert status_of(raw(server.port, head)) == 431
    assert status_of(raw(server.port, request(COMMAND))) == 200


# ------------------------------------------------------------------------------------------------- logging


def test_unsigned_requests_are_logged_as_one_short_escaped_line_per_period_with_the_count_held_back(
        serving, caplog):
    clock = Clock()
    server = serving(clock=clock)
    caplog.set_level(logging.INFO)
    body = "text=hi\n" + FORGED + "\n" + "z" * 256_000
    for _ in range(20):
        assert status_of(raw(server.port, request(body, signed=False))) == 401
    clock.now += 11  # the next period
    assert status_of(raw(server.port, request(body, signed=False))) == 401
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all(len(line) < 300 and "\n" not in line for line in lines)
    assert lines[0].startswith("refused a request (a signature that does not match): 'text=hi\\n2026-12-07")
    assert lines[0].endswith(f"… ({len(body)} characters)") and lines[1].endswith("(19 more refused since the last "
                                                                                "such line)")


def test_bolts_own_refusal_line_is_one_short_escaped_throttled_line(api, caplog, monkeypatch):
    from slack_bolt import BoltRequest

    monkeypatch.setattr(logs.bolt_refusals, "throttle", Throttle(clock=Clock()))
    app = build_app(Jobs(), make_client(api.token, api.base_url), SIGNING_SECRET)
    caplog.set_level(logging.INFO)
    headers = {"x-slack-request-timestamp": str(int(time.time())), "x-slack-signature": "v0=0"}
    for _ in range(3):  # what reaches Bolt's own verification past the front
        response = app.dispatch(BoltRequest(body="text=" + FORGED + "\n" + "z" * 1_000_000, headers=headers))
        assert response.status == 401
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("refused a request with an invalid Slack signature: 'text=2026-12-07 18:00:00")
    assert len(line) < 300 and "\n" not in line


def test_vpnbot_serve_keeps_a_forged_log_line_in_a_refused_body_on_the_refusal_line(api, tmp_path):
    serve = Serve(api, tmp_path, "--demo")
    try:
        serve.wait_listening()
        reply = raw(serve.port, request("text=hi\n" + FORGED + "\r\n" + "z" * 1_000_000, signed=False))
        assert status_of(reply) == 401
        serve.wait_line(re.compile(r"refused a request \("))
    finally:
        serve.kill()
    lines = "".join(serve.stderr).splitlines()
    assert not [line for line in lines if line.startswith(FORGED[:23])]
    (refusal,) = [line for line in lines if "deadbeef" in line]
    assert "text=hi\\n2026-12-07" in refusal and len(refusal) < 400


def test_log_lines_mask_what_evidence_bundles_mask_and_keep_each_record_on_one_line():
    register_secrets("custom-secret-value-42")
    text = ("key AKIAABCDEFGHIJKLMNOP psk=hunter2hunter2 Authorization: Bearer abc.def-ghi token xoxb-1-2-abc "
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl custom-secret-value-42")
    masked = redact(text)
    assert masked == Redactor(RedactionOptions(secrets=("custom-secret-value-42",))).text(text)
    for secret in ("AKIAABCDEFGHIJKLMNOP", "hunter2", "abc.def-ghi", "xoxb-", "eyJhbGci", "custom-secret"):
        assert secret not in masked
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("vpnbot.test.escaping")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError("in the traceback")
        except RuntimeError:
            logger.error("asked %s", "paris\n" + FORGED + "\r\x1b[2J psk=hunter2hunter2\u2028", exc_info=True)
    finally:
        logger.removeHandler(handler)
    first, *traceback_lines = out.getvalue().splitlines()
    assert first == "asked paris\\n" + FORGED + "\\r\\x1b[2J psk=[redacted]\\u2028"
    assert traceback_lines[0] == "Traceback (most recent call last):"
    assert traceback_lines[-1] == "RuntimeError: in the traceback"


# ------------------------------------------------------------------------------------- malformed requests


def test_a_timestamp_that_is_not_a_number_gets_401_and_no_error_line(serving, caplog):
    server = serving()
    caplog.set_level(logging.INFO)
    for timestamp in ("abc", "9" * 5000, "-1", "١٢٣"):
        assert status_of(raw(server.port, request(COMMAND, signed=False, timestamp=timestamp))) == 401
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(("body", "content_type"), [
    ("{not json", "application/json"),
    ("[1, 2]", "application/json"),
    ('{"type": "event_callback", "event": [1]}', "application/json"),
    ("payload=" + quote("{not json"), "application/x-www-form-urlencoded"),
    ("payload=" + quote('{"type": "block_actions", "actions": [1]}'), "application/x-www-form-urlencoded"),
])
def test_a_signed_body_that_is_not_a_slack_payload_gets_400_and_one_short_warning(serving, caplog, body,
                                                                                    content_type):
    server = serving()
    caplog.set_level(logging.INFO)
    assert status_of(raw(server.port, request(body, content_type=content_type))) == 400
    (line,) = caplog.records
    assert line.levelno == logging.WARNING and line.exc_info is None and len(line.getMessage()) < 300
    assert line.getMessage().startswith("a signed request's body is not a Slack payload")
    # the same body unsigned is refused before anything reads it
    assert status_of(raw(server.port, request(body, signed=False, content_type=content_type))) == 401
