"""`vpnbot serve` stopped at the worst moment, as real processes: killed with SIGKILL mid-answer, or asked to stop
while an answer hangs. The question is never lost: the next process answers it, and the thread says what happened.
/healthz tells a load balancer when the state store fails."""

from __future__ import annotations

import sqlite3

import pytest
from support.fake_slack_api import SlackSender, answered

from bot.slack.questions import RESTARTED, STOPPING
from bot.state import StateStore

QUESTION = "why did paris drop yesterday at 15:02"


@pytest.fixture
def api(slack_api):
    return slack_api({"U0ALICE": "Europe/Paris"})


def showing_the_answer(args) -> bool:
    return "vpn_show_queries" in str(args.get("blocks", ""))


def rows(tmp_path) -> list[dict]:
    store = StateStore(tmp_path / "vpnbot.db")
    try:
        return store.questions()
    finally:
        store.close()


def test_a_question_whose_process_was_killed_mid_answer_is_answered_by_the_restarted_process(api, serve, tmp_path):
    first = serve("--demo").wait_listening()
    with api.hold("chat.update", when=showing_the_answer) as shown:
        _, asked = SlackSender(first.url).mention(QUESTION)
        shown.wait_reached()  # the answer is on its way to Slack when the node goes away
        first.kill9()
    looking_ts = next(c["ts"] for c in api.calls_to("chat.update") if showing_the_answer(c.args))
    api.reset()
    serve("--demo").wait_listening()
    answered(api, outcomes=("white_check_mark",), timeout=180)  # a cap, not a speed: a loaded CI box starts slowly
    edits = api.calls_to("chat.update")
    assert [e.text for e in edits if e["ts"] == looking_ts] == [RESTARTED]  # the interrupted answer says so
    final = edits[-1]
    assert showing_the_answer(final.args) and final["ts"] != looking_ts
    assert [c["thread_ts"] for c in api.calls_to("chat.postMessage")] == [asked]  # the new "Looking…", same thread
    outcomes = [r["outcome"] for r in rows(tmp_path)]
    assert sorted(outcomes) == ["answered", "restarted"]


def test_sigterm_while_an_answer_hangs_exits_after_the_grace_tells_the_asker_and_the_next_process_answers(
        api, serve, tmp_path):
    (tmp_path / "vpnbot.toml").write_text('[slack]\nshutdown_grace_s = "2"\n')
    first = serve("--demo").wait_listening()
    with api.hold("chat.update", when=showing_the_answer) as hung:
        _, asked = SlackSender(first.url).mention(QUESTION)
        hung.wait_reached()
        assert first.terminate(timeout=60) == 0  # the grace is a hard limit: it did not wait for the hung answer
        told = [c for c in api.calls_to("chat.postMessage") if c.text == STOPPING]
        assert [c["thread_ts"] for c in told] == [asked]
    api.reset()
    serve("--demo").wait_listening()
    answered(api, outcomes=("white_check_mark",), timeout=60)
    assert showing_the_answer(api.calls_to("chat.update")[-1].args)


def test_healthz_is_503_while_the_state_store_is_locked_and_200_again_after(api, serve, tmp_path):
    bot = serve("--demo").wait_listening()
    assert bot.get("/healthz")[0] == 200
    other = sqlite3.connect(tmp_path / "vpnbot.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        bot.wait_health(503, timeout=60, store="failing")
    finally:
        other.rollback()
        other.close()
    bot.wait_health(200, timeout=60, store="ok")


@pytest.mark.parametrize(("spoil", "reason"), [
    (lambda path: path.write_bytes(b"\x00garbage, not SQLite\x00" * 300),
     "file is not a database: it is not a vpnbot state file (move it aside, or point state_db at another path)"),
    (lambda path: path.mkdir(),
     "unable to open database file: state_db must be a file in a directory that exists and this user may write to"),
], ids=["garbage", "a directory"])
def test_a_state_file_that_cannot_be_used_stops_the_start_in_one_clear_line(api, serve, tmp_path, spoil, reason):
    spoil(tmp_path / "vpnbot.db")
    bot = serve("--demo")
    assert bot.proc.wait(60) == 1
    errors = [line for line in bot.stderr if line.startswith("vpnbot: error:")]
    assert errors == [f"vpnbot: error: cannot open the state store vpnbot.db: {reason}\n"]
    assert not any("Traceback" in line for line in bot.stderr)


def test_an_unreachable_slack_api_stops_the_start_in_one_clear_line(api, serve, tmp_path):
    bot = serve("--demo", env={"SLACK_API_URL": "http://127.0.0.1:1/api/"})  # nothing listens on port 1
    assert bot.proc.wait(120) != 0
    errors = [line for line in bot.stderr if line.startswith("vpnbot: error:")]
    assert len(errors) == 1 and "cannot reach the Slack Web API at http://127.0.0.1:1/api/" in errors[0]
    assert not any("Traceback" in line for line in bot.stderr)
