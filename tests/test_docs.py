"""The docs keep up with the code: every command and option of `vpnbot` is documented in README.md or docs/*.md,
README.md stays a quick start that opens with the two set-up commands, and every relative link points at a file."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
WRITTEN_ELSEWHERE = {ROOT / "docs" / "sources.md"}  # another author's page: links to it may come before it does


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (commands,) = [a for a in parser._subparsers._group_actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


COMMANDS = subcommands()
OPTIONS = sorted({option for sub in COMMANDS.values() for action in sub._actions for option in action.option_strings
                  if option.startswith("--") and option != "--help"})


def docs_text() -> str:
    return "\n".join(page.read_text(encoding="utf-8") for page in PAGES)


def without_code(text: str) -> str:
    return re.sub(r"`[^`\n]*`", "", re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_cli_command_is_documented(command):
    assert re.search(rf"\bvpnbot {command}\b", docs_text()), f"`vpnbot {command}` is not in README.md or docs/"


@pytest.mark.parametrize("option", OPTIONS)
def test_every_cli_option_is_documented(option):
    assert re.search(rf"(?<![\w-]){option}(?![\w-])", docs_text()), f"{option} is not in README.md or docs/"


def test_readme_is_a_quick_start_of_at_most_160_lines():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 160


def test_readme_opens_with_the_run_and_test_commands():
    run, test = re.findall(r"^```\w*\n(.*?)^```", README.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)[:2]
    assert "pip install -q -e . " in run and "vpnbot ask" in run
    assert "pip install -q -e '.[test]'" in test and "python -m pytest" in test


def test_readme_links_every_docs_page():
    readme = README.read_text(encoding="utf-8")
    assert [p.name for p in PAGES[1:] if f"(docs/{p.name})" not in readme] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file(page):
    targets = re.findall(r"\]\(([^)\s]+)\)", without_code(page.read_text(encoding="utf-8")))
    local = [page.parent / t.split("#")[0] for t in targets if "://" not in t and not t.startswith(("#", "mailto:"))]
    broken = [str(t) for t in local if not t.exists() and t.resolve() not in WRITTEN_ELSEWHERE]
    assert broken == []
