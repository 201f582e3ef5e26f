"""What a user waits for at the command line: fresh `vpnbot` processes, wall time, median of N runs.

    .venv/bin/python benchmarks/bench_startup.py [--runs 7] [--before TREE]

Times `vpnbot tunnels`, `vpnbot ask "why did paris drop at 14:02"` and `vpnbot status` on the demo (no
configuration, no --now: as someone tries the bot), each a new `python -m bot.cli` process, plus `python -c pass`
(what any Python process costs on this machine) and `import bot.cli` under `-X importtime`. `--before TREE` runs the
same commands from another checkout (e.g. `git worktree add --detach /tmp/before HEAD`), interleaved with this
one's so both meet the same load. The demo's week is cached on disk (bot/demo_cache.py): this tree's cache is
warmed once first (its cold build is printed apart), in a directory of its own. Targets: tunnels < 0.3 s, ask on
the demo < 0.6 s.

The commands run with their bytecode cached, as an installed vpnbot does (pip byte-compiles a package when it
installs it; a checkout writes `__pycache__` on its first run): `PYTHONDONTWRITEBYTECODE`, set in some shells and
containers, would make every process compile every module of the bot again (0.1-0.15 s of CPU per question on the
demo on a 2-core box). The bytecode goes to a private `PYTHONPYCACHEPREFIX`, written by the warm-up runs. The row
`ask demo, no .pyc` times the same question compiling every module, to show what that setting costs.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
COMMANDS = {
    "tunnels": ["tunnels"],
    "ask demo": ["ask", "why did paris drop at 14:02"],
    "status": ["status"],
}
TARGETS = {"tunnels": 0.3, "ask demo": 0.6}


CPU: dict[tuple[str, ...], list[float]] = {}


def timed(tree: Path, argv: list[str], env: dict[str, str], tag: str = "") -> float:
    """Seconds the process took; NaN when it failed (a command that build does not have). Its CPU seconds (user +
    system) go to `CPU`: on a loaded machine the wall time is mostly waiting for a core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], cwd=tree, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    CPU.setdefault((str(tree) + tag, *argv), []).append(cpu if done.returncode == 0 else float("nan"))
    return wall if done.returncode == 0 else float("nan")


def cell(walls: list[float], cpus: list[float]) -> str:
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    return f"{'n/a':>22}" if wall != wall else f"{wall:13.2f} s ({cpu:.2f} s)"


def import_total_ms(tree: Path, env: dict[str, str]) -> float:
    """Cumulative `import bot.cli` time, as `python -X importtime` reports it."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import bot.cli"], cwd=tree, env=env,
                          check=True, capture_output=True, text=True)
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| bot\.cli$", line)
        if match:
            return int(match[1]) / 1000
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", metavar="TREE", help="another checkout to time the same way (the build before)")
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="vpnbot-bench-cache-")
    env = {k: v for k, v in os.environ.items() if k not in ("VPNBOT_CONFIG", "PYTHONPATH")}
    env["VPNBOT_CACHE_DIR"] = cache
    # bytecode cached as an installed package has it (see the docstring); `no_pyc`: every module compiled again
    no_pyc = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="vpnbot-bench-pyc-")
    trees = {"after": HERE}
    if args.before:
        trees = {"before": Path(args.before).resolve(), **trees}
    print(f"bench_startup: fresh processes, median of {args.runs} ({datetime.now():%Y-%m-%d}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")
    cold = timed(HERE, ["-m", "bot.cli", *COMMANDS["ask demo"]], env)
    print(f"  this tree's first `ask` on the demo (builds the cached week): {cold:.2f} s")
    for tree in trees.values():  # writes each tree's bytecode, and warms the before tree's own demo cache
        for argv in COMMANDS.values():
            timed(tree, ["-m", "bot.cli", *argv], env)
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.runs):
        times.setdefault(("python -c pass", "-"), []).append(timed(HERE, ["-c", "pass"], env))
        for label, argv in COMMANDS.items():
            for name, tree in trees.items():
                times.setdefault((label, name), []).append(timed(tree, ["-m", "bot.cli", *argv], env))
        for name, tree in trees.items():
            times.setdefault(("ask demo, no .pyc", name), []).append(
                timed(tree, ["-m", "bot.cli", *COMMANDS["ask demo"]], no_pyc, tag=" no .pyc"))
    baseline = statistics.median(times[("python -c pass", "-")])
    print(f"  {'python -c pass':<16} {baseline:6.2f} s wall, {statistics.median(CPU[(str(HERE), '-c', 'pass')]):.2f} s "
          "CPU (any Python process on this machine now)")
    header = "".join(f"{name + ' wall (CPU)':>22}" for name in trees)
    print(f"  {'command':<16}{header}   target")
    for label in COMMANDS:
        cells = "".join(cell(times[(label, name)], CPU[(str(tree), "-m", "bot.cli", *COMMANDS[label])])
                        for name, tree in trees.items())
        target = TARGETS.get(label)
        verdict = ""
        if target is not None:
            wall = statistics.median(times[(label, "after")])
            cpu = statistics.median(CPU[(str(HERE), "-m", "bot.cli", *COMMANDS[label])])
            verdict = (f"< {target:g} s: wall {'met' if wall < target else 'MISSED'}, CPU "
                       f"{'met' if cpu < target else 'MISSED'}")
        print(f"  {label:<16}{cells}   {verdict}")
    cells = "".join(cell(times[("ask demo, no .pyc", name)],
                         CPU[(str(tree) + " no .pyc", "-m", "bot.cli", *COMMANDS["ask demo"])])
                    for name, tree in trees.items())
    print(f"  {'ask demo, no .pyc':<16}{cells}   (PYTHONDONTWRITEBYTECODE: every module compiled again)")
    imports = "  ".join(f"{name} {import_total_ms(tree, env):.0f} ms" for name, tree in trees.items())
    print(f"  import bot.cli (-X importtime, cumulative): {imports}")


if __name__ == "__main__":
    main()
