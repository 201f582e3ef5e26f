"""Daily summaries on the clock, with time pinned: when a run is due in several zones (also on the days daylight
saving makes 23 or 25 hours long), and that each (channel, day) is posted exactly once through crashes, restarts,
failures and several schedulers sharing one database."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time as walltime
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.waiting import wait_until

from bot.schedule import (
    LATE,
    ScheduleError,
    Subscription,
    day_bounds,
    due_runs,
    load_subscriptions,
    local_instant,
    next_run,
    parse_hhmm,
    run_at,
)
from bot.scheduler import BACKOFF, LEASE, MAX_ATTEMPTS, Scheduler
from bot.state import StateStore

pytestmark = pytest.mark.both_stores  # the runs' exactly-once claims, on SQLite and on PostgreSQL

PARIS, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")
KOLKATA, LORD_HOWE = ZoneInfo("Asia/Kolkata"), ZoneInfo("Australia/Lord_Howe")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def sub(channel: str = "C1", at: str = "09:00", tz: str = "Europe/Paris", since: datetime | None = None,
        tunnels: tuple[str, ...] = ()) -> Subscription:
    return Subscription(channel, at, tz, tunnels, created_by="U0ALICE", since=since)


class Poster:
    """The injected `run`: records every call (channel, day), thread-safely; may fail on demand."""

    def __init__(self, failures: int = 0, error: Exception | None = None, delay: float = 0.0) -> None:
        self.calls: list[tuple[str, date]] = []
        self.failures = failures
        self.error = error or RuntimeError("Slack answered 500")
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, subscription: Subscription, day: date) -> str:
        with self._lock:
            self.calls.append((subscription.channel, day))
            n = len(self.calls)
            if self.failures:
                self.failures -= 1
                raise self.error
        if self.delay:
            walltime.sleep(self.delay)
        return f"1774000000.{n:06d}"


class Notices:
    def __init__(self) -> None:
        self.calls: list[tuple[str, date, str]] = []

    def __call__(self, subscription: Subscription, day: date, error_id: str) -> None:
        self.calls.append((subscription.channel, day, error_id))


def scheduler(state: StateStore, subs: list[Subscription], run, **kwargs) -> Scheduler:
    return Scheduler(state, lambda: subs, run, **kwargs)


def ticks(start: datetime, end: datetime, step: timedelta):
    now = start
    while now <= end:
        yield now
        now += step


# -------------------------------------------------------------------------------------------------- times of day


def test_a_time_of_day_is_hh_mm_on_a_24_hour_clock():
    assert parse_hhmm("09:00") == time(9, 0) and parse_hhmm("9:05") == time(9, 5) and parse_hhmm("23:59")
    for bad in ("25:00", "24:00", "9am", "09:60", "", "0900"):
        with pytest.raises(ScheduleError, match="HH:MM"):
            parse_hhmm(bad)


@pytest.mark.parametrize(("zone", "day", "expected"), [
    (PARIS, date(2026, 1, 15), utc(2026, 1, 15, 8, 0)),  # CET, +01:00
    (PARIS, date(2026, 7, 15), utc(2026, 7, 15, 7, 0)),  # CEST, +02:00
    (NEW_YORK, date(2026, 1, 15), utc(2026, 1, 15, 14, 0)),  # EST
    (NEW_YORK, date(2026, 7, 15), utc(2026, 7, 15, 13, 0)),  # EDT
    (KOLKATA, date(2026, 7, 15), utc(2026, 7, 15, 3, 30)),  # +05:30 all year
    (LORD_HOWE, date(2026, 7, 15), utc(2026, 7, 14, 22, 30)),  # +10:30 in its winter
    (LORD_HOWE, date(2026, 12, 15), utc(2026, 12, 14, 22, 0)),  # +11 in its summer: a 30-minute DST
])
def test_nine_oclock_is_nine_oclock_local_in_every_zone(zone, day, expected):
    assert local_instant(day, time(9), zone) == expected


@pytest.mark.parametrize(("zone", "day", "wall", "expected"), [
    (PARIS, date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1, 0)),  # 02:00 → 03:00: runs at 03:00 CEST
    (PARIS, date(2026, 3, 29), time(2, 0), utc(2026, 3, 29, 1, 0)),
    (NEW_YORK, date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 0)),  # runs at 03:00 EDT
    (LORD_HOWE, date(2026, 10, 4), time(2, 15), utc(2026, 10, 3, 15, 30)),  # 02:00 → 02:30: runs at 02:30
    (ZoneInfo("Pacific/Apia"), date(2011, 12, 30), time(9), utc(2011, 12, 30, 10, 0)),  # a whole day skipped
])
def test_a_time_that_does_not_exist_runs_at_the_first_instant_after_it(zone, day, wall, expected):
    at = local_instant(day, wall, zone)
    assert at == expected
    assert at.astimezone(zone).time() >= wall or at.astimezone(zone).date() > day


@pytest.mark.parametrize(("zone", "day", "wall", "expected"), [
    (PARIS, date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),  # 02:30 CEST, not 02:30 CET an hour later
    (NEW_YORK, date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),  # 01:30 EDT, not EST
])
def test_a_time_that_happens_twice_runs_at_its_first_occurrence(zone, day, wall, expected):
    assert local_instant(day, wall, zone) == expected


@pytest.mark.parametrize(("zone", "day", "hours"), [
    (PARIS, date(2026, 3, 29), 23), (PARIS, date(2026, 10, 25), 25), (PARIS, date(2026, 6, 1), 24),
    (NEW_YORK, date(2026, 3, 8), 23), (NEW_YORK, date(2026, 11, 1), 25),
    (LORD_HOWE, date(2026, 10, 4), 23.5), (LORD_HOWE, date(2026, 4, 5), 24.5), (KOLKATA, date(2026, 3, 29), 24),
])
def test_the_summarised_day_is_the_local_day_23_24_or_25_hours_long(zone, day, hours):
    start, end = day_bounds(day, zone)
    assert start.astimezone(zone).replace(tzinfo=None) == datetime.combine(day, time(0))
    assert (end - start) == timedelta(hours=hours)


def test_the_run_on_the_day_after_a_dst_change_summarises_the_23_and_25_hour_days():
    paris = sub(at="09:00")
    spring = [r for r in due_runs([paris], utc(2026, 3, 30, 12), utc(2026, 3, 30, 0))]
    assert [(r.day, r.at) for r in spring] == [(date(2026, 3, 29), utc(2026, 3, 30, 7, 0))]
    start, end = day_bounds(spring[0].day, PARIS)
    assert end - start == timedelta(hours=23) and end <= spring[0].at
    autumn = due_runs([paris], utc(2026, 10, 26, 12), utc(2026, 10, 26, 0))
    assert [(r.day, r.at) for r in autumn] == [(date(2026, 10, 25), utc(2026, 10, 26, 8, 0))]
    start, end = day_bounds(autumn[0].day, PARIS)
    assert end - start == timedelta(hours=25)


@pytest.mark.parametrize(("tz", "at", "start", "end"), [
    ("Europe/Paris", "02:30", utc(2026, 3, 26), utc(2026, 4, 2)),  # spring forward on 29 March
    ("Europe/Paris", "02:30", utc(2026, 10, 22), utc(2026, 10, 29)),  # fall back on 25 October
    ("America/New_York", "02:30", utc(2026, 3, 5), utc(2026, 3, 12)),
    ("America/New_York", "01:30", utc(2026, 10, 29), utc(2026, 11, 5)),
    ("Australia/Lord_Howe", "02:15", utc(2026, 10, 1), utc(2026, 10, 7)),
    ("Asia/Kolkata", "00:00", utc(2026, 3, 26), utc(2026, 4, 2)),
])
def test_consecutive_ticks_see_every_day_exactly_once_across_a_dst_change(tz, at, start, end):
    """Ticks a minute apart, each asking for the runs since the previous one: every local day once, none twice."""
    subscription = sub(at=at, tz=tz)
    seen: list[date] = []
    previous = start
    for now in ticks(start + timedelta(minutes=1), end, timedelta(minutes=1)):
        seen += [r.day for r in due_runs([subscription], now, previous)]
        previous = now
    first = start.astimezone(ZoneInfo(tz)).date()
    expected = [first + timedelta(days=n) for n in range(-1, (end - start).days + 1)]
    assert seen == [d for d in expected if start < run_at(subscription, d) <= end]
    assert len(seen) == len(set(seen)) >= 5


@pytest.mark.parametrize(("tz", "at", "day"), [
    ("Europe/Paris", "02:30", date(2026, 3, 28)),  # its run is on 29 March, whose 02:30 does not exist
    ("Europe/Paris", "02:30", date(2026, 10, 24)),  # its run is on 25 October, whose 02:30 happens twice
    ("America/New_York", "02:30", date(2026, 3, 7)),
    ("America/New_York", "01:30", date(2026, 10, 31)),
])
def test_the_scheduler_posts_once_on_dst_days_even_ticking_through_the_repeated_hour(state, tz, at, day):
    poster = Poster()
    subscription = sub(at=at, tz=tz)
    runner = scheduler(state, [subscription], poster)
    due = run_at(subscription, day)
    for now in ticks(due - timedelta(hours=3), due + timedelta(hours=4), timedelta(minutes=5)):
        runner.tick(now)
    assert poster.calls == [("C1", day)]
    assert state.summary_run("C1", day)["status"] == "posted"


# -------------------------------------------------------------------------------------------------- what is due


def test_a_subscription_made_after_todays_time_starts_tomorrow():
    made_at = utc(2026, 6, 10, 8, 0)  # 10:00 in Paris
    late = sub(at="09:00", since=made_at)
    assert due_runs([late], utc(2026, 6, 10, 9, 0)) == []
    first = next_run(late, made_at)
    assert first.at == utc(2026, 6, 11, 7, 0) and first.day == date(2026, 6, 10)
    early = sub(at="11:00", since=made_at)
    assert next_run(early, made_at).at == utc(2026, 6, 10, 9, 0)


def test_runs_are_due_at_their_instant_in_their_own_zone():
    subs = [sub("CPAR", "09:00", "Europe/Paris"), sub("CNYC", "09:00", "America/New_York"),
            sub("CBLR", "09:00", "Asia/Kolkata")]
    now = utc(2026, 7, 15, 7, 0)
    due = due_runs(subs, now, now - timedelta(hours=6))
    assert [(r.subscription.channel, r.day, r.at) for r in due] == [
        ("CBLR", date(2026, 7, 14), utc(2026, 7, 15, 3, 30)), ("CPAR", date(2026, 7, 14), utc(2026, 7, 15, 7, 0))]
    assert due and all(not r.too_late(now) for r in due)


def test_a_run_is_too_late_from_12_hours_on():
    runs = due_runs([sub()], utc(2026, 7, 15, 19, 0))  # 09:00 Paris = 07:00 UTC
    (today,) = [r for r in runs if r.day == date(2026, 7, 14)]
    assert not today.too_late(utc(2026, 7, 15, 18, 59, 59)) and today.too_late(utc(2026, 7, 15, 19, 0))
    assert timedelta(hours=12) == LATE


# -------------------------------------------------------------------------------------------------- exactly once


def test_a_channel_gets_one_summary_a_day_whatever_the_tick_rate(state):
    poster = Poster()
    runner = scheduler(state, [sub(since=utc(2026, 7, 13, 12))], poster)
    for now in ticks(utc(2026, 7, 14, 0), utc(2026, 7, 17, 0), timedelta(minutes=7)):
        runner.tick(now)
    assert poster.calls == [("C1", date(2026, 7, 13)), ("C1", date(2026, 7, 14)), ("C1", date(2026, 7, 15))]
    rows = state.summary_runs("C1")
    assert [(r["status"], r["attempts"]) for r in rows] == [("posted", 1)] * 3
    assert rows[0]["message_ts"] and rows[0]["scheduled_at"] == "2026-07-14T07:00:00Z"


def test_a_restart_posts_the_missed_summary_once_when_less_than_12_hours_late(tmp_path):
    path = tmp_path / "state.db"
    first, poster = StateStore(path), Poster()
    scheduler(first, [sub()], poster).tick(utc(2026, 7, 15, 6, 55))  # up at 08:55 Paris, then it crashed
    first.close()
    assert poster.calls == []
    second = StateStore(path)
    try:
        runner = scheduler(second, [sub()], poster)
        outcomes = runner.tick(utc(2026, 7, 15, 18, 30))  # back at 20:30: 11 h 30 late
        assert [(o.day, o.status) for o in outcomes] == [(date(2026, 7, 14), "posted")]
        runner.tick(utc(2026, 7, 15, 18, 31))
        third = scheduler(second, [sub()], poster)  # and another restart right after
        third.tick(utc(2026, 7, 15, 18, 45))
    finally:
        second.close()
    assert poster.calls == [("C1", date(2026, 7, 14))]


def test_a_run_more_than_12_hours_late_is_skipped_and_logged_once_never_posted(state, caplog):
    poster = Poster()
    subscription = sub(since=utc(2026, 7, 14, 12))
    runner = scheduler(state, [subscription], poster)
    with caplog.at_level(logging.WARNING, logger="vpnbot.schedule"):
        outcomes = runner.tick(utc(2026, 7, 15, 19, 0))  # 12 h after 09:00 Paris
        runner.tick(utc(2026, 7, 15, 19, 1))
        scheduler(state, [subscription], poster).tick(utc(2026, 7, 15, 20, 0))
    assert poster.calls == []
    assert [(o.channel, o.day, o.status) for o in outcomes] == [("C1", date(2026, 7, 14), "skipped")]
    row = state.summary_run("C1", date(2026, 7, 14))
    assert row["status"] == "skipped" and "12 h late" in row["error"]
    (skipped,) = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert "2026-07-14 for C1 skipped" in skipped.getMessage()
    # The next one is posted on time.
    runner.tick(utc(2026, 7, 16, 7, 0))
    assert poster.calls == [("C1", date(2026, 7, 15))]


def test_a_run_claimed_by_a_crashed_process_is_taken_over_after_its_lease(state):
    due = utc(2026, 7, 15, 7, 0)
    assert state.claim_run("C1", date(2026, 7, 14), "4242-dead", due, LEASE)  # then the process died
    poster = Poster()
    runner = scheduler(state, [sub()], poster)
    runner.tick(due + timedelta(minutes=5))
    assert poster.calls == []  # the lease still protects it: its owner may be alive and posting
    runner.tick(due + LEASE)
    assert poster.calls == [("C1", date(2026, 7, 14))]
    row = state.summary_run("C1", date(2026, 7, 14))
    assert row["status"] == "posted" and row["owner"] == runner.owner and row["attempts"] == 2


def test_a_posted_run_is_never_claimed_again(state):
    day, now = date(2026, 7, 14), utc(2026, 7, 15, 7, 0)
    assert state.claim_run("C1", day, "a", now, LEASE)
    assert not state.claim_run("C1", day, "b", now, LEASE)  # held
    assert state.finish_run("C1", day, "a", "posted", now, message_ts="1.000001")
    for later in (now + LEASE, now + timedelta(days=1)):
        assert not state.claim_run("C1", day, "b", later, LEASE)
    assert not state.skip_run("C1", day, now + timedelta(days=1), "late")
    assert not state.finish_run("C1", day, "b", "posted", now, message_ts="2.000002")  # the first ts stays
    assert state.summary_run("C1", day)["message_ts"] == "1.000001"


def test_a_process_that_keeps_dying_on_a_run_is_given_up_after_the_last_attempt(state):
    day, now = date(2026, 7, 14), utc(2026, 7, 15, 7, 0)
    for n in range(MAX_ATTEMPTS):
        assert state.claim_run("C1", day, f"dead-{n}", now + n * LEASE, LEASE, max_attempts=MAX_ATTEMPTS)
    assert not state.claim_run("C1", day, "next", now + MAX_ATTEMPTS * LEASE, LEASE, max_attempts=MAX_ATTEMPTS)
    assert state.summary_run("C1", day)["status"] == "failed"


def test_a_long_summary_keeps_its_claim_alive_so_no_one_posts_it_twice(state_url):
    """The owner renews its lease while it works: another scheduler ticking meanwhile never takes the run."""
    clock = {"now": utc(2026, 7, 15, 7, 0)}
    one, two = StateStore(state_url), StateStore(state_url)
    other_calls = Poster()
    other = scheduler(two, [sub()], other_calls)
    seen: list[list] = []

    def slow(subscription: Subscription, day: date) -> str:
        def renewed() -> bool:  # the owner's lease, renewed after the pinned clock moved, ends after it
            now = clock["now"].strftime("%Y-%m-%dT%H:%M:%SZ")
            return one.summary_run(subscription.channel, day)["lease_until"] > now

        for _ in range(4):  # 24 minutes of pinned time, more than twice the lease
            clock["now"] += timedelta(minutes=6)
            wait_until(renewed, "the owner renewed its lease past the pinned clock")
            seen.append(other.tick(clock["now"]))
        return "1.000001"

    try:
        owner = Scheduler(one, lambda: [sub()], slow, clock=lambda: clock["now"], renew_every=0.01)
        owner.tick(clock["now"])
    finally:
        one.close()
        two.close()
    assert other_calls.calls == [] and seen == [[], [], [], []]


def test_two_schedulers_on_one_database_racing_in_threads_post_each_run_once(state_url, tmp_path):
    path = state_url
    StateStore(path).close()
    subs = [sub(f"C{n:02d}", f"{7 + n % 3:02d}:{(n * 7) % 60:02d}", tz) for n, tz in
            enumerate(["Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"] * 5)]
    nows = list(ticks(utc(2026, 10, 24, 0), utc(2026, 10, 27, 0), timedelta(minutes=20)))
    expected = _alone(tmp_path / "alone.db", subs, nows)
    poster = Poster(delay=0.001)
    stores = [StateStore(path), StateStore(path)]
    runners = [scheduler(s, subs, poster) for s in stores]
    barrier = threading.Barrier(2)

    def drive(runner: Scheduler) -> None:
        for now in nows:
            barrier.wait()
            runner.tick(now)

    threads = [threading.Thread(target=drive, args=(r,)) for r in runners]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        for state in stores:
            state.close()
    counts = Counter(poster.calls)
    assert set(counts.values()) == {1}
    assert sorted(counts) == expected  # what one scheduler alone posts over the same ticks
    assert len(expected) >= len(subs) * 3  # 24, 25 (Paris) and 26 October, and a few late catch-ups


def _alone(path: Path, subs: list[Subscription], nows: list[datetime]) -> list[tuple[str, date]]:
    """The runs one scheduler alone posts over `nows`: the oracle for the races."""
    state, poster = StateStore(path), Poster()
    try:
        runner = scheduler(state, subs, poster)
        for now in nows:
            runner.tick(now)
    finally:
        state.close()
    assert len(poster.calls) == len(set(poster.calls))
    return sorted(poster.calls)


PROCESS_SUBS = [sub(f"C{n:02d}", "09:00", tz) for n, tz in enumerate(["Europe/Paris", "America/New_York"] * 4)]


def _scheduler_process(path: str, out: str, nows: list[str], barrier) -> None:
    """One `vpnbot serve` process's scheduler: posts by appending a line (O_APPEND) to `out`. The processes tick
    in step (`barrier`): processes sharing a SQLite file share a host, hence a clock."""
    state = StateStore(path)
    subs = PROCESS_SUBS

    def run(subscription: Subscription, day: date) -> str:
        with open(out, "a", encoding="utf-8") as file:
            file.write(f"{subscription.channel} {day}\n")
        return "1.0"

    try:
        runner = Scheduler(state, lambda: subs, run)
        for now in nows:
            barrier.wait(60)
            runner.tick(datetime.fromisoformat(now))
    finally:
        state.close()


def test_two_scheduler_processes_on_one_database_post_each_run_once(state_url, tmp_path):
    path, out = state_url, str(tmp_path / "posted.txt")
    StateStore(path).close()
    nows = [t.isoformat() for t in ticks(utc(2026, 3, 6, 0), utc(2026, 3, 10, 0), timedelta(minutes=15))]
    barrier = multiprocessing.Barrier(3)
    workers = [multiprocessing.Process(target=_scheduler_process, args=(path, out, nows, barrier)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    lines = Path(out).read_text().splitlines()
    assert len(lines) == len(set(lines))
    expected = _alone(tmp_path / "alone.db", PROCESS_SUBS, [datetime.fromisoformat(n) for n in nows])
    assert sorted(lines) == sorted(f"{c} {d}" for c, d in expected)
    assert "C01 2026-03-08" in lines and "C00 2026-03-08" in lines  # the US spring-forward day, summarised once


# -------------------------------------------------------------------------------------------------- failures


def test_a_failed_post_is_retried_with_backoff_then_posted(state):
    poster = Poster(failures=2)
    runner = scheduler(state, [sub(since=utc(2026, 7, 15))], poster)
    due = utc(2026, 7, 15, 7, 0)
    assert [o.status for o in runner.tick(due)] == ["retry"]
    runner.tick(due + BACKOFF[0] - timedelta(seconds=1))  # not before its backoff
    assert len(poster.calls) == 1
    assert [o.status for o in runner.tick(due + BACKOFF[0])] == ["retry"]
    runner.tick(due + BACKOFF[0] + BACKOFF[1] - timedelta(seconds=1))
    assert len(poster.calls) == 2
    assert [o.status for o in runner.tick(due + BACKOFF[0] + BACKOFF[1])] == ["posted"]
    row = state.summary_run("C1", date(2026, 7, 14))
    assert row["status"] == "posted" and row["attempts"] == 3 and row["error"] is None


def test_a_post_that_keeps_failing_ends_failed_and_the_channel_is_told_once(state):
    poster, notices = Poster(failures=99), Notices()
    runner = scheduler(state, [sub(since=utc(2026, 7, 15))], poster, notify=notices)
    for now in ticks(utc(2026, 7, 15, 7, 0), utc(2026, 7, 15, 20, 0), timedelta(minutes=1)):
        runner.tick(now)
    assert len(poster.calls) == MAX_ATTEMPTS
    row = state.summary_run("C1", date(2026, 7, 14))
    assert row["status"] == "failed" and "Slack answered 500" in row["error"]
    assert [(c, d) for c, d, _ in notices.calls] == [("C1", date(2026, 7, 14))]
    assert notices.calls[0][2] in row["error"]  # the error id the channel sees is the one in the record


def test_retries_stop_at_the_12_hour_limit(state):
    poster, notices = Poster(failures=99), Notices()
    runner = scheduler(state, [sub(since=utc(2026, 7, 15))], poster, notify=notices)
    limit = utc(2026, 7, 15, 7, 0) + LATE
    attempts = []
    for now in ticks(limit - timedelta(minutes=3), limit + timedelta(hours=2), timedelta(minutes=1)):  # 11 h 57 late
        attempts += [(now, o.status) for o in runner.tick(now)]
    # Retried a minute later (still in time), then given up: the next retry would come after the limit.
    assert attempts == [(limit - timedelta(minutes=3), "retry"), (limit - timedelta(minutes=2), "failed")]
    assert len(poster.calls) == 2 and len(notices.calls) == 1
    assert state.summary_run("C1", date(2026, 7, 14))["status"] == "failed"


def test_a_failure_a_retry_cannot_fix_is_not_retried(state):
    poster, notices = Poster(failures=1, error=PermissionError("not_in_channel")), Notices()
    runner = scheduler(state, [sub(since=utc(2026, 7, 15))], poster, notify=notices,
                       permanent=lambda exc: isinstance(exc, PermissionError))
    for now in ticks(utc(2026, 7, 15, 7, 0), utc(2026, 7, 15, 8, 0), timedelta(minutes=1)):
        runner.tick(now)
    assert len(poster.calls) == 1 and len(notices.calls) == 1


def test_a_notice_that_cannot_be_posted_is_logged_not_raised(state, caplog):
    def broken(*_args) -> None:
        raise RuntimeError("channel_not_found")

    runner = scheduler(state, [sub(since=utc(2026, 7, 15))], Poster(failures=1), notify=broken,
                       permanent=lambda exc: True)
    with caplog.at_level(logging.WARNING, logger="vpnbot.schedule"):
        assert [o.status for o in runner.tick(utc(2026, 7, 15, 7, 0))] == ["failed"]
    assert "could not tell C1" in caplog.text


# -------------------------------------------------------------------------------------------------- the thread


def test_the_scheduler_thread_ticks_on_its_own_and_stops_promptly(state):
    poster = Poster()
    runner = scheduler(state, [sub()], poster, clock=lambda: utc(2026, 7, 15, 7, 1), interval=0.02).start()
    wait_until(lambda: poster.calls, "the scheduler's thread ticked and posted")
    assert runner.stop(5)
    assert poster.calls == [("C1", date(2026, 7, 14))]


def test_configuration_subscriptions_win_over_slack_ones_and_follow_the_configuration(state):
    now = utc(2026, 7, 15, 12, 0)
    state.subscribe("C1", "08:00", "Europe/Paris", ["paris"], "U0ALICE", now)
    state.subscribe("C2", "10:00", "Asia/Kolkata", [], "U0BOB", now)
    state.sync_config_subscriptions([{"channel": "C1", "time": "09:30", "tz": "America/New_York", "tunnels": ()}],
                                    now)
    by_channel = {s.channel: s for s in load_subscriptions(state)}
    assert by_channel["C1"].source == "config" and by_channel["C1"].time == "09:30" and by_channel["C1"].since is None
    assert by_channel["C2"].source == "slack" and by_channel["C2"].since == now
    state.sync_config_subscriptions([], now)  # removed from the configuration: the Slack-made one is back
    assert {s.channel: s.source for s in load_subscriptions(state)} == {"C1": "slack", "C2": "slack"}


def test_changing_a_subscriptions_time_keeps_its_start(state):
    made = utc(2026, 7, 15, 5, 0)
    state.subscribe("C1", "09:00", "Europe/Paris", [], "U0ALICE", made)
    state.subscribe("C1", "08:00", "Europe/Paris", ["paris"], "U0ALICE", made + timedelta(hours=1))
    (changed,) = load_subscriptions(state)
    assert changed.since == made and changed.time == "08:00" and changed.tunnels == ("paris",)
    # Moved from 09:00 to 08:00 at 07:00 Paris: today's 08:00 is still owed.
    assert [r.day for r in due_runs([changed], utc(2026, 7, 15, 6, 0))] == [date(2026, 7, 14)]


# -------------------------------------------------------------------------------------------------- configuration


def _config(**data):
    from bot.config import config_from_mapping

    tunnels = [{"name": "paris", "aliases": ["par"], "azure_gateway": "VPNGW01"},
               {"name": "lyon", "azure_gateway": "VPNGW02"}]
    return config_from_mapping({"timezone": "Europe/Paris", "tunnels": tunnels, **data})


def test_configuration_subscriptions_take_the_entry_zone_else_the_channels_else_the_default():
    config = _config(channels=[{"id": "C2", "timezone": "Asia/Kolkata"}], subscriptions=[
        {"channel": "C1", "time": "9:00", "tunnels": ["par", "lyon"], "timezone": "America/New_York"},
        {"channel": "C2", "time": "21:30", "tunnels": "all"},
        {"channel": "C3", "time": "07:05"},
    ])
    assert [(s.channel, s.time, s.timezone, s.tunnels) for s in config.subscriptions] == [
        ("C1", "09:00", "America/New_York", ("paris", "lyon")), ("C2", "21:30", "Asia/Kolkata", ()),
        ("C3", "07:05", "Europe/Paris", ())]
    assert config.channels[0].timezone == "Asia/Kolkata"


@pytest.mark.parametrize(("entry", "says"), [
    ({"channel": "C1", "time": "25:00"}, "[[subscriptions]] entry 1 (channel C1): time '25:00' is not a time of day: "
                                         "write it as HH:MM on a 24-hour clock, e.g. \"09:00\""),
    ({"channel": "C1", "time": "9am"}, "time '9am' is not a time of day"),
    ({"channel": "C1", "time": "09:00", "timezone": "Europe/Pariss"},
     "(channel C1): timezone: unknown time zone 'Europe/Pariss' (use an IANA name such as Europe/Paris)"),
    ({"channel": "C1", "time": "09:00", "tunnels": ["pariss"]}, "unknown tunnel 'pariss': did you mean 'paris'?"),
    ({"time": "09:00"}, "[[subscriptions]] entry 1: needs a channel id"),
    ({"channel": "C1", "time": "09:00", "at": "x"}, "unknown keys at"),
    ({"channel": "CLYON", "time": "09:00", "tunnels": ["paris"]},
     "paris not in this channel's [[channels]] tunnels (lyon)"),
])
def test_a_bad_configuration_subscription_is_one_clear_line(entry, says):
    from bot.config import ConfigError

    with pytest.raises(ConfigError) as caught:
        _config(channels=[{"id": "CLYON", "tunnels": ["lyon"]}], subscriptions=[entry])
    assert says in str(caught.value)


def test_a_channel_zone_must_be_a_real_zone():
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="id = 'C1': timezone: unknown time zone 'Mars/Olympus'"):
        _config(channels=[{"id": "C1", "timezone": "Mars/Olympus"}])
