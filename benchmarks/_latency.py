"""Sources whose reads each wait a network round trip first, and children run on another source tree: for the
benchmarks of what a user waits for when every read is a round trip to Log Analytics, Azure Monitor or CloudWatch
(bench_traffic.py, bench_round_trips.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from diagnostics.sources import Sources


class Latency:
    """A source whose reads (`method`) each wait `seconds` first; everything else is the source's."""

    def __init__(self, source: Any, seconds: float, method: str):
        self._source, self._seconds, self._method = source, seconds, method

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._source, name)
        if name != self._method:
            return attr

        def read(*args: Any, **kwargs: Any) -> Any:
            time.sleep(self._seconds)
            return attr(*args, **kwargs)

        return read


def with_latency(sources: Sources, seconds: float) -> Sources:
    """`sources` with every log query, AWS log read and metrics read `seconds` away."""
    if not seconds:
        return sources
    return Sources(kql=[Latency(k, seconds, "run_kql") for k in sources.kql],
                   aws=[Latency(a, seconds, "read_tunnel_logs") for a in sources.aws],
                   metrics=[Latency(m, seconds, "read") for m in sources.metrics])


def run_child(script: str, args: list[str], code: str | None) -> Any:
    """`script --child ARGS` in a fresh process (`code`: a source tree to run instead of the current one); its last
    line of output, as JSON."""
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [code, env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, script, "--child", *args], capture_output=True, text=True, check=False,
                          env=env)
    if proc.returncode:
        sys.exit(f"{os.path.basename(script)} child ({code or 'current tree'}) failed:\n{proc.stderr}")
    return json.loads(proc.stdout.splitlines()[-1])
