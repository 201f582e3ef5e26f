"""Daily summaries as Slack users set them up: signed `/vpn subscribe …`, `/vpn unsubscribe`, `/vpn subscriptions`
requests (and mentions) through the real Bolt app against the local fake Slack Web API; then the scheduler's Slack
side, posting what was subscribed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.fake_slack_api import FakeSlackAPI, running_bot

import bot.slack.summaries as summaries
from bot.config import ChannelSettings, SubscriptionSettings
from bot.schedule import load_subscriptions
from bot.slack.core import BotOptions
from bot.slack.subscriptions import summary_scheduler, summary_tunnels
from bot.workspace import Workspace
from diagnostics.azure import demo
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel, TunnelRegistry

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)  # Sunday, 19:00 in Paris, 13:00 in New York, 23:30 in Kolkata
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
USERS = {ALICE: "Europe/Paris", BOB: "America/New_York", CAROL: None}
LIMITED = ChannelSettings("C0LYON", ("lyon", "nice"))


@pytest.fixture(scope="module")
def workspace() -> Workspace:
    """The demo tunnels' names, no logs: subscribing reads none."""
    return Workspace(TunnelRegistry(Tunnel.from_mapping(t) for t in demo.DEMO_TUNNELS), Sources(), "Europe/Paris")


@pytest.fixture
def api(slack_api):
    return slack_api(USERS, not_in=("C0GONE",))  # the bot was never invited to C0GONE


def private_reply(api: FakeSlackAPI, n: int = 1) -> str:
    """The n-th reply only the asker saw (a slash command's response_url)."""
    calls = api.wait_for(lambda a: len(a.calls_to("response_url")) >= n and a.calls_to("response_url"))
    return calls[n - 1].text


def posted(api: FakeSlackAPI, n: int = 1) -> list:
    return api.wait_for(lambda a: len(a.calls_to("chat.postMessage")) >= n and a.calls_to("chat.postMessage"))


def test_subscribing_a_channel_posts_the_confirmation_there_and_stores_the_subscription(api, workspace, tmp_path):
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        reply = bot.sender.command("subscribe daily 09:00", response_url=api.response_url())
        assert reply.status == 200
        (confirmation,) = posted(api)
        assert bot.pool.drain(10)
        (row,) = bot.state.subscription_rows()
        (audit,) = bot.state.questions()
    # A slash command's replies are private, but the channel should know about its new daily post.
    assert confirmation["channel"] == "C0INCIDENT" and not confirmation.get("thread_ts")
    assert confirmation.text == ("Subscribed: a summary of all tunnels every day at 09:00 Europe/Paris (your zone), "
                                 "first one tomorrow at 09:00. (set by <@U0ALICE>; `/vpn unsubscribe` stops it)")
    assert row["channel"] == "C0INCIDENT" and row["source"] == "slack" and row["time"] == "09:00"
    assert row["tz"] == "Europe/Paris" and row["tunnels"] == "[]" and row["created_by"] == ALICE
    assert row["created_at"] == "2026-11-22T18:00:00Z"
    assert audit["intent"] == "subscribe" and audit["outcome"] == "answered" and audit["source"] == "slash"
    assert not api.calls_to("response_url") and not api.calls_to("reactions.add")


def test_the_channels_configured_zone_wins_over_the_subscribers(api, workspace, tmp_path):
    options = BotOptions(channels=(ChannelSettings("C0INCIDENT", (), timezone="Asia/Kolkata"),))
    with running_bot(api, workspace, tmp_path / "state.db", NOW, options) as bot:
        _, ts = bot.sender.mention("subscribe daily 9am paris, branch-lyon", user=BOB)
        (confirmation,) = posted(api)
        assert bot.pool.drain(10)
        (sub,) = load_subscriptions(bot.state)
    assert confirmation["thread_ts"] == ts  # a mention is answered in its thread, as questions are
    assert confirmation.text == ("Subscribed: a summary of paris and lyon every day at 09:00 Asia/Kolkata "
                                 "(channel zone), first one tomorrow at 09:00.")
    assert sub.tz == "Asia/Kolkata" and sub.tunnels == ("paris", "lyon") and sub.created_by == BOB


def test_a_subscriber_without_a_slack_zone_gets_the_bots_default_and_is_told_so(api, workspace, tmp_path):
    options = BotOptions(default_tz="America/New_York")
    with running_bot(api, workspace, tmp_path / "state.db", NOW, options) as bot:
        bot.sender.mention("subscribe daily at 14:30 all", user=CAROL)
        (confirmation,) = posted(api)
    assert confirmation.text == ("Subscribed: a summary of all tunnels every day at 14:30 America/New_York "
                                 "(the bot's default zone), first one today at 14:30.")  # 13:00 in New York


def test_a_time_still_ahead_today_starts_today(api, workspace, tmp_path):
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        bot.sender.command("subscribe daily 21:30 nice", response_url=api.response_url())
        (confirmation,) = posted(api)
    assert "every day at 21:30 Europe/Paris (your zone), first one today at 21:30." in confirmation.text


def test_subscribing_again_changes_the_time_and_tunnels(api, workspace, tmp_path):
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        bot.sender.command("subscribe daily 09:00", response_url=api.response_url())
        posted(api, 1)
        bot.sender.command("subscribe daily 7:45am paris", response_url=api.response_url())
        second = posted(api, 2)[1]
        (sub,) = load_subscriptions(bot.state)
    assert "a summary of paris every day at 07:45" in second.text
    assert sub.time == "07:45" and sub.tunnels == ("paris",) and sub.since == NOW


def test_the_list_shows_slack_made_and_configuration_subscriptions(api, workspace, tmp_path):
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        bot.state.sync_config_subscriptions([{"channel": "C0NETOPS", "time": "08:30", "tz": "Europe/Berlin",
                                              "tunnels": ["berlin", "munich"]}], NOW)
        bot.sender.command("subscribe daily 09:00", response_url=api.response_url())
        posted(api)
        bot.sender.command("subscriptions", response_url=api.response_url())
        listing = private_reply(api)
    assert listing.splitlines() == [
        "Daily summaries (2):",
        "• <#C0INCIDENT> (this channel): all tunnels every day at 09:00 Europe/Paris, set in Slack by <@U0ALICE>",
        "• <#C0NETOPS>: berlin and munich every day at 08:30 Europe/Berlin, from the configuration "
        "([[subscriptions]])",
    ]


def test_an_empty_list_says_how_to_subscribe(api, workspace, tmp_path):
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        bot.sender.mention("list subscriptions")
        (reply,) = posted(api)
    assert reply.text.startswith("No daily summaries yet. Subscribe this channel with `/vpn subscribe daily 09:00`")


def test_unsubscribing_stops_the_channels_summary_and_says_so_in_the_channel(api, workspace, tmp_path):
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        bot.sender.command("subscribe daily 09:00 paris", response_url=api.response_url())
        posted(api, 1)
        bot.sender.command("unsubscribe", user=BOB, response_url=api.response_url())
        stopped = posted(api, 2)[1]
        assert bot.state.subscription_rows() == []
        bot.sender.command("unsubscribe", response_url=api.response_url())
        nothing = private_reply(api)
        assert bot.pool.drain(10)
        audits = [(q["intent"], q["outcome"]) for q in bot.state.questions()]
    assert stopped.text == ("Unsubscribed: no more daily summary here (it was paris every day at 09:00 "
                            "Europe/Paris). (stopped by <@U0BOB>)")
    assert nothing.startswith("This channel has no daily summary to stop.")
    assert audits == [("subscribe", "answered"), ("unsubscribe", "answered"), ("unsubscribe", "bad_input")]


def test_a_configuration_subscription_is_changed_in_the_configuration_not_in_slack(api, workspace, tmp_path):
    options = BotOptions(admins="the network team (<#C0NETOPS>)")
    with running_bot(api, workspace, tmp_path / "state.db", NOW, options) as bot:
        bot.state.sync_config_subscriptions([{"channel": "C0INCIDENT", "time": "08:30", "tz": "Europe/Paris",
                                              "tunnels": []}], NOW)
        bot.sender.command("unsubscribe", response_url=api.response_url())
        refusal = private_reply(api, 1)
        bot.sender.command("subscribe daily 10:00", response_url=api.response_url())
        change = private_reply(api, 2)
        rows = bot.state.subscription_rows()
    assert refusal == ("This channel's daily summary (all tunnels every day at 08:30 Europe/Paris) comes from the "
                       "vpnbot configuration: the network team (<#C0NETOPS>) can remove its [[subscriptions]] entry "
                       "(channel = \"C0INCIDENT\").")
    assert change.startswith("This channel's daily summary is set in the vpnbot configuration (all tunnels every day "
                             "at 08:30 Europe/Paris); the network team (<#C0NETOPS>) can change it there")
    assert [(r["source"], r["time"]) for r in rows] == [("config", "08:30")]
    assert not api.calls_to("chat.postMessage")


def test_an_unknown_tunnel_gets_the_closest_names_and_an_example(api, workspace, tmp_path):
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        bot.sender.command("subscribe daily 09:00 pariss", response_url=api.response_url())
        reply = private_reply(api)
        assert bot.pool.drain(10)
        assert bot.state.subscription_rows() == []
        (audit,) = bot.state.questions()
    assert reply == ("Sorry: unknown tunnel 'pariss': did you mean 'paris'? For example "
                     "`/vpn subscribe daily 09:00 paris` (or `… 09:00 all`)")
    assert audit["outcome"] == "bad_input" and audit["intent"] == "subscriptions"


@pytest.mark.parametrize(("text", "says"), [
    ("subscribe daily 25:00", "Sorry: '25:00' is not a time of day: use 00:00 to 23:59 (or 9am, 9:30pm); try "
                              "`/vpn subscribe daily 09:00 paris`"),
    ("subscribe daily 13pm paris", "Sorry: '13pm' is not a time of day: with am/pm the hour is 1 to 12"),
    ("subscribe daily", "Sorry: Give the time of day for the summary, e.g. `/vpn subscribe daily 09:00 paris`"),
    ("subscribe weekly 09:00", "Sorry: Only daily summaries exist (not weekly)"),
])
def test_a_bad_time_says_what_to_type_instead(api, workspace, tmp_path, text, says):
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        bot.sender.command(text, response_url=api.response_url())
        assert private_reply(api).startswith(says)
        assert bot.state.subscription_rows() == []


def test_a_limited_channel_subscribes_only_to_its_tunnels(api, workspace, tmp_path):
    options = BotOptions(admins="the network team", channels=(LIMITED,))
    with running_bot(api, workspace, tmp_path / "state.db", NOW, options) as bot:
        bot.state.sync_config_subscriptions([{"channel": "C0NETOPS", "time": "08:30", "tz": "Europe/Berlin",
                                              "tunnels": ["berlin"]}], NOW)
        bot.sender.command("subscribe daily 09:00 paris lyon", channel="C0LYON", response_url=api.response_url())
        refusal = private_reply(api, 1)
        assert bot.state.subscription_rows("C0LYON") == []
        bot.sender.command("subscribe daily 09:00 all", channel="C0LYON", response_url=api.response_url())
        (confirmation,) = posted(api)
        bot.sender.command("subscriptions", channel="C0LYON", response_url=api.response_url())
        listing = private_reply(api, 2)
        (sub,) = [s for s in load_subscriptions(bot.state) if s.channel == "C0LYON"]
        assert summary_tunnels(bot.bot, sub) == ("lyon", "nice")
    assert refusal.startswith("Sorry, questions about paris can't be asked in this channel: it is limited to "
                              "lyon, nice. the network team can change that")
    assert confirmation.text.startswith("Subscribed: a summary of all tunnels this channel may see (lyon and nice) "
                                        "every day at 09:00 Europe/Paris")
    # Another channel's subscription (and its tunnels) is none of a limited channel's business.
    assert listing.splitlines() == ["Daily summaries (1):", "• <#C0LYON> (this channel): all tunnels this channel may "
                                    "see (lyon and nice) every day at 09:00 Europe/Paris, set in Slack by <@U0ALICE>"]


def test_a_channel_the_bot_is_not_in_is_not_subscribed(api, workspace, tmp_path):
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        bot.sender.command("subscribe daily 09:00", channel="C0GONE", response_url=api.response_url())
        reply = private_reply(api)
        assert bot.state.subscription_rows() == []
    assert reply.startswith("I can't post in this channel yet: invite me with `/invite @vpnbot`")
    assert "then subscribe again" in reply


def test_a_repeated_delivery_of_a_subscribe_mention_is_acted_on_once(api, workspace, tmp_path):
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        bot.sender.mention("subscribe daily 09:00", event_id="EvSUB1")
        bot.sender.mention("subscribe daily 09:00", event_id="EvSUB1", retry_num=1)
        posted(api)
        assert bot.pool.drain(10)
        assert len(api.calls_to("chat.postMessage")) == 1 and len(bot.state.questions()) == 1


# ------------------------------------------------------------------------------------------- the scheduler's side


class FakePoster:
    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[tuple[str, date, ZoneInfo, list[str] | None]] = []
        self.error = error

    def __call__(self, bot, channel, day, zone, tunnels=None, on_posted=None, shared=None) -> str:
        self.calls.append((channel, day, zone, tunnels))
        if self.error:
            raise self.error
        if on_posted is not None:
            on_posted("1763900000.000001")
        return "1763900000.000001"


def test_what_was_subscribed_in_slack_is_posted_once_the_next_morning(api, workspace, tmp_path, monkeypatch):
    poster = FakePoster()
    monkeypatch.setattr(summaries, "post_summary", poster)
    options = BotOptions(channels=(LIMITED,))
    config = [SubscriptionSettings("C0NETOPS", "08:30", "Europe/Berlin", ("berlin",))]
    with running_bot(api, workspace, tmp_path / "state.db", NOW, options) as bot:
        bot.sender.command("subscribe daily 09:00 all", channel="C0LYON", response_url=api.response_url())
        posted(api)
        scheduler = summary_scheduler(bot.bot, config)
        for minutes in range(0, 24 * 60, 10):  # Monday, every ten minutes
            scheduler.tick(datetime(2026, 11, 23, tzinfo=UTC) + timedelta(minutes=minutes))
        runs = {r["channel"]: r for r in bot.state.summary_runs()}
    assert poster.calls == [
        ("C0NETOPS", date(2026, 11, 22), ZoneInfo("Europe/Berlin"), ["berlin"]),  # 08:30 Berlin = 07:30 UTC
        ("C0LYON", date(2026, 11, 22), ZoneInfo("Europe/Paris"), ["lyon", "nice"]),  # its tunnels, not all
    ]
    assert runs["C0LYON"]["status"] == "posted" and runs["C0LYON"]["message_ts"] == "1763900000.000001"


def test_a_summary_that_fails_for_good_is_announced_once_in_the_channel(api, workspace, tmp_path, monkeypatch):
    # A failure no retry can fix (a build without the summary poster): tried once, then the channel is told once,
    # with an error id (docs/summaries.md).
    poster = FakePoster(NotImplementedError("this build has no daily summary poster"))
    monkeypatch.setattr(summaries, "post_summary", poster)
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        scheduler = summary_scheduler(bot.bot, [SubscriptionSettings("C0INCIDENT", "09:00", "Europe/Paris")])
        for minutes in range(0, 120, 5):
            scheduler.tick(datetime(2026, 11, 23, 8, 0, tzinfo=UTC) + timedelta(minutes=minutes))
        run = bot.state.summary_run("C0INCIDENT", date(2026, 11, 22))
        earlier = {r["day"]: r["status"] for r in bot.state.summary_runs() if r["day"] != "2026-11-22"}
    assert earlier == {"2026-11-21": "skipped"}  # the configuration's has no start: yesterday's was missed
    assert len(poster.calls) == 1  # a missing poster is not worth retrying
    (notice,) = api.calls_to("chat.postMessage")
    assert notice["channel"] == "C0INCIDENT"
    assert notice.text.startswith("Sorry, I could not post this channel's daily VPN summary of Sunday 22 November "
                                  "(error id `")
    assert run["status"] == "failed" and "NotImplementedError" in run["error"]
