"""Watching in Slack (issue 16): signed `/vpn watch …`, `/vpn unwatch`, `/vpn watching` through the real Bolt app
against the fake Slack Web API, and the watcher's poll step (pinned clock, no sleeps) reading the real
LogsQueryClient against the local Log Analytics endpoint, where rows become queryable at their `_IngestionTime`."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from support.fake_slack_api import FakeSlackAPI, running_bot
from test_watch import BERLIN, LYON, NICE, PARIS, TUNNELS, WS, Clock, at, down, maintenance, up

from bot.config import ChannelSettings, ConfigError, WatchSettings, config_from_mapping
from bot.slack.core import BotOptions
from bot.slack.server import bot_options
from bot.slack.watches import Watcher
from bot.workspace import Workspace
from diagnostics.sources import Sources
from diagnostics.tunnels import TunnelRegistry

ALICE = "U0ALICE"
INCIDENT, OTHER, LIMITED = "C0INCIDENT", "C0OTHER", "C0LYON"


@pytest.fixture
def api(slack_api) -> FakeSlackAPI:
    return slack_api({ALICE: "Europe/Paris"}, not_in=("C0GONE",))


@pytest.fixture
def logs(log_analytics, azure_source):
    """`logs(rows)`: (workspace, clock): the watched tunnels over a local workspace holding `rows`, served once the
    clock reached each row's ingestion time."""
    def make(rows):
        clock = Clock(at(0))
        server = log_analytics({WS: rows}, now=clock)
        return Workspace(TunnelRegistry(TUNNELS), Sources(kql=[azure_source(server, WS)]), "Europe/Paris"), clock
    return make


def options(**settings) -> BotOptions:
    """The bot's options, its zone the configuration's (the watcher's times are read in it)."""
    return BotOptions(default_tz="Europe/Paris", **settings)


def private_reply(api: FakeSlackAPI, n: int = 1) -> str:
    calls = api.wait_for(lambda a: len(a.calls_to("response_url")) >= n and a.calls_to("response_url"))
    return calls[n - 1].text


def top_posts(api: FakeSlackAPI) -> list:
    return [c for c in api.calls_to("chat.postMessage") if not c.get("thread_ts")]


def message_ts(api: FakeSlackAPI, channel: str) -> str:
    """The ts of the one top-level message the bot has in `channel`."""
    (ts,) = [m.ts for m in api.messages.values() if m.channel == channel and not m.thread_ts]
    return ts


def thread(api: FakeSlackAPI, channel: str, ts: str) -> list[str]:
    """The replies in a message's thread: their text and blocks."""
    return [m.text + json.dumps(m.blocks, ensure_ascii=False) for m in api.messages.values()
            if m.channel == channel and m.thread_ts == ts]


def step(bot, clock: Clock, moment):
    clock.now = moment
    return Watcher(bot.bot).tick(moment)


# -- the commands -------------------------------------------------------------------------------------------------


def test_watch_stores_the_channels_tunnels_announces_it_and_watching_lists_it(api, logs, tmp_path):
    workspace, _ = logs([])
    with running_bot(api, workspace, tmp_path / "state.db", at(0)) as bot:
        bot.sender.command("watch paris, lyon", response_url=api.response_url())
        (confirmation,) = api.wait_for(lambda a: a.calls_to("chat.postMessage"))
        assert bot.pool.drain(10)
        rows = bot.state.watch_rows()
        bot.sender.command("watching", channel=OTHER, response_url=api.response_url())
        listing = private_reply(api)
        assert bot.pool.drain(10)
        audit = bot.state.questions()
    assert confirmation["channel"] == INCIDENT and confirmation.text.startswith("Watching paris and lyon: every new")
    assert confirmation.text.endswith("(set by <@U0ALICE>; `/vpn unwatch` stops it)")
    assert [(r["channel"], r["tunnels"], r["created_by"]) for r in rows] == [(INCIDENT, ("paris", "lyon"), ALICE)]
    assert listing == ("Channels told every new drop (1):\n• <#C0INCIDENT>: paris and lyon, set in Slack")
    assert [(a["intent"], a["outcome"]) for a in audit] == [("watch", "answered"), ("watching", "answered")]


def test_unwatch_stops_it_and_a_second_unwatch_says_there_is_nothing_to_stop(api, logs, tmp_path):
    workspace, _ = logs([])
    with running_bot(api, workspace, tmp_path / "state.db", at(0)) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        bot.sender.command("unwatch", response_url=api.response_url())
        (stopped,) = api.wait_for(lambda a: a.calls_to("chat.postMessage"))
        bot.sender.command("unwatch", response_url=api.response_url())
        nothing = private_reply(api)
        assert bot.pool.drain(10)
        assert bot.state.watch_rows() == []
    assert stopped.text == "Unwatched: new drops are no longer posted here. (stopped by <@U0ALICE>)"
    assert nothing == "This channel watches no tunnel. `/vpn watching` lists the channels that do."


def test_a_misspelt_tunnel_gets_the_closest_name_and_nothing_is_stored(api, logs, tmp_path):
    workspace, _ = logs([])
    with running_bot(api, workspace, tmp_path / "state.db", at(0)) as bot:
        bot.sender.command("watch pariss", response_url=api.response_url())
        reply = private_reply(api)
        assert bot.pool.drain(10)
        assert bot.state.watch_rows() == []
    assert reply.startswith("Sorry: ") and "paris" in reply and "`/vpn watch paris`" in reply
    assert not api.calls_to("chat.postMessage")


def test_a_limited_channel_may_not_watch_another_channels_tunnel(api, logs, tmp_path):
    workspace, _ = logs([])
    opts = options(channels=(ChannelSettings(LIMITED, ("lyon",)),))
    with running_bot(api, workspace, tmp_path / "state.db", at(0), opts) as bot:
        bot.sender.command("watch paris", channel=LIMITED, response_url=api.response_url())
        refusal = private_reply(api)
        assert bot.pool.drain(10)
        assert bot.state.watch_rows() == []
    assert "paris" in refusal and not refusal.startswith("Watching")


def test_a_configured_watch_is_listed_and_not_changed_from_slack(api, logs, tmp_path):
    workspace, _ = logs([])
    opts = options(watches=(WatchSettings(INCIDENT, ("berlin",)),))
    with running_bot(api, workspace, tmp_path / "state.db", at(0), opts) as bot:
        bot.sender.command("watch all", response_url=api.response_url())
        refusal = private_reply(api)
        bot.sender.command("watching", response_url=api.response_url())
        listing = private_reply(api, 2)
        assert bot.pool.drain(10)
    assert refusal.startswith("This channel watches berlin as set in the vpnbot configuration;")
    assert listing.endswith("<#C0INCIDENT> (this channel): berlin, from the configuration ([[watches]])")


def test_watches_in_the_configuration_are_checked_at_start():
    tunnels = [{"name": "paris", "azure_gateway": "VPNGW01", "azure_remote_ip": "203.0.113.10"}]
    config = config_from_mapping({"tunnels": tunnels, "watches": [{"channel": "C1", "tunnels": ["Paris"]},
                                                                  {"channel": "C2"}],
                                  "slack": {"watch_every_s": 30}})
    assert config.watches == (WatchSettings("C1", ("paris",)), WatchSettings("C2", ()))
    settings = bot_options(config, ZoneInfo("Europe/Paris"))
    assert (settings.watch_every_s, settings.watches) == (30.0, config.watches)
    with pytest.raises(ConfigError, match=r"\[\[watches\]\] entry 1 \(channel C1\): .*pariss"):
        config_from_mapping({"tunnels": tunnels, "watches": [{"channel": "C1", "tunnels": ["pariss"]}]})


# -- the watcher --------------------------------------------------------------------------------------------------


def test_a_failover_is_posted_once_in_the_watching_channel_with_its_details_in_the_thread(api, logs, tmp_path):
    workspace, clock = logs([maintenance(at(2) - timedelta(seconds=30)), down(at(2), PARIS.azure_remote_ip),
                             up(at(2) + timedelta(seconds=12), PARIS.azure_remote_ip)])
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        bot.state.watch(INCIDENT, ("paris",), ALICE)
        result = step(bot, clock, at(5))
        again = step(bot, clock, at(6))
        claims = bot.state.watch_claims()
    (post,) = top_posts(api)
    assert post["channel"] == INCIDENT
    assert post.text == ("⚠️ paris dropped at 15:02:00 CET (14:02:00 UTC), back after 12 s — maintenance failover "
                         "(high)")
    (details,) = thread(api, INCIDENT, message_ts(api, INCIDENT))
    assert "maintenance" in details.lower()
    assert len(result.incidents) == 1 and again is not None and again.incidents == []
    assert {c["status"] for c in claims} == {"posted"} and claims[0]["message_ts"]
    assert not api.calls_to("chat.update")


def test_nothing_is_read_while_no_channel_watches(api, logs, tmp_path):
    workspace, clock = logs([down(at(2), PARIS.azure_remote_ip), up(at(2) + timedelta(seconds=12),
                                                                      PARIS.azure_remote_ip)])
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        assert step(bot, clock, at(5)) is None
        assert bot.state.watch_claims() == []
    assert not api.calls_to("chat.postMessage")


def test_a_tunnel_still_down_is_posted_then_its_message_edited_when_it_comes_back(api, logs, tmp_path):
    workspace, clock = logs([down(at(10), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout"),
                             up(at(25), BERLIN.azure_remote_ip, gateway="VPNGW02")])
    with running_bot(api, workspace, tmp_path / "state.db", at(13), options()) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        step(bot, clock, at(13))
        back = step(bot, clock, at(26))
        step(bot, clock, at(27))
    (post,) = top_posts(api)
    assert "still down" in post.text and post.text.startswith("⚠️ berlin dropped at 15:10:00 CET")
    (edit,) = api.calls_to("chat.update")
    assert edit["channel"] == INCIDENT and edit["ts"] == message_ts(api, INCIDENT)
    assert edit.text.startswith("⚠️ berlin dropped at 15:10:00 CET (14:10:00 UTC), back after 15 min")
    assert len(back.recovered) == 1
    said = thread(api, INCIDENT, message_ts(api, INCIDENT))
    assert said[-1].startswith("✅ berlin back at 15:25:00 CET (14:25:00 UTC), after 15 min down")


def test_a_limited_channel_is_told_only_of_its_tunnels_and_a_channel_watching_others_nothing(api, logs, tmp_path):
    rows = [maintenance(at(1) + timedelta(seconds=40))]
    for i, tunnel in enumerate((PARIS, LYON, NICE)):
        rows += [down(at(2) + timedelta(seconds=i), tunnel.azure_remote_ip),
                 up(at(2) + timedelta(seconds=12 + i), tunnel.azure_remote_ip)]
    workspace, clock = logs(rows)
    opts = options(channels=(ChannelSettings(LIMITED, ("lyon",)),))
    with running_bot(api, workspace, tmp_path / "state.db", at(6), opts) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        bot.state.watch(LIMITED, (), ALICE)
        bot.state.watch(OTHER, ("berlin",), ALICE)
        step(bot, clock, at(6))
    posts = {c["channel"]: c.text for c in top_posts(api)}
    assert set(posts) == {INCIDENT, LIMITED}
    assert posts[INCIDENT].startswith("⚠️ paris, lyon and nice dropped together at 15:02:00 CET")
    assert posts[LIMITED].startswith("⚠️ lyon dropped at 15:02:01 CET") or \
        posts[LIMITED].startswith("⚠️ lyon dropped at 15:02:00 CET")
    assert "paris" not in posts[LIMITED] and "nice" not in posts[LIMITED]
    details = [c for c in api.calls_to("chat.postMessage") if c["channel"] == LIMITED and c.get("thread_ts")]
    assert details and all("paris" not in c.text for c in details)


def test_a_tunnel_of_the_gateway_arriving_a_poll_later_edits_the_message_told(api, logs, tmp_path):
    rows = [maintenance(at(1) + timedelta(seconds=40))]
    for i, tunnel in enumerate((PARIS, LYON, NICE)):
        late = at(6) if tunnel is NICE else None
        rows += [down(at(2) + timedelta(seconds=i), tunnel.azure_remote_ip, ingested=late),
                 up(at(2) + timedelta(seconds=12 + i), tunnel.azure_remote_ip, ingested=late)]
    workspace, clock = logs(rows)
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        step(bot, clock, at(5))
        step(bot, clock, at(7))
        step(bot, clock, at(9))
    (post,) = top_posts(api)
    (edit,) = api.calls_to("chat.update")
    assert post.text.startswith("⚠️ paris and lyon dropped together") or \
        post.text.startswith("⚠️ lyon and paris dropped together")
    assert edit["ts"] == message_ts(api, INCIDENT) and "nice" in edit.text and "dropped together" in edit.text


def test_a_channel_the_bot_left_does_not_keep_the_others_untold(api, logs, tmp_path):
    workspace, clock = logs([down(at(2), PARIS.azure_remote_ip), up(at(2) + timedelta(seconds=12),
                                                                      PARIS.azure_remote_ip)])
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        bot.state.watch("C0GONE", (), ALICE)
        bot.state.watch(INCIDENT, (), ALICE)
        step(bot, clock, at(5))
        claims = bot.state.watch_claims()
        step(bot, clock, at(11))
    assert [m.channel for m in api.messages.values() if not m.thread_ts] == [INCIDENT]
    assert {c["status"] for c in claims} == {"posted"}


def test_an_incident_slack_refused_is_posted_by_a_later_poll_once_its_claim_expired(api, logs, tmp_path):
    workspace, clock = logs([down(at(2), PARIS.azure_remote_ip), up(at(2) + timedelta(seconds=12),
                                                                      PARIS.azure_remote_ip)])
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        api.fail("chat.postMessage", "fatal_error")
        step(bot, clock, at(5))
        assert {c["status"] for c in bot.state.watch_claims()} == {"claimed"}
        step(bot, clock, at(11))
        step(bot, clock, at(12))
    (post,) = [m for m in api.messages.values() if not m.thread_ts]
    assert post.channel == INCIDENT and post.text.startswith("⚠️ paris dropped at 15:02:00 CET")


def test_help_says_how_to_watch(api, logs, tmp_path):
    workspace, _ = logs([])
    with running_bot(api, workspace, tmp_path / "state.db", at(0), options()) as bot:
        bot.sender.command("help", response_url=api.response_url())
        (reply,) = api.wait_for(lambda a: a.calls_to("response_url"))
    assert "`/vpn watch [tunnels…|all]`" in json.dumps(reply.blocks, ensure_ascii=False)


def test_a_workspace_failing_5_polls_in_a_row_is_told_once_and_again_when_it_answers(api, log_analytics,
                                                                                     azure_source, tmp_path):
    clock = Clock(at(0))
    server = log_analytics({WS: [down(at(2), PARIS.azure_remote_ip),
                                 up(at(2) + timedelta(seconds=12), PARIS.azure_remote_ip)]}, now=clock)
    workspace = Workspace(TunnelRegistry(TUNNELS), Sources(kql=[azure_source(server, WS)]), "Europe/Paris")
    with running_bot(api, workspace, tmp_path / "state.db", at(0), options()) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        server.fail(1000, 403)
        watcher, told = Watcher(bot.bot), []
        for minute in range(1, 10):
            clock.now = at(minute)
            if minute == 8:
                server.reset()
            watcher.tick(at(minute))
            told.append(len(api.calls_to("chat.postMessage")))
    texts = [c.text for c in api.calls_to("chat.postMessage") if not c.get("thread_ts")]
    assert told[:7] == [0, 0, 0, 0, 1, 1, 1]  # the fifth failed poll, once
    assert texts[0].startswith("⚠️ I could not read ") and "for 5 polls in a row" in texts[0]
    assert texts[1].startswith("✅ ") and texts[1].endswith("answers again: the drops of meanwhile are told now.")
    assert texts[2].startswith("⚠️ paris dropped at 15:02:00 CET") and len(texts) == 3


def test_a_muted_tunnel_is_not_posted_in_that_channel_until_the_mute_ends(api, logs, tmp_path):
    workspace, clock = logs([down(at(2), PARIS.azure_remote_ip), up(at(2) + timedelta(seconds=12),
                                                                      PARIS.azure_remote_ip)])
    with running_bot(api, workspace, tmp_path / "state.db", at(0), options()) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        bot.state.watch(OTHER, (), ALICE)
        bot.sender.command("mute paris 2h Planned maintenance CHG-42", response_url=api.response_url())
        (announced,) = api.wait_for(lambda a: a.calls_to("chat.postMessage"))
        bot.sender.command("watching", response_url=api.response_url())
        listing = private_reply(api)
        assert bot.pool.drain(10)
        step(bot, clock, at(5))
    assert announced["channel"] == INCIDENT
    assert announced.text == ("🔕 Muted paris here until 17:00 CET (2 h 00 min): Planned maintenance CHG-42. Its drops "
                              "meanwhile are not posted; `/vpn unmute paris` ends it sooner. (by <@U0ALICE>)")
    assert "• muted in <#C0INCIDENT>: paris until 17:00 CET: Planned maintenance CHG-42" in listing
    posts = [m for m in api.messages.values() if not m.thread_ts and m.text.startswith("⚠️")]
    assert [m.channel for m in posts] == [OTHER]


def test_unmute_ends_the_mute_and_a_mute_without_a_duration_says_how(api, logs, tmp_path):
    workspace, _ = logs([])
    with running_bot(api, workspace, tmp_path / "state.db", at(0), options()) as bot:
        bot.state.mute(INCIDENT, "paris", at(120), "", ALICE)
        bot.sender.command("unmute paris", response_url=api.response_url())
        (announced,) = api.wait_for(lambda a: a.calls_to("chat.postMessage"))
        bot.sender.command("mute paris", response_url=api.response_url())
        refusal = private_reply(api)
        assert bot.pool.drain(10)
        assert bot.state.mutes(at(0)) == []
    assert announced.text == "Unmuted paris: its new drops are posted here again. (by <@U0ALICE>)"
    assert refusal.startswith("Sorry: Say for how long (30m, 2h, 1d), e.g. `/vpn mute paris 2h")
