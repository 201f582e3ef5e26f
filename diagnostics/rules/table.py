"""docs/rules.md's table of every rule, generated from the registry (a test checks the docs are current).

    python -m diagnostics.rules.table docs/rules.md    # rewrites the table between its markers
"""

from __future__ import annotations

import sys
from pathlib import Path

from diagnostics.rules import REGISTRY, Rule

START, END = "<!-- rules-table:start -->", "<!-- rules-table:end -->"
PROVIDERS = {"azure": "Azure", "aws": "AWS", "any": "any"}


def _row(rule: Rule) -> str:
    sources = ", ".join(f"[{s}](sources.md#{s})" for s in rule.sources) or "—"
    origin = " (origin)" if rule.origin else ""
    return (f"| `{rule.id}` | `{rule.cause.value}` | {rule.kind.value}{origin} | {PROVIDERS[rule.provider]} | "
            f"{rule.priority} | {rule.detects} | {sources} |")


def markdown_table() -> str:
    """One row per rule, by provider, kind and priority: the order the engine tries them in."""
    rules = sorted(REGISTRY, key=lambda r: (r.provider != "azure", r.provider, r.kind.value, r.priority))
    head = ["| rule | cause | kind | provider | priority | detects | sources |",
            "|---|---|---|---|---|---|---|"]
    return "\n".join([*head, *map(_row, rules)])


def with_table(document: str) -> str:
    """`document` with the generated table between its markers."""
    before, rest = document.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{markdown_table()}\n{END}{after}"


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/rules.md")
    path.write_text(with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"{path}: rules table written ({len(REGISTRY)} rules)")
