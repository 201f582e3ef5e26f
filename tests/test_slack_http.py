"""The HTTP side of the bot as Slack and a load balancer use it: keep-alive connections, several requests on one
connection, health, and the answers to what is not a Slack request (wrong path or method, oversized, malformed)."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime
from http.client import HTTPConnection

import pytest
from slack_sdk.signature import SignatureVerifier
from support.fake_slack_api import SIGNING_SECRET, running_bot

from bot.slack.app import build_app, make_client
from bot.slack.httpd import MAX_BODY, EventsServer, parse_head
from bot.workspace import Workspace

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(demo_at) -> Workspace:
    return demo_at(NOW)


@pytest.fixture
def api(slack_api):
    return slack_api({"U0ALICE": "Europe/Paris"})


def raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    return out


def test_several_signed_requests_on_one_kept_alive_connection_are_all_acknowledged(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        # Slack reuses connections: three deliveries, one TCP connection, each answered in turn.
        first = bot.sender.command("help", response_url=api.response_url())
        assert first.status == 200
        connection = HTTPConnection("127.0.0.1", bot.server.port, timeout=10)
        statuses = []
        for text in ("help", "tunnels", "status paris"):
            body = f"team_id=T0000TEAM&channel_id=C0INCIDENT&user_id=U0ALICE&command=%2Fvpn&text={text}"
            ts = str(int(time.time()))
            sig = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
            connection.request("POST", "/slack/events", body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": sig})
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            assert response.getheader("Connection") == "keep-alive"
        connection.close()
        assert statuses == [200, 200, 200]
        assert bot.pool.drain(15)


def test_health_paths_and_methods(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        port = bot.server.port
        for method, path, expected in (("GET", "/healthz", 200), ("GET", "/slack/events", 405),
                                       ("POST", "/elsewhere", 404), ("GET", "/", 404)):
            connection = HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request(method, path, body=b"" if method == "POST" else None)
            response = connection.getresponse()
            body = response.read()
            connection.close()
            assert response.status == expected, (method, path)
        assert json.loads(raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                          .split(b"\r\n\r\n", 1)[1])["ok"] is True
        assert body == b"not found"


def test_an_unhealthy_answering_side_makes_health_503(api):
    app = build_app(type("Nowhere", (), {"submit": lambda self, job: True})(), make_client(api.token, api.base_url),
                    "secret-for-this-test")
    server = EventsServer(app, lambda: {"ok": False, "answering": False}, "127.0.0.1", 0).start()
    try:
        reply = raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    finally:
        server.stop()
    assert reply.startswith(b"HTTP/1.1 503 ") and b'"answering": false' in reply


def test_oversized_malformed_and_chunked_requests_are_refused_without_reaching_bolt(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        api.reset()
        port = bot.server.port
        too_big = raw(port, f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BODY + 1}\r\n\r\n"
                      .encode())
        garbage = raw(port, b"HELLO\r\n\r\n")
        chunked = raw(port, b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        unsigned = raw(port, b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\nConnection: close\r\n"
                             b"\r\ntext=help")
    assert too_big.startswith(b"HTTP/1.1 413 ")
    assert garbage.startswith(b"HTTP/1.1 400 ") and chunked.startswith(b"HTTP/1.1 400 ")
    assert unsigned.startswith(b"HTTP/1.1 401 ")
    assert api.calls == []


def test_request_heads_are_read_like_http_1_1():
    head = b"POST /slack/events?x=1 HTTP/1.1\r\nContent-Type: a/b\r\nX-Slack-Retry-Num: 1"
    method, path, headers, keep = parse_head(head)
    assert (method, path, keep) == ("POST", "/slack/events?x=1", True)
    assert headers == {"content-type": "a/b", "x-slack-retry-num": "1"}
    assert parse_head(b"GET / HTTP/1.1\r\nConnection: close")[3] is False
    assert parse_head(b"GET / HTTP/1.0")[3] is False
    assert parse_head(b"nonsense")[0] == ""
