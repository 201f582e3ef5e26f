"""The bound on questions waiting (`[slack] queue_limit`): the asker past it is told "busy", the ones within it are
answered, and the documented default holds a burst of 600 (docs/slack.md#how-many-questions-wait)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from support.fake_slack_api import answered, running_bot

from bot.config import ConfigError, SlackSettings, config_from_mapping
from bot.slack.app import make_client
from bot.slack.core import BotOptions
from bot.slack.jobs import BUSY, QUEUE_LIMIT, QuestionJob
from bot.slack.pool import WorkerPool
from bot.slack.server import bot_options
from bot.workspace import Workspace
from diagnostics.sources import Sources

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
ALICE = "U0ALICE"
TUNNELS = [{"name": "paris", "azure_gateway": "VPNGW01", "azure_remote_ip": "203.0.113.10"}]


@pytest.fixture(scope="module")
def demo(demo_at) -> Workspace:
    return demo_at(NOW)


@pytest.fixture
def api(slack_api):
    return slack_api({ALICE: "Europe/Paris"})


class GatedBackend:
    """The demo workspace behind a gate the test opens: the investigations that reach it hold their workers."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.backend, self.label, self.origin = inner.backend, inner.label, inner.origin
        self.gate = threading.Event()

    def run_kql(self, query, start, end):
        assert self.gate.wait(30), "the test never opened the gate"
        return self.inner.run_kql(query, start, end)


def busy_replies(api) -> list:
    return [c for c in api.calls_to("chat.postMessage") if c.text == BUSY]


def test_the_question_past_a_small_bound_is_told_busy_in_its_thread_and_the_ones_within_it_are_answered(
        api, demo, tmp_path):
    gated = GatedBackend(demo.sources.kql[0])
    workspace = Workspace(demo.registry, Sources(kql=[gated]), demo.timezone)
    with running_bot(api, workspace, tmp_path / "state.db", NOW, BotOptions(workers=1, queue_limit=2)) as bot:
        try:
            bot.sender.mention("why did paris drop yesterday at 15:02")
            bot.sender.mention("why did paris drop yesterday at 15:03")  # waits behind the first: 2 of 2
            _, third = bot.sender.mention("why did paris drop yesterday at 15:04")
            (told,) = api.wait_for(busy_replies)
            assert told["channel"] == "C0INCIDENT" and told["thread_ts"] == third
        finally:
            gated.gate.set()
        ends = answered(api, n=2)
        assert bot.pool.drain(20)
    assert len(ends) == 2 and len(busy_replies(api)) == 1  # the third was told busy, not answered as well


def test_a_slash_command_past_the_bound_is_acknowledged_with_busy(api, demo, tmp_path):
    gated = GatedBackend(demo.sources.kql[0])
    workspace = Workspace(demo.registry, Sources(kql=[gated]), demo.timezone)
    with running_bot(api, workspace, tmp_path / "state.db", NOW, BotOptions(workers=1, queue_limit=1)) as bot:
        try:
            within = bot.sender.command("why did paris drop yesterday at 15:02")
            past = bot.sender.command("why did paris drop yesterday at 15:03")
        finally:
            gated.gate.set()
        answered(api)
        assert bot.pool.drain(20)
    assert (within.status, within.body) == (200, "")
    assert (past.status, past.body) == (200, BUSY)


def test_the_default_bound_holds_a_burst_of_600_questions_queued_at_once(api):
    gate, ran = threading.Event(), []

    def run(job, admitted):  # every worker waits at the gate: all 600 stay queued until it opens
        assert gate.wait(30), "the test never opened the gate"
        ran.append(job.text)

    pool = WorkerPool(run, make_client(api.token, api.base_url))
    try:
        accepted = [pool.submit(QuestionJob("mention", "T", "C0INCIDENT", f"U{n:07d}", f"status paris {n}",
                                            message_ts=f"1763700000.{n:06d}"), acknowledged=True) for n in range(600)]
        assert pool.pending == 600
    finally:
        gate.set()
    assert pool.drain(30)
    assert pool.close(10) == []
    assert accepted == [True] * 600 and len(ran) == 600
    assert busy_replies(api) == []


def test_the_bound_is_the_documented_default_and_can_be_configured():
    assert QUEUE_LIMIT == 1000 >= 600
    assert int(SlackSettings().queue_limit) == BotOptions().queue_limit == QUEUE_LIMIT
    assert bot_options(None, ZoneInfo("UTC")).queue_limit == QUEUE_LIMIT
    config = config_from_mapping({"tunnels": TUNNELS, "slack": {"queue_limit": 40}})
    assert bot_options(config, ZoneInfo("UTC")).queue_limit == 40


@pytest.mark.parametrize("value", [0, -5, "lots", 2.5, 1_000_000])
def test_a_queue_limit_that_is_not_a_sensible_number_of_questions_stops_the_start_in_one_line(value):
    config = config_from_mapping({"tunnels": TUNNELS, "slack": {"queue_limit": value}})
    with pytest.raises(ConfigError, match=r"\[slack\] queue_limit must be a number of questions from 1 to 100,000, "
                                          r"e\.g\. 1000$"):
        bot_options(config, ZoneInfo("UTC"))
