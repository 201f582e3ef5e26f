"""What the Azure and AWS demo workspaces share: the demo week, and the Azure↔AWS link both ends of which log one
outage (`diagnostics.azure.demo` writes the Azure gateway's rows, `diagnostics.aws.demo` the AWS tunnels')."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

SEED = "vpnbot-demo-workspace-v1"
#: Raised whenever the demo generators write other rows for the same instant: the on-disk cache of the demo week
#: (bot/demo_cache.py) is keyed by it (and by the generators' source, in case a change forgets to raise it).
GENERATOR_VERSION = 2
#: The newest demo rows are this old: a demo question about "now" meets the ingestion lag as a real one would.
INGESTION_LAG = timedelta(minutes=2)
WEEK = timedelta(days=7)

LINK_GATEWAY_IP = "192.0.2.30"  # VPNGW03's public IP: the AWS customer gateway of the link
LINK_AWS_CONNECTION = "vpn-0e5f60718293a4b5c"
LINK_AWS_OUTSIDE_IPS = ("203.0.113.170", "203.0.113.171")


def rng(component: str) -> random.Random:
    """A random stream of its own per demo component: one scenario's rows never shift another's."""
    return random.Random(f"{SEED}/{component}")


def link_outage(now: datetime) -> tuple[datetime, datetime]:
    """When the Azure end of the link went down and came back: two days before `now`'s day, at 14:02:01 UTC."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    day0 = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    down = day0 - timedelta(days=2) + timedelta(hours=14, minutes=2, seconds=1)
    return down, down + timedelta(milliseconds=round(rng("aws_link").uniform(38, 52) * 1000))
