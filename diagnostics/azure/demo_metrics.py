"""The demo workspace's Azure Monitor metrics: every demo Azure tunnel's series, in process and deterministic, as
`diagnostics.azure.metrics.AzureMetricsSource` would return them (`MetricsSource`).

Consistent with the demo's logs (`diagnostics.azure.demo`): no bytes while a tunnel is down (its outages come from the
same generator), traffic back a few minutes after each reconnect, BGP metrics that follow the RouteDiagnosticLog
sessions, and the traffic stories of `traffic_scenarios` (nice, munich, milan, berlin, rome). The shapes are
`diagnostics.traffic.synthetic`'s.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from diagnostics.azure import demo
from diagnostics.azure.metrics_query import BGP_METRICS, TUNNEL_METRICS, bgp_peer, requests_for, resource_id
from diagnostics.demo import INGESTION_LAG
from diagnostics.model import QueryRecord
from diagnostics.traffic.model import Traffic
from diagnostics.traffic.synthetic import Effect, Profile, TunnelShape, series
from diagnostics.tunnels import Tunnel

BACKEND = "azure-monitor-metrics"
NAMES = {m.metric: m.name for m in (*TUNNEL_METRICS, *BGP_METRICS)}
FOREVER = timedelta(days=30)


def profile(name: str) -> Profile:
    """A tunnel's usual weekday peak, each way: 0.2-1.5 MB/s from the site, 1.5-3x that to it (a branch downloads
    more than it uploads)."""
    digest = hashlib.blake2b(name.encode(), digest_size=4).digest()
    scale = 0.2 + 1.3 * int.from_bytes(digest[:2], "big") / 65_535
    ratio = 1.5 + 1.5 * int.from_bytes(digest[2:], "big") / 65_535
    return Profile(peak_in_bps=scale * 1_000_000, peak_out_bps=scale * ratio * 1_000_000)


Outages = tuple[tuple[str, datetime, datetime], ...]


def week_outages(now: datetime) -> tuple[Outages, Outages]:
    """The week's tunnel outages and BGP session outages, from the generator (`bot.demo_cache` keeps them with the
    cached week, so a process that reads the week from disk need not generate it again)."""
    return demo.outages(now), demo.bgp_outages(now)


@functools.lru_cache(maxsize=4)
def shapes(now: datetime, outages: tuple[Outages, Outages] | None = None) -> dict[str, TunnelShape]:
    """Every demo Azure tunnel's shape for the week ending at `now` (`outages`: `week_outages(now)` when given)."""
    tunnel_outages, bgp_outages = outages if outages is not None else week_outages(now)
    made = {name: TunnelShape(name, profile(name), bgp=bgp, routes_learned=prefixes)
            for name, (bgp, prefixes) in demo.metric_facts().items()}
    for name, down, up in tunnel_outages:
        made[name].outages.append((down.timestamp(), up.timestamp()))
    for name, down, up in bgp_outages:
        if name in made:
            made[name].effects.append(Effect("bgp_down", down.timestamp(), up.timestamp()))
    for story in demo.traffic_scenarios(now):
        shape, at = made[story.tunnel], story.at.timestamp()
        end = (story.at + FOREVER).timestamp()
        kind = {"traffic_selector_drops": "ts_drops", "one_way_traffic": "no_in", "no_routes": "no_routes",
                "no_traffic": "idle"}.get(story.cause)
        if kind:
            shape.effects.append(Effect(kind, at, end))
    return made


class DemoAzureMetrics:
    """The demo's Azure Monitor metrics (`MetricsSource`), for the week ending at `now`."""

    label = "demo Azure Monitor metrics"
    backend = BACKEND

    def __init__(self, now: datetime, outages: Callable[[], tuple[Outages, Outages]] | None = None) -> None:
        self.now = now
        self.calls = 0  # metrics.list calls the real source would have made
        self._outages = outages  # where the week's outages are read from (default: generated)

    def covers(self, tunnel: Tunnel) -> bool:
        return bool(tunnel.azure_gateway and tunnel.azure_remote_ip and resource_id(tunnel))

    def read(self, tunnels: list[Tunnel], start: datetime, end: datetime, interval_s: int) -> dict[str, Traffic]:
        known = shapes(self.now, self._outages() if self._outages is not None else None)
        # Metrics arrive within minutes: nothing after the demo's logs end.
        end = min(end, self.now - INGESTION_LAG)
        by_gateway: dict[str, list[Tunnel]] = {}
        for tunnel in tunnels:
            if self.covers(tunnel):
                by_gateway.setdefault(resource_id(tunnel), []).append(tunnel)
        out: dict[str, Traffic] = {}
        for resource, mine in by_gateway.items():
            calls = requests_for(resource, mine, start, end, interval_s) if end > start else []
            self.calls += len(calls)
            queries = [QueryRecord(BACKEND, request.text(), resource, start, end) for _, request in calls]
            for tunnel in mine:
                traffic = Traffic(tunnel.name, start, end, interval_s, queries=list(queries))
                shape = known.get(tunnel.name)
                if shape is None or end <= start:
                    traffic.notes.append(f"{self.label}: no metrics for {tunnel.name} in this window")
                else:
                    traffic.series = series(shape, start, end, interval_s, [m.metric for m in TUNNEL_METRICS],
                                            tunnel.azure_remote_ip, NAMES)
                    peer = bgp_peer(tunnel)
                    if peer and shape.bgp:
                        traffic.series.update(series(shape, start, end, interval_s,
                                                     [m.metric for m in BGP_METRICS], peer, NAMES))
                out[tunnel.name] = traffic
        return out
