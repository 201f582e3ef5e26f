"""`vpnbot serve` as deployed: a real process in HTTP mode on 127.0.0.1, talking to a local fake Slack. It answers
signed requests, reports health, honours the configuration, finishes what it accepted on SIGTERM and exits 0, and
refuses to start, in one line without secrets, when the tokens are missing or wrong."""

from __future__ import annotations

import json
import re
import signal
import time

import pytest
from support.fake_slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, SlackSender, answered

from bot.cli import main
from bot.state import StateStore

STOPPING = re.compile(r"vpnbot: stopping: finishing the questions already accepted")
CHECKED = ("white_check_mark",)


@pytest.fixture
def api(slack_api):
    return slack_api({"U0ALICE": "Europe/Paris"})


def test_serve_answers_a_signed_slash_command_reports_health_and_stops_cleanly_on_sigterm(api, serve, tmp_path):
    bot = serve("--demo").wait_listening()
    status, body = bot.get("/healthz")
    assert status == 200 and json.loads(body)["ok"] is True and json.loads(body)["mode"] == "http"
    assert bot.get("/elsewhere")[0] == 404
    with api.hold("chat.postMessage") as posting:
        # Slack has its 200 while the answer cannot even post its first message: the ack does not wait for it.
        reply = SlackSender(bot.url).command("why did paris drop yesterday at 15:02", response_url=api.response_url())
        assert reply.status == 200 and reply.body == ""
        posting.wait_reached()
        assert not api.calls_to("chat.update")
    answered(api, outcomes=CHECKED, timeout=30)
    assert "maintenance_failover" in json.dumps(api.calls_to("chat.update")[-1].blocks)
    assert bot.terminate() == 0
    output = "".join(bot.stderr)
    assert "Using the built-in demo workspace" in output and "vpnbot: stopped" in output
    assert BOT_TOKEN not in output and SIGNING_SECRET not in output
    store = StateStore(tmp_path / "vpnbot.db")  # the default state file, in the working directory
    try:
        assert [r["outcome"] for r in store.questions()] == ["answered"]
    finally:
        store.close()


def test_sigterm_lets_an_accepted_question_finish_before_exiting(api, serve):
    bot = serve("--demo").wait_listening()
    with api.hold("chat.postMessage") as posting:  # the question stays busy until the bot is stopping
        reply = SlackSender(bot.url).command("why did paris drop yesterday at 15:02", response_url=api.response_url())
        assert reply.status == 200
        posting.wait_reached()
        bot.proc.send_signal(signal.SIGTERM)
        bot.wait_line(STOPPING)
        assert not api.calls_to("chat.update")
    assert bot.proc.wait(40) == 0
    assert "maintenance_failover" in json.dumps(api.calls_to("chat.update")[-1].blocks)
    assert [c["name"] for c in api.calls_to("reactions.add")][-1] == "white_check_mark"


def test_serve_refuses_badly_signed_requests(api, serve):
    bot = serve("--demo").wait_listening()
    api.reset()
    reply = SlackSender(bot.url, secret="someone-elses-secret").command("status paris")
    stale = SlackSender(bot.url).command("status paris", timestamp=int(time.time()) - 600)
    assert (reply.status, stale.status) == (401, 401)
    assert bot.terminate() == 0  # it finishes whatever it accepted before exiting: nothing can come after this
    assert api.calls == []


def test_serve_reads_the_api_url_channels_admins_retention_and_state_db_from_the_configuration(api, serve, tmp_path):
    config = tmp_path / "vpnbot.toml"
    config.write_text(
        'timezone = "Europe/Paris"\n'
        f'state_db = "{tmp_path / "state" / "bot.db"}"\n'
        f'[slack]\napi_url = "{api.base_url}"\nadmins = "<@U0NETOPS>"\nretention_days = 30\n'
        '[[channels]]\nid = "C0LYON"\ntunnels = ["lyon"]\n')
    bot = serve("--demo", "--config", str(config), env={"SLACK_API_URL": ""}).wait_listening()  # [slack] api_url
    _, ts = SlackSender(bot.url).mention("why did paris drop yesterday at 15:02", channel="C0LYON")
    refusal = api.wait_for(lambda a: a.calls_to("chat.postMessage"), timeout=30)[0]
    assert refusal["thread_ts"] == ts and "<@U0NETOPS> can change that" in refusal.text
    assert bot.terminate() == 0
    store = StateStore(tmp_path / "state" / "bot.db")
    try:
        assert [r["outcome"] for r in store.questions()] == ["refused"]
    finally:
        store.close()


def test_serve_in_socket_mode_acknowledges_envelopes_and_answers_in_the_thread(api, serve):
    socket_mode = api.start_socket_mode()
    bot = serve("--demo", env={"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": ""})
    bot.wait_line(re.compile(r"vpnbot: connected to Slack \(Socket Mode\)"))
    socket_mode.wait_connected()
    with api.hold("chat.postMessage") as posting:
        envelope = socket_mode.command("why did paris drop yesterday at 15:02", response_url=api.response_url())
        # Acknowledged while the answer cannot even post its first message: the ack does not wait for it.
        ack = socket_mode.wait_ack(envelope)
        assert ack["envelope_id"] == envelope
        posting.wait_reached()
        assert not api.calls_to("chat.update")
    answered(api, outcomes=CHECKED, timeout=30)
    assert api.calls_to("chat.postMessage")[0].text.startswith("<@U0ALICE> asked: `/vpn why did paris drop")
    assert "maintenance_failover" in json.dumps(api.calls_to("chat.update")[-1].blocks)
    assert [c.auth_ok for c in api.calls_to("apps.connections.open")] == [True]
    assert bot.terminate() == 0
    assert APP_TOKEN not in "".join(bot.stderr)


def test_serve_without_a_bot_token_says_what_to_set(monkeypatch, capsys):
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["serve", "--demo", "--port", "0", "--host", "127.0.0.1"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("vpnbot: error: SLACK_BOT_TOKEN is not set")


def test_serve_in_http_mode_needs_the_signing_secret(monkeypatch, capsys):
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    assert main(["serve", "--demo", "--port", "0", "--host", "127.0.0.1"]) == 2
    err = capsys.readouterr().err
    assert "SLACK_SIGNING_SECRET is not set" in err and BOT_TOKEN not in err


def test_serve_with_a_token_slack_refuses_stops_in_one_line_without_the_token(api, monkeypatch, capsys, tmp_path):
    wrong = "xoxb-9999-8888-revoked-token"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACK_BOT_TOKEN", wrong)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SLACK_API_URL", api.base_url)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    assert main(["serve", "--demo", "--port", "0", "--host", "127.0.0.1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith(f"vpnbot: error: Slack refused SLACK_BOT_TOKEN at {api.base_url}")
    assert "invalid_auth" in err and wrong not in err
    assert [c.method for c in api.calls] == ["auth.test"] and not api.calls[0].auth_ok


def test_serve_help_lists_the_port_and_the_source_options(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert "--port" in out and "--demo" in out and "--azure-export" in out and "SLACK_APP_TOKEN" in out
