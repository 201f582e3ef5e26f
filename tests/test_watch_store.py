"""The state store's side of following incidents (issue 16), on SQLite and PostgreSQL: each tunnel of an incident back
claimed once (a lease taken over when its claimant died), the tunnels back kept per incident, and the failed polls of
a log source counted once for every poller, told once each way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.state import open_store
from bot.state.migrations import Migrator, _step2
from diagnostics.watch.model import LEASE, Incident

T0 = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
KEYS = {name: f"VPNGW01|203.0.113.{n}|2026-12-07T14:02:0{n}Z|IN_0" for n, name in enumerate(("paris", "lyon",
                                                                                              "nice"), start=1)}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def maintenance() -> Incident:
    """VPNGW01's three tunnels dropped together at 14:02; paris back after 12 s, lyon and nice still down."""
    return Incident(tunnels=["paris", "lyon", "nice"], down_at=at(2), up_at=None, cause="maintenance_failover",
                    confidence="high", drops=1, keys=list(KEYS.values()), title="Gateway maintenance",
                    downs={name: at(2) + timedelta(seconds=n) for n, name in enumerate(KEYS)},
                    back={"paris": at(2) + timedelta(seconds=12)})


def told(store) -> Incident:
    incident = maintenance()
    assert store.claim_incident(incident, "poller-1", at(5), LEASE)
    store.incident_posted(incident, at(5))
    return incident


def test_an_incident_loads_with_each_tunnel_back_and_is_over_when_the_last_one_is(store):
    incident = told(store)
    assert store.claim_recovery(incident.id, "lyon", at(20), "poller-1", at(21), LEASE)
    (loaded,) = store.recent_incidents(at(0))
    assert (loaded.id, loaded.back, loaded.up_at) == (incident.id, {"paris": at(2) + timedelta(seconds=12),
                                                                    "lyon": at(20)}, None)
    assert loaded.downs["nice"] == at(2) + timedelta(seconds=2) and loaded.title == "Gateway maintenance"
    assert store.claim_recovery(incident.id, "nice", at(40), "poller-1", at(41), LEASE)
    (over,) = store.recent_incidents(at(0))
    assert over.up_at == at(40) and over.to_json()["up_at"] == "2026-12-07T14:40:00Z"


def test_a_recovery_is_claimed_once_and_one_never_told_is_taken_over_after_its_lease(store):
    incident = told(store)
    assert store.claim_recovery(incident.id, "lyon", at(20), "dead", at(21), LEASE)
    assert not store.claim_recovery(incident.id, "lyon", at(20), "alive", at(21), LEASE)  # a second poller
    assert store.expired_recoveries("alive", at(22), LEASE) == []  # its lease still holds
    (taken,) = store.expired_recoveries("alive", at(27), LEASE)
    assert (taken.id, taken.newly_back, taken.back["lyon"]) == (incident.id, ["lyon"], at(20))
    assert store.expired_recoveries("other", at(28), LEASE) == []  # taken: a new lease
    store.recovery_posted(taken, at(28))
    assert store.expired_recoveries("other", at(40), LEASE) == []
    assert [(r["tunnel"], r["status"], r["owner"]) for r in store.watch_recoveries()] == [("lyon", "posted", "alive")]


def test_failed_polls_are_counted_for_every_poller_and_told_once_each_way(state_url):
    one, two = open_store(state_url), open_store(state_url)  # two processes on one store
    try:
        source = "azure:ws-watch"
        told = [(one, two)[n % 2].source_failed(source, at(n), 5) for n in range(7)]
        assert told == [False, False, False, False, True, False, False]  # the fifth failed poll, whoever ran it
        assert one.watermark(source) is None  # failing since its first poll: no watermark yet
        assert [two.source_answered(source), one.source_answered(source)] == [True, False]
        assert [one.source_failed(source, at(10), 5) for _ in range(4)] == [False] * 4  # counting from 0 again
        assert not two.source_answered(source)  # never told failing this time: nothing to tell
        one.set_watermark(source, at(11), at(11))
        assert two.watermark(source) == at(11)
    finally:
        one.close()
        two.close()


def test_migration_step_2_is_applied_once_and_is_harmless_again(store):
    with store.connection() as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()]
    assert 2 in versions
    with store.migrating() as conn:
        _step2(Migrator(conn))  # a store whose step 1 made the table already
    told(store)
    assert store.claim_recovery(maintenance().id, "lyon", at(20), "p", at(21), LEASE)
