"""The rule engine's rules, one module each (docstring: what it detects, why it matters, its source).

Drop rules look at one drop and return a finding or None; window rules look at the whole window.
`DROP_RULES` is ordered from the most to the least specific explanation, which breaks ties of confidence.
"""

from __future__ import annotations

from .config_change import config_change
from .dpd_timeout import dpd_timeout
from .flapping import flapping
from .gateway_failover import gateway_failover
from .logs_not_ingested import logs_not_ingested
from .maintenance_failover import maintenance_failover
from .no_drop_found import no_drop_found
from .remote_initiated import remote_initiated
from .unknown import unknown

DROP_RULES = (config_change, maintenance_failover, remote_initiated, dpd_timeout, gateway_failover)

__all__ = [
    "DROP_RULES", "config_change", "dpd_timeout", "flapping", "gateway_failover", "logs_not_ingested",
    "maintenance_failover", "no_drop_found", "remote_initiated", "unknown",
]
