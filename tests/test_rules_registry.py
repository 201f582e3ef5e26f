"""The rule registry is the one place rules are declared: every rule cites public sources that exist, no two rules
of a kind tie, every cause has a rule, findings carry the id of the rule that made them, and docs/rules.md's table
is generated from it."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from support.demo import DEMO_NOW

import diagnostics.rules
from diagnostics.aws import demo as aws_demo
from diagnostics.azure import demo as azure_demo
from diagnostics.investigate import investigate
from diagnostics.model import Cause
from diagnostics.rules import REGISTRY, Kind, Rule, ordered
from diagnostics.rules.table import END, START, markdown_table

DOCS = Path(__file__).resolve().parent.parent / "docs"
ANCHORS = set(re.findall(r'<a id="([a-z0-9-]+)"', (DOCS / "sources.md").read_text(encoding="utf-8")))
IDS = {rule.id for rule in REGISTRY}


@pytest.mark.parametrize("rule", REGISTRY, ids=lambda r: r.id)
def test_every_rule_cites_sources_that_docs_sources_md_holds(rule):
    assert rule.sources, f"{rule.id} cites no source"
    assert set(rule.sources) <= ANCHORS, f"{rule.id}: unknown anchors {set(rule.sources) - ANCHORS}"


def test_rule_ids_are_unique():
    assert [i for i, n in Counter(r.id for r in REGISTRY).items() if n > 1] == []


def test_no_two_rules_of_a_kind_and_provider_share_a_priority():
    seen = Counter((r.kind, r.provider, r.priority) for r in REGISTRY)
    assert [key for key, n in seen.items() if n > 1] == []


def test_every_cause_code_has_a_rule():
    assert set(Cause) - {r.cause for r in REGISTRY} == set()


def test_engine_order_is_the_priority_order_whatever_the_registry_order():
    drops = ordered(Kind.DROP, "azure")
    assert [r.id for r in drops] == ["config_change", "maintenance_failover", "remote_initiated", "dpd_timeout",
                                     "gateway_failover"]
    assert [r.priority for r in drops] == sorted(r.priority for r in drops)


def _declares_rules(value: object) -> bool:
    return isinstance(value, Rule) or (isinstance(value, tuple) and any(isinstance(v, Rule) for v in value))


def _rule_modules():
    """The modules of diagnostics/rules/ that declare a rule (the registry and the docs table only list them)."""
    for info in pkgutil.iter_modules(diagnostics.rules.__path__):
        module = importlib.import_module(f"diagnostics.rules.{info.name}")
        if info.name not in ("registry", "table") and any(_declares_rules(v) for v in vars(module).values()):
            yield module


def test_the_registry_table_lists_every_rule_the_package_declares_with_its_provider_and_kind():
    """`DECLARED` says which module holds which rules, so a question imports only the ones it runs: a rule missing
    from it would never run nor be documented, and a wrong provider or kind would load the wrong modules."""
    found = {id(v): v for m in _rule_modules() for value in vars(m).values()
             for v in (value if isinstance(value, tuple) else (value,)) if isinstance(v, Rule)}
    assert sorted(r.id for r in found.values()) == sorted(r.id for r in REGISTRY)
    for module, attribute, provider, kind in diagnostics.rules.DECLARED:
        rules = diagnostics.rules.declared(module, attribute)
        assert rules and {(r.provider, r.kind) for r in rules} == {(provider, kind)}, (module, attribute)


@pytest.mark.parametrize("module", list(_rule_modules()), ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_every_rule_module_says_what_it_detects_and_why_it_matters(module):
    doc = module.__doc__ or ""
    assert "Detects" in doc and "Why it matters" in doc, module.__name__


def test_docs_rules_table_is_generated_from_the_registry():
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    current = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert current == markdown_table(), "docs/rules.md is out of date: run python -m diagnostics.rules.table"


NOW = DEMO_NOW


def test_every_finding_of_every_demo_scenario_names_a_registered_rule(demo):
    stories = [(s.tunnel, s.at) for s in (*azure_demo.scenarios(NOW), *aws_demo.scenarios(NOW))]
    assert stories
    rules_seen: set[str] = set()
    for name, at in stories:
        result = investigate(demo.registry.resolve(name), at - timedelta(minutes=15), at + timedelta(minutes=15),
                             demo.sources, NOW, anchor=at)
        assert result.findings, name
        rules_seen |= {f.rule for f in result.findings}
    assert rules_seen and rules_seen <= IDS, rules_seen - IDS
