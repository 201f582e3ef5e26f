"""Watching in Slack (issue 16): signed `/vpn watch …`, `/vpn unwatch`, `/vpn watching` through the real Bolt app
against the fake Slack Web API, and the watcher's poll step (pinned clock, no sleeps) reading the real
LogsQueryClient against the local Log Analytics endpoint, where rows become queryable at their `_IngestionTime`."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from support.fake_slack_api import FakeSlackAPI, buttons_of, running_bot
from test_watch import (
    BERLIN,
    IN_0,
    LYON,
    NICE,
    PARIS,
    TUNNELS,
    WS,
    Clock,
    at,
    down,
    maintenance,
    maintenance_with_two_tunnels_still_down,
    up,
)

from bot.config import ChannelSettings, ConfigError, WatchSettings, config_from_mapping
from bot.slack import unasked
from bot.slack.core import BotOptions
from bot.slack.server import bot_options
from bot.slack.watches import Watcher
from bot.workspace import Workspace
from diagnostics.sources import Sources
from diagnostics.tunnels import TunnelRegistry
from handlers.render.blocks import EVIDENCE_BUNDLE, SHOW_QUERIES, WIDER_WINDOW
from handlers.render.incident_png import render_incident_png
from handlers.watch import incident_answer

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
    workspace, clock = logs(nice_a_poll_late())
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


def test_a_tunnel_joining_the_incident_later_gets_its_details_in_the_thread_and_its_buttons_on_the_message(
        api, logs, tmp_path):
    workspace, clock = logs(nice_a_poll_late())
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        step(bot, clock, at(5))
        step(bot, clock, at(7))
        stored = [(q["tunnel"], q["thread_ts"]) for q in bot.state.questions() if q["source"] == "watch"]
    ts = message_ts(api, INCIDENT)
    (edit,) = api.calls_to("chat.update")
    assert sorted(stored) == [("lyon", ts), ("nice", ts), ("paris", ts)]
    assert sorted(b[0] for b in actions_of(edit)) == ["Show queries (lyon)", "Show queries (nice)",
                                                      "Show queries (paris)"]
    details = thread(api, INCIDENT, ts)
    assert len(details) == 2 and "nice" in details[1] and "maintenance" in details[1].lower()


def test_a_rate_limited_post_is_retried_and_the_incident_posted_once(api, logs, tmp_path):
    workspace, clock = logs(failover())
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        bot.state.watch(INCIDENT, ("paris",), ALICE)
        api.rate_limit("chat.postMessage", n=1, retry_after=0)  # Slack's 429 with Retry-After
        step(bot, clock, at(5))
        step(bot, clock, at(6))
        claims = bot.state.watch_claims()
    (post,) = [m for m in api.messages.values() if not m.thread_ts]
    assert post.text.startswith("⚠️ paris dropped at 15:02:00 CET") and len(top_posts(api)) == 2  # the 429, then it
    assert {c["status"] for c in claims} == {"posted"}


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


def test_the_failed_polls_are_counted_across_processes_and_restarts_and_told_once(api, log_analytics, azure_source,
                                                                                 tmp_path):
    clock = Clock(at(0))
    server = log_analytics({WS: [down(at(2), PARIS.azure_remote_ip),
                                 up(at(2) + timedelta(seconds=12), PARIS.azure_remote_ip)]}, now=clock)
    workspace = Workspace(TunnelRegistry(TUNNELS), Sources(kql=[azure_source(server, WS)]), "Europe/Paris")
    path = tmp_path / "state.db"
    with running_bot(api, workspace, path, at(0), options()) as one, \
            running_bot(api, workspace, path, at(0), options()) as two:
        one.state.watch(INCIDENT, (), ALICE)
        server.fail(1000, 403)
        told = []
        for minute in range(1, 10):
            clock.now = at(minute)
            if minute == 8:
                server.reset()
            # Two processes take turns, each poll by a watcher just started (a restart): one count for all.
            Watcher((one, two)[minute % 2].bot).tick(at(minute))
            told.append(len(top_posts(api)))
    texts = [c.text for c in top_posts(api)]
    assert told[:7] == [0, 0, 0, 0, 1, 1, 1]
    assert texts[0].startswith("⚠️ I could not read ") and "for 5 polls in a row" in texts[0]
    assert texts[1].startswith("✅ ") and texts[1].endswith("answers again: the drops of meanwhile are told now.")
    assert texts[2].startswith("⚠️ paris dropped at 15:02:00 CET") and len(texts) == 3


def test_a_gateways_incident_is_edited_as_each_tunnel_comes_back_with_a_line_per_recovery(api, logs, tmp_path):
    workspace, clock = logs(maintenance_with_two_tunnels_still_down())
    opts = options(channels=(ChannelSettings(LIMITED, ("lyon",)),))
    with running_bot(api, workspace, tmp_path / "state.db", at(5), opts) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        bot.state.watch(LIMITED, (), ALICE)
        for minute in (5, 21, 41, 42):
            step(bot, clock, at(minute))
        ts, limited = message_ts(api, INCIDENT), message_ts(api, LIMITED)
    posts = {c["channel"]: c.text for c in top_posts(api)}
    edits = [(c["channel"], c["ts"], c.text) for c in api.calls_to("chat.update")]
    assert posts[INCIDENT] == ("⚠️ paris, lyon and nice dropped together at 15:02:00 CET (14:02:00 UTC): paris back, "
                               "lyon and nice still down — maintenance failover (high)")
    assert posts[LIMITED] == "⚠️ lyon dropped at 15:02:01 CET (14:02:01 UTC), still down — maintenance failover (high)"
    assert edits == [
        (INCIDENT, ts, "⚠️ paris, lyon and nice dropped together at 15:02:00 CET (14:02:00 UTC): paris and lyon back, "
                       "nice still down — maintenance failover (high)"),
        (LIMITED, limited, "⚠️ lyon dropped at 15:02:01 CET (14:02:01 UTC), back after 17 min 59 s — maintenance "
                           "failover (high)"),
        (INCIDENT, ts, "⚠️ paris, lyon and nice dropped together at 15:02:00 CET (14:02:00 UTC), back after 38 min — "
                       "maintenance failover (high)")]
    recoveries = [line for line in thread(api, INCIDENT, ts) if line.startswith("✅")]
    assert [line.split(" — ")[0] for line in recoveries] == [
        "✅ lyon back at 15:20:00 CET (14:20:00 UTC), after 17 min 59 s down",
        "✅ nice back at 15:40:00 CET (14:40:00 UTC), after 37 min 58 s down"]
    assert [line.split(" — ")[0] for line in thread(api, LIMITED, limited) if line.startswith("✅")] == [
        "✅ lyon back at 15:20:00 CET (14:20:00 UTC), after 17 min 59 s down"]


def test_reconnects_arriving_late_and_out_of_order_are_each_told_once_with_their_own_times(api, logs, tmp_path):
    rows = maintenance_with_two_tunnels_still_down()
    (lyon_up,) = [r for r in rows if r["OperationName"] == "TunnelConnected"
                  and r["remoteIP_s"] == LYON.azure_remote_ip]
    lyon_up["_IngestionTime"] = "2026-12-07T14:45:00Z"  # logged at 14:20, queryable only after nice's of 14:40
    workspace, clock = logs(rows)
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        for minute in (5, 21, 41, 46, 47):
            step(bot, clock, at(minute))
        ts = message_ts(api, INCIDENT)
    edits = [c.text.split(" — ")[0] for c in api.calls_to("chat.update")]
    assert edits == ["⚠️ paris, lyon and nice dropped together at 15:02:00 CET (14:02:00 UTC): paris and nice back, "
                     "lyon still down",
                     "⚠️ paris, lyon and nice dropped together at 15:02:00 CET (14:02:00 UTC), back after 38 min"]
    assert [line.split(" — ")[0] for line in thread(api, INCIDENT, ts) if line.startswith("✅")] == [
        "✅ nice back at 15:40:00 CET (14:40:00 UTC), after 37 min 58 s down",
        "✅ lyon back at 15:20:00 CET (14:20:00 UTC), after 17 min 59 s down"]


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


# -- the usual buttons -----------------------------------------------------------------------------------------------


def failover() -> list[dict[str, str]]:
    """paris moved to the other instance by VPNGW01's maintenance at 14:02, back after 12 s."""
    return [maintenance(at(2) - timedelta(seconds=30)), down(at(2), PARIS.azure_remote_ip),
            up(at(2) + timedelta(seconds=12), PARIS.azure_remote_ip)]


def watched_failover(api, bot, clock):
    """The failover watched in INCIDENT and polled at 14:05: its message, and the message's ts."""
    bot.state.watch(INCIDENT, ("paris",), ALICE)
    step(bot, clock, at(5))
    (post,) = top_posts(api)
    return post, message_ts(api, INCIDENT)


def actions_of(message) -> list[list[str]]:
    """The button labels of a message, per actions block."""
    return [[e["text"]["text"] for e in b["elements"]] for b in message.blocks if b["type"] == "actions"]


def test_an_incident_message_carries_the_usual_buttons_and_show_queries_works_from_another_process(api, logs,
                                                                                                  tmp_path):
    workspace, clock = logs(failover())
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        post, ts = watched_failover(api, bot, clock)
        (stored,) = [q for q in bot.state.questions() if q["source"] == "watch"]
        # Another process on the same state file takes the click (the replica behind the load balancer).
        with running_bot(api, workspace, tmp_path / "state.db", at(6), options()) as other:
            reply = other.sender.click(buttons_of(post)[SHOW_QUERIES], message_ts=ts, thread_ts=ts)
            assert reply.status == 200
            shown = api.wait_for(lambda a: [m for m in thread(a, INCIDENT, ts) if "Queries behind" in m])
            assert other.pool.drain(10)
    assert actions_of(post) == [["Show queries", "Wider window", "Evidence bundle"]]
    value = json.loads(buttons_of(post)[SHOW_QUERIES]["value"])
    assert value["id"] == stored["id"] and value["tunnel"] == "paris" and value["intent"] == "why_drop"
    assert (stored["channel"], stored["tunnel"], stored["outcome"], stored["thread_ts"]) == (INCIDENT, "paris",
                                                                                             "answered", ts)
    assert stored["cause"] == "maintenance_failover" and json.loads(stored["queries_json"])
    assert "Queries behind the answer about paris" in shown[0] and "ingestion_time" not in shown[0]
    assert "TunnelDiagnosticLog" in shown[0]
    details = [m for m in api.messages.values() if m.thread_ts == ts and m.blocks
               and any(b["type"] == "actions" for b in m.blocks)]
    assert details and json.loads(buttons_of(details[0])[SHOW_QUERIES]["value"])["id"] == stored["id"]


def test_the_evidence_bundle_button_of_an_incident_puts_the_bundle_in_its_thread(api, logs, tmp_path):
    workspace, clock = logs(failover())
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        post, ts = watched_failover(api, bot, clock)
        bot.sender.click(buttons_of(post)[EVIDENCE_BUNDLE], message_ts=ts, thread_ts=ts)
        api.wait_for(lambda a: a.calls_to("files.info"))
        assert bot.pool.drain(30)
        (stored,) = [q for q in bot.state.questions() if q["source"] == "watch"]
        (bundle,) = bot.state.bundles(stored["id"])
    (zipped,) = [f for f in api.files.values() if f.name.endswith(".zip")]  # the incident's chart is there too
    (complete,) = [c for c in api.calls_to("files.completeUploadExternal") if zipped.id in c["files"]]
    assert complete["channel_id"] == INCIDENT and complete["thread_ts"] == ts
    assert bundle["file_name"].startswith(f"vpnbot-evidence-{stored['id']}-paris-")


def test_an_edited_incident_keeps_its_buttons(api, logs, tmp_path):
    workspace, clock = logs([down(at(10), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout"),
                             up(at(25), BERLIN.azure_remote_ip, gateway="VPNGW02")])
    with running_bot(api, workspace, tmp_path / "state.db", at(13), options()) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        step(bot, clock, at(13))
        step(bot, clock, at(26))
    (post,) = top_posts(api)
    (edit,) = api.calls_to("chat.update")
    assert "back after 15 min" in edit.text
    assert buttons_of(edit)[SHOW_QUERIES]["value"] == buttons_of(post)[SHOW_QUERIES]["value"]
    assert set(buttons_of(edit)) == {SHOW_QUERIES, WIDER_WINDOW, EVIDENCE_BUNDLE}


def test_an_incident_of_three_tunnels_carries_the_buttons_of_each(api, logs, tmp_path):
    rows = [maintenance(at(1) + timedelta(seconds=40))]
    for i, tunnel in enumerate((PARIS, LYON, NICE)):
        rows += [down(at(2) + timedelta(seconds=i), tunnel.azure_remote_ip),
                 up(at(2) + timedelta(seconds=12 + i), tunnel.azure_remote_ip)]
    workspace, clock = logs(rows)
    with running_bot(api, workspace, tmp_path / "state.db", at(6), options()) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        step(bot, clock, at(6))
        stored = [q for q in bot.state.questions() if q["source"] == "watch"]
    (post,) = top_posts(api)
    labels = actions_of(post)
    assert sorted(q["tunnel"] for q in stored) == ["lyon", "nice", "paris"]
    assert len(labels) == 3 and sorted(b[0] for b in labels) == ["Show queries (lyon)", "Show queries (nice)",
                                                                 "Show queries (paris)"]
    ids = {json.loads(e["value"])["id"] for b in post.blocks if b["type"] == "actions" for e in b["elements"]
           if e.get("value")}
    assert ids == {q["id"] for q in stored}


def test_a_message_about_many_tunnels_carries_the_buttons_of_ten_and_says_how_to_get_the_others():
    rows = [{"id": n, "intent": "why_drop", "tunnel": f"t{n:02}", "window_start": "2026-12-07T13:47:00Z",
             "window_end": "2026-12-07T14:17:00Z", "queries_json": "[]"} for n in range(1, 13)]
    blocks = unasked.actions(SimpleNamespace(options=options()), rows)
    assert [b["type"] for b in blocks] == ["actions"] * 10 + ["context"]
    assert len({b["block_id"] for b in blocks[:10]}) == 10  # Slack refuses a message repeating a block_id
    assert "t11, t12" in blocks[-1]["elements"][0]["text"] and "`why did t11 drop`" in blocks[-1]["elements"][0]["text"]


# -- the chart of the incident ----------------------------------------------------------------------------------------

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def charts(api: FakeSlackAPI, channel: str = INCIDENT) -> dict[str, list]:
    """The PNGs the bot shared in `channel`, by the thread they are in."""
    found: dict[str, list] = {}
    for file in api.files.values():
        if file.content.startswith(PNG_MAGIC):
            for share in file.shares.get(channel, []):
                found.setdefault(share["thread_ts"], []).append(file)
    return found


def test_a_watched_incident_gets_the_chart_of_its_drop_in_its_thread_in_the_channels_zone(api, logs, tmp_path):
    workspace, clock = logs(failover())
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        bot.state.watch(INCIDENT, ("paris",), ALICE)
        result = step(bot, clock, at(5))
        step(bot, clock, at(6))
    ts = message_ts(api, INCIDENT)
    assert list(charts(api)) == [ts]
    (chart,) = charts(api)[ts]
    (complete,) = [c for c in api.calls_to("files.completeUploadExternal") if chart.id in c["files"]]
    assert (complete["channel_id"], complete["thread_ts"]) == (INCIDENT, ts)
    assert chart.name == "vpnbot-paris-20261207T1332Z.png" and chart.title.startswith("Chart: paris around the drop")
    picture = Image.open(io.BytesIO(chart.content))
    picture.verify()
    assert picture.format == "PNG" and picture.size[0] == 1200
    # The chart of the investigation in the thread, its axis in the channel's zone: the same bytes drawn here.
    (incident,) = result.incidents
    expected = incident_answer(incident, workspace.registry, workspace.sources, at(5), ZoneInfo("Europe/Paris"))
    assert expected.incident is not None and expected.incident.chart is not None
    assert expected.incident.chart.zone == "Europe/Paris"
    assert chart.content == render_incident_png(expected.incident.chart)
    # After the answer in the thread, as under an asked answer.
    methods = [c.method for c in api.calls]
    assert methods.index("files.getUploadURLExternal") > max(
        i for i, c in enumerate(api.calls) if c.method == "chat.postMessage" and c.get("thread_ts") == ts)


def flap_series_growing() -> list[dict[str, str]]:
    """berlin down 40 minutes from 14:00, then two more drops soon after it came back (tests/test_watch.py)."""
    rows = [down(at(0), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout"),
            up(at(40), BERLIN.azure_remote_ip, IN_0, gateway="VPNGW02")]
    for minute in (45, 50):
        rows += [down(at(minute), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout"),
                 up(at(minute) + timedelta(seconds=30), BERLIN.azure_remote_ip, IN_0, gateway="VPNGW02")]
    return rows


def still_down_then_back() -> list[dict[str, str]]:
    return [down(at(10), BERLIN.azure_remote_ip, gateway="VPNGW02", reason="ConnectionTimeout"),
            up(at(25), BERLIN.azure_remote_ip, gateway="VPNGW02")]


@pytest.mark.parametrize(("rows", "polls", "name"), [
    (still_down_then_back, (13, 26, 27), "vpnbot-berlin-20261207T1340Z.png"),  # 30 min before its drop at 14:10
    (flap_series_growing, (3, 55, 56), "vpnbot-berlin-20261207T1330Z.png")], ids=["comeback", "flap_series"])
def test_an_edited_incident_posts_no_second_chart(api, logs, tmp_path, rows, polls, name):
    workspace, clock = logs(rows())
    with running_bot(api, workspace, tmp_path / "state.db", at(polls[0]), options()) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        for minute in polls:
            step(bot, clock, at(minute))
    ts = message_ts(api, INCIDENT)
    assert api.calls_to("chat.update") and all(c["ts"] == ts for c in api.calls_to("chat.update"))
    assert [(thread_ts, [f.name for f in files]) for thread_ts, files in charts(api).items()] == [(ts, [name])]


def nice_a_poll_late() -> list[dict[str, str]]:
    """VPNGW01's maintenance failing paris, lyon and nice over at 14:02; nice's rows queryable only from 14:06."""
    rows = [maintenance(at(1) + timedelta(seconds=40))]
    for i, tunnel in enumerate((PARIS, LYON, NICE)):
        late = at(6) if tunnel is NICE else None
        rows += [down(at(2) + timedelta(seconds=i), tunnel.azure_remote_ip, ingested=late),
                 up(at(2) + timedelta(seconds=12 + i), tunnel.azure_remote_ip, ingested=late)]
    return rows


def test_a_tunnel_joining_the_incident_gets_its_own_chart_and_the_first_tunnels_none_again(api, logs, tmp_path):
    workspace, clock = logs(nice_a_poll_late())
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        step(bot, clock, at(5))
        first = sorted(f.name.split("-")[1] for files in charts(api).values() for f in files)
        step(bot, clock, at(7))
        step(bot, clock, at(9))
    ts = message_ts(api, INCIDENT)
    assert first == ["lyon", "paris"]
    assert list(charts(api)) == [ts]
    assert sorted(f.name.split("-")[1] for f in charts(api)[ts]) == ["lyon", "nice", "paris"]


def test_an_incident_taken_over_by_a_later_poll_gets_its_chart_once_in_each_channel(api, logs, tmp_path):
    workspace, clock = logs(failover())
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        bot.state.watch(INCIDENT, (), ALICE)
        bot.state.watch(OTHER, (), ALICE)
        api.fail("chat.postMessage", "fatal_error")  # the first channel's message: its claim stays unrecorded
        step(bot, clock, at(5))
        assert {c["status"] for c in bot.state.watch_claims()} == {"claimed"}
        step(bot, clock, at(11))  # its lease ran out: this poll edits the channel told and posts in the other
        step(bot, clock, at(12))
        assert {c["status"] for c in bot.state.watch_claims()} == {"posted"}
    assert len(api.calls_to("chat.update")) == 1
    for channel in (INCIDENT, OTHER):
        ts = message_ts(api, channel)
        assert [(t, len(files)) for t, files in charts(api, channel).items()] == [(ts, 1)]


def test_a_chart_that_cannot_be_uploaded_is_logged_and_the_incident_stands(api, logs, tmp_path, caplog):
    workspace, clock = logs(failover())
    api.fail("files.getUploadURLExternal", "internal_error")
    with running_bot(api, workspace, tmp_path / "state.db", at(5), options()) as bot:
        bot.state.watch(INCIDENT, ("paris",), ALICE)
        step(bot, clock, at(5))
        step(bot, clock, at(6))
        claims = bot.state.watch_claims()
    ts = message_ts(api, INCIDENT)
    (details,) = thread(api, INCIDENT, ts)
    assert "maintenance" in details.lower() and charts(api) == {}
    assert {c["status"] for c in claims} == {"posted"} and not api.calls_to("chat.update")
    assert any("could not post the chart of paris" in r.getMessage() for r in caplog.records)
