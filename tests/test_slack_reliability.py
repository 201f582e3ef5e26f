"""Never lose a question, never hang: the Slack bot when its state store fails, when a log source is slow, when
every worker is busy, and what it echoes of a question. Driven through the real Bolt app and the fake Web API."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import UTC, datetime

import pytest
from support.fake_slack_api import answered, buttons_of, running_bot

from bot.slack import pool as pool_module
from bot.slack.core import NOT_STORED, BotOptions
from bot.slack.jobs import QuestionJob
from bot.slack.pool import WorkerPool
from bot.state import StateStore, StoreUnavailable
from bot.state import database as state_database
from bot.workspace import Workspace
from diagnostics import deadline
from diagnostics.sources import Sources

NOW = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
ALICE = "U0ALICE"
QUESTION = "why did paris drop yesterday at 15:02"


@pytest.fixture(scope="module")
def demo(demo_at) -> Workspace:
    return demo_at(NOW)


@pytest.fixture
def api(slack_api):
    return slack_api({ALICE: "Europe/Paris"})


@pytest.fixture
def quick_store(monkeypatch):
    """A store that gives up on a lock in a fraction of a second, so a locked-store test takes no minutes."""
    monkeypatch.setattr(state_database, "BUSY_TIMEOUT_S", 0.2)
    monkeypatch.setattr(state_database, "STORE_PATIENCE_S", 0.5)


def locked(path) -> sqlite3.Connection:
    """Another program holding the state file's write lock (as a backup tool or a stuck process would)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    return other


def answer_of(api):
    """The final answer: the last edit of the "Looking…" message."""
    return api.calls_to("chat.update")[-1]


# ------------------------------------------------------------------------------------------------ the state store


def test_a_question_asked_while_the_state_store_is_locked_is_answered_and_says_its_buttons_wont_work(
        api, demo, tmp_path, quick_store):
    path = tmp_path / "state.db"
    with running_bot(api, demo, path, NOW) as bot:
        other = locked(path)
        try:
            bot.sender.mention(QUESTION)
            answered(api, outcomes=("white_check_mark",))
            assert bot.pool.drain(10)
        finally:
            other.rollback()
            other.close()
    final = answer_of(api)
    assert NOT_STORED in json.dumps(final.blocks, ensure_ascii=False)
    actions = set(buttons_of(final))
    assert actions and not actions & {"vpn_show_queries", "vpn_evidence_bundle"}  # they would find nothing


def test_a_question_asked_during_a_lock_is_answered_normally_once_the_lock_is_released(api, demo, tmp_path,
                                                                                        monkeypatch):
    monkeypatch.setattr(state_database, "BUSY_TIMEOUT_S", 0.2)
    path = tmp_path / "state.db"
    with running_bot(api, demo, path, NOW) as bot:
        other = locked(path)
        bot.sender.mention(QUESTION)
        deadline_at = time.monotonic() + 15
        while bot.state.health.ok:  # the bot met the lock: its worker is now retrying its claim
            assert time.monotonic() < deadline_at, "the bot never met the lock"
            time.sleep(0.02)
        other.rollback()
        other.close()
        answered(api, outcomes=("white_check_mark",))
        assert bot.pool.drain(10)
        rows = bot.state.questions()
    assert NOT_STORED not in json.dumps(answer_of(api).blocks, ensure_ascii=False)
    assert [r["outcome"] for r in rows] == ["answered"] and rows[0]["answer_json"]
    assert bot.state.health.ok


def test_a_full_disk_is_reported_as_such_not_as_a_failed_rollback(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(state_database, "STORE_PATIENCE_S", 0.0)
    store = StateStore(tmp_path / "state.db")
    try:
        with store.connection() as conn:  # SQLite's own connection
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full: no page can be added
        with pytest.raises(StoreUnavailable, match="full") as failed:
            store.claim(["event:Ev1"], "owner-1", job_json="x" * 200_000)
        assert "rollback" not in str(failed.value)
        assert not store.health.ok and "full" in store.health.error
        assert any("full" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    finally:
        store.close()


def test_an_answer_is_stored_before_it_is_shown(api, demo, tmp_path):
    def with_buttons(args) -> bool:
        return "vpn_show_queries" in str(args.get("blocks", ""))

    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot, \
            api.hold("chat.update", when=with_buttons) as shown:
        bot.sender.mention(QUESTION)
        shown.wait_reached()  # Slack has the answer and its buttons, not yet on screen for anyone
        (row,) = bot.state.questions()
        assert row["outcome"] == "answered" and row["answer_json"] and row["queries_json"]
        shown.release()
        answered(api)
        assert bot.pool.drain(10)


# ------------------------------------------------------------------------------------------------ never hang


class DeadlineWitness:
    """The demo workspace, noting the deadline each query runs under."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.backend, self.label, self.origin = inner.backend, inner.label, inner.origin
        self.remaining: list[float | None] = []

    def run_kql(self, query, start, end):
        self.remaining.append(deadline.remaining())
        return self.inner.run_kql(query, start, end)


def test_every_question_runs_under_the_configured_deadline(api, demo, tmp_path):
    witness = DeadlineWitness(demo.sources.kql[0])
    workspace = Workspace(demo.registry, Sources(kql=[witness]), demo.timezone)
    with running_bot(api, workspace, tmp_path / "state.db", NOW, BotOptions(question_deadline_s=42)) as bot:
        bot.sender.mention(QUESTION)
        answered(api)
        assert bot.pool.drain(10)
    assert witness.remaining and all(r is not None and 0 < r <= 42 for r in witness.remaining)


class GatedBackend:
    """The demo workspace behind a gate the test opens."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.backend, self.label, self.origin = inner.backend, inner.label, inner.origin
        self.gate = threading.Event()
        self.entered = 0
        self._lock = threading.Lock()

    def run_kql(self, query, start, end):
        with self._lock:
            self.entered += 1
        assert self.gate.wait(30), "the test never opened the gate"
        return self.inner.run_kql(query, start, end)


def test_help_is_answered_while_every_worker_is_busy_with_investigations(api, demo, tmp_path):
    gated = GatedBackend(demo.sources.kql[0])
    workspace = Workspace(demo.registry, Sources(kql=[gated]), demo.timezone)
    options = BotOptions(workers=2)
    with running_bot(api, workspace, tmp_path / "state.db", NOW, options) as bot:
        try:
            for n in range(3):
                bot.sender.mention(f"why did paris drop yesterday at 15:0{n}")
            api.wait_for(lambda a: gated.entered >= 2)  # both workers of the log lane wait at the gate
            _, asked = bot.sender.mention("help")
            api.wait_for(lambda a: [c for c in a.calls_to("chat.postMessage") if c.get("thread_ts") == asked])
            assert gated.entered == 2  # help did not wait for, nor take, an investigation's worker
        finally:
            gated.gate.set()
        answered(api, n=3)
        assert bot.pool.drain(20)


def test_the_pool_says_it_is_stuck_only_when_every_log_worker_is_past_its_deadline(monkeypatch):
    monkeypatch.setattr(pool_module, "STUCK_AFTER_S", -1.0)  # a job is past its deadline as soon as it starts
    gate, started = threading.Event(), threading.Semaphore(0)

    def run(job, admitted):
        started.release()
        gate.wait(30)

    pool = WorkerPool(run, client=None, workers=2, deadline_s=0.0)  # type: ignore[arg-type]
    try:
        pool.submit(QuestionJob("mention", "T", "C1", "U1", "why did paris drop"), acknowledged=True)
        assert started.acquire(timeout=10)
        assert not pool.stuck()  # one worker of two: the other still answers
        pool.submit(QuestionJob("mention", "T", "C1", "U1", "why did lyon drop"), acknowledged=True)
        assert started.acquire(timeout=10)
        assert pool.stuck()
    finally:
        gate.set()
        assert pool.close(10) == []


# ------------------------------------------------------------------------------------------------ the echo


def test_a_slash_command_is_echoed_without_formatting_links_or_secrets(api, demo, tmp_path):
    text = "why did paris drop `now` *boom* <https://evil.example|click> psk=Sup3rSecretKey! AKIAIOSFODNN7EXAMPLE"
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.command(text)
        answered(api)
        assert bot.pool.drain(10)
        rows = bot.state.questions()
    echo = api.calls_to("chat.postMessage")[0].text
    assert echo.startswith(f"<@{ALICE}> asked: `/vpn ") and echo.endswith("`")
    assert echo.count("`") == 2  # nothing in the question can close the code span
    assert "<https" not in echo and "&lt;https" in echo
    assert "Sup3rSecretKey" not in echo and "AKIAIOSFODNN7EXAMPLE" not in echo
    assert rows and all("Sup3rSecretKey" not in (r["text"] or "") for r in rows)


# ------------------------------------------------------------------------------------------------ bad ids


@pytest.mark.parametrize("digits", ["1180591620717411303424", "9" * 5000])
def test_an_investigation_id_no_row_can_have_is_a_one_line_bad_input(api, demo, tmp_path, digits):
    with running_bot(api, demo, tmp_path / "state.db", NOW) as bot:
        bot.sender.command(f"evidence {digits}")
        for action in ("vpn_evidence_bundle", "vpn_show_queries"):
            bot.sender.click({"action_id": action, "text": {"type": "plain_text", "text": "x"},
                              "value": json.dumps({"id": digits})}, "1763700000.000001", "1763700000.000001")
        api.wait_for(lambda a: len(bot.state.questions()) == 3)
        assert bot.pool.drain(10)
        rows = bot.state.questions()
    assert rows and all(r["outcome"] == "bad_input" and not r["error_id"] for r in rows)
    replies = [c.text for c in api.calls_to("chat.postMessage", "chat.postEphemeral")]
    assert replies and all(digits[:30] not in text for text in replies)  # nobody is shown the number back
