"""What a metrics source returns for one tunnel and window: time series under provider-neutral names.

Direction is named from the cloud gateway's side, as both clouds name it: `in` is what the gateway received from
the site through the tunnel (Azure `TunnelIngressBytes`, AWS `TunnelDataIn`), `out` is what it sent to the site
(`TunnelEgressBytes`, `TunnelDataOut`). A series holds one value per interval, as the service aggregated it
(totals for counts, averages for rates and states); an interval the service returned no value for is absent from
`points`, which is different from a 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from diagnostics.model import QueryRecord
from diagnostics.tunnels import Tunnel


class Metric(StrEnum):
    BYTES_IN = "bytes_in"
    BYTES_OUT = "bytes_out"
    PACKETS_IN = "packets_in"
    PACKETS_OUT = "packets_out"
    TS_DROPS_IN = "ts_mismatch_drops_in"  # packets dropped: their addresses match no traffic selector
    TS_DROPS_OUT = "ts_mismatch_drops_out"
    DROPS_IN = "drops_in"  # every other dropped packet the gateway counts
    DROPS_OUT = "drops_out"
    BANDWIDTH = "bandwidth"  # bytes/s, averaged
    TUNNEL_UP = "tunnel_up"  # 1 up / 0 down (AWS TunnelState; averaged over the interval)
    BGP_PEER_UP = "bgp_peer_up"  # 1 connected / 0 not (Azure BgpPeerStatus)
    ROUTES_LEARNED = "routes_learned"
    ROUTES_ADVERTISED = "routes_advertised"


@dataclass(frozen=True)
class Series:
    metric: Metric
    points: tuple[tuple[float, float], ...]  # (epoch seconds at the interval's start, value), ascending
    source_name: str = ""  # the provider's own metric name, e.g. "TunnelIngressBytes", for the answer's sources
    dimension: str = ""  # the dimension value it was split by (ConnectionName, TunnelIpAddress, BGP peer)

    @property
    def total(self) -> float:
        return sum(v for _, v in self.points)


@dataclass
class Traffic:
    """One tunnel's metrics over a window: every series the sources had, the calls made, what failed."""

    tunnel: str
    start: datetime
    end: datetime
    interval_s: int
    series: dict[Metric, Series] = field(default_factory=dict)
    queries: list[QueryRecord] = field(default_factory=list)  # backend "azure-monitor-metrics" | "cloudwatch-metrics"
    failures: list[str] = field(default_factory=list)  # one line per source or metric that could not be read
    notes: list[str] = field(default_factory=list)
    #: Per dimension value when the tunnel is several tunnels (AWS: each outside IP), its own series; `series` then
    #: holds their combination (sums for counts, the best state for `tunnel_up`).
    parts: dict[str, dict[Metric, Series]] = field(default_factory=dict)

    def get(self, metric: Metric) -> Series | None:
        return self.series.get(metric)

    @property
    def readable(self) -> bool:
        """Some series came back (an empty Traffic says nothing about traffic, only that metrics were not read)."""
        return bool(self.series)


class MetricsSource(Protocol):
    """A provider's metrics reader (`diagnostics.azure.metrics`, `diagnostics.aws.metrics`)."""

    label: str

    def covers(self, tunnel: Tunnel) -> bool:
        """Whether this source can read metrics of `tunnel` (its gateway / VPN connection is known)."""

    def read(self, tunnels: list[Tunnel], start: datetime, end: datetime, interval_s: int) -> dict[str, Traffic]:
        """Every tunnel's Traffic, in as few calls as the service allows (Azure: one per gateway, every metric and
        dimension in it); never raises for a failing source or a metric it may not read: that goes to `failures`."""
