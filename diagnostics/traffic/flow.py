"""What a tunnel's metrics say about its traffic, per direction: the totals of a window, when bytes last moved, since
when nothing did, and the numbers in units people read ("1.2 MB", "3,400 packets").

Direction is the metrics' own (`diagnostics.traffic.model`): `in` is what the cloud gateway received from the site,
`out` what it sent to the site. A total is None when its series was not read at all, which is not the same as 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnostics.traffic.drops import human_bytes
from diagnostics.traffic.model import Metric, Series, Traffic

IN, OUT = "in", "out"
#: Below this many bytes over a window, a direction carries nothing worth the name: keepalives of a routing protocol
#: or a stray ping (BGP keepalives every 60 s are ~20 bytes of payload each).
QUIET_BYTES = 10_000
#: Silence shorter than this at the end of the window is a pause, not "traffic stopped".
STOPPED_FOR = 15 * 60


@dataclass(frozen=True)
class Direction:
    """One direction's totals over the window (None: its series was not read)."""

    name: str  # IN | OUT
    bytes: float | None
    packets: float | None
    ts_drops: float | None  # packets dropped because they matched no traffic selector
    drops: float | None  # every other packet the gateway dropped
    last_active: float | None  # start of the latest interval with bytes > 0 (epoch seconds)
    asked: bool = True  # its byte series was read (False: not read at all; `bytes` None, no value, if it had none)
    silent_since: float | None = None  # start of the trailing run of intervals with 0 bytes (None: none)

    @property
    def read(self) -> bool:
        return self.bytes is not None

    @property
    def flowing(self) -> bool:
        return self.bytes is not None and self.bytes >= QUIET_BYTES

    @property
    def silent(self) -> bool:
        return self.bytes is not None and self.bytes < QUIET_BYTES

    def dead(self, end: float) -> bool:
        """Nothing (worth the name) over the window, or nothing for `STOPPED_FOR` before its end."""
        return self.silent or (self.silent_since is not None and end - self.silent_since >= STOPPED_FOR)

    def live(self, end: float) -> bool:
        return self.flowing and not self.dead(end)

    def describe(self) -> str:
        """`1.2 MB (3,400 packets)`, or `not read`."""
        if self.bytes is None:
            return "no value published (the tunnel was down, or the service has not published it yet)" \
                if self.asked else "not read"
        packets = f" ({count_text(self.packets)} packets)" if self.packets is not None else ""
        return f"{human_bytes(self.bytes)}{packets}"


@dataclass(frozen=True)
class Flow:
    """Both directions of one tunnel over a window, read from its `Traffic`."""

    traffic: Traffic
    inbound: Direction
    outbound: Direction
    silent_since: float | None  # start of the trailing run of intervals with no byte either way (None: none)

    @classmethod
    def of(cls, traffic: Traffic) -> Flow:
        inbound = _direction(traffic, IN, Metric.BYTES_IN, Metric.PACKETS_IN, Metric.TS_DROPS_IN, Metric.DROPS_IN)
        outbound = _direction(traffic, OUT, Metric.BYTES_OUT, Metric.PACKETS_OUT, Metric.TS_DROPS_OUT,
                              Metric.DROPS_OUT)
        return cls(traffic, inbound, outbound, _silent_since(traffic))

    @property
    def readable(self) -> bool:
        """Bytes were read in at least one direction."""
        return self.inbound.read or self.outbound.read

    @property
    def total_bytes(self) -> float:
        return (self.inbound.bytes or 0.0) + (self.outbound.bytes or 0.0)

    @property
    def ts_drops(self) -> float:
        return (self.inbound.ts_drops or 0.0) + (self.outbound.ts_drops or 0.0)

    def direction(self, name: str) -> Direction:
        return self.inbound if name == IN else self.outbound

    def peak(self, metric: Metric) -> float | None:
        """The highest value of a state or count series (BGP peer up, routes learned), None when not read or empty."""
        series = self.traffic.get(metric)
        return max((v for _, v in series.points), default=None) if series is not None else None

    def sources(self) -> list[str]:
        """The provider's metric names read, e.g. `TunnelIngressBytes`, bytes first (the order of `Metric`)."""
        order = list(Metric)
        found = sorted(self.traffic.series.values(), key=lambda s: order.index(s.metric))
        return list(dict.fromkeys(s.source_name or s.metric.value for s in found))


def _direction(traffic: Traffic, name: str, nbytes: Metric, packets: Metric, ts_drops: Metric,
               drops: Metric) -> Direction:
    series = traffic.get(nbytes)
    return Direction(name, _total(series), _total(traffic.get(packets)), _total(traffic.get(ts_drops)),
                     _total(traffic.get(drops)), _last_active(series), series is not None,
                     _trailing_zeros([series] if series is not None else []))


def _total(series: Series | None) -> float | None:
    """The series' total, None when it was not read or holds no value (an interval without one is not a 0)."""
    return series.total if series is not None and series.points else None


def _last_active(series: Series | None) -> float | None:
    if series is None:
        return None
    return max((t for t, v in series.points if v > 0), default=None)


def _silent_since(traffic: Traffic) -> float | None:
    """Where the last run of intervals without a byte either way begins."""
    return _trailing_zeros([s for s in (traffic.get(Metric.BYTES_IN), traffic.get(Metric.BYTES_OUT)) if s is not None])


def _trailing_zeros(series: list[Series]) -> float | None:
    """Where the last run of intervals with a value of 0 in every series begins (an interval with no value at all is
    not evidence of silence, only of no data)."""
    if not series:
        return None
    values: dict[float, float] = {}
    counted: dict[float, int] = {}
    for s in series:
        for t, v in s.points:
            values[t] = values.get(t, 0.0) + v
            counted[t] = counted.get(t, 0) + 1
    since = None
    for t in sorted(values, reverse=True):
        if values[t] > 0 or counted[t] < len(series):
            break
        since = t
    return since


def count_text(value: float | None) -> str:
    """`3,400`; `?` when not read."""
    return "?" if value is None else f"{value:,.0f}"
