"""A channel limited by [[channels]] (and direct messages limited by [slack] dm_tunnels) learns nothing about the
other tunnels: not their queries, names, gateways or addresses, in answers, refusals, suggestions, lists or
examples. Signed requests go through the real Bolt app against the fake Slack Web API, and every Web API call the
bot makes is read for the ways of naming a tunnel the channel may not see."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.fake_slack_api import FakeSlackAPI, answered, buttons_of, final_answer, running_bot

from bot.config import ChannelSettings, ConfigError, config_from_mapping
from bot.slack.core import BotOptions
from bot.slack.server import bot_options
from bot.slack.subscriptions import summary_scheduler
from bot.workspace import Workspace
from diagnostics.tunnels import Tunnel, TunnelRegistry
from handlers.render.blocks import EVIDENCE_BUNDLE, OPEN_LOG_ANALYTICS, SHOW_QUERIES, WIDER_WINDOW

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
ALICE = "U0ALICE"
PARIS_ONLY = "C0PARIS"  # [[channels]] id = "C0PARIS", tunnels = ["paris"]
BERLIN_TEAM = "C0BERLIN"  # not listed: may ask about every tunnel
DM = "D0ALICE"  # Alice's direct messages with the bot
LIMITS = (ChannelSettings(PARIS_ONLY, ("paris",)),)
BERLIN_QUESTION = "why did berlin drop yesterday at 15:02"


@pytest.fixture(scope="module")
def demo(demo_at) -> Workspace:
    return demo_at(NOW)


@pytest.fixture
def api(slack_api):
    return slack_api({ALICE: "Europe/Paris"})


def names_of(tunnel: Tunnel) -> set[str]:
    """Every way a message could name `tunnel`: name, aliases, gateway, addresses, AWS connection id."""
    keys = {tunnel.name, *tunnel.aliases, tunnel.azure_gateway, tunnel.azure_remote_ip, tunnel.aws_vpn_connection,
            *tunnel.aws_outside_ips}
    return {k for k in keys if k}


def hidden_from(registry: TunnelRegistry, allowed: set[str]) -> set[str]:
    """The words that name only tunnels outside `allowed` (paris's gateway VPNGW01 also carries lyon and nice, but
    naming it tells a paris channel nothing new)."""
    seen = {k.lower() for t in registry if t.name in allowed for k in names_of(t)}
    return {k for t in registry if t.name not in allowed for k in names_of(t) if k.lower() not in seen}


def _word(key: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w.-])" + re.escape(key) + r"(?![\w-]|\.\d)", re.IGNORECASE)


def leaks(api: FakeSlackAPI, hidden: set[str], typed: str = "") -> list[str]:
    """The hidden words in anything the bot sent to Slack (every Web API call's arguments, its replies to slash
    commands, its text files), except the ones the asker typed."""
    said = [json.dumps(c.args, ensure_ascii=False) for c in api.calls if c.method not in ("auth.test", "upload")]
    said += [f.content.decode() for f in api.files.values() if not f.name.endswith((".zip", ".png"))]
    text = "\n".join(said)
    return sorted(k for k in hidden if not _word(k).search(typed) and _word(k).search(text))


# --------------------------------------------------------------------------------- answers given before


@dataclass(frozen=True)
class History:
    """A state store where berlin was asked about in #berlin, and in the paris channel and a DM before they were
    limited: each answer's button value (its id, tunnel, window), by channel."""

    state: Path
    values: dict[str, dict[str, Any]]

    @property
    def elsewhere(self) -> dict[str, Any]:
        return self.values[BERLIN_TEAM]

    @property
    def here(self) -> dict[str, Any]:
        return self.values[PARIS_ONLY]

    def copy_to(self, directory: Path) -> Path:
        for file in self.state.parent.glob(self.state.name + "*"):
            shutil.copy(file, directory / file.name)
        return directory / self.state.name


@pytest.fixture(scope="module")
def history(demo, tmp_path_factory) -> Iterator[History]:
    directory = tmp_path_factory.mktemp("history")
    values: dict[str, dict[str, Any]] = {}
    with FakeSlackAPI({ALICE: "Europe/Paris"}) as api, running_bot(api, demo, directory / "state.db", NOW) as bot:
        for n, channel in enumerate((BERLIN_TEAM, PARIS_ONLY, DM), 1):
            if channel == DM:
                bot.sender.direct_message(BERLIN_QUESTION, channel=DM)
            else:
                bot.sender.mention(BERLIN_QUESTION, channel=channel)
            answered(api, n)
            values[channel] = json.loads(buttons_of(final_answer(api))[SHOW_QUERIES]["value"])
        assert bot.pool.drain(30)
    yield History(directory / "state.db", values)


def click(bot, button: str, value: dict[str, Any], channel: str):
    element = {"action_id": button, "text": {"type": "plain_text", "text": button}, "value": json.dumps(value)}
    return bot.sender.click(element, message_ts="1763700000.000500", thread_ts="1763700000.000500", channel=channel)


# ------------------------------------------------------------------------- every route checks the channel

BUTTONS = [
    pytest.param(SHOW_QUERIES, "elsewhere", id="show queries of #berlin's answer"),
    pytest.param(SHOW_QUERIES, "here", id="show queries of a berlin answer given there before the limit"),
    pytest.param(WIDER_WINDOW, "elsewhere", id="wider window of #berlin's answer"),
    pytest.param(WIDER_WINDOW, "here", id="wider window of a berlin answer given there before the limit"),
    pytest.param(EVIDENCE_BUNDLE, "elsewhere", id="evidence bundle of #berlin's answer"),
    pytest.param(EVIDENCE_BUNDLE, "here", id="evidence bundle of a berlin answer given there before the limit"),
    pytest.param(OPEN_LOG_ANALYTICS, "elsewhere", id="open in log analytics"),
]


@pytest.mark.parametrize(("button", "which"), BUTTONS)
@pytest.mark.parametrize("channel", [PARIS_ONLY, DM], ids=["in the paris channel", "in a DM"])
def test_no_button_shows_a_limited_channel_another_tunnel(api, demo, history, tmp_path, button, which, channel):
    value = history.elsewhere if which == "elsewhere" else history.values[channel]
    options = BotOptions(channels=LIMITS, dm_tunnels=("paris",) if channel == DM else None)
    with running_bot(api, demo, history.copy_to(tmp_path), NOW, options) as bot:
        api.reset()
        assert click(bot, button, value, channel).status == 200
        assert bot.pool.drain(30)
        rows = [r for r in bot.state.questions() if r["source"] == "button"]
    assert leaks(api, hidden_from(demo.registry, {"paris"})) == []
    if button == OPEN_LOG_ANALYTICS:  # a link: the browser opens it, the bot only acknowledges the click
        assert api.calls == [] and rows == []
        return
    (said,) = api.calls_to("chat.postMessage")
    assert said["channel"] == channel and "AzureDiagnostics" not in json.dumps(said.args)
    assert rows[-1]["outcome"] in ("refused", "bad_input") and not api.calls_to("files.getUploadURLExternal")


COMMANDS = [
    "why did 198.51.100.40 drop yesterday at 15:02",  # berlin's remote IP
    "why did VPNGW02 drop yesterday at 15:02",  # berlin, munich and hamburg's gateway
    "status VPNGW02",
    "status VPNGW01",  # paris's gateway, which also carries lyon and nice
    "status berlinn",
    "status",
    "drops today",
    "drops muc since monday",  # munich's alias
    "evidence {here}",  # a berlin answer given in this channel before it was limited
    "evidence {elsewhere}",
    "evidence 203.0.113.20 at 14:02",  # lyon's remote IP
    "evidence paris yesterday at 15:02",
    "summary yesterday",
    "summary berlinn yesterday",
    "which tunnels dropped yesterday",
    "subscribe daily 09:00 198.51.100.40",
    "subscribe daily 09:00 berlinn",
    "subscriptions",
    "who failed to connect over point-to-site today",
    "why can't alice@contoso.com connect",
    "point-to-site on hamburg today",
    "tunnels",
    "help",
    "hello there",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_no_command_tells_a_limited_channel_about_another_tunnel(api, demo, history, tmp_path, command):
    text = command.format(here=history.here["id"], elsewhere=history.elsewhere["id"])
    options = BotOptions(channels=LIMITS)
    with running_bot(api, demo, history.copy_to(tmp_path), NOW, options) as bot:
        api.reset()
        assert bot.sender.command(text, channel=PARIS_ONLY, response_url=api.response_url()).status == 200
        assert bot.pool.drain(60)
    assert api.calls_to("chat.postMessage", "response_url")  # it said something
    assert leaks(api, hidden_from(demo.registry, {"paris"}), typed=text) == []


@pytest.mark.parametrize("command", ["status VPNGW02", "why did 198.51.100.40 drop yesterday at 15:02", "status",
                                     "who failed to connect over point-to-site today", "subscribe daily 09:00 ham",
                                     "tunnels"])
def test_no_direct_message_tells_about_a_tunnel_outside_dm_tunnels(api, demo, tmp_path, command):
    options = BotOptions(dm_tunnels=("paris",))
    with running_bot(api, demo, tmp_path / "state.db", NOW, options) as bot:
        bot.sender.direct_message(command, channel=DM)
        api.wait_for(lambda a: a.calls_to("chat.postMessage"))
        assert bot.pool.drain(60)
    assert all(c["channel"] == DM for c in api.calls_to("chat.postMessage"))
    assert leaks(api, hidden_from(demo.registry, {"paris"}), typed=command) == []


# ---------------------------------------------------------------------------------------------- Show queries


def test_show_queries_of_another_channels_answer_posts_nothing_of_it_in_a_limited_channel_or_a_dm(
        api, demo, history, tmp_path):
    options = BotOptions(channels=LIMITS)  # direct messages are not limited: the answer is still not theirs
    with running_bot(api, demo, history.copy_to(tmp_path), NOW, options) as bot:
        api.reset()
        for channel in (PARIS_ONLY, DM):
            click(bot, SHOW_QUERIES, history.elsewhere, channel)
            assert bot.pool.drain(30)
        rows = [r for r in bot.state.questions() if r["source"] == "button"]
    said = api.calls_to("chat.postMessage")
    assert [c["channel"] for c in said] == [PARIS_ONLY, DM]
    for call in said:
        assert call.text == ("That answer is not stored for this channel (answers are kept 90 days, and shown only "
                             "where they were given): ask the question again.")
        assert "VPNGW02" not in json.dumps(call.args) and "198.51.100.40" not in json.dumps(call.args)
    assert [(r["channel"], r["outcome"]) for r in rows] == [(PARIS_ONLY, "bad_input"), (DM, "bad_input")]


def test_show_queries_of_an_answer_given_before_the_channel_was_limited_is_refused(api, demo, history, tmp_path):
    options = BotOptions(admins="<@U0NETOPS>", channels=LIMITS)
    with running_bot(api, demo, history.copy_to(tmp_path), NOW, options) as bot:
        api.reset()
        click(bot, SHOW_QUERIES, history.here, PARIS_ONLY)
        assert bot.pool.drain(30)
        row = bot.state.questions()[-1]
    (said,) = api.calls_to("chat.postMessage")
    assert said.text.startswith("Sorry, questions about that tunnel can't be asked in this channel: it is limited to "
                                "paris. <@U0NETOPS> can change that")
    assert row["outcome"] == "refused" and row["tunnel"] == "berlin"  # the audit trail says which, the channel not


# ------------------------------------------------------------------------------------------- point-to-site


def test_point_to_site_in_a_limited_channel_reads_only_the_gateways_of_its_tunnels(api, demo, tmp_path):
    options = BotOptions(channels=(ChannelSettings(PARIS_ONLY, ("paris", "berlin")),
                                   ChannelSettings("C0AWS", ("dc1", "dc2"))))
    with running_bot(api, demo, tmp_path / "state.db", NOW, options) as bot:
        bot.sender.mention("who failed to connect over point-to-site today", channel=PARIS_ONLY)
        bot.sender.mention("who failed to connect over point-to-site today", channel="C0AWS")
        api.wait_for(lambda a: len(a.calls_to("chat.postMessage")) == 2)
        assert bot.pool.drain(30)
    by_channel = {c["channel"]: c.text for c in api.calls_to("chat.postMessage")}
    assert by_channel[PARIS_ONLY].startswith("Point-to-site on VPNGW01, VPNGW02, 2026-11-22")
    assert "VPNGW04" not in by_channel[PARIS_ONLY] and "VPNGW03" not in by_channel[PARIS_ONLY]
    assert by_channel["C0AWS"].startswith("Sorry, questions about point-to-site can't be asked in this channel: it is "
                                          "limited to dc1, dc2.")


# ------------------------------------------------------------------------- what a limited channel is told


def test_a_tunnel_named_by_its_gateway_or_address_is_refused_without_saying_which_it_is(api, demo, tmp_path):
    options = BotOptions(admins="<@U0NETOPS>", channels=LIMITS)
    with running_bot(api, demo, tmp_path / "state.db", NOW, options) as bot:
        for text in ("status VPNGW02", "why did 198.51.100.40 drop yesterday at 15:02"):
            bot.sender.mention(text, channel=PARIS_ONLY)
            assert bot.pool.drain(30)
        rows = bot.state.questions()
    gateway, address = (c.text for c in api.calls_to("chat.postMessage"))
    assert gateway == ("Sorry, questions about VPNGW02 can't be asked in this channel: it is limited to paris. "
                       "<@U0NETOPS> can change that in the vpnbot configuration ([[channels]] id = \"C0PARIS\"); you "
                       "can also ask in a channel that may see VPNGW02.")
    assert address.startswith("Sorry, questions about 198.51.100.40 can't be asked in this channel")
    assert "berlin" not in gateway + address and "munich" not in gateway
    assert [(r["outcome"], r["tunnel"]) for r in rows] == [("refused", None), ("refused", "berlin")]


def test_suggestions_lists_and_examples_name_only_the_channels_tunnels(api, demo, tmp_path):
    options = BotOptions(channels=(ChannelSettings(PARIS_ONLY, ("paris", "lyon")),))
    asked = ["status pari", "status berlinn", "status", "status VPNGW01", "tunnels", "help",
             "subscribe daily 09:00 pariss"]
    with running_bot(api, demo, tmp_path / "state.db", NOW, options) as bot:
        for text in asked:
            bot.sender.command(text, channel=PARIS_ONLY, response_url=api.response_url())
            assert bot.pool.drain(30)
    replies = [c.text for c in api.calls_to("response_url")]
    assert replies[:2] == [
        "Sorry: unknown tunnel 'pari': did you mean 'paris'?",
        "Sorry: unknown tunnel 'berlinn': known tunnels: paris, lyon",
    ]
    assert replies[2].startswith("2 tunnels:") and "nice" not in replies[2]
    assert "`status paris`" in replies[3]
    assert replies[4] == ("Sorry: unknown tunnel 'pariss': did you mean 'paris'? For example "
                          "`/vpn subscribe daily 09:00 paris` (or `… 09:00 all`)")
    # "status" alone is the channel's fleet status, and "status VPNGW01" the status of the gateway's tunnels the
    # channel may see: both answered in the thread, naming its two tunnels and no other (nice is on VPNGW01 too)
    understood = [c.blocks[0]["elements"][0]["text"] for c in api.calls_to("chat.update")
                  if any(b["type"] == "header" for b in c.blocks)]
    assert understood[0].startswith("Status of every tunnel (2) · now, ")
    assert understood[1].startswith("Status of paris, lyon · ")
    said = json.dumps([c.blocks for c in api.calls_to("chat.update")], ensure_ascii=False)
    assert "paris" in said and "lyon" in said
    assert leaks(api, hidden_from(demo.registry, {"paris", "lyon"})) == []


def test_a_channels_entry_without_tunnels_limits_nothing_for_questions_as_for_subscriptions(api, demo, tmp_path):
    options = BotOptions(channels=(ChannelSettings(BERLIN_TEAM, (), timezone="Europe/Berlin"),))
    with running_bot(api, demo, tmp_path / "state.db", NOW, options) as bot:
        bot.sender.mention(BERLIN_QUESTION, channel=BERLIN_TEAM)
        answered(api)
        bot.sender.command("subscribe daily 09:00 berlin", channel=BERLIN_TEAM, response_url=api.response_url())
        assert bot.pool.drain(30)
        rows = bot.state.questions()
    assert [r["outcome"] for r in rows] == ["answered", "answered"]
    assert any("berlin every day at 09:00 Europe/Berlin" in c.text for c in api.calls_to("chat.postMessage"))


def test_a_channel_limited_to_a_renamed_tunnel_gets_no_summary_of_every_tunnel(api, demo, tmp_path):
    # paris was renamed in [[tunnels]], its channel's [[channels]] entry still says "lutece": it may see no tunnel.
    options = BotOptions(channels=(ChannelSettings(PARIS_ONLY, ("lutece",)),))
    with running_bot(api, demo, tmp_path / "state.db", NOW, options) as bot:
        bot.state.subscribe(PARIS_ONLY, "09:00", "Europe/Paris", (), ALICE, NOW)  # "all" it may see
        scheduler = summary_scheduler(bot.bot)
        for minutes in range(0, 60, 10):  # Monday from 09:00 in Paris
            scheduler.tick(datetime(2026, 11, 23, 8, 0, tzinfo=UTC) + timedelta(minutes=minutes))
        bot.sender.command("summary yesterday", channel=PARIS_ONLY, response_url=api.response_url())
        assert bot.pool.drain(30)
    scheduled = api.calls_to("chat.postMessage")[0]
    assert scheduled.text.startswith("No VPN summary for Sunday 22 November: this channel may see none of the tunnels")
    assert api.calls_to("response_url")[0].text.startswith(
        "Sorry, questions about a summary can't be asked in this channel: it is limited to lutece.")
    assert leaks(api, hidden_from(demo.registry, set())) == []


# ----------------------------------------------------------------------------------------------- dm_tunnels


def test_dm_tunnels_limits_direct_messages_as_channels_entries_limit_channels(api, demo, tmp_path):
    options = BotOptions(admins="<@U0NETOPS>", dm_tunnels=("paris",))
    with running_bot(api, demo, tmp_path / "state.db", NOW, options) as bot:
        bot.sender.direct_message("why did berlin drop yesterday at 15:02", channel=DM)
        bot.sender.command("status berlin", channel=DM, response_url=api.response_url())
        api.wait_for(lambda a: a.calls_to("chat.postMessage") and a.calls_to("response_url"))
        bot.sender.mention(BERLIN_QUESTION, channel=BERLIN_TEAM)  # channels are not limited by it
        answered(api)
        assert bot.pool.drain(30)
        rows = bot.state.questions()
    refusal = api.calls_to("chat.postMessage")[0]
    assert refusal["channel"] == DM
    assert refusal.text == ("Sorry, questions about berlin can't be asked in direct messages: they are limited to "
                            "paris. <@U0NETOPS> can change that in the vpnbot configuration ([slack] dm_tunnels); you "
                            "can also ask in a channel that may see berlin.")
    assert api.calls_to("response_url")[0].text.startswith("Sorry, questions about berlin can't be asked in direct")
    assert sorted((r["channel"], r["outcome"]) for r in rows) == [(BERLIN_TEAM, "answered"), (DM, "refused"),
                                                                  (DM, "refused")]


def test_dm_tunnels_is_read_from_the_slack_section_by_name_or_alias():
    tunnels = [{"name": "paris", "aliases": ["par"], "azure_gateway": "VPNGW01"},
               {"name": "berlin", "azure_gateway": "VPNGW02"}]
    config = config_from_mapping({"tunnels": tunnels, "slack": {"dm_tunnels": ["par", "Berlin"]}})
    assert config.slack.dm_tunnels == ("paris", "berlin")
    assert bot_options(config, ZoneInfo("UTC")).dm_tunnels == ("paris", "berlin")
    assert config_from_mapping({"tunnels": tunnels}).slack.dm_tunnels is None  # absent: every tunnel, as before
    with pytest.raises(ConfigError, match=r"\[slack\] dm_tunnels: unknown tunnel 'pariss': did you mean 'paris'"):
        config_from_mapping({"tunnels": tunnels, "slack": {"dm_tunnels": ["pariss"]}})
    with pytest.raises(ConfigError, match=r"\[slack\] dm_tunnels must be a list of tunnel names"):
        config_from_mapping({"tunnels": tunnels, "slack": {"dm_tunnels": "paris"}})


def test_an_empty_dm_tunnels_lets_direct_messages_ask_about_no_tunnel(api, demo, tmp_path):
    options = BotOptions(dm_tunnels=())
    with running_bot(api, demo, tmp_path / "state.db", NOW, options) as bot:
        for text in ("status", "help", "tunnels", "who failed to connect over point-to-site today"):
            bot.sender.direct_message(text, channel=DM)
            assert bot.pool.drain(30)
    status, examples, listing, p2s = (c.text for c in api.calls_to("chat.postMessage"))
    assert status == "Sorry: there is no tunnel you can ask about here"
    assert "`status &lt;tunnel&gt;`" in examples
    assert listing.strip() == "There is no tunnel you can ask about here."
    assert p2s.startswith("Sorry, questions about point-to-site can't be asked in direct messages: they are limited "
                          "to no tunnel.")
    assert leaks(api, hidden_from(demo.registry, set())) == []
