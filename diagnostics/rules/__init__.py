"""The rule engine's rules, one module each, and the registry that lists them.

Every rule module declares its `Rule` (id, cause, kind, priority, provider, sources: `registry.Rule`) beside its
check, a small pure function with a docstring that says what it detects, why it matters and where that knowledge
comes from (docs/sources.md). The AWS message table's rows are rules too. The engine takes its order from the
priorities here, never from the order of a list; docs/rules.md's table is generated from `REGISTRY`.
"""

from __future__ import annotations

import functools
from importlib import import_module

from diagnostics.rules.registry import Kind, Rule

#: Where each rule is declared, in the registry's order: (module under diagnostics.rules, the attribute holding its
#: `Rule` or tuple of rules, provider, kind). `ordered` imports only the modules of the provider and kind asked for,
#: so an Azure question never loads the AWS rules nor the traffic rules (a fresh `vpnbot ask` pays for what it
#: uses; tests/test_startup.py); `REGISTRY` imports them all (docs/rules.md, the tests).
#: tests/test_rules_registry.py checks this table against what the modules declare: every `Rule` of the package
#: listed once, with the provider and kind it says.
DECLARED: tuple[tuple[str, str, str, Kind], ...] = (
    ("config_change", "RULE", "azure", Kind.DROP),
    ("maintenance_failover", "RULE", "azure", Kind.DROP),
    ("remote_initiated", "RULE", "azure", Kind.DROP),
    ("dpd_timeout", "RULE", "azure", Kind.DROP),
    ("gateway_failover", "RULE", "azure", Kind.DROP),
    ("psk_mismatch", "RULE", "azure", Kind.NEGOTIATION),
    ("ike_proposal_mismatch", "RULE", "azure", Kind.NEGOTIATION),
    ("traffic_selector_mismatch", "RULE", "azure", Kind.NEGOTIATION),
    ("peer_unreachable", "RULE", "azure", Kind.NEGOTIATION),
    ("bgp_session_down", "RULE", "azure", Kind.WINDOW),
    ("flapping", "RULE", "azure", Kind.WINDOW),
    ("logs_not_ingested", "RULE", "azure", Kind.WINDOW),
    ("no_drop_found", "RULE", "azure", Kind.WINDOW),
    ("unknown", "RULE", "azure", Kind.FALLBACK),
    ("aws_messages", "RULES", "aws", Kind.MESSAGE),
    ("aws_bgp", "WITH_TUNNEL", "aws", Kind.DROP),
    ("aws_route_rejected", "RULE", "aws", Kind.WINDOW),
    ("flapping", "AWS_RULE", "aws", Kind.WINDOW),
    ("rekey_collision", "RULE", "aws", Kind.WINDOW),
    ("no_drop_found", "AWS_RULE", "aws", Kind.WINDOW),
    ("unknown", "AWS_RULE", "aws", Kind.FALLBACK),
    ("traffic_selector_drops", "RULE", "any", Kind.TRAFFIC),
    ("no_routes", "RULE", "any", Kind.TRAFFIC),
    ("one_way_traffic", "RULE", "any", Kind.TRAFFIC),
    ("no_traffic", "RULE", "any", Kind.TRAFFIC),
    ("traffic_flowing", "RULE", "any", Kind.TRAFFIC),
)


def declared(module: str, attribute: str) -> tuple[Rule, ...]:
    """The rules one row of `DECLARED` names, its module imported on first use (importlib: a lazy load by name)."""
    value = getattr(import_module(f"diagnostics.rules.{module}"), attribute)
    return tuple(value) if isinstance(value, tuple) else (value,)


@functools.cache
def every_rule() -> tuple[Rule, ...]:
    """Every rule in `DECLARED`'s order: every rule module imported (docs/rules.md, an Azure↔AWS link's origins)."""
    return tuple(rule for module, attribute, _, _ in DECLARED for rule in declared(module, attribute))


def __getattr__(name: str) -> tuple[Rule, ...]:
    """`REGISTRY` (`every_rule()`), built the first time it is read, so importing this package loads no rule."""
    if name == "REGISTRY":
        return every_rule()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ordered(kind: Kind, provider: str) -> tuple[Rule, ...]:
    """The rules of one kind for one provider, most specific first."""
    found = [r for module, attribute, by, of in DECLARED if of is kind and by in (provider, "any")
             for r in declared(module, attribute) if r.kind is kind and r.provider in (provider, "any")]
    return tuple(sorted(found, key=lambda r: r.priority))


def origin_causes() -> frozenset:
    """Causes that start on the side that logs them (an Azure↔AWS link's other end sees their consequence)."""
    return frozenset(r.cause for r in every_rule() if r.origin)


__all__ = ["DECLARED", "REGISTRY", "Kind", "Rule", "declared", "every_rule", "ordered", "origin_causes"]
