"""Did traffic resume after a drop, and how long did it really stop? A drop (from the logs) and the tunnel's
`Traffic` (from the gateway's metrics) in, a `DropTraffic` out: pure, no I/O (docs/asking.md#traffic-around-a-drop).

The logs say when the tunnel was disconnected and reconnected; the byte counters say when traffic stopped and came
back, which can be earlier and later: phase 2 lost before the tunnel is logged down, routes (BGP) learned again only
a while after the reconnect, a device that needs its own traffic to bring the tunnel up. Metric values are totals per
interval (a minute on Azure, five on AWS), so every instant here is known to the interval, not to the second.

An interval counts as carrying traffic when it holds more than `ACTIVE_SHARE` of the median interval before the drop,
so BGP keepalives or DPD alone (a few hundred bytes a minute) do not read as "traffic resumed" on a tunnel that
usually carries megabytes; a tunnel with no traffic before the drop has nothing to resume, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from diagnostics.model import Drop, iso_z
from diagnostics.timefmt import duration_text, local_and_utc
from diagnostics.traffic.model import Metric, Series, Traffic

#: An interval carries traffic when it holds more than this share of the median interval before the drop.
ACTIVE_SHARE = 0.05
#: Differences smaller than this between what the metrics and the logs say are not said (clocks, rounding).
SURE = 60.0
#: The directions, named from the cloud gateway's side (diagnostics.traffic.model).
DIRECTIONS = (("in", Metric.BYTES_IN), ("out", Metric.BYTES_OUT))
WORDS = {"in": "from the site", "out": "to the site"}


@dataclass(frozen=True)
class Direction:
    """One direction's bytes around the drop (epoch seconds; None: not seen in the metrics)."""

    name: str  # "in" | "out"
    stopped_at: float | None  # when the last interval with traffic before the drop ended (at most the disconnect)
    resumed_at: float | None  # when the first interval with traffic after the reconnect began (at least the reconnect)
    quiet_from: float | None  # the latest this direction's last silence before `resumed_at` can have begun: the stop,
    # or the end of an interval that holds the reconnect and bytes (which may be from after it)
    before: float  # bytes in the intervals before the drop that were read
    after: float  # bytes in the intervals from the reconnect on
    data_after: bool  # some interval after the reconnect has a value (0 counts: it is not "no data")

    @property
    def carried(self) -> bool:
        """Traffic flowed this way before the drop."""
        return self.stopped_at is not None

    @property
    def resumed(self) -> bool | None:
        """True/False; None when the metrics have no value after the reconnect yet, or nothing flowed before."""
        if self.resumed_at is not None:
            return True
        return False if self.data_after and self.carried else None


@dataclass(frozen=True)
class DropTraffic:
    """What the byte counters say about one drop."""

    down_ts: float
    up_ts: float | None  # None: still down in the logs
    interval_s: int
    directions: tuple[Direction, ...]

    @property
    def carried(self) -> list[Direction]:
        return [d for d in self.directions if d.carried]

    @property
    def resumed(self) -> bool | None:
        """Traffic flows again both ways it flowed before (None: not known yet, or nothing flowed before)."""
        states = [d.resumed for d in self.carried]
        if not states or any(s is None for s in states):
            return None if not any(s is False for s in states) else False
        return all(states)

    @property
    def stopped_at(self) -> float | None:
        """The first direction to stop: from then on the tunnel no longer carried what it did."""
        stops = [d.stopped_at for d in self.carried if d.stopped_at is not None]
        return min(stops) if stops else None

    @property
    def resumed_at(self) -> float | None:
        """The last direction to come back: from then on traffic flowed again both ways it flowed before."""
        if self.resumed is not True:
            return None
        return max(d.resumed_at for d in self.carried if d.resumed_at is not None)

    @property
    def gap_s(self) -> float | None:
        """How long traffic really stopped, at least (None while it has not resumed): the logged outage, or the
        longest silence of a direction the metrics prove (from the latest it can have begun to the earliest it can have
        ended), whichever is longer."""
        if self.stopped_at is None or self.resumed_at is None or self.up_ts is None:
            return None
        proven = [d.resumed_at - d.quiet_from for d in self.carried
                  if d.resumed_at is not None and d.quiet_from is not None]
        return max([self.up_ts - self.down_ts, *proven])

    @property
    def blurred(self) -> bool:
        """An interval holding both the disconnect and the reconnect carried bytes: when in it traffic came back is
        not known, so the metrics cannot show a stop longer than the logged one there."""
        return any(d.quiet_from is not None and d.stopped_at is not None and d.quiet_from > d.stopped_at
                   for d in self.carried)

    @property
    def one_way(self) -> list[str]:
        """Directions that carried traffic before and not since the reconnect, while another did resume."""
        back = [d for d in self.carried if d.resumed is True]
        return [d.name for d in self.carried if d.resumed is False] if back else []


def drop_traffic(drop: Drop, traffic: Traffic) -> DropTraffic | None:
    """The traffic around `drop`; None when the metrics have no byte series at all (not read, or not readable)."""
    series = {name: traffic.get(metric) for name, metric in DIRECTIONS}
    if not any(s is not None and s.points for s in series.values()):
        return None
    interval = max(1, int(traffic.interval_s))
    return DropTraffic(drop.down_ts, drop.up_ts, interval,
                       tuple(_direction(name, s, drop, interval) for name, s in series.items()))


def _direction(name: str, series: Series | None, drop: Drop, interval: int) -> Direction:
    points = sorted(series.points) if series is not None else []
    before = [(t, v) for t, v in points if t < drop.down_ts]
    usual = [v for _, v in before if v > 0]
    floor = ACTIVE_SHARE * median(usual) if usual else 0.0
    active_before = [t for t, v in before if v > floor]
    stopped = min(active_before[-1] + interval, drop.down_ts) if active_before else None
    # After the reconnect: intervals that end after it. One that began before the disconnect proves nothing (its
    # bytes may be from before the drop); one that began during the outage and holds bytes resumed at the reconnect.
    back_from = drop.up_ts
    after = [(t, v) for t, v in points if back_from is not None and t + interval > back_from]
    resumed = next((max(t, back_from) for t, v in after if v > floor and t >= drop.down_ts), None) \
        if back_from is not None else None
    if stopped is None:
        resumed = None  # nothing flowed before the drop: nothing to resume
    quiet_from = stopped
    if stopped is not None and back_from is not None and active_before[-1] + interval > back_from:
        quiet_from = active_before[-1] + interval  # its bytes may be from after the reconnect: silent only after it
    return Direction(name=name, stopped_at=stopped, resumed_at=resumed, quiet_from=quiet_from,
                     before=sum(v for _, v in before), after=sum(v for _, v in after), data_after=bool(after))


# --- in words and JSON --------------------------------------------------------------------------------------


def traffic_line(dt: DropTraffic, tz: ZoneInfo) -> str:
    """One line for the answer, e.g. "Traffic (gateway metrics): stopped with the disconnect; resumed both ways in the
    5 minutes from 14:05 UTC: at least 2 min 54 s without traffic, against 12 s down in the logs".

    The instants are the metrics' intervals: the stop is the latest it can have been and the resumption the earliest,
    so the gap said is the least it was (`SURE` keeps differences of a few seconds from being read as a finding)."""
    at = lambda ts: local_and_utc(ts, tz, seconds=False)  # noqa: E731 - a short local alias
    head = "Traffic (gateway metrics): "
    if not dt.carried:
        total = sum(d.before + d.after for d in dt.directions)
        return head + (f"no traffic before the drop either ({human_bytes(total)} in the window read), so there was "
                       "nothing to resume.")
    stopped = dt.stopped_at
    assert stopped is not None
    early = dt.down_ts - stopped
    parts = [f"stopped by {at(stopped)}, {duration_text(early)} before the logged disconnect" if early >= SURE
             else "stopped with the disconnect"]
    if dt.up_ts is None:
        parts.append("the tunnel is still down in the logs")
    elif dt.resumed is True:
        gap, logged = dt.gap_s, dt.up_ts - dt.down_ts
        ways = "both ways" if len(dt.carried) > 1 else f"({_ways(dt.carried[0].name)})"
        assert gap is not None and dt.resumed_at is not None
        if dt.blurred and gap - logged < SURE:
            # The bytes of the interval holding the reconnect may be from either side of it: say what is known.
            per = interval_words(dt.interval_s)
            parts.append(f"resumed {ways} by {at(dt.resumed_at + dt.interval_s)} (the metrics, per {per}, "
                         f"cannot place it closer to the reconnect at {at(dt.up_ts)}, so no stop longer than "
                         f"the {duration_text(logged)} in the logs can be seen)")
        else:
            if dt.resumed_at - dt.up_ts >= SURE:
                when = (f"in the {interval_words(dt.interval_s)} from {at(dt.resumed_at)} "
                        f"(the reconnect was at {at(dt.up_ts)})")
            else:
                when = "with the reconnect"
            compare = (f"at least {duration_text(gap)} without traffic, against {duration_text(logged)} down in the "
                       "logs" if gap - logged >= SURE
                       else f"no longer without traffic than the logs say ({duration_text(logged)})")
            parts.append(f"resumed {ways} {when}: {compare}")
    elif dt.one_way:
        still = " and ".join(_ways(n) for n in dt.one_way)
        parts.append(f"only one way since the reconnect at {at(dt.up_ts)}: nothing {still} "
                     f"({human_bytes(sum(d.after for d in dt.directions if d.name in dt.one_way))}), which points at "
                     "routing, a security rule or the device's policy on one side")
    elif dt.resumed is False:
        parts.append(f"has NOT resumed since the reconnect at {at(dt.up_ts)} "
                     f"({human_bytes(sum(d.after for d in dt.directions))} since): connected but not carrying traffic")
    else:
        parts.append(f"no metric values since the reconnect at {at(dt.up_ts)} yet (metrics arrive a few minutes "
                     "late): whether traffic resumed is not known")
    return head + "; ".join(parts) + "."


def interval_words(interval_s: int) -> str:
    """`minute`, `5 minutes`, `hour`: one metrics interval in words."""
    if interval_s % 3600 == 0:
        return "hour" if interval_s == 3600 else f"{interval_s // 3600} hours"
    if interval_s % 60 == 0:
        return "minute" if interval_s == 60 else f"{interval_s // 60} minutes"
    return f"{interval_s} seconds"


def _ways(name: str) -> str:
    return f"{name}, {WORDS[name]}"


def traffic_json(dt: DropTraffic) -> dict[str, Any]:
    """A drop's `traffic` key in the JSON answer (docs/asking.md#traffic-around-a-drop)."""
    def z(ts: float | None) -> str | None:
        return iso_z(ts) if ts is not None else None

    return {
        "resumed": dt.resumed,
        "stopped_at": z(dt.stopped_at),
        "resumed_at": z(dt.resumed_at),
        "gap_s": round(dt.gap_s) if dt.gap_s is not None else None,
        "interval_s": dt.interval_s,
        "one_way": dt.one_way,
        "directions": {d.name: {"carried": d.carried, "resumed": d.resumed, "stopped_at": z(d.stopped_at),
                                "resumed_at": z(d.resumed_at), "bytes_before": round(d.before),
                                "bytes_after": round(d.after)} for d in dt.directions},
    }


def human_bytes(n: float) -> str:
    """`0 B`, `812 B`, `4.2 kB`, `1.3 GB` (decimal units, as both clouds' consoles show bytes)."""
    n = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" or abs(n) >= 100 else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"
