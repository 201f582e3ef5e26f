"""Deterministic metrics for the demo workspace: a tunnel's bytes and packets at any instant, from its daily shape,
its outages (taken from the demo's logs) and the story of its scenario.

Every value is a pure function of (tunnel, 5-minute bucket): no random stream is consumed, so a window read on its
own gives the same numbers as the same buckets inside a longer window, and the demo's metrics never shift when a
scenario is added. Coarser intervals are sums (counts) or means (rates, states, route counts) of the 5-minute
buckets, as the services aggregate them.

The shapes are reconstructions (no public data set of VPN gateway metrics): business hours in UTC peak at the
profile's rates, nights fall to a few percent, weekends to a third; sessions take a few minutes to come back after a
reconnect, so the metric's gap outlasts the log's outage.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from diagnostics.traffic.model import Metric, Series

BUCKET_S = 300  # the finest grain Azure serves for the gateway's metrics (PT5M), and a usual CloudWatch period

#: Metrics summed over an interval; the others are averaged.
TOTALS = frozenset({Metric.BYTES_IN, Metric.BYTES_OUT, Metric.PACKETS_IN, Metric.PACKETS_OUT, Metric.TS_DROPS_IN,
                    Metric.TS_DROPS_OUT, Metric.DROPS_IN, Metric.DROPS_OUT})


@dataclass(frozen=True)
class Profile:
    """A tunnel's usual traffic: bytes per second at the weekday peak, each way (`in`: from the site)."""

    peak_in_bps: float
    peak_out_bps: float
    packet_bytes: float = 720.0
    night: float = 0.05  # share of the peak at night
    weekend: float = 0.3  # share of a weekday on Saturday and Sunday


@dataclass(frozen=True)
class Effect:
    """A stretch of a scenario: `kind` is one of `KINDS`, over [start, end) epoch seconds."""

    kind: str
    start: float
    end: float


KINDS = (
    "no_in",  # nothing arrives from the site (routing / NSG / security group on one side, or the device's policy)
    "no_out",  # nothing is sent to the site
    "idle",  # connected, no traffic either way
    "ts_drops",  # part of what the site sends matches no traffic selector and is dropped
    "no_routes",  # BGP connected, 0 routes learned: nothing to route either way
    "bgp_down",  # the BGP session is down (the peer status 0; AWS: TunnelState 0 on a BGP VPN)
)


@dataclass
class TunnelShape:
    """Everything the demo knows about one tunnel's traffic."""

    key: str  # the noise's seed: the tunnel (and outside IP) name
    profile: Profile
    outages: list[tuple[float, float]] = field(default_factory=list)  # (down, up) epoch seconds, from the logs
    effects: list[Effect] = field(default_factory=list)
    resume_s: float = 240.0  # how long after a reconnect traffic takes to come back
    bgp: bool = False
    routes_learned: int = 0
    routes_advertised: int = 1

    def down_share(self, t0: float, t1: float) -> float:
        """The part of [t0, t1) the tunnel was down."""
        return min(1.0, sum(max(0.0, min(t1, up) - max(t0, down)) for down, up in self.outages) / (t1 - t0))

    def quiet_share(self, t0: float, t1: float) -> float:
        """The part of [t0, t1) with no traffic: down, or back up but sessions not yet re-established."""
        spans = [(down, up + self.resume_s) for down, up in self.outages]
        return min(1.0, sum(max(0.0, min(t1, b) - max(t0, a)) for a, b in spans) / (t1 - t0))

    def effect(self, kind: str, t0: float, t1: float) -> float:
        return min(1.0, sum(max(0.0, min(t1, e.end) - max(t0, e.start)) for e in self.effects if e.kind == kind)
                   / (t1 - t0))


def _noise(key: str, bucket: int, what: str) -> float:
    """A deterministic number in [0, 1) for this tunnel, bucket and quantity."""
    digest = hashlib.blake2b(f"{key}/{bucket}/{what}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def daily_share(at: float, profile: Profile) -> float:
    """The share of the peak rate at epoch `at` (UTC): a business-hours bell over a night floor."""
    hours = (at % 86_400) / 3600
    weekday = int((at // 86_400 + 3) % 7)  # 0 = Monday (1970-01-01 was a Thursday)
    day = math.exp(-(((hours - 13.0) / 3.6) ** 2))
    share = profile.night + (1 - profile.night) * day
    return share * (profile.weekend if weekday >= 5 else 1.0)


def bucket_values(shape: TunnelShape, bucket: int) -> dict[Metric, float | None]:
    """One 5-minute bucket's values (None: no data point, as a gateway reports nothing for a tunnel that is down)."""
    t0, t1 = bucket * BUCKET_S, (bucket + 1) * BUCKET_S
    down = shape.down_share(t0, t1)
    p = shape.profile
    if down >= 1.0:
        values: dict[Metric, float | None] = {m: None for m in Metric}
        values[Metric.TUNNEL_UP] = 0.0
        if shape.bgp:
            values[Metric.BGP_PEER_UP] = 0.0
            values[Metric.ROUTES_LEARNED] = 0.0
            values[Metric.ROUTES_ADVERTISED] = 0.0
        return values
    flowing = 1.0 - shape.quiet_share(t0, t1)
    flowing *= 1.0 - max(shape.effect("idle", t0, t1), shape.effect("no_routes", t0, t1),
                         shape.effect("bgp_down", t0, t1) if shape.bgp else 0.0)
    share = daily_share(t0, p)
    jitter_in = 0.85 + 0.3 * _noise(shape.key, bucket, "in")
    jitter_out = 0.85 + 0.3 * _noise(shape.key, bucket, "out")
    bytes_in = p.peak_in_bps * BUCKET_S * share * jitter_in * flowing * (1 - shape.effect("no_in", t0, t1))
    bytes_out = p.peak_out_bps * BUCKET_S * share * jitter_out * flowing * (1 - shape.effect("no_out", t0, t1))
    ts = shape.effect("ts_drops", t0, t1)
    ts_drops_in = 0.0
    if ts:
        # The site sends from a prefix outside the negotiated selectors: that share of its packets is dropped.
        ts_drops_in = round(p.peak_in_bps * BUCKET_S * share * jitter_in * 0.6 * ts / p.packet_bytes)
    routes_gone = shape.effect("no_routes", t0, t1)
    bgp_down = shape.effect("bgp_down", t0, t1)
    values = {
        Metric.BYTES_IN: round(bytes_in),
        Metric.BYTES_OUT: round(bytes_out),
        Metric.PACKETS_IN: round(bytes_in / p.packet_bytes),
        Metric.PACKETS_OUT: round(bytes_out / p.packet_bytes),
        Metric.TS_DROPS_IN: ts_drops_in,
        Metric.TS_DROPS_OUT: 0.0,
        Metric.DROPS_IN: float(flowing > 0 and _noise(shape.key, bucket, "drops") < 0.02),
        Metric.DROPS_OUT: 0.0,
        Metric.BANDWIDTH: round((bytes_in + bytes_out) / BUCKET_S, 1),
        Metric.TUNNEL_UP: round(1.0 - down - (bgp_down if shape.bgp else 0.0), 4),
    }
    if shape.bgp:
        up = 1.0 - down - bgp_down
        values[Metric.BGP_PEER_UP] = round(max(0.0, up), 4)
        values[Metric.ROUTES_LEARNED] = round(shape.routes_learned * max(0.0, up - routes_gone), 4)
        values[Metric.ROUTES_ADVERTISED] = round(shape.routes_advertised * max(0.0, up), 4)
    return values


def series(shape: TunnelShape, start: datetime, end: datetime, interval_s: int, metrics: Iterable[Metric],
           dimension: str = "", names: dict[Metric, str] | None = None) -> dict[Metric, Series]:
    """The tunnel's series over [start, end), one point per `interval_s` (rounded up to whole 5-minute buckets),
    each interval aligned on the epoch as the services align them."""
    step = max(1, math.ceil(interval_s / BUCKET_S))
    first = int(start.timestamp() // (step * BUCKET_S)) * step
    last = math.ceil(end.timestamp() / BUCKET_S)
    wanted = list(metrics)
    points: dict[Metric, list[tuple[float, float]]] = {m: [] for m in wanted}
    for group in range(first, last, step):
        buckets = [bucket_values(shape, b) for b in range(group, min(group + step, last))]
        for metric in wanted:
            values = [v[metric] for v in buckets if v.get(metric) is not None]
            if not values:
                continue
            value = sum(values) if metric in TOTALS else sum(values) / len(values)
            points[metric].append((float(group * BUCKET_S), float(value)))
    return {m: Series(m, tuple(p), (names or {}).get(m, ""), dimension) for m, p in points.items()}
