"""The state store on either engine (SQLite file, PostgreSQL server): the same SQL, versioned migrations applied once
even by processes starting together, expired rows purged by two replicas at once each deleted once, a file of the last
version without migrations upgraded in place, `vpnbot db` status / upgrade / copy, PostgreSQL URLs never showing their
password, and a PostgreSQL server lost and back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.fake_slack_api import answered, buttons_of, running_bot
from support.postgres import Cluster, find_bindir, free_port

from bot.cli import main
from bot.config import ConfigError, config_from_mapping, state_location
from bot.state import Claim, StateStore, StoreUnavailable, admin, migrations, open_store, redact
from bot.state import database as state_database
from bot.state.schema import iso

FIXTURE = Path(__file__).parent / "fixtures" / "state" / "vpnbot-24ae369.db"
#: The rows tests/fixtures/state/vpnbot-24ae369.db was made with (by the code of 24ae369, before migrations).
FIXTURE_ROWS = {"questions": 2, "slack_events": 3, "owners": 1, "user_zones": 1, "subscriptions": 2,
                "summary_runs": 1, "bundles": 1, "watch_marks": 1, "watch_claims": 1, "azure_alerts": 1, "watches": 1,
                "watch_mutes": 1, "watch_messages": 1}
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
LATEST = migrations.STEPS[-1].version


def counts(store: StateStore) -> dict[str, int]:
    with store.connection() as conn:
        return admin.counts(conn)


def versions(store: StateStore) -> list[int]:
    with store.connection() as conn:
        return migrations.applied(conn)


def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "vpnbot.db"
    shutil.copy(FIXTURE, path)
    return path


# --------------------------------------------------------------------------------------------- one SQL, two engines


def test_the_same_sql_runs_on_both_engines_placeholders_percent_signs_and_reserved_words_included(store):
    with store.connection() as conn:
        assert conn.one("SELECT '100%' AS p, ? AS q", ("a?b",)) == {"p": "100%", "q": "a?b"}
    store.remember_zone("U1", "Europe/Paris", now=NOW)  # "user" is a reserved word in PostgreSQL
    assert store.zone("U1", now=NOW) == "Europe/Paris" and store.zone("U2", now=NOW) is None
    qid = store.start_question(user="U1", channel="C1", text="why did paris drop at 14:02")
    assert store.questions('"user" = ?', ["U1"])[0]["id"] == qid
    bundle = store.record_bundle(qid, "ab" * 32, 10, "b.zip", "U1", redact_ips=True, now=NOW)
    assert store.bundles(qid) == [{"id": bundle, "question_id": qid, "sha256": "ab" * 32, "size": 10,
                                   "file_name": "b.zip", "created_by": "U1", "created_at": "2026-12-07T12:00:00Z",
                                   "redact_ips": 1, "hash_users": 0}]


def test_a_new_store_is_at_the_latest_version_with_each_step_recorded_once(store):
    assert versions(store) == [s.version for s in migrations.STEPS]
    assert migrations.upgrade(store) == []  # nothing left to do
    assert set(counts(store)) >= set(FIXTURE_ROWS) and not any(counts(store).values())


def test_stores_opening_an_empty_database_together_migrate_it_once(state_url):
    opened: list[StateStore] = []
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        start.wait()
        try:
            opened.append(open_store(state_url))
        except BaseException as exc:  # reported by the assert below
            failures.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    try:
        assert not failures and len(opened) == 4
        assert versions(opened[0]) == [s.version for s in migrations.STEPS]  # each step applied (and recorded) once
        assert opened[1].claim(["event:Ev1"], "p-1", "{}") is Claim.NEW
        assert opened[2].claim(["event:Ev1"], "p-2", "{}") is Claim.REPEAT
    finally:
        for store in opened:
            store.close()


def test_two_replicas_purging_the_same_expired_rows_together_delete_each_once_and_keep_the_fresh_ones(
        store, state_url):
    expired, fresh = NOW - timedelta(days=91), NOW - timedelta(hours=2)  # past every table's retention / within it
    seeded = {"questions": 400, "slack_events": 400, "user_zones": 200}
    with store.transaction() as conn:
        for age, kind in ((iso(expired), "old"), (iso(fresh), "new")):
            conn.executemany("INSERT INTO questions (asked_at, text, outcome) VALUES (?, ?, ?)",
                             [(age, f"{kind} {i}", "answered") for i in range(seeded["questions"])])
            conn.executemany("INSERT INTO slack_events (key, seen_at, owner, job_json, done_at) VALUES (?, ?, ?, ?, ?)",
                             [(f"event:{kind}{i}", age, "p-1", "{}", age) for i in range(seeded["slack_events"])])
            conn.executemany('INSERT INTO user_zones ("user", tz, fetched_at) VALUES (?, ?, ?)',
                             [(f"U{kind}{i}", "Europe/Paris", age) for i in range(seeded["user_zones"])])
    other = open_store(state_url)  # a second replica: its own connection (pool)
    results: list[dict[str, int]] = []
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def purge(replica: StateStore) -> None:
        start.wait()
        try:
            results.append(replica.purge(now=NOW))
        except BaseException as exc:  # reported by the assert below
            failures.append(exc)

    threads = [threading.Thread(target=purge, args=(replica,)) for replica in (store, other)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not failures and len(results) == 2  # no error, no deadlock
        totals = {table: sum(r[table] for r in results) for table in results[0]}
        assert totals == {table: seeded.get(table, 0) for table in results[0]}  # every expired row, each deleted once
        left = counts(other)
        assert {table: left[table] for table in seeded} == seeded  # the fresh rows, all kept
        assert {q["text"] for q in other.questions()} == {f"new {i}" for i in range(seeded["questions"])}
    finally:
        other.close()


def test_a_file_made_by_the_version_before_migrations_is_upgraded_in_place_and_keeps_its_rows(tmp_path):
    path = old_file(tmp_path)
    store = open_store(path)
    try:
        assert versions(store) == [s.version for s in migrations.STEPS]
        assert {k: v for k, v in counts(store).items() if k in FIXTURE_ROWS} == FIXTURE_ROWS
        first = store.question(1)
        assert first["text"] == "why did paris drop at 14:02" and first["cause"] == "dpd_timeout"
        assert json.loads(first["answer_json"]) == {"schema": 1}
        assert store.claim(["Ev1"], "p-2", "{}", now=NOW) is Claim.REPEAT  # answered before the upgrade: still
        assert store.start_question(text="status") == 3  # ids go on after the old ones
        assert store.watch_rows()[0]["tunnels"] == ("paris",)
    finally:
        store.close()


# ------------------------------------------------------------------------------------------------------ vpnbot db


def test_db_status_says_what_an_old_file_lacks_and_upgrade_applies_it(tmp_path, capsys):
    path = str(old_file(tmp_path))
    assert main(["db", "status", "--state-db", path]) == 0
    out = capsys.readouterr().out
    assert "backend: sqlite" in out and "schema version: none: a store from before versioned migrations" in out
    assert "pending steps: 1 (" in out and "questions 2," in out
    assert main(["db", "upgrade", "--state-db", path]) == 0
    assert f"schema version {LATEST}" in capsys.readouterr().out
    assert main(["db", "status", "--state-db", path]) == 0
    assert f"schema version: {LATEST} (latest {LATEST})" in (out := capsys.readouterr().out)
    assert "pending steps: none" in out


def test_db_status_names_the_engine_the_version_and_the_rows_on_either_engine(store):
    store.start_question(text="status paris")
    lines = admin.status(store.location)
    assert lines[:1] == [f"backend: {store.dialect}"] and f"schema version: {LATEST} (latest {LATEST})" in lines
    assert "pending steps: none" in lines and any(line.startswith("rows: questions 1,") for line in lines)
    assert admin.upgrade(store.location)[-1].endswith(f"schema version {LATEST}, nothing to do")


def test_db_status_of_a_store_that_does_not_exist_says_so_and_creates_nothing(tmp_path, capsys):
    assert main(["db", "status", "--state-db", str(tmp_path / "nope.db")]) == 2
    assert "there is no state store at" in capsys.readouterr().err
    assert not (tmp_path / "nope.db").exists()


def test_db_copy_moves_every_row_with_its_id_and_new_ids_follow_the_copied_ones(tmp_path, state_url, capsys):
    source = str(old_file(tmp_path))
    assert main(["db", "copy", "--from", source, "--to", state_url]) == 0
    captured = capsys.readouterr()
    assert "questions: 2 rows" in captured.err and "every table's row count matches" in captured.out
    copied = open_store(state_url)
    try:
        assert {k: v for k, v in counts(copied).items() if k in FIXTURE_ROWS} == FIXTURE_ROWS
        assert [q["id"] for q in copied.questions()] == [1, 2]
        assert copied.question(1)["text"] == "why did paris drop at 14:02"
        assert copied.bundles(1)[0]["redact_ips"] == 1
        assert copied.start_question(text="status paris") == 3  # the id sequence was set after the copy
        assert copied.claim(["Ev1"], "p-2", "{}", now=NOW) is Claim.REPEAT  # answered in the old store
    finally:
        copied.close()
    assert main(["db", "copy", "--from", source, "--to", state_url]) == 2  # not into a store with rows
    assert "is not empty" in capsys.readouterr().err
    assert main(["db", "copy", "--from", source, "--to", state_url, "--force"]) == 0
    again = open_store(state_url)
    try:
        assert [q["id"] for q in again.questions()] == [1, 2]  # replaced, not added to
    finally:
        again.close()


def test_db_copy_back_into_a_sqlite_file_gives_the_same_rows(store, tmp_path):
    asked = store.start_question(user="U1", channel="C1", text="why did lyon drop", outcome="answered")
    store.record_bundle(asked, "cd" * 32, 99, "lyon.zip", "U1", hash_users=True, now=NOW)
    store.subscribe("C1", "08:00", "Europe/Paris", ["lyon"], "U1", now=NOW)
    target = str(tmp_path / "back.db")
    lines = admin.copy(store.location, target)
    assert lines[-1].endswith("every table's row count matches")
    back = open_store(target)
    try:
        assert back.questions() == store.questions() and back.bundles() == store.bundles()
        assert back.subscription_rows() == store.subscription_rows()
    finally:
        back.close()


# ------------------------------------------------------------------------------------ configuration and passwords


def test_a_password_in_state_db_is_refused_in_one_line_that_does_not_show_it():
    with pytest.raises(ConfigError) as refused:
        config_from_mapping({"state_db": "postgresql://vpnbot:s3cretpw@db.example/vpnbot"})
    message = str(refused.value)
    assert "s3cretpw" not in message and "PGPASSWORD" in message and "\n" not in message
    with pytest.raises(ConfigError):
        config_from_mapping({"state_db": "postgresql://db.example/vpnbot?user=vpnbot&password=s3cretpw"})
    kept = config_from_mapping({"state_db": "postgresql:///?service=vpnbot"})
    assert kept.state_db == "postgresql:///?service=vpnbot"


def test_vpnbot_state_url_wins_over_state_db():
    config = config_from_mapping({"state_db": "local.db"})
    assert state_location(config, {}) == "local.db"
    assert state_location(config, {"VPNBOT_STATE_URL": "postgresql://vpnbot@db/vpnbot"}) == \
        "postgresql://vpnbot@db/vpnbot"
    assert state_location(None, {}) == "vpnbot.db"


@pytest.mark.parametrize("text", [
    "postgresql://vpnbot:s3cretpw@db.example:5432/vpnbot",
    "could not connect to postgres://vpnbot:s3cretpw@db.example/vpnbot: refused",
    "host=db.example password=s3cretpw user=vpnbot",
    "postgresql://db.example/vpnbot?user=vpnbot&password=s3cretpw&sslmode=require",
])
def test_a_postgresql_password_is_redacted_wherever_it_appears(text):
    assert "s3cretpw" not in redact(text) and "db.example" in redact(text)


def test_an_unreachable_postgresql_is_one_line_without_the_password_and_exit_1(capsys):
    url = f"postgresql://vpnbot:s3cretpw@127.0.0.1:{free_port()}/vpnbot"
    assert main(["db", "upgrade", "--state-db", url]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "s3cretpw" not in err
    assert "cannot open the state store postgresql://vpnbot:***@127.0.0.1" in err and "VPNBOT_STATE_URL" in err


# ------------------------------------------------------------------------------ a PostgreSQL server lost and back

NOT_STORED_ACTIONS = {"vpn_show_queries", "vpn_evidence_bundle"}


@pytest.fixture
def own_cluster():
    """A PostgreSQL server of this test's own, which it stops and starts."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries here (initdb, postgres)")
    cluster = Cluster.start_new(bindir=bindir)
    yield cluster
    cluster.remove()


def test_claims_fail_while_postgresql_is_gone_and_work_never_twice_once_it_is_back(own_cluster, monkeypatch):
    monkeypatch.setattr(state_database, "STORE_PATIENCE_S", 1.0)
    store = open_store(own_cluster.base_url)
    try:
        assert store.claim(["event:Ev1"], "p-1", "{}", now=NOW) is Claim.NEW
        own_cluster.stop()
        with pytest.raises(StoreUnavailable) as failed:
            store.claim(["event:Ev2"], "p-1", "{}", now=NOW)
        assert own_cluster.base_url.split("@")[1] in str(failed.value)  # it names the (redacted) server
        assert not store.health.ok
        own_cluster.start()
        assert store.claim(["event:Ev1"], "p-2", "{}", now=NOW) is Claim.REPEAT  # its owner is alive: never twice
        assert store.claim(["event:Ev2"], "p-1", "{}", now=NOW) is Claim.NEW
        assert store.health.ok
    finally:
        store.close()


def test_a_question_asked_while_postgresql_is_gone_is_answered_and_the_next_one_is_stored(
        own_cluster, slack_api, demo_at, monkeypatch):
    from bot.slack.core import NOT_STORED

    monkeypatch.setattr(state_database, "STORE_PATIENCE_S", 1.0)
    monkeypatch.setattr(state_database, "BUSY_TIMEOUT_S", 0.5)
    now = datetime(2026, 11, 22, 18, 0, tzinfo=UTC)
    api = slack_api({"U0ALICE": "Europe/Paris"})
    with running_bot(api, demo_at(now), own_cluster.base_url, now) as bot:
        own_cluster.stop()
        bot.sender.mention("why did paris drop yesterday at 15:02")
        answered(api, outcomes=("white_check_mark",), timeout=60)
        assert bot.pool.drain(30)
        lost = api.calls_to("chat.update")[-1]
        assert NOT_STORED in json.dumps(lost.blocks, ensure_ascii=False)
        assert not set(buttons_of(lost)) & NOT_STORED_ACTIONS  # they would find nothing
        own_cluster.start()
        back_by = time.monotonic() + 60
        while not bot.state.probe():  # the pool reconnects (the bot's health loop probes like this)
            assert time.monotonic() < back_by, f"the store never came back: {bot.state.health.error}"
            time.sleep(0.1)
        bot.sender.mention("why did paris drop yesterday at 15:02 please")
        answered(api, n=2, outcomes=("white_check_mark",), timeout=60)
        assert bot.pool.drain(30)
        kept = api.calls_to("chat.update")[-1]
        assert NOT_STORED not in json.dumps(kept.blocks, ensure_ascii=False)
        assert [r["outcome"] for r in bot.state.questions()] == ["answered"]  # the second one, stored
        assert bot.state.health.ok


def test_the_scheduler_claim_after_a_restart_is_won_once(own_cluster):
    one, two = open_store(own_cluster.base_url), open_store(own_cluster.base_url)
    try:
        own_cluster.stop()
        own_cluster.start()
        day = NOW.date()
        results = [one.claim_run("C1", day, "p-1", NOW, timedelta(minutes=5)),
                   two.claim_run("C1", day, "p-2", NOW, timedelta(minutes=5))]
        assert sorted(results) == [False, True]
    finally:
        one.close()
        two.close()


def test_vpnbot_serve_with_an_unreachable_postgresql_exits_1_with_one_line_without_the_password(tmp_path):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VPNBOT_"))}
    environ.update(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="secret", VPNBOT_CACHE_DIR=str(tmp_path),
                   VPNBOT_STATE_URL=f"postgresql://vpnbot:s3cretpw@127.0.0.1:{free_port()}/vpnbot")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--demo", "--port", "0"], cwd=tmp_path,
                          env=environ, capture_output=True, text=True, timeout=300)
    errors = [line for line in done.stderr.splitlines() if line.startswith("vpnbot: error:")]
    assert done.returncode == 1 and "s3cretpw" not in done.stderr + done.stdout
    assert len(errors) == 1 and "cannot open the state store postgresql://vpnbot:***@127.0.0.1" in errors[0]
