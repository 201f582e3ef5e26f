"""Imports inside functions are lazy loads of heavy optional libraries, each saying why, never a way around an
import cycle (the cycle contracts of `lint-imports` see through them anyway; pyproject.toml)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "diagnostics")


def function_level_imports() -> list[tuple[str, int, list[str]]]:
    """(file, line, the source lines around it) of every import inside a function."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            lines = path.read_text(encoding="utf-8").splitlines()
            for node in ast.walk(ast.parse("\n".join(lines))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    found += [(str(path.relative_to(ROOT)), sub.lineno, lines)
                              for sub in ast.walk(node) if isinstance(sub, ast.Import | ast.ImportFrom)]
    return found


def says_why(line: int, lines: list[str]) -> bool:
    """A comment on the import's line, or on the comment lines just above its block of imports."""
    if "#" in lines[line - 1]:
        return True
    above = line - 2
    while above >= 0 and lines[above].lstrip().startswith(("from ", "import ")):
        above -= 1
    return above >= 0 and lines[above].lstrip().startswith("#")


IMPORTS = function_level_imports()


def test_the_lazy_imports_are_found():
    assert IMPORTS, "the scan found no function-level import at all: the lazy SDK loads should be among them"


@pytest.mark.parametrize("where", IMPORTS, ids=lambda w: f"{w[0]}:{w[1]}")
def test_every_function_level_import_says_why_it_is_lazy(where):
    path, line, lines = where
    assert says_why(line, lines), f"{path}:{line}: an import inside a function needs a comment saying why it is lazy"
