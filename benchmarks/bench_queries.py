"""The bot's one query vs the published sample queries run separately, on the same LocalWorkspace data and window.

    .venv/bin/python benchmarks/bench_queries.py [--sizes 100000,1000000]

Bot: build_tunnel_query (what investigate() sends). The published sample queries, run one after another:
the GatewayDiagnosticLog, TunnelDiagnosticLog, RouteDiagnosticLog and IKEDiagnosticLog sample queries of Microsoft's
"Troubleshoot Azure VPN Gateway using diagnostic logs" (docs/sources.md#azure-categories; labelled `Microsoft …`)
with `| where Resource =~ "VPNGW01"` added after the category filter, and jpaztech's combined Gateway/Tunnel query
filtered by Resource, as written (docs/sources.md#azure-maintenance; labelled `jpaztech …`). Both sides run through
LocalWorkspace.run_kql (duckdb-kql) over the same window and iterate every result row; best of 3.
Target: the bot's query costs at most 20 % more than the sample queries together.
"""

from __future__ import annotations

import argparse
import gc
import time
from datetime import datetime, timedelta

from _common import bot_query, window
from _rows import GATEWAY, rows

from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.model import SourceError

TARGET_PCT = 20.0
RUNS = 3
FILTER = f'| where Resource =~ "{GATEWAY}"'

#: The sample queries' KQL, verbatim (line breaks and the commented-out line kept); FILTER marks the one added line.
#: Keys: the source (Microsoft's article, jpaztech's post) and the query's subject, as the output prints them.
SAMPLE_QUERIES: dict[str, str] = {
    "Microsoft GatewayDiagnosticLog": f"""AzureDiagnostics
| where Category == "GatewayDiagnosticLog"
{FILTER}
| project TimeGenerated, OperationName, Message, Resource, ResourceGroup
| sort by TimeGenerated asc""",
    "Microsoft TunnelDiagnosticLog": f"""AzureDiagnostics
| where Category == "TunnelDiagnosticLog"
{FILTER}
//| where remoteIP_s == "<REMOTE IP OF TUNNEL>"
| project TimeGenerated, OperationName, remoteIP_s, instance_s, Resource, ResourceGroup
| sort by TimeGenerated asc""",
    "Microsoft RouteDiagnosticLog": f"""AzureDiagnostics
| where Category == "RouteDiagnosticLog"
{FILTER}
| project TimeGenerated, OperationName, Message, Resource, ResourceGroup""",
    "Microsoft IKEDiagnosticLog": f"""AzureDiagnostics
| where Category == "IKEDiagnosticLog"
{FILTER}
| extend Message1=Message
| parse Message with * "Remote " RemoteIP ":" * "500: Local " LocalIP ":" * "500: " Message2
| extend Event = iif(Message has "SESSION_ID",Message2,Message1)
| project TimeGenerated, RemoteIP, LocalIP, Event, Level
| sort by TimeGenerated asc""",
    "jpaztech Gateway+Tunnel by Resource": f"""AzureDiagnostics
| where Category == "GatewayDiagnosticLog" or Category == "TunnelDiagnosticLog"
| where Resource == "{GATEWAY}"
| project TimeGenerated, instance_s, remoteIP_s, status_s, stateChangeReason_s, Message""",
}


def run(ws: LocalWorkspace, text: str, start: datetime, end: datetime) -> tuple[float, int]:
    """Seconds to run `text` and iterate every row, and the row count."""
    t = time.perf_counter()
    count = sum(1 for _ in ws.run_kql(text, start, end).rows)
    return time.perf_counter() - t, count


def bench(n: int) -> float:
    start, end = window(n)
    ws = LocalWorkspace("benchmark workspace")
    loaded = ws.load_rows(rows(n, start, end))
    query = bot_query(start, end, end + timedelta(days=1))
    lo, hi = query.start, query.end
    runnable: dict[str, str] = {}
    for name, text in SAMPLE_QUERIES.items():
        try:
            run(ws, text, lo, hi)
            runnable[name] = text
        except SourceError as exc:
            print(f"  {name}: duckdb-kql cannot run it as written ({exc}); left out of the samples' total")
    bot = [run(ws, query.text(), lo, hi) for _ in range(RUNS)]
    samples = [{name: run(ws, text, lo, hi) for name, text in runnable.items()} for _ in range(RUNS)]
    bot_s, bot_rows = min(bot)
    samples_s = min(sum(s for s, _ in r.values()) for r in samples)
    print(f"\nN={n:,} ({loaded:,} rows loaded), window {lo:%Y-%m-%d %H:%M} .. {hi:%Y-%m-%d %H:%M} UTC; "
          f"{len(runnable)} of {len(SAMPLE_QUERIES)} sample queries run as written")
    print(f"  {'query':<36} {'rows':>10} {'best s':>8}")
    print(f"  {'bot: build_tunnel_query':<36} {bot_rows:>10,} {bot_s:>8.3f}")
    for name in runnable:
        print(f"  {'sample ' + name:<36} {samples[0][name][1]:>10,} {min(r[name][0] for r in samples):>8.3f}")
    sum_rows = sum(c for _, c in samples[0].values())
    overhead = (bot_s / samples_s - 1) * 100
    print(f"  {'samples, one after another':<36} {sum_rows:>10,} {samples_s:>8.3f}   (best of {RUNS} totals)")
    print(f"  bot overhead vs samples: {overhead:+.1f} %")
    return overhead


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    args = parser.parse_args()
    print(f"bench_queries: the bot's single query vs the sample queries, best of {RUNS} "
          f"({datetime.now():%Y-%m-%d}); sample queries as written, plus the one line: {FILTER}")
    results = {}
    for n in (int(s) for s in args.sizes.split(",")):
        results[n] = bench(n)
        gc.collect()
    print()
    for n, overhead in results.items():
        verdict = "MET" if overhead <= TARGET_PCT else "MISSED"
        print(f"target at N={n:,}: bot overhead <= {TARGET_PCT:.0f} %: {verdict} ({overhead:+.1f} %)")


if __name__ == "__main__":
    main()
