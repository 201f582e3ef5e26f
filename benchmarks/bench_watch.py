"""A watch poll over a workspace of 1,000 Azure tunnels (50 gateways of 20) with 50 new state changes, on a simulated
clock: polls every 60 s, rows becoming queryable 1-4 minutes after they were logged (`_IngestionTime`).

    .venv/bin/python benchmarks/bench_watch.py [--tunnels 1000]

The 50 changes: a maintenance failing over every tunnel of gateway VPNGW000 (20 disconnects, 20 reconnects 12-30 s
later on the other instance, one HostMaintenanceEvent) and 5 DPD drops elsewhere (5 disconnects, 5 reconnects). The
background: a day of routine child-SA rekeys of every tunnel (every 27,000 s, 4 IKE rows each).

Printed: per poll, the backend queries and time (inside the local DuckDB workspace: what Log Analytics does in
production) and the bot-side time (everything else: investigations' rules, grouping, the state store's claims);
then, per incident, the delay from its disconnect row becoming queryable to the poll that told it.
Target: < 2 s bot side for the poll that finds the 50 changes.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_summary import IN_0, IN_1, REKEY, ike, row, state, tunnels

from bot.state import StateStore
from diagnostics.azure.local_workspace import INGESTION_COLUMN, LocalWorkspace
from diagnostics.azure.sources import KqlResult
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel
from diagnostics.watch.poll import poll

NOW = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
TARGET_S = 2.0


class Clocked:
    """The workspace as Log Analytics at the simulated time: rows not ingested yet are not served; the time spent
    inside it (query execution and row fetching) is counted apart."""

    backend, label, origin = "log-analytics", "bench workspace", "ws-bench"

    def __init__(self, inner: LocalWorkspace) -> None:
        self.inner, self.now = inner, NOW
        self.seconds, self.queries = 0.0, 0

    def run_kql(self, query: str, start: datetime, end: datetime) -> KqlResult:
        t0 = time.perf_counter()
        result = self.inner.run_kql(query, start, end, ingested_by=self.now)
        rows = list(result.rows)
        self.seconds += time.perf_counter() - t0
        self.queries += 1
        return KqlResult(result.columns, rows, result.partial_error, result.types)


def generate(all_tunnels: list[Tunnel], rng: random.Random) -> Iterator[dict]:
    first = NOW - timedelta(days=1)
    for t in all_tunnels:
        yield {**state(first - timedelta(hours=1), t, True), INGESTION_COLUMN: (first - timedelta(hours=1)).isoformat()}
        at = first + timedelta(seconds=rng.uniform(0, 27_000))
        while at < NOW:
            session = f"{rng.getrandbits(128):032x}"
            for k, text in enumerate(REKEY):
                moment = at + timedelta(milliseconds=40 * k)
                yield {**ike(moment, t, session, text), INGESTION_COLUMN: (moment + timedelta(seconds=90)).isoformat()}
            at += timedelta(seconds=27_000 + rng.uniform(-45, 45))


def changes(all_tunnels: list[Tunnel], rng: random.Random) -> list[dict]:
    """The 50 new state changes, logged 4-3 minutes before NOW, queryable 1-4 minutes after that."""
    out = []
    gateway = [t for t in all_tunnels if t.azure_gateway == "VPNGW000"]
    base = NOW - timedelta(minutes=4)
    out.append(row(base - timedelta(seconds=20), gateway[0], "GatewayDiagnosticLog", "HostMaintenanceEvent",
                   Message="Upgrade gateway started"))
    for i, t in enumerate(gateway):
        down_at = base + timedelta(seconds=i * 0.5)
        out += [state(down_at, t, False, IN_0, "StandbyChanged"),
                state(down_at + timedelta(seconds=rng.uniform(12, 30)), t, True, IN_1)]
    for t in rng.sample(all_tunnels[100:], 5):
        down_at = base + timedelta(seconds=rng.uniform(0, 60))
        out += [state(down_at, t, False, IN_0, "ConnectionTimeout"),
                state(down_at + timedelta(seconds=rng.uniform(40, 80)), t, True, IN_0)]
    for r in out:
        logged = datetime.fromisoformat(r["TimeGenerated"])
        r[INGESTION_COLUMN] = (logged + timedelta(seconds=rng.uniform(60, 240))).isoformat()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tunnels", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(16)
    fleet = tunnels(args.tunnels)
    new = changes(fleet, rng)
    workspace = LocalWorkspace(label="bench workspace", origin="ws-bench")
    t0 = time.perf_counter()
    loaded = workspace.load_rows([*generate(fleet, rng), *new])
    print(f"loaded {loaded:,} rows ({args.tunnels} tunnels, {sum(r['Category'] == 'TunnelDiagnosticLog' for r in new)} "
          f"new state changes) in {time.perf_counter() - t0:.1f} s")
    clocked = Clocked(workspace)
    sources = Sources(kql=[clocked])
    ingested = {(r["Resource"], r["remoteIP_s"]): datetime.fromisoformat(r[INGESTION_COLUMN])
                for r in new if r["OperationName"] == "TunnelDisconnected"}
    by_name = {t.name: t for t in fleet}
    delays: list[float] = []
    told_tunnels: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        store = StateStore(Path(tmp) / "state.db")
        moment = NOW - timedelta(minutes=4)
        while moment <= NOW + timedelta(minutes=4):
            clocked.now, clocked.seconds, clocked.queries = moment, 0.0, 0
            t0 = time.perf_counter()
            result = poll(fleet, sources, store, moment, owner="bench", since=NOW - timedelta(minutes=5))
            total = time.perf_counter() - t0
            told = ", ".join(f"{len(i.tunnels)} tunnel(s) {i.cause}" + (" (updated)" if set(i.tunnels) & told_tunnels
                                                                            else "")
                             for i in result.incidents) or "nothing"
            for incident in result.incidents:
                store.incident_posted(incident, moment)
                for name in set(incident.tunnels) - told_tunnels:  # an incident told again grew: its new tunnels
                    tunnel = by_name[name]
                    delays.append((moment - ingested[(tunnel.azure_gateway, tunnel.azure_remote_ip)]).total_seconds())
                told_tunnels.update(incident.tunnels)
            print(f"  poll at {moment:%H:%M:%S}: {result.changes} state changes read, {result.waiting} settling; "
                  f"told {told}; backend {clocked.queries} queries {clocked.seconds:.2f} s, "
                  f"bot side {total - clocked.seconds:.2f} s (total {total:.2f} s)")
            moment += timedelta(seconds=60)
        store.close()
    if delays:
        print(f"delay from a disconnect row becoming queryable to the poll telling its tunnel (60 s polls, 90 s "
              f"settle): median {statistics.median(delays):.0f} s, max {max(delays):.0f} s over {len(delays)} "
              "tunnels")
    print(f"target: < {TARGET_S:.0f} s bot side per poll")


if __name__ == "__main__":
    main()
