"""The state store the Slack bot shares between its processes: WAL, delivery claims that hold across processes,
the users.info zone cache, and retention; on SQLite and on PostgreSQL (`state_url`)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.state import Claim, StateStore
from bot.state.migrations import table_exists

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_the_state_file_is_created_on_first_run_in_wal_mode(tmp_path):
    store = StateStore(tmp_path / "deep" / "vpnbot.db")
    try:
        assert (tmp_path / "deep" / "vpnbot.db").is_file()
        with store.connection() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert all(table_exists(conn, t) for t in ("questions", "slack_events", "user_zones"))
    finally:
        store.close()


def test_a_delivery_is_claimed_once_whichever_of_its_keys_comes_back(state_url):
    one, two = StateStore(state_url), StateStore(state_url)
    try:
        assert one.claim(["event:Ev1", "message:C1:1.000"]) is Claim.NEW
        assert two.claim(["event:Ev1"]) is Claim.REPEAT  # Slack's retry, on the other process
        assert two.claim(["event:Ev2", "message:C1:1.000"]) is Claim.REPEAT  # the same message, another event type
        assert two.claim(["event:Ev3", "message:C1:2.000"]) is Claim.NEW
        assert one.claim([]) is Claim.NEW  # nothing to dedupe on: answered
    finally:
        one.close()
        two.close()


def _claim_many(path: str, keys: list[str], out: str) -> None:
    store = StateStore(path)
    try:
        won = [key for key in keys if store.claim([key]) is Claim.NEW]
    finally:
        store.close()
    Path(out).write_text("\n".join(won))


def test_processes_racing_for_the_same_deliveries_each_win_a_distinct_share(state_url, tmp_path):
    path = state_url
    StateStore(path).close()
    keys = [f"event:Ev{i}" for i in range(200)]
    outs = [str(tmp_path / f"won-{n}.txt") for n in range(4)]
    workers = [multiprocessing.Process(target=_claim_many, args=(path, keys, out)) for out in outs]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    won = [key for out in outs for key in Path(out).read_text().split()]
    assert sorted(won) == sorted(keys)  # every delivery claimed exactly once


def test_a_users_zone_is_cached_for_a_day(state_url):
    store = StateStore(state_url)
    try:
        store.remember_zone("U1", "Europe/Paris", now=T0)
        assert store.zone("U1", now=T0 + timedelta(hours=23)) == "Europe/Paris"
        assert store.zone("U1", now=T0 + timedelta(hours=25)) is None  # people travel: ask Slack again
        assert store.zone("U2", now=T0) is None
    finally:
        store.close()


def test_purge_keeps_questions_for_the_retention_and_delivery_ids_for_a_day(state_url):
    store = StateStore(state_url, retention_days=30)
    try:
        old = store.start_question(channel="C1", user="U1", text="status paris", outcome="answered")
        store.finish_question(old, asked_at=T0 - timedelta(days=31))
        recent = store.start_question(channel="C1", user="U1", text="status lyon", outcome="answered")
        store.finish_question(recent, asked_at=T0 - timedelta(days=29))
        store.claim(["event:old"], now=T0 - timedelta(days=2))
        store.claim(["event:new"], now=T0 - timedelta(hours=2))
        deleted = store.purge(now=T0)
        assert deleted["questions"] == 1 and deleted["slack_events"] == 1
        assert [q["id"] for q in store.questions()] == [recent]
        assert store.claim(["event:old"]) is Claim.NEW  # forgotten: a day is far beyond Slack's retries
        assert store.claim(["event:new"]) is Claim.REPEAT
    finally:
        store.close()


def test_question_rows_keep_json_as_text_and_reject_unknown_columns(state_url):
    store = StateStore(state_url)
    try:
        qid = store.start_question(channel="C1", queries_json=[{"backend": "local", "text": "AzureDiagnostics"}])
        assert store.question(qid)["queries_json"] == '[{"backend": "local", "text": "AzureDiagnostics"}]'
        assert store.question(qid)["outcome"] == "running"
        try:
            store.finish_question(qid, colour="blue")
        except KeyError as exc:
            assert "colour" in str(exc)
        else:
            raise AssertionError("an unknown column was accepted")
        assert store.question(qid + 1) is None
    finally:
        store.close()


def test_a_claim_is_a_lease_held_by_a_live_process_not_a_tombstone(state_url):
    store = StateStore(state_url)
    try:
        assert store.claim(["event:Ev1"], "host-1-a", '{"job": 1}', now=T0) is Claim.NEW
        assert store.claim(["event:Ev1"], "host-2-b", '{"job": 1}', now=T0) is Claim.REPEAT  # its owner is alive
        later = T0 + timedelta(minutes=5)  # the owner stopped beating: it died before answering
        assert store.abandoned(now=later) == ['{"job": 1}']
        assert store.claim(["event:Ev1"], "host-2-b", '{"job": 1}', now=later) is Claim.RESUMED
        assert store.abandoned(now=later) == []  # taken over: its new owner is alive
        store.settle(["event:Ev1"], now=later)
        assert store.claim(["event:Ev1"], "host-3-c", '{"job": 1}', now=later + timedelta(hours=1)) is Claim.REPEAT
    finally:
        store.close()


def test_a_dead_process_of_this_host_is_taken_over_at_once_without_waiting_for_its_heartbeat(state_url):
    store = StateStore(state_url)
    try:
        store.claim(["event:Ev1"], "host-1-a", '{"job": 1}', now=T0)
        assert store.abandoned(now=T0) == []
        assert store.abandoned(now=T0, dead=frozenset({"host-1-a"})) == ['{"job": 1}']
        assert store.claim(["event:Ev1"], "host-2-b", "{}", now=T0, dead=frozenset({"host-1-a"})) is Claim.RESUMED
    finally:
        store.close()


def test_a_state_file_from_before_claims_were_leases_keeps_its_rows_and_its_claims_stay_answered(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE slack_events (key TEXT PRIMARY KEY, seen_at TEXT)")
    old.execute("INSERT INTO slack_events VALUES ('event:Ev9', '2026-11-22T11:00:00Z')")
    old.commit()
    old.close()
    store = StateStore(path)
    try:
        assert store.claim(["event:Ev9"], "host-1-a", "{}", now=T0) is Claim.REPEAT
        with store.connection() as conn:
            (row,) = conn.select("slack_events")
        assert {"owner", "job_json", "done_at"} <= set(row) and row["seen_at"] == "2026-11-22T11:00:00Z"
    finally:
        store.close()
