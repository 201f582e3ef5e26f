"""The demo workspace's build, which a CLI call without a configuration pays when its cached week is stale (the week
is cached on disk, bot/demo_cache.py; bench_startup.py times the calls themselves): how long it takes.

    .venv/bin/python benchmarks/bench_demo.py [--runs 3]

Each run is a fresh process (imports and caches cold, as for a CLI call) that times, apart: generating the week of
Azure rows (`diagnostics.azure.demo.generate_rows`) and building the whole demo workspace the CLI uses
(`bot.workspace.demo_workspace`: the rows loaded into DuckDB, the AWS demo events). Target: the whole workspace in
< 2 s (it is paid before every demo answer).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import datetime

TARGET_S = 2.0
CHILD = """
import json, os, time
os.environ["VPNBOT_CACHE_DIR"] = "off"  # the build itself, not the cached week
from datetime import UTC, datetime
t0 = time.perf_counter()
from bot.workspace import demo_workspace
from diagnostics.azure import demo
imported = time.perf_counter() - t0
now = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
t0 = time.perf_counter()
rows = demo.generate_rows(now)
generated = time.perf_counter() - t0
t0 = time.perf_counter()
workspace = demo_workspace(now)
built = time.perf_counter() - t0
print(json.dumps({"imports_s": imported, "rows": len(rows), "generate_s": generated, "workspace_s": built}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"bench_demo: the demo workspace, fresh process each ({datetime.now():%Y-%m-%d})")
    results = [json.loads(subprocess.run([sys.executable, "-c", CHILD], check=True, capture_output=True,
                                         text=True).stdout) for _ in range(args.runs)]
    for key, label in (("imports_s", "imports"), ("generate_s", "generate rows"), ("workspace_s", "whole workspace")):
        print(f"  {label:<16} best {min(r[key] for r in results):.2f} s, worst {max(r[key] for r in results):.2f} s")
    best = min(r["workspace_s"] for r in results)
    print(f"  {results[0]['rows']:,} Azure rows; target whole workspace < {TARGET_S:g} s: "
          f"{'met' if best < TARGET_S else 'MISSED'}")


if __name__ == "__main__":
    main()
