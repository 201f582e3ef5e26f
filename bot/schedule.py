"""Daily summaries on a clock: which runs are due, and when (docs/summaries.md).

A channel subscribed "daily at 09:00" in Europe/Paris gets, on local date D+1 at 09:00 Paris time, the summary of
local day D. This module says *when* (wall-clock times in IANA zones, with the days daylight saving makes 23 or 25
hours long); the `Scheduler` (bot/scheduler.py) says *who* posts, and owns no state of its own: the run record in
the shared SQLite file (`StateStore.claim_run`) is what makes a run happen once across restarts and across several
`vpnbot serve` processes on one database.

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
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.state import StateStore

#: A run later than this is skipped (logged, never posted).
LATE = timedelta(hours=12)
#: How far back a tick looks for runs: wide enough that every run skipped while the bot was down for a day is
#: recorded (and logged) once, narrow enough that a tick computes a handful of instants per subscription.
LOOKBACK = timedelta(hours=48)

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
