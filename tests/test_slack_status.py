"""The status of every tunnel and of several tunnels in Slack: signed requests through the real Bolt app, answers
read from the fake Slack Web API. One message in the thread ("Looking…" edited into the answer); a channel limited
by [[channels]] sees its own tunnels only, and nothing it is told names another."""

from __future__ import annotations

import json

import pytest
from support.demo import DEMO_NOW
from support.fake_slack_api import answered, final_answer, header_of, running_bot
from test_slack_channels import hidden_from, leaks

from bot.config import ChannelSettings
from bot.slack.core import BotOptions

ALICE = "U0ALICE"
INCIDENT = "C0INCIDENT"  # not limited
PARIS_LYON = "C0PARISLYON"  # [[channels]] id = "C0PARISLYON", tunnels = ["paris", "lyon"]
NOBODY = "C0EMPTY"  # [[channels]] limited to a tunnel that is not configured


@pytest.fixture
def api(slack_api):
    return slack_api({ALICE: "Europe/Paris"})


def texts_of(call) -> str:
    return json.dumps(call.blocks, ensure_ascii=False)


def test_whats_down_is_answered_in_a_thread_with_every_tunnel_troubled_first(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", DEMO_NOW) as bot:
        bot.sender.command("what's down right now?", channel=INCIDENT)
        answered(api)
        assert bot.pool.drain(10)
        (row,) = bot.state.questions()
    answer = final_answer(api)
    blocks = answer.blocks
    assert blocks[0]["type"] == "context" and blocks[0]["elements"][0]["text"].startswith(
        "Status of every tunnel (16) · now, 2026-11-22 11:30 CET (10:30 UTC)")
    assert header_of(answer) == "1 of 16 tunnels needs attention: porto DOWN"
    assert "*porto* is DOWN since 06:30:09 CET (05:30:09 UTC)" in texts_of(answer)
    assert "berlin, dc1, dc2, dc3, dc4, hamburg, hub-aws, lyon" in texts_of(answer)  # the healthy ones, one line
    looking = [c["text"] for c in api.calls_to("chat.postMessage") if c["text"].startswith("Looking at")]
    assert looking == ["Looking at every tunnel, 10:30–11:30 CET (09:30–10:30 UTC)…"]
    # audited with the period read and every query run (the summarize of every tunnel among them)
    assert row["outcome"] == "answered" and row["intent"] == "status" and row["tunnel"] is None
    assert str(row["window_start"]).startswith("2026-11-22T09:30") and "summarize Rows = count()" in row["queries_json"]


def test_a_limited_channel_gets_the_status_of_its_tunnels_only(api, demo, tmp_path):
    options = BotOptions(channels=(ChannelSettings(PARIS_LYON, ("paris", "lyon")),))
    with running_bot(api, demo, tmp_path / "state.db", DEMO_NOW, options) as bot:
        bot.sender.command("any tunnels down?", channel=PARIS_LYON)
        answered(api)
        assert bot.pool.drain(10)
    answer = final_answer(api)
    assert header_of(answer) == "All 2 tunnels up, no drop"
    assert answer.blocks[0]["elements"][0]["text"].startswith("Status of every tunnel (2) · ")
    assert leaks(api, hidden_from(demo.registry, {"paris", "lyon"})) == []  # not porto, not its gateway or IPs


def test_a_channel_that_may_see_no_configured_tunnel_is_refused_the_fleet(api, demo, tmp_path):
    options = BotOptions(channels=(ChannelSettings(NOBODY, ("gone",)),))
    with running_bot(api, demo, tmp_path / "state.db", DEMO_NOW, options) as bot:
        bot.sender.command("status", channel=NOBODY)
        assert bot.pool.drain(10)
    said = json.dumps([c.args for c in api.calls], ensure_ascii=False)
    assert "questions about the status of every tunnel can't be asked in this channel" in said
    assert leaks(api, hidden_from(demo.registry, set())) == []


def test_several_tunnels_are_one_message_with_a_section_each(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", DEMO_NOW) as bot:
        bot.sender.mention("status paris and porto", channel=INCIDENT)
        answered(api)
        assert bot.pool.drain(10)
    answer = final_answer(api)
    assert header_of(answer) == "paris up, porto DOWN"
    sections = [b["text"]["text"] for b in answer.blocks if b["type"] == "section"]
    assert sections[0].startswith("*paris*: paris is up since 2026-11-21 15:40:35 CET (14:40:35 UTC) on IN_0")
    assert any(s.startswith("*porto*: porto is DOWN since 06:30:09 CET (05:30:09 UTC)") for s in sections)
    assert len(api.calls_to("chat.postMessage")) == 1  # one reply, edited into the answer


def test_a_limited_channel_naming_another_tunnel_among_its_own_is_refused(api, demo, tmp_path):
    options = BotOptions(channels=(ChannelSettings(PARIS_LYON, ("paris", "lyon")),))
    with running_bot(api, demo, tmp_path / "state.db", DEMO_NOW, options) as bot:
        bot.sender.command("status paris and porto", channel=PARIS_LYON)
        assert bot.pool.drain(10)
    said = json.dumps([c.args for c in api.calls], ensure_ascii=False)
    assert "Sorry, questions about porto can't be asked in this channel" in said
    assert leaks(api, hidden_from(demo.registry, {"paris", "lyon"}), typed="status paris and porto") == []
