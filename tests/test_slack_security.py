"""Requests Slack did not sign (or signed too long ago) are refused before anything runs; a re-delivered event is
answered once, also when two bot processes share the state file; a crash is an apology with an error id and a log
line without secrets; a channel limited to other tunnels gets a polite refusal, and everything is audited."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

import pytest
from slack_sdk.signature import SignatureVerifier
from support.fake_slack_api import BOT_TOKEN, SIGNING_SECRET, answered, running_bot

from bot.config import ChannelSettings
from bot.slack.core import BotOptions
from bot.workspace import Workspace
from diagnostics.sources import Sources

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
ALICE = "U0ALICE"


@pytest.fixture(scope="module")
def demo(demo_at) -> Workspace:
    return demo_at(NOW)


@pytest.fixture
def api(slack_api):
    return slack_api({ALICE: "Europe/Paris"})


class CountingBackend:
    def __init__(self, inner, fail_with: Exception | None = None) -> None:
        self.inner, self.fail_with = inner, fail_with
        self.backend, self.label, self.origin = inner.backend, inner.label, inner.origin
        self.calls = 0

    def run_kql(self, query, start, end):
        self.calls += 1
        if self.fail_with is not None:
            raise self.fail_with
        return self.inner.run_kql(query, start, end)


# ---------------------------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("how", ["wrong secret", "stale by 6 minutes", "from the future by 6 minutes",
                                 "no signature", "tampered body"])
def test_a_request_slack_did_not_sign_now_gets_401_and_no_web_api_call(api, demo, tmp_path, how):
    backend = CountingBackend(demo.sources.kql[0])
    workspace = Workspace(demo.registry, Sources(kql=[backend]), demo.timezone)
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        api.reset()  # forget the app's start-up auth.test
        sender = bot.sender
        if how == "wrong secret":
            reply = sender.command("why did paris drop at 14:02", secret="not-the-signing-secret")
        elif how == "stale by 6 minutes":
            reply = sender.command("why did paris drop at 14:02", timestamp=int(time.time()) - 360)
        elif how == "from the future by 6 minutes":
            reply = sender.command("why did paris drop at 14:02", timestamp=int(time.time()) + 360)
        elif how == "no signature":
            reply = sender.command("why did paris drop at 14:02", signature="v0=")
        else:  # signed for one body, delivered with another
            signed = int(time.time())
            sig = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=str(signed), body="text=help")
            reply = sender.post("text=why+did+paris+drop", "application/x-www-form-urlencoded", timestamp=signed,
                                signature=sig)
        assert reply.status == 401
        assert bot.pool.drain(5)
    # Leaving running_bot stopped the server and closed the pool after its last job: nothing can come later.
    assert api.calls == [] and backend.calls == 0


def test_a_request_signed_just_inside_the_replay_window_is_accepted(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        reply = bot.sender.command("help", timestamp=int(time.time()) - 290, response_url=api.response_url())
        assert reply.status == 200
        api.wait_for(lambda a: a.calls_to("response_url"))


# ------------------------------------------------------------------------------------------------ retries


def test_slack_retries_of_an_event_never_produce_a_second_answer(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        event = {"type": "app_mention", "user": ALICE, "text": "<@U0000BOT> why did paris drop yesterday at 15:02",
                 "ts": "1763700000.000042", "channel": "C0INCIDENT", "event_ts": "1763700000.000042"}
        first = bot.sender.event(event, event_id="Ev0RETRY")
        retries = [bot.sender.event(event, event_id="Ev0RETRY", retry_num=n) for n in (1, 2, 3)]
        assert [r.status for r in [first, *retries]] == [200] * 4
        answered(api)
        assert bot.pool.drain(10)
        rows = bot.state.questions()
    assert len(api.calls_to("chat.postMessage")) == 1
    assert len([c for c in api.calls_to("chat.update") if "maintenance_failover" in str(c.blocks)]) == 1
    assert len(rows) == 1


def test_one_message_delivered_as_a_mention_and_as_a_dm_message_is_one_question(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        base = {"user": ALICE, "text": "<@U0000BOT> status paris", "ts": "1763700000.000077", "channel": "D0ALICE",
                "event_ts": "1763700000.000077"}
        bot.sender.event({**base, "type": "app_mention"})
        bot.sender.event({**base, "type": "message", "channel_type": "im"})
        answered(api, outcomes=("white_check_mark", "warning", "x"))  # whatever the answer, there is one
        assert bot.pool.drain(10)
    assert len(api.calls_to("chat.postMessage")) == 1


def test_two_bot_processes_sharing_the_state_file_answer_a_redelivered_event_once(api, demo, tmp_path):
    state = tmp_path / "shared.db"
    event = {"type": "app_mention", "user": ALICE, "text": "<@U0000BOT> why did paris drop yesterday at 15:02",
             "ts": "1763700000.000099", "channel": "C0INCIDENT", "event_ts": "1763700000.000099"}
    with running_bot(api, demo, state, NOW) as one, running_bot(api, demo, state, NOW) as two:
        # Slack retries on another instance behind the load balancer, at the same moment.
        replies: list = []
        threads = [threading.Thread(target=lambda b=b, n=n: replies.append(b.sender.event(
            event, event_id="Ev0TWICE", retry_num=n))) for n, b in ((None, one), (1, two), (2, one), (3, two))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [r.status for r in replies] == [200] * 4
        answered(api)
        assert one.pool.drain(10) and two.pool.drain(10)
        rows = one.state.questions()
    assert len(api.calls_to("chat.postMessage")) == 1
    assert len(api.calls_to("users.info")) == 1
    assert len(rows) == 1 and rows[0]["outcome"] == "answered"


# ---------------------------------------------------------------------------------------- crash, refusal


def test_a_crash_in_a_handler_becomes_an_apology_with_an_error_id_and_a_log_line_without_secrets(
        api, demo, tmp_path, caplog):
    boom = RuntimeError(f"unexpected reply from the engine (token {BOT_TOKEN}, secret {SIGNING_SECRET})")
    failing = CountingBackend(demo.sources.kql[0], fail_with=boom)
    workspace = Workspace(demo.registry, Sources(kql=[failing]), demo.timezone)
    options = BotOptions(admins="<@U0NETOPS>")
    caplog.set_level(logging.INFO)
    with running_bot(api, workspace, tmp_path / "state.db", NOW, options) as bot:
        from bot.logs import register_secrets
        register_secrets(BOT_TOKEN, SIGNING_SECRET)
        _, ts = bot.sender.mention("why did paris drop yesterday at 15:02")
        api.wait_for(lambda a: [c for c in a.calls_to("reactions.add") if c["name"] == "x"])
        assert bot.pool.drain(10)
        rows = bot.state.questions()
    apology = api.calls_to("chat.update")[-1].text
    assert apology.startswith("Sorry, something went wrong on my side while answering (error id `")
    error_id = apology.split("`")[1]
    assert len(error_id) == 8 and "give it to <@U0NETOPS>" in apology
    assert BOT_TOKEN not in apology and "engine" not in apology  # the details are for the log, not the channel
    (line,) = [r for r in caplog.records if error_id in r.getMessage()]
    assert "unexpected reply from the engine" in line.getMessage()
    assert BOT_TOKEN not in caplog.text and SIGNING_SECRET not in caplog.text
    assert api.reactions[("C0INCIDENT", ts)] == {"x"}
    assert rows[-1]["outcome"] == "error" and rows[-1]["error_id"] == error_id


def test_a_channel_limited_to_other_tunnels_gets_a_polite_refusal_naming_who_can_change_it(api, demo, tmp_path):
    backend = CountingBackend(demo.sources.kql[0])
    workspace = Workspace(demo.registry, Sources(kql=[backend]), demo.timezone)
    options = BotOptions(admins="the network team (<#C0NETOPS>)",
                         channels=(ChannelSettings("C0LYON", ("lyon", "nice")),))
    with running_bot(api, workspace, tmp_path / "state.db", NOW, options) as bot:
        _, ts = bot.sender.mention("why did paris drop yesterday at 15:02", channel="C0LYON")
        bot.sender.command("status paris", channel="C0LYON", response_url=api.response_url("slash"))
        api.wait_for(lambda a: a.calls_to("chat.postMessage") and a.calls_to("response_url"))
        bot.sender.mention("tunnels", channel="C0LYON")
        api.wait_for(lambda a: len(a.calls_to("chat.postMessage")) == 2)
        assert bot.pool.drain(10)
        rows = bot.state.questions()
    refusal = api.calls_to("chat.postMessage")[0]
    assert refusal["thread_ts"] == ts
    assert refusal.text.startswith("Sorry, questions about paris can't be asked in this channel: it is limited to "
                                   "lyon, nice. the network team (<#C0NETOPS>) can change that")
    assert '[[channels]] id = "C0LYON"' in refusal.text
    assert "only visible" not in refusal.text
    assert api.calls_to("response_url")[0]["response_type"] == "ephemeral"  # the slash refusal: to the asker only
    assert backend.calls == 0  # refused before any log was read
    listing = api.calls_to("chat.postMessage")[1].text
    assert "2 tunnels:" in listing and "paris" not in listing  # the channel only sees its own tunnels
    refused = [r for r in rows if r["outcome"] == "refused"]
    assert len(refused) == 2 and {r["source"] for r in refused} == {"mention", "slash"}
    assert refused and all(r["tunnel"] == "paris" and r["channel"] == "C0LYON" and r["user"] == ALICE for r in refused)


def test_a_channel_may_ask_about_its_own_tunnels(api, demo, tmp_path):
    options = BotOptions(channels=(ChannelSettings("C0LYON", ("lyon",)),))
    with running_bot(api, demo, tmp_path / "state.db", NOW, options) as bot:
        bot.sender.mention("why did lyon drop yesterday at 15:02", channel="C0LYON")
        answered(api)


def test_every_question_is_an_audit_row_with_who_where_what_cause_and_time_taken(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.mention("why did paris drop yesterday at 15:02")
        answered(api)
        assert bot.pool.drain(10)
        (row,) = bot.state.questions()
    assert row["user"] == ALICE and row["channel"] == "C0INCIDENT" and row["team"] == "T0000TEAM"
    assert row["source"] == "mention" and "why did paris drop yesterday at 15:02" in row["text"]
    assert row["intent"] == "why_drop" and row["tunnel"] == "paris"
    assert row["outcome"] == "answered" and row["cause"] == "maintenance_failover" and row["confidence"] == "high"
    assert 0 < row["duration_ms"] < 10_000
    assert row["window_start"] == "2026-11-21T13:47:00Z" and row["window_end"] == "2026-11-21T14:17:00Z"
    assert '"schema": 1' in row["answer_json"] and "AzureDiagnostics" in row["queries_json"]
