"""Daily summaries on a clock: which runs are due, and a scheduler that posts each one exactly once (issue 6).

A channel subscribed "daily at 09:00" in Europe/Paris gets, on local date D+1 at 09:00 Paris time, the summary of
local day D. The pure half of this module says *when* (wall-clock times in IANA zones, with the days daylight saving
makes 23 or 25 hours long); the `Scheduler` says *who* posts, and owns no state of its own: the run record in the
shared SQLite file (`StateStore.claim_run`) is what makes a run happen once across restarts and across several
`vpnbot serve` processes on one database. Its wall clock is injected, so the tests pin time and call `tick(now)`.

Rules (kept here, not scattered):

* a run is due at D+1's HH:MM local time. A local time that does not exist (the hour clocks skip in spring) runs at
  the first valid instant after it (02:30 on 29 March 2026 in Paris → 03:00 CEST); a time that happens twice (the
  hour repeated in autumn) runs at its first occurrence, once: the record is keyed by (channel, day), not by instant;
* it is still posted when less than `LATE` (12 h) late, e.g. after a crash or a restart; later it is skipped and
  logged, never posted (yesterday's summary at 23:00 helps nobody and confuses the channel);
* a subscription made after today's time starts tomorrow (`Subscription.since`); one from the configuration has no
  start, so a bot that comes up at 10:00 posts the 09:00 summary it missed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.state import StateStore

log = logging.getLogger("vpnbot.schedule")

#: A run later than this is skipped (logged, never posted).
LATE = timedelta(hours=12)
#: How far back a tick looks for runs: wide enough that every run skipped while the bot was down for a day is
#: recorded (and logged) once, narrow enough that a tick computes a handful of instants per subscription.
LOOKBACK = timedelta(hours=48)
#: How long a claim protects a run whose owner stops answering (a crash). The owner renews it while it works.
LEASE = timedelta(minutes=10)
#: Waits after failed attempt 1, 2, … (a Slack or log-source outage is usually over in minutes).
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(minutes=30))
MAX_ATTEMPTS = len(BACKOFF) + 1
INTERVAL_S = 30.0

_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


class ScheduleError(ValueError):
    """A subscription that cannot be scheduled; str() says what to write instead."""


def parse_hhmm(text: str) -> time:
    """"09:00" or "9:00" → 09:00; anything else (also "25:00", "9am") raises ScheduleError.

    Strict on purpose: this is what the configuration and the state store hold. The chat parser
    (handlers/subscribe.py) is the lenient one and hands over "HH:MM".
    """
    match = _HHMM.match(str(text))
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleError(f"{text!r} is not a time of day: write it as HH:MM on a 24-hour clock, e.g. \"09:00\"")
    return time(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class Subscription:
    """One channel's daily summary. `tunnels` () means every tunnel the channel may see."""

    channel: str
    time: str  # "HH:MM", local to `tz`
    tz: str  # IANA zone
    tunnels: tuple[str, ...] = ()
    created_by: str = ""  # Slack user id ("" for the configuration)
    source: str = "slack"  # "slack" | "config"
    since: datetime | None = None  # runs due before this are not owed; None: a configuration subscription

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def at(self) -> time:
        return parse_hhmm(self.time)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Subscription:
        """A `subscriptions` row of the state store."""
        created = row.get("created_at")
        since = datetime.fromisoformat(created.replace("Z", "+00:00")) if created else None
        return cls(channel=row["channel"], time=row["time"], tz=row["tz"],
                   tunnels=tuple(json.loads(row.get("tunnels") or "[]")), created_by=row.get("created_by") or "",
                   source=row.get("source") or "slack", since=since if row.get("source") != "config" else None)


class DueRun(NamedTuple):
    """A run: post `subscription`'s summary of local `day` at `at` (UTC), i.e. on day + 1 at its time."""

    subscription: Subscription
    day: date
    at: datetime

    def lateness(self, now: datetime) -> timedelta:
        return now - self.at

    def too_late(self, now: datetime) -> bool:
        return self.lateness(now) >= LATE


def load_subscriptions(state: StateStore) -> list[Subscription]:
    """The subscriptions in force: one per channel, the configuration's entry winning over a Slack-made one."""
    chosen: dict[str, Subscription] = {}
    for row in state.subscription_rows():
        sub = Subscription.from_row(row)
        if sub.channel not in chosen or sub.source == "config":
            chosen[sub.channel] = sub
    return list(chosen.values())


# ------------------------------------------------------------------------------------------ wall-clock times


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of `day` at wall time `at` in `zone`.

    Ambiguous (clocks fall back): the first occurrence (fold=0). Nonexistent (clocks spring forward): the first
    valid instant after it, i.e. the moment of the change, found by bisection between the two readings of the
    wall time (a gap can be 30 minutes, an hour, or a whole day as in Samoa in 2011).
    """
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0)
    if _wall(first.astimezone(UTC), zone) == wall:
        return first.astimezone(UTC)
    # In a gap, fold=0 reads the wall time with the offset before the change, fold=1 with the one after: the
    # change lies between these two UTC instants, and local time only moves forward between them.
    readings = (int(first.timestamp()), int(wall.replace(tzinfo=zone, fold=1).timestamp()))
    lo, hi = min(readings), max(readings)  # wall(lo) < wall <= wall(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _wall(datetime.fromtimestamp(mid, UTC), zone) >= wall:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None, fold=0)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC start and end of local `day`: 23 h on the spring-forward day, 25 h on the fall-back day."""
    return local_instant(day, time(0), zone), local_instant(day + timedelta(days=1), time(0), zone)


def run_at(subscription: Subscription, day: date) -> datetime:
    """When the summary of local `day` is posted (UTC): the next local day at the subscription's time."""
    return local_instant(day + timedelta(days=1), subscription.at, subscription.zone)


def due_runs(subscriptions: Iterable[Subscription], now: datetime,
             last_seen: datetime | None = None) -> list[DueRun]:
    """Every run scheduled in (last_seen, now], oldest first: the ones to post and the ones too late to post
    (`DueRun.too_late`). `last_seen` defaults to now - LOOKBACK; the state store, not this function, knows which
    of them already happened, so a scheduler may ask again every tick."""
    since = last_seen if last_seen is not None else now - LOOKBACK
    runs: list[DueRun] = []
    for sub in subscriptions:
        zone = sub.zone
        first = since.astimezone(zone).date() - timedelta(days=1)
        last = now.astimezone(zone).date()
        run_date = first
        while run_date <= last:
            at = local_instant(run_date, sub.at, zone)
            if since < at <= now and (sub.since is None or at >= sub.since):
                runs.append(DueRun(sub, run_date - timedelta(days=1), at))
            run_date += timedelta(days=1)
    return sorted(runs, key=lambda r: (r.at, r.subscription.channel))


def next_run(subscription: Subscription, after: datetime) -> DueRun:
    """The first run strictly after `after` (for "first one tomorrow at 09:00")."""
    zone = subscription.zone
    run_date = after.astimezone(zone).date()
    while True:
        at = local_instant(run_date, subscription.at, zone)
        if at > after:
            return DueRun(subscription, run_date - timedelta(days=1), at)
        run_date += timedelta(days=1)


# ------------------------------------------------------------------------------------------ the scheduler


@dataclass(frozen=True)
class Outcome:
    """What one tick did with one run (for the log and the tests)."""

    channel: str
    day: date
    status: str  # posted | retry | failed | skipped
    detail: str = ""


Run = Callable[[Subscription, date], str]  # posts the summary of the day; returns the message ts; raises on failure
Notify = Callable[[Subscription, date, str], None]  # tells the channel a summary could not be posted


@dataclass
class Scheduler:
    """Wakes every `interval` seconds, finds the due runs, claims each in the state store and posts it.

    `subscriptions` is asked every tick (a `/vpn subscribe` in another process is seen at the next tick). `run`
    posts one summary (server.py: `post_summary`); `notify` tells a channel once that its summary failed for good;
    `permanent(exc)` says a failure is not worth retrying (the bot was removed from the channel).
    """

    state: StateStore
    subscriptions: Callable[[], Sequence[Subscription]]
    run: Run
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    notify: Notify | None = None
    permanent: Callable[[BaseException], bool] = field(default=lambda exc: False)
    interval: float = INTERVAL_S
    lease: timedelta = LEASE
    renew_every: float | None = None  # seconds between lease renewals while posting; None: a third of the lease
    owner: str = field(default_factory=lambda: f"{os.getpid()}-{uuid.uuid4().hex[:8]}")

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = threading.Lock()  # held while a tick runs: stop() waits for the post in progress

    # -- the thread ---------------------------------------------------------------------------------------------

    def start(self) -> Scheduler:
        self._thread = threading.Thread(target=self._loop, name="vpnbot-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop ticking; wait up to `timeout` for a summary being posted (its lease covers it if we give up)."""
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick(self.clock())
            except Exception:  # a tick that fails (the database is locked for long) is retried at the next one
                log.error("scheduler tick failed: %s", traceback.format_exc())
            self._stop.wait(self.interval)

    # -- one tick -----------------------------------------------------------------------------------------------

    def tick(self, now: datetime) -> list[Outcome]:
        """Handle every run due at `now`: post it if this process wins its claim, skip it when too late."""
        outcomes: list[Outcome] = []
        with self._busy:
            runs = due_runs(self.subscriptions(), now)
            settled = self.state.settled_runs({(r.subscription.channel, r.day) for r in runs}, now)
            for due in runs:
                if self._stop.is_set() and self._thread is not None:
                    break
                if (due.subscription.channel, due.day) in settled:
                    continue
                outcome = self._skip(due, now) if due.too_late(now) else self._attempt(due, now)
                if outcome is not None:
                    outcomes.append(outcome)
        return outcomes

    def _skip(self, due: DueRun, now: datetime) -> Outcome | None:
        late = due.lateness(now)
        reason = f"{_hours(late)} late (the limit is {_hours(LATE)}): not posted"
        if not self.state.skip_run(due.subscription.channel, due.day, now, reason, scheduled_at=due.at):
            return None
        log.warning("daily summary of %s for %s skipped: due at %s, %s", due.day, due.subscription.channel,
                    due.at.isoformat(), reason)
        return Outcome(due.subscription.channel, due.day, "skipped", reason)

    def _attempt(self, due: DueRun, now: datetime) -> Outcome | None:
        sub = due.subscription
        if not self.state.claim_run(sub.channel, due.day, self.owner, now, self.lease, scheduled_at=due.at,
                                    max_attempts=MAX_ATTEMPTS):
            return None
        try:
            with self._renewing(sub.channel, due.day):
                ts = self.run(sub, due.day)
        except Exception as exc:
            return self._failed(due, now, exc)
        # The message's ts was recorded as soon as Slack accepted it (`note_run_message`, before the picture's
        # upload); the one window left for a second copy is a crash between chat.postMessage returning and that
        # UPDATE.
        self.state.finish_run(sub.channel, due.day, self.owner, "posted", self.clock(), message_ts=ts)
        log.info("daily summary of %s posted in %s (ts %s)", due.day, sub.channel, ts)
        return Outcome(sub.channel, due.day, "posted", ts)

    def _failed(self, due: DueRun, now: datetime, exc: Exception) -> Outcome:
        sub = due.subscription
        error_id = uuid.uuid4().hex[:8]
        log.error("daily summary of %s for %s failed (error id %s): %s", due.day, sub.channel, error_id,
                  traceback.format_exc())
        attempts = self.state.run_attempts(sub.channel, due.day)
        detail = f"{type(exc).__name__}: {_first_line(exc)} (error id {error_id})"
        retry_at = now + BACKOFF[min(attempts, len(BACKOFF)) - 1] if attempts else now
        final = self.permanent(exc) or attempts >= MAX_ATTEMPTS or retry_at - due.at >= LATE
        if not final:
            self.state.finish_run(sub.channel, due.day, self.owner, "retry", now, error=detail, retry_at=retry_at)
            return Outcome(sub.channel, due.day, "retry", detail)
        if self.state.finish_run(sub.channel, due.day, self.owner, "failed", now, error=detail) and self.notify:
            try:
                self.notify(sub, due.day, error_id)
            except Exception as notify_exc:  # "if possible": the channel may be what failed
                log.warning("could not tell %s its summary failed: %s", sub.channel, _first_line(notify_exc))
        return Outcome(sub.channel, due.day, "failed", detail)

    def _renewing(self, channel: str, day: date) -> _Renewer:
        return _Renewer(self, channel, day)


class _Renewer:
    """Extends this process's lease while a summary is being made, so a slow log source never lets another
    process take over a run that is still alive; only a dead (or hung) owner lets its lease run out."""

    def __init__(self, scheduler: Scheduler, channel: str, day: date) -> None:
        self.scheduler, self.channel, self.day = scheduler, channel, day
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="vpnbot-lease", daemon=True)

    def __enter__(self) -> _Renewer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(5)

    def _renew(self) -> None:
        every = self.scheduler.renew_every or self.scheduler.lease.total_seconds() / 3
        while not self._done.wait(every):
            try:
                if not self.scheduler.state.renew_run(self.channel, self.day, self.scheduler.owner,
                                                      self.scheduler.clock(), self.scheduler.lease):
                    log.warning("lost the claim on the summary of %s for %s", self.day, self.channel)
                    return
            except Exception as exc:
                log.warning("could not renew the claim on %s/%s: %s", self.channel, self.day, _first_line(exc))


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h".replace(".0 h", " h")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
