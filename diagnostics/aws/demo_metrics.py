"""The demo workspace's CloudWatch `AWS/VPN` metrics: every demo VPN connection's TunnelState, TunnelDataIn and
TunnelDataOut per outside IP, in process and deterministic, as `diagnostics.aws.metrics.CloudWatchMetricsSource`
returns them (`MetricsSource`).

Consistent with the demo's tunnel logs (`diagnostics.aws.demo.outages`): a tunnel down (or, on dc1's BGP VPN, its
BGP session down) has TunnelState 0 and no bytes. Traffic runs over each connection's first tunnel and moves to the
second while the first is down, as a customer gateway that prefers tunnel 1 does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime

from diagnostics.aws import demo
from diagnostics.aws.metrics_query import METRICS, combine, command, queries, targets
from diagnostics.demo import INGESTION_LAG
from diagnostics.model import QueryRecord
from diagnostics.traffic.model import Traffic
from diagnostics.traffic.synthetic import Effect, Profile, TunnelShape, series
from diagnostics.tunnels import Tunnel

BACKEND = "cloudwatch-metrics"
REGION = "eu-west-1"
NAMES = {m.metric: m.name for m in METRICS}
#: Each connection's weekday peak from / to the site, bytes per second (reconstruction).
PROFILES = {"dc1": Profile(2_400_000, 5_200_000), "dc2": Profile(600_000, 1_100_000),
            "dc3": Profile(350_000, 900_000), "dc4": Profile(900_000, 2_000_000), "hub-aws": Profile(1_500_000,
                                                                                                   1_800_000)}
LONG_AGO, LATER = 0.0, 4e9


Outages = tuple[tuple[str, str, datetime, datetime], ...]


@functools.lru_cache(maxsize=4)
def shapes(now: datetime, outages: Outages | None = None) -> dict[str, TunnelShape]:
    """{outside IP: shape} for every demo connection's two tunnels (`outages`: `demo.outages(now)` when given)."""
    downs: dict[str, list[tuple[float, float]]] = {}
    for _, ip, down, up in outages if outages is not None else demo.outages(now):
        downs.setdefault(ip, []).append((down.timestamp(), up.timestamp()))
    made = {}
    for name, (_, (first, second)) in demo.metric_facts().items():
        profile = PROFILES.get(name, Profile(500_000, 1_000_000))
        made[first] = TunnelShape(f"{name}/{first}", profile, list(downs.get(first, [])))
        # The second tunnel carries the traffic only while the first is down.
        idle, at = [], LONG_AGO
        for down, up in sorted(downs.get(first, [])):
            idle.append(Effect("idle", at, down))
            at = up
        idle.append(Effect("idle", at, LATER))
        made[second] = TunnelShape(f"{name}/{second}", profile, list(downs.get(second, [])), effects=idle,
                                   resume_s=0.0)
    return made


class DemoCloudWatchMetrics:
    """The demo's AWS/VPN metrics (`MetricsSource`), for the week ending at `now`."""

    label = "demo CloudWatch AWS/VPN metrics"
    backend = BACKEND

    def __init__(self, now: datetime, outages: Callable[[], Outages] | None = None) -> None:
        self.now = now
        self.calls = 0  # GetMetricData calls the real source would have made
        self._outages = outages  # where the week's outages are read from (default: generated)

    def covers(self, tunnel: Tunnel) -> bool:
        return bool(tunnel.aws_vpn_connection)

    def read(self, tunnels: list[Tunnel], start: datetime, end: datetime, interval_s: int) -> dict[str, Traffic]:
        mine = [t for t in tunnels if self.covers(t)]
        end = min(end, self.now - INGESTION_LAG)
        if not mine:
            return {}
        found = targets(mine)
        request = queries(found, interval_s)
        self.calls += 1
        record = QueryRecord(BACKEND, command(request, start, end, REGION), REGION, start, end)
        known = shapes(self.now, self._outages() if self._outages is not None else None)
        out = {}
        for tunnel in mine:
            traffic = Traffic(tunnel.name, start, end, interval_s, queries=[record])
            for target in (t for t in found if t.tunnel == tunnel.name):
                shape = known.get(target.value)
                if shape is not None and end > start:
                    traffic.parts[target.value] = series(shape, start, end, interval_s, list(NAMES), target.value,
                                                         NAMES)
            if traffic.parts:
                traffic.series = combine(traffic.parts)
            else:
                traffic.notes.append(f"{self.label}: no metrics for {tunnel.name} in this window")
            out[tunnel.name] = traffic
        return out
