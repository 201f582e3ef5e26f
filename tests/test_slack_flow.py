"""The Slack bot as users meet it, driven over HTTP through the real Bolt app: signed requests in, Web API calls
out to a local fake Slack. Acks come before any log is read, answers land in threads with live progress, the
asker's Slack time zone reads "14:02", and throttling by Slack is waited out."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from support.fake_slack_api import answered, header_of, running_bot
from support.waiting import wait_until

from bot.slack.core import BotOptions
from bot.workspace import Workspace
from diagnostics.model import SourceError
from diagnostics.sources import Sources

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)  # 19:00 in Paris
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
USERS = {ALICE: "Europe/Paris", BOB: "America/New_York", CAROL: None}
CHECKED = ("white_check_mark",)  # answered, every source read
WARNED = ("warning",)  # answered (or not) with a source that failed


@pytest.fixture(scope="module")
def demo(demo_at) -> Workspace:
    return demo_at(NOW)


@pytest.fixture
def api(slack_api):
    return slack_api(USERS)


class GatedBackend:
    """The demo workspace behind a gate: a query blocks until the test opens it."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.backend, self.label, self.origin = inner.backend, inner.label, inner.origin
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.calls = 0
        self.finished = 0  # queries that returned (or gave up waiting for the gate)

    def run_kql(self, query, start, end):
        self.calls += 1
        self.entered.set()
        try:
            assert self.gate.wait(30), "the test never opened the gate"
            return self.inner.run_kql(query, start, end)
        finally:
            self.finished += 1


class FailingBackend:
    backend, label, origin = "log-analytics", "Log Analytics workspace 0f1e2d3c", "0f1e2d3c"

    def run_kql(self, query, start, end):
        raise SourceError("Log Analytics workspace 0f1e2d3c: the service answered 503 three times; try again later")


def with_backends(demo: Workspace, *backends) -> Workspace:
    return Workspace(demo.registry, Sources(kql=backends), demo.timezone)


def test_a_mention_gets_eyes_then_looking_then_progress_per_source_then_the_answer_then_a_check(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        reply, ts = bot.sender.mention("why did paris drop at 14:02")
        assert reply.status == 200
        answered(api, outcomes=CHECKED)

    calls = [c for c in api.calls if c.method != "auth.test"]
    methods = [c.method for c in calls]
    assert methods[:3] == ["reactions.add", "users.info", "chat.postMessage"]
    assert methods[-2:] == ["reactions.remove", "reactions.add"]
    assert set(methods[3:-2]) == {"chat.update"}
    assert calls[0]["name"] == "eyes" and calls[0]["timestamp"] == ts
    looking = calls[2]
    # Alice is in Paris: "14:02" is 13:02 UTC today, looked at ±15 min, shown in her zone and in UTC.
    assert looking.text == "Looking at paris, 13:47–14:17 CET (12:47–13:17 UTC)…"
    assert looking["thread_ts"] == ts and looking["channel"] == "C0INCIDENT"
    assert "demo workspace: waiting…" in str(looking.blocks)
    updates = calls[3:-2]
    progress, final = updates[:-1], updates[-1]
    assert progress and all(u.text == looking.text for u in progress)
    assert "demo workspace: " in str(progress[0].blocks) and " rows" in str(progress[0].blocks)
    assert len({u["ts"] for u in updates}) == 1 and api.messages[("C0INCIDENT", updates[0]["ts"])].thread_ts == ts
    assert header_of(final).startswith("paris (VPNGW01 ↔ 203.0.113.10)")
    assert any(b["type"] == "actions" for b in final.blocks)
    assert calls[-2]["name"] == "eyes" and calls[-1]["name"] == "white_check_mark"
    assert api.reactions[("C0INCIDENT", ts)] == {"white_check_mark"}
    # The "Looking…" message itself became the answer: one message in the thread, edited.
    (message,) = [m for m in api.messages.values() if m.thread_ts == ts]
    assert message.text == final.text and message.edits == len(updates)


def test_the_ack_arrives_while_the_log_query_is_still_blocked(api, demo, tmp_path):
    gated = GatedBackend(demo.sources.kql[0])
    with running_bot(api, with_backends(demo, gated), tmp_path / "state.db", NOW) as bot:
        reply = bot.sender.command("why did paris drop yesterday at 15:02", response_url=api.response_url())
        # The listener only enqueues: Slack has its 200 while the gate is still closed, so no log query has returned
        # (none could have). A listener that waited for the answer would only reply once the query gave up.
        assert reply.status == 200 and reply.body == ""
        assert gated.finished == 0
        assert gated.entered.wait(10), "the worker never reached the log source"
        assert not [c for c in api.calls_to("chat.update") if header_of(c)]
        gated.gate.set()
        answered(api, outcomes=CHECKED)
    assert header_of(api.calls_to("chat.update")[-1]).startswith("paris (VPNGW01 ↔ 203.0.113.10) dropped at "
                                                                 "2026-11-21 15:02:06 CET (14:02:06 UTC)")


def test_a_slash_command_starts_a_thread_under_the_bots_first_message(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.command("why did paris drop yesterday at 15:02", response_url=api.response_url())
        answered(api, outcomes=CHECKED)
    first, looking = api.calls_to("chat.postMessage")[:2]
    assert first.text == "<@U0ALICE> asked: `/vpn why did paris drop yesterday at 15:02`"
    assert "thread_ts" not in first.args
    parent = next(m for m in api.messages.values() if m.thread_ts is None)
    assert looking["thread_ts"] == parent.ts
    assert looking.text == "Looking at paris, 2026-11-21 14:47–15:17 CET (13:47–14:17 UTC)…"
    # 👀 then ✅ on the bot's first message: the command itself is not a message one can react to.
    reactions = api.calls_to("reactions.add", "reactions.remove")
    assert [(c.method, c["name"]) for c in reactions] == [("reactions.add", "eyes"), ("reactions.remove", "eyes"),
                                                          ("reactions.add", "white_check_mark")]
    assert reactions and all(c["timestamp"] == parent.ts for c in reactions)
    final = api.calls_to("chat.update")[-1]
    assert "maintenance_failover" in str(final.blocks)


def test_a_failed_source_is_said_in_the_progress_and_the_answer_gets_a_warning(api, demo, tmp_path):
    workspace = with_backends(demo, demo.sources.kql[0], FailingBackend())
    with running_bot(api, workspace, tmp_path / "state.db", NOW) as bot:
        _, ts = bot.sender.mention("why did paris drop yesterday at 15:02")
        answered(api, outcomes=WARNED)
        assert bot.pool.drain(10)
        rows = bot.state.questions()
    looking = api.calls_to("chat.postMessage")[0]
    assert "Log Analytics workspace 0f1e2d3c: waiting…" in str(looking.blocks)
    assert any("Log Analytics workspace 0f1e2d3c: failed" in str(c.blocks) for c in api.calls_to("chat.update"))
    final = api.calls_to("chat.update")[-1]
    assert "maintenance_failover" in str(final.blocks)  # the other source still answered
    assert "failed, answering from the other sources" in str(final.blocks)
    assert api.reactions[("C0INCIDENT", ts)] == {"warning"}
    assert rows[-1]["outcome"] == "answered" and "503" in rows[-1]["detail"]


def test_when_every_source_fails_the_looking_message_says_why(api, demo, tmp_path):
    with running_bot(api, with_backends(demo, FailingBackend()), tmp_path / "state.db", NOW) as bot:
        bot.sender.mention("why did paris drop yesterday at 15:02")
        answered(api, outcomes=WARNED)
        assert bot.pool.drain(10)
        rows = bot.state.questions()
    final = api.calls_to("chat.update")[-1]
    assert final.text.startswith("Sorry: Log Analytics workspace 0f1e2d3c: the service answered 503")
    assert rows[-1]["outcome"] == "source_failed"


def test_the_askers_slack_time_zone_reads_the_time_and_is_cached(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.mention("why did paris drop at 09:02", user=BOB)
        answered(api, outcomes=CHECKED)
        bot.sender.mention("status paris", user=BOB)
        answered(api, 2, outcomes=CHECKED)
        assert bot.state.zone(BOB) == "America/New_York"
    # 09:02 in New York (EST, UTC-5) is 14:02 UTC.
    assert api.calls_to("chat.postMessage")[0].text == "Looking at paris, 08:47–09:17 EST (13:47–14:17 UTC)…"
    assert len(api.calls_to("users.info")) == 1  # the second question used the cached zone


def test_an_asker_without_a_slack_zone_gets_the_configured_one(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW, BotOptions(default_tz="Europe/Berlin")) as bot:
        bot.sender.mention("why did paris drop at 14:02", user=CAROL)
        answered(api, outcomes=CHECKED)
    assert api.calls_to("chat.postMessage")[0].text == "Looking at paris, 13:47–14:17 CET (12:47–13:17 UTC)…"


def test_an_ambiguous_zone_is_not_resolved_from_the_configured_zone_of_an_asker_slack_gives_none(api, demo, tmp_path):
    # Kolkata as the configured zone would make IST India's; it says nothing of where CAROL is.
    with running_bot(api, demo, tmp_path / "state.db", NOW, BotOptions(default_tz="Asia/Kolkata")) as bot:
        bot.sender.mention("why did paris drop at 14:02 IST", user=CAROL)
        api.wait_for(lambda a: a.calls_to("chat.postMessage"))
        assert bot.pool.drain(10)
    (reply,) = api.calls_to("chat.postMessage")
    assert reply.text.startswith('Sorry: "IST" may mean')
    assert all(zone in reply.text for zone in ("Asia/Kolkata", "Asia/Jerusalem", "Europe/Dublin"))


def test_a_mention_inside_a_thread_answers_in_that_thread(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        _, ts = bot.sender.mention("and lyon, yesterday at 15:02?", thread_ts="1763600000.000100")
        answered(api, outcomes=CHECKED)
    looking = api.calls_to("chat.postMessage")[0]
    assert looking["thread_ts"] == "1763600000.000100"
    assert api.calls_to("reactions.add")[0]["timestamp"] == ts  # 👀 on the mention, not on the thread's root


def test_a_direct_message_is_answered_in_its_thread_and_other_message_events_are_ignored(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        reply, ts = bot.sender.direct_message("status lyon")
        assert reply.status == 200
        answered(api, outcomes=CHECKED)
        edited = bot.sender.event({"type": "message", "subtype": "message_changed", "channel": "D0ALICE",
                                   "channel_type": "im", "ts": "1763700000.999999"})
        own = bot.sender.event({"type": "message", "channel": "D0ALICE", "channel_type": "im", "bot_id": "B0000BOT",
                                "text": "Looking at lyon…", "ts": "1763700001.000001"})
        in_channel = bot.sender.event({"type": "message", "channel": "C0INCIDENT", "channel_type": "channel",
                                       "user": ALICE, "text": "status lyon", "ts": "1763700002.000001"})
        assert (edited.status, own.status, in_channel.status) == (200, 200, 200)  # acknowledged, never a 404
        assert bot.pool.drain(10)
    assert len(api.calls_to("chat.postMessage")) == 1
    assert api.calls_to("chat.postMessage")[0]["thread_ts"] == ts
    assert header_of(api.calls_to("chat.update")[-1]).startswith("lyon is up since ")
    assert not api.calls_to("files.getUploadURLExternal")  # a long headline is not an overflow


def test_help_and_an_unknown_sentence_show_examples_that_work(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.command("help", response_url=api.response_url("help"))
        _, ts = bot.sender.mention("hello there")
        api.wait_for(lambda a: a.calls_to("response_url") and a.calls_to("chat.postMessage"))
        assert bot.pool.drain(10)
    (private,) = api.calls_to("response_url")
    assert private["response_type"] == "ephemeral"  # only the asker sees /vpn help
    assert "`why did tunnel paris drop at 14:02`" in private.text and "`status paris`" in private.text
    (reply,) = api.calls_to("chat.postMessage")
    assert reply["thread_ts"] == ts
    assert reply.text.startswith("Sorry: I didn't understand") and '"why did tunnel paris drop at 14:02"' in reply.text
    assert not api.calls_to("chat.update")  # no "Looking…" for a question that cannot be investigated
    assert api.reactions[("C0INCIDENT", ts)] == set()  # 👀 taken back: it was not an answer


def test_an_unknown_tunnel_gets_the_closest_names(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.command("why did pariss drop at 14:02", response_url=api.response_url())
        api.wait_for(lambda a: a.calls_to("response_url"))
        assert bot.pool.drain(10)
        rows = bot.state.questions()
    assert "unknown tunnel 'pariss': did you mean 'paris'" in api.calls_to("response_url")[0].text
    assert not api.calls_to("chat.postMessage")  # nothing in the channel for a typo
    assert rows[-1]["outcome"] == "bad_input"


def test_the_tunnels_listing_is_answered_directly(api, demo, tmp_path):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.mention("tunnels")
        answered(api, outcomes=CHECKED)
    reply = api.calls_to("chat.postMessage")[0]
    assert f"{len(demo.registry)} tunnels:" in reply.text and "paris [azure]" in reply.text


def test_slack_throttling_is_waited_out_and_the_answer_still_arrives(api, demo, tmp_path):
    api.rate_limit("chat.postMessage", n=1, retry_after=0)
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.mention("why did paris drop yesterday at 15:02")
        answered(api, outcomes=CHECKED)
    posts = api.calls_to("chat.postMessage")
    assert len(posts) == 2 and posts[0].text == posts[1].text  # the 429'd post, then its retry
    assert "maintenance_failover" in str(api.calls_to("chat.update")[-1].blocks)


def test_the_answer_is_read_and_stored_while_slack_has_not_answered_its_progress_line(api, demo, tmp_path):
    """A progress line is a courtesy: the reads and the rules go on while Slack answers its edit (a round trip per
    line), and the answer waits for it, so the progress never lands on the answer."""
    progress = api.hold("chat.update", when=lambda args: str(args.get("text", "")).startswith("Looking at"))
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.mention("why did paris drop at 14:02")
        progress.wait_reached()
        wait_until(lambda: [r for r in bot.state.questions() if r["outcome"] == "answered"],
                   "the answer was stored while its progress line was held")
        assert not [c for c in api.calls_to("chat.update") if header_of(c)]  # not shown before the progress
        progress.release()
        answered(api, outcomes=CHECKED)
    updates = api.calls_to("chat.update")
    assert updates[0].text.startswith("Looking at") and header_of(updates[-1]).startswith("paris (VPNGW01")
    (message,) = [m for m in api.messages.values() if m.ts == updates[0]["ts"]]
    assert message.text == updates[-1].text
