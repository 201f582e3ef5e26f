"""A drop answer in Slack: the answer says whether traffic resumed, and the chart of the incident follows in its
thread (files_upload_v2, then files.info, as the daily summary's picture), through the real Bolt app and the fake Web
API, on the demo workspace and its metrics."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from support.demo import DEMO_NOW
from support.fake_slack_api import FakeSlackAPI, answer_and_click, answered, running_bot

from handlers.ask import ask
from handlers.render.blocks import WIDER_WINDOW
from handlers.render.incident_png import render_incident_png

NOW = DEMO_NOW  # the `demo` fixture's instant (tests/conftest.py)
ALICE = "U0ALICE"
CHANNEL = "C0INCIDENT"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
QUESTION = "why did paris drop yesterday at 15:02"  # 14:02 UTC: the first failover of the maintenance


@pytest.fixture
def api(slack_api):
    return slack_api({ALICE: "Europe/Paris"})


def pictures(api: FakeSlackAPI) -> list:
    return [f for f in api.files.values() if f.content and f.content.startswith(PNG_MAGIC)]


def test_a_drop_answer_says_traffic_resumed_and_posts_the_chart_in_its_thread(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        _, ts = bot.sender.mention(QUESTION)
        answered(api)
    (chart,) = api.wait_for(lambda a: [f for f in pictures(a) if f.shares])
    assert chart.name == "vpnbot-paris-20261121T1332Z.png" and chart.title.startswith("Chart: paris")
    assert chart.shares[CHANNEL][0]["thread_ts"] == ts
    answer = [c for c in api.calls_to("chat.update") if "Cause:" in str(c.blocks)][-1]
    assert "Traffic (gateway metrics): stopped with the disconnect; resumed both ways" in str(answer.blocks)
    # The picture is the chart of the answer, drawn in the asker's zone: the same bytes as drawing it here.
    expected = ask(QUESTION, demo.registry, demo.sources, NOW, ZoneInfo("Europe/Paris"))
    assert expected.incident is not None and expected.incident.chart is not None
    assert expected.incident.chart.has_traffic and expected.incident.chart.zone == "Europe/Paris"
    assert chart.content == render_incident_png(expected.incident.chart)
    methods = [c.method for c in api.calls]
    assert methods.index("files.getUploadURLExternal") > max(i for i, c in enumerate(api.calls)
                                                              if c.method == "chat.update")


def test_an_answer_without_a_drop_posts_no_chart(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.mention("why did lyon drop today at 03:00")
        answered(api)
    assert pictures(api) == [] and api.calls_to("files.getUploadURLExternal") == []


def test_a_chart_that_cannot_be_uploaded_leaves_the_answer_standing(api, demo, tmp_path):
    api.fail("files.getUploadURLExternal", "internal_error")
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.mention(QUESTION)
        (done,) = answered(api)
    assert done["name"] == "white_check_mark"
    assert not any("Sorry, something went wrong" in str(c.text) for c in api.calls_to("chat.update"))
    assert pictures(api) == []


def test_a_question_about_two_tunnels_gets_the_chart_of_each(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        _, ts = bot.sender.mention("why did paris and lyon drop yesterday at 15:02")
        answered(api)
    charts = api.wait_for(lambda a: shared if len(shared := [f for f in pictures(a) if f.shares]) == 2 else [])
    assert sorted(f.name for f in charts) == ["vpnbot-lyon-20261121T1332Z.png", "vpnbot-paris-20261121T1332Z.png"]
    assert all(f.shares[CHANNEL][0]["thread_ts"] == ts for f in charts)


def test_the_wider_window_button_posts_the_chart_of_the_wider_answer(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        ts, _, reply = answer_and_click(bot, api, QUESTION, WIDER_WINDOW)
        assert reply.status == 200
        charts = api.wait_for(lambda a: shared if len(shared := [f for f in pictures(a) if f.shares]) == 2 else [])
        assert bot.pool.drain(10)
    # 14:02–16:02 CET read: both failovers of the maintenance (14:02 and 14:40 UTC) are on the second chart.
    assert all(f.shares[CHANNEL][0]["thread_ts"] == ts for f in charts)
    assert len({f.content for f in charts}) == 2
