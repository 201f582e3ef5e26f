"""Daily summaries in Slack: the message, then its picture uploaded in the summary's thread (files_upload_v2 then
files.info), through the real Bolt app and the fake Web API; `/vpn summary` on demand; [[channels]] limits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.errors import SlackApiError
from support.fake_slack_api import FakeSlackAPI, answered, running_bot

from bot.config import ChannelSettings
from bot.slack.core import BotOptions
from bot.slack.summaries import post_summary
from bot.workspace import Workspace
from handlers.render.blockkit import limit_problems

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)  # 09:00 in Paris: the morning summary
ALICE = "U0ALICE"
CHANNEL = "C0INCIDENT"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo(demo_at) -> Workspace:
    return demo_at(NOW)


@pytest.fixture
def api(slack_api):
    return slack_api({ALICE: "Europe/Paris"})


def uploaded(api: FakeSlackAPI):
    return api.wait_for(lambda a: [f for f in a.files.values() if f.content and f.shares])


def test_scheduled_summary_posts_the_message_then_the_picture_in_its_thread(api, demo, tmp_path):
    azure = [t.name for t in demo.registry if t.azure_gateway]
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        ts = post_summary(bot.bot, CHANNEL, date(2026, 11, 21), ZoneInfo("Europe/Paris"), azure)
    (message,) = [c for c in api.calls_to("chat.postMessage") if c["channel"] == CHANNEL]
    assert message.text.startswith("VPN tunnels on Saturday 21 November 2026 (Europe/Paris)")
    assert "thread_ts" not in message.args or not message["thread_ts"]
    assert limit_problems({"text": message.text, "blocks": message.blocks}) == []
    body = str(message.blocks)
    assert "madrid" in body and "1 × psk_mismatch" in body and "Healthy (100 % up, no drops)" in body
    (picture,) = uploaded(api)
    assert picture.content.startswith(PNG_MAGIC) and picture.name == "vpn-summary-2026-11-21.png"
    assert picture.shares[CHANNEL][0]["thread_ts"] == ts
    methods = [c.method for c in api.calls if c.method != "auth.test"]
    assert methods.index("chat.postMessage") < methods.index("files.getUploadURLExternal")
    assert methods[-1] == "files.info"


def test_summary_in_a_limited_channel_shows_only_its_tunnels(api, demo, tmp_path):
    options = BotOptions(channels=(ChannelSettings(id=CHANNEL, tunnels=("paris", "madrid")),))
    with running_bot(api, demo, tmp_path / "state.db", NOW, options) as bot:
        post_summary(bot.bot, CHANNEL, date(2026, 11, 21), ZoneInfo("Europe/Paris"))
    (message,) = api.calls_to("chat.postMessage")
    assert "2 tunnels" in message.text
    assert "lyon" not in str(message.blocks) and "paris" in str(message.blocks)


def test_slash_summary_answers_in_a_thread_with_the_picture(api, demo, tmp_path):
    options = BotOptions(channels=(ChannelSettings(id=CHANNEL, tunnels=("paris", "lyon", "nice", "madrid")),))
    with running_bot(api, demo, tmp_path / "state.db", NOW, options) as bot:
        reply = bot.sender.command("summary yesterday", response_url=api.response_url())
        assert reply.status == 200
        answered(api, outcomes=("white_check_mark",))
        (picture,) = uploaded(api)
    first, summary = api.calls_to("chat.postMessage")[:2]
    assert first.text == "<@U0ALICE> asked: `/vpn summary yesterday`"
    assert summary["thread_ts"] and summary["thread_ts"] != ""
    assert summary.text.startswith("VPN tunnels on Saturday 21 November 2026 (Europe/Paris)")
    assert "4 tunnels" in summary.text
    assert picture.shares[CHANNEL][0]["thread_ts"] == summary["thread_ts"]


def test_slash_summary_of_a_future_day_tells_the_asker_only(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.command("summary for 2026-12-01", response_url=api.response_url())
        (said,) = api.wait_for(lambda a: a.calls_to("response_url"))
    assert "is in the future" in said.text and said["response_type"] == "ephemeral"
    assert not api.calls_to("chat.postMessage") and not api.files


def test_a_crash_while_the_picture_uploads_never_leads_to_a_second_summary(api, demo, tmp_path):
    """The scheduler's wiring records the message as soon as it exists: another process finding the run's lease
    expired later must not post it again."""
    from datetime import timedelta

    day = date(2026, 11, 21)
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        state = bot.state
        assert state.claim_run(CHANNEL, day, "process-a", NOW, timedelta(minutes=10))
        api.fail("files.getUploadURLExternal", "internal_error")  # the process "dies" during the upload
        with pytest.raises(SlackApiError):
            post_summary(bot.bot, CHANNEL, day, ZoneInfo("Europe/Paris"), ["paris"],
                         on_posted=lambda ts: state.note_run_message(CHANNEL, day, ts))
        later = NOW + timedelta(hours=1)
        assert not state.claim_run(CHANNEL, day, "process-b", later, timedelta(minutes=10))
        assert state.summary_run(CHANNEL, day)["message_ts"]
    assert len(api.calls_to("chat.postMessage")) == 1


def test_channel_subscribed_at_nine_gets_one_summary_with_its_picture_through_a_restart(api, demo, tmp_path):
    """The real scheduler, the real poster, the fake Web API: 09:00 Paris posts yesterday's summary and its
    picture; a restarted bot (a new scheduler on the same state file) ticking later that morning posts nothing."""
    from datetime import timedelta

    from bot.config import SubscriptionSettings
    from bot.slack.subscriptions import summary_scheduler

    config = (SubscriptionSettings(channel=CHANNEL, time="09:00", timezone="Europe/Paris", tunnels=("paris",)),)
    nine = datetime(2026, 11, 22, 8, 0, 30, tzinfo=UTC)  # 09:00:30 in Paris
    for minutes in (0, 25):  # first process, then the restarted one
        with running_bot(api, demo, tmp_path / "state.db", nine) as bot:
            summary_scheduler(bot.bot, config).tick(nine + timedelta(minutes=minutes))
    (message,) = api.calls_to("chat.postMessage")
    assert message["channel"] == CHANNEL and message.text.startswith("VPN tunnels on Saturday 21 November 2026")
    (picture,) = uploaded(api)
    assert picture.content.startswith(PNG_MAGIC)
