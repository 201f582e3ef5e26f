"""The benchmark scripts are not run by the tests (their figures need a quiet machine), so a renamed function they
import would only be found by the next person who runs them: each one is at least imported here, in a fresh process
with benchmarks/ on the path, as `python benchmarks/bench_x.py` would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPTS = sorted(p.stem for p in BENCHMARKS.glob("bench_*.py"))


def test_there_are_benchmarks_to_check():
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_benchmark_script_imports_what_it_uses(name):
    done = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=BENCHMARKS, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
