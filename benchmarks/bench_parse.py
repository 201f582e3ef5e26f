"""How long parsing one question takes (`handlers.parse.question.parse_question`), over the phrasings corpus.

Every question of tests/phrasings/ is parsed `--rounds` times (understood and refused alike: a refusal is a parse
too), against the corpus' 12 tunnels and against a fleet of 1,000 (the corpus' tunnels plus generated ones: name
lookups and "did you mean" suggestions scan the names). Prints p50 / p95 / p99 / max per parse in milliseconds,
wall clock and CPU time of this process (on a busy machine a parse is sometimes preempted: the wall clock then counts
the wait, the CPU time does not), and the corpus counts (understood / refused with a suggestion / misread). The
budget is 5 ms per question.

    .venv/bin/python benchmarks/bench_parse.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.phrasings import REFUSALS, REFUSED, UNDERSTOOD, ask, judge, phrasings, registry  # noqa: E402

from diagnostics.tunnels import Tunnel, TunnelRegistry  # noqa: E402

BUDGET_MS = 5.0


def large_registry(size: int) -> TunnelRegistry:
    """The corpus' tunnels, then generated ones named like real sites, 4 per gateway."""
    base = list(registry())
    extra = [Tunnel(name=f"site-{n:04d}", aliases=(f"br{n:04d}",), azure_gateway=f"VPNGW{100 + n // 4}",
                    azure_remote_ip=f"198.18.{n // 250}.{n % 250 + 1}", timezone="Europe/Paris" if n % 3 else "")
             for n in range(size - len(base))]
    return TunnelRegistry(base + extra)


def timings(tunnels: TunnelRegistry, rounds: int, clock: Callable[[], float] = time.perf_counter
            ) -> dict[str, list[float]]:
    """Milliseconds per parse, per question, on `clock`."""
    questions = phrasings()
    samples: dict[str, list[float]] = {p.id: [] for p in questions}
    for _ in range(rounds):
        for phrasing in questions:
            start = clock()
            with contextlib.suppress(*REFUSALS):
                ask(phrasing, tunnels)
            samples[phrasing.id].append((clock() - start) * 1000)
    return samples


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _p99(values: list[float]) -> float:
    return _percentile(values, 0.99)


def report(label: str, samples: dict[str, list[float]]) -> None:
    """p50 / p95 / p99 / max over every parse, and the p99 and slowest of each question's median (a parse that was only
    slow once was interrupted by something else on the machine)."""
    every = [ms for values in samples.values() for ms in values]
    medians = {question: statistics.median(values) for question, values in samples.items()}
    slowest = max(medians, key=medians.__getitem__)
    verdict = "within" if _p99(every) < BUDGET_MS else "OVER"
    print(f"{label:<30} all parses: p50 {statistics.median(every):.3f} ms, p95 {_percentile(every, 0.95):.3f} ms,"
          f" p99 {_p99(every):.3f} ms, max "
          f"{max(every):.3f} ms ({len(every)} parses; {verdict} the {BUDGET_MS:g} ms budget at p99)")
    print(f"{'':<30} per question (median of its parses): p99 {_p99(list(medians.values())):.3f} ms, slowest "
          f"{medians[slowest]:.3f} ms ({slowest})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="times each question is parsed (default 20)")
    args = parser.parse_args()
    corpus = registry()
    counts = Counter(judge(p, corpus).outcome for p in phrasings())
    others = sum(n for outcome, n in counts.items() if outcome not in (UNDERSTOOD, REFUSED))  # misread, or refused
    print(f"corpus: {len(phrasings())} phrasings: {counts[UNDERSTOOD]} understood, {counts[REFUSED]} refused with a"
          f" suggestion, {others} misread or wrongly refused")
    fleet = large_registry(1000)
    for label, tunnels in (("12 tunnels (the corpus)", corpus), ("1,000 tunnels", fleet)):
        timings(tunnels, 1)  # warm-up: first-use caches (zone names, language tables, the name index)
        report(f"{label}, wall", timings(tunnels, args.rounds))
        report(f"{label}, CPU", timings(tunnels, args.rounds, time.process_time))


if __name__ == "__main__":
    main()
