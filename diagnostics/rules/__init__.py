"""The rule engine's rules, one module each, and the registry that lists them.

Every rule module declares its `Rule` (id, cause, kind, priority, provider, sources: `registry.Rule`) beside its
check, a small pure function with a docstring that says what it detects, why it matters and where that knowledge
comes from (docs/sources.md). The AWS message table's rows are rules too. The engine takes its order from the
priorities here, never from the order of a list; docs/rules.md's table is generated from `REGISTRY`.
"""

from __future__ import annotations

from diagnostics.rules import (
    aws_bgp,
    aws_messages,
    aws_route_rejected,
    bgp_session_down,
    config_change,
    dpd_timeout,
    flapping,
    gateway_failover,
    ike_proposal_mismatch,
    logs_not_ingested,
    maintenance_failover,
    no_drop_found,
    peer_unreachable,
    psk_mismatch,
    rekey_collision,
    remote_initiated,
    traffic_selector_mismatch,
    unknown,
)
from diagnostics.rules.registry import Kind, Rule

REGISTRY: tuple[Rule, ...] = (
    config_change.RULE,
    maintenance_failover.RULE,
    remote_initiated.RULE,
    dpd_timeout.RULE,
    gateway_failover.RULE,
    psk_mismatch.RULE,
    ike_proposal_mismatch.RULE,
    traffic_selector_mismatch.RULE,
    peer_unreachable.RULE,
    bgp_session_down.RULE,
    flapping.RULE,
    logs_not_ingested.RULE,
    no_drop_found.RULE,
    unknown.RULE,
    *aws_messages.RULES,
    aws_bgp.WITH_TUNNEL,
    aws_route_rejected.RULE,
    flapping.AWS_RULE,
    rekey_collision.RULE,
    no_drop_found.AWS_RULE,
    unknown.AWS_RULE,
)


def ordered(kind: Kind, provider: str) -> tuple[Rule, ...]:
    """The rules of one kind for one provider, most specific first."""
    found = [r for r in REGISTRY if r.kind is kind and r.provider in (provider, "any")]
    return tuple(sorted(found, key=lambda r: r.priority))


def origin_causes() -> frozenset:
    """Causes that start on the side that logs them (an Azure↔AWS link's other end sees their consequence)."""
    return frozenset(r.cause for r in REGISTRY if r.origin)


__all__ = ["REGISTRY", "Kind", "Rule", "ordered", "origin_causes"]
