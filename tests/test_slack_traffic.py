"""A traffic question in Slack: a signed mention through the real Bolt app, answered in the thread (the "Looking…"
message edited into the answer, read from the fake Slack Web API) with the tunnel's state, the bytes each way and
the cause; audited with its intent."""

from __future__ import annotations

import json

import pytest
from support.demo import DEMO_NOW
from support.fake_slack_api import answer_and_click, answered, final_answer, header_of, running_bot

from handlers.render.blocks import WIDER_WINDOW

ALICE = "U0ALICE"
INCIDENT = "C0INCIDENT"


@pytest.fixture
def api(slack_api):
    return slack_api({ALICE: "Europe/Paris"})


def test_paris_is_up_but_nothing_gets_through_is_answered_with_the_bytes_each_way(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", DEMO_NOW) as bot:
        bot.sender.mention("munich is up but nothing gets through from the site", channel=INCIDENT)
        answered(api)
        assert bot.pool.drain(10)
        (row,) = bot.state.questions()
    answer = final_answer(api)
    said = json.dumps(answer.blocks, ensure_ascii=False)
    assert answer.blocks[0]["elements"][0]["text"].startswith(
        "Traffic over munich · 2026-11-22 10:30–11:30 CET (09:30–10:30 UTC)")
    assert header_of(answer).startswith("munich (VPNGW02")
    assert "connected, but traffic flows one way only" in header_of(answer)
    assert "in  (site → Azure): 0 B (0 packets)" in said and "out (Azure → site): 466 MB" in said
    assert "*Cause:* `one_way_traffic` (high confidence)" in said
    looking = [c["text"] for c in api.calls_to("chat.postMessage") if c["text"].startswith("Looking at")]
    assert looking == ["Looking at munich, 10:30–11:30 CET (09:30–10:30 UTC)…"]
    assert row["outcome"] == "answered" and row["intent"] == "traffic" and row["tunnel"] == "munich"


def test_wider_window_on_a_traffic_answer_reads_the_metrics_of_the_wider_window(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", DEMO_NOW) as bot:
        _, first, reply = answer_and_click(bot, api, "is traffic flowing over munich", WIDER_WINDOW)
        assert reply.status == 200
        api.wait_for(lambda a: len([c for c in a.calls_to("chat.update") if c["ts"] != first["ts"]]) >= 1)
        assert bot.pool.drain(30)
    wider = [c for c in api.calls_to("chat.update") if c["ts"] != first["ts"]][-1]
    said = json.dumps(wider.blocks, ensure_ascii=False)
    assert wider.blocks[0]["elements"][0]["text"].startswith(
        "Traffic over munich · 2026-11-22 09:30–11:30 CET (08:30–10:30 UTC)")
    assert "*Cause:* `one_way_traffic`" in said and "in  (site → Azure): 1.0 MB" in said
    assert "received nothing since 09:35 CET (08:35 UTC)" in said  # it stopped inside the wider window
