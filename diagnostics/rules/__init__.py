"""The rule engine's rules, one module each (docstring: what it detects, why it matters, its source).

Drop rules look at one drop and return a finding or None; window rules look at the whole window.
`DROP_RULES` is ordered from the most to the least specific explanation, which breaks ties of confidence.
"""

from __future__ import annotations

from .bgp_session_down import bgp_session_down
from .config_change import config_change
from .dpd_timeout import dpd_timeout
from .flapping import flapping
from .gateway_failover import gateway_failover
from .ike_proposal_mismatch import ike_proposal_mismatch
from .logs_not_ingested import logs_not_ingested
from .maintenance_failover import maintenance_failover
from .no_drop_found import no_drop_found
from .peer_unreachable import peer_unreachable
from .psk_mismatch import psk_mismatch
from .remote_initiated import remote_initiated
from .traffic_selector_mismatch import traffic_selector_mismatch
from .unknown import unknown

DROP_RULES = (config_change, maintenance_failover, remote_initiated, dpd_timeout, gateway_failover)
#: Why a tunnel stays down: read from the negotiations of the period it was down (most specific first).
NEGOTIATION_RULES = (psk_mismatch, ike_proposal_mismatch, traffic_selector_mismatch, peer_unreachable)

__all__ = [
    "DROP_RULES",
    "NEGOTIATION_RULES",
    "bgp_session_down",
    "config_change",
    "dpd_timeout",
    "flapping",
    "gateway_failover",
    "ike_proposal_mismatch",
    "logs_not_ingested",
    "maintenance_failover",
    "no_drop_found",
    "peer_unreachable",
    "psk_mismatch",
    "remote_initiated",
    "traffic_selector_mismatch",
    "unknown",
]
