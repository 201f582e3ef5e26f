"""The daily summary of 1,000 Azure tunnels (900 quiet, 100 with drops) over one day of realistic rows.

    .venv/bin/python benchmarks/bench_summary.py [--tunnels 1000] [--troubled 100]

Rows: 50 gateways x 20 tunnels, eight days (the summary day and the seven the baseline reads) of routine child-SA
rekeys (Azure rekeys every 27,000 s: ~3 negotiations a tunnel a day, 4 IKE rows each) and a daily gateway
validation row; on the summary day the troubled tunnels drop: a maintenance failover on two whole gateways (two
drops each), DPD drops with the IKE rows around them, flapping tunnels (7 drops in 40 minutes) and pre-shared key
mismatches (45 minutes of retries every ~7 s, 7 rows a negotiation). Loaded into the local DuckDB workspace
(timed apart, not part of the summary).

Printed: the backend queries issued, the time inside the backend (query execution and row fetching, which Log
Analytics does server-side in production), the bot-side time (everything else: parsing, timelines, rules,
outages) and the peak RSS of the summary. Target: < 5 s bot side.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from _common import peak_mb, reset_peak, rss_mb

from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.azure.sources import KqlResult
from diagnostics.sources import Sources
from diagnostics.summary.build import summarize_day
from diagnostics.tunnels import Tunnel, TunnelRegistry
from handlers.render.timeline_png import render_timeline_png

DAY = date(2026, 11, 21)
ZONE = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
PER_GATEWAY = 20
TARGET_S = 5.0
IN_0, IN_1 = "GatewayTenantWorker_IN_0", "GatewayTenantWorker_IN_1"


def tunnels(n: int) -> list[Tunnel]:
    return [Tunnel(f"site{i:04d}", azure_gateway=f"VPNGW{i // PER_GATEWAY:03d}",
                   azure_remote_ip=f"198.{18 + i // 65_000}.{(i // 250) % 256}.{i % 250 + 1}") for i in range(n)]


def envelope(t: Tunnel, session: str, text: str) -> str:
    local = f"192.0.2.{int(t.azure_gateway[-3:]) % 250 + 1}"
    return f"SESSION_ID :{{{session}}} Remote {t.azure_remote_ip}:500: Local {local}:500: {text}"


def row(ts: datetime, t: Tunnel, category: str, operation: str, **extra: str) -> dict:
    return {"TimeGenerated": ts.isoformat(), "Category": category, "OperationName": operation,
            "Resource": t.azure_gateway, "ResourceGroup": "RG-NETWORK", "instance_s": IN_0, **extra}


def state(ts: datetime, t: Tunnel, up: bool, instance: str = IN_0, reason: str = "") -> dict:
    return row(ts, t, "TunnelDiagnosticLog", "TunnelConnected" if up else "TunnelDisconnected", instance_s=instance,
               remoteIP_s=t.azure_remote_ip, status_s="Connected" if up else "Disconnected",
               stateChangeReason_s=reason, Message="")


def ike(ts: datetime, t: Tunnel, session: str, text: str) -> dict:
    return row(ts, t, "IKEDiagnosticLog", "IKELogEvent", Message=envelope(t, session, text))


REKEY = ("[SEND][IPSEC] Sending IPSec payload for tunnel Id 0x3",
         "[RECEIVED][IPSEC] Received IPSec payload: Policy1:Cipher=AES-GCM-256 Integrity=AES-GCM-256 PfsGroup=None",
         "[SEND] Proposed Traffic Selector payload will be (Final Verdict) - [Tsid 0x4a ]Number of TSIs 1: "
         "StartAddress 10.30.0.0 EndAddress 10.30.255.255 PortStart 0 PortEnd 65535 Protocol 0",
         "[LOCAL_MSG] IPSec SA established")
PSK = ("[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie 0x{c} and rCookie 0x0",
       "[RECEIVED][SA_INIT] Received IKE SA_INIT response",
       "[SEND][MM Nonce] Sending MM Nonce packet",
       "[RECEIVED] Received Ike payload",
       "[SEND][SA_AUTH] Sending IKE SA_AUTH packet",
       "IKE Tunnel closed for tunnel ID 0x3 with status IKE authentication credentials are unacceptable",
       "[RECEIVED] Received Notify Message - Authentication failed")


def generate(all_tunnels: list[Tunnel], troubled: int, rng: random.Random) -> Iterator[dict]:
    first = datetime.combine(DAY - timedelta(days=7), datetime.min.time(), ZONE).astimezone(UTC)
    day = datetime.combine(DAY, datetime.min.time(), ZONE).astimezone(UTC)
    for t in all_tunnels:
        at = first + timedelta(seconds=rng.uniform(0, 27_000))
        while at < first + timedelta(days=8):
            session = f"{rng.getrandbits(128):032x}"
            for k, text in enumerate(REKEY):
                yield ike(at + timedelta(milliseconds=40 * k), t, session, text)
            at += timedelta(seconds=27_000 + rng.uniform(-45, 45))
    for g in sorted({t.azure_gateway for t in all_tunnels}):
        gw = Tunnel("gw", azure_gateway=g)
        for d in range(8):
            yield row(first + timedelta(days=d, hours=3), gw, "GatewayDiagnosticLog", "ValidateGatewayConfiguration",
                      Message="Validation succeeded")
    bad = all_tunnels[:troubled]
    # 40: two whole gateways under maintenance (two failovers each); 30 DPD drops; 20 flapping; 10 PSK mismatches.
    maint, dpd, flap, psk = bad[:40], bad[40:70], bad[70:90], bad[90:]
    for g in sorted({t.azure_gateway for t in maint}):
        yield row(day + timedelta(hours=13, minutes=58), Tunnel("gw", azure_gateway=g), "GatewayDiagnosticLog",
                  "HostMaintenanceEvent", Message="Upgrade gateway started")
    for t in maint:
        for minute, (a, b) in ((2, (IN_0, IN_1)), (40, (IN_1, IN_0))):
            down = day + timedelta(hours=14, minutes=minute, seconds=rng.uniform(5, 7))
            yield state(down, t, False, a, "GlobalStandbyChanged")
            yield state(down + timedelta(seconds=rng.uniform(10, 15)), t, True, b)
    for t in dpd:
        down = day + timedelta(hours=rng.uniform(1, 22))
        yield state(down, t, False, reason="DPD timed out")
        session = f"{rng.getrandbits(128):032x}"
        yield ike(down + timedelta(milliseconds=400), t, session, PSK[0].format(c=f"{rng.getrandbits(64):016X}"))
        yield state(down + timedelta(seconds=rng.uniform(4, 30)), t, True)
    for t in flap:
        at = day + timedelta(hours=6)
        for _ in range(7):
            yield state(at, t, False, reason="DPD timed out")
            yield state(at + timedelta(seconds=rng.uniform(4, 19)), t, True)
            at += timedelta(minutes=rng.uniform(3, 8))
    for t in psk:
        down = day + timedelta(hours=10)
        yield row(down - timedelta(seconds=19), t, "GatewayDiagnosticLog", "SetConnectionConfiguration",
                  Message="Connection configuration updated")
        yield state(down, t, False, reason="IKE authentication failed")
        at = down + timedelta(seconds=1)
        while at < down + timedelta(minutes=45):
            session, cookie = f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(64):016X}"
            for k, text in enumerate(PSK):
                yield ike(at + timedelta(milliseconds=30 * k), t, session, text.format(c=cookie))
            at += timedelta(seconds=rng.uniform(6, 8))
        yield state(at, t, True)


class Timed:
    """The workspace, with the time spent inside it (query execution and row fetching) counted apart."""

    def __init__(self, inner: LocalWorkspace) -> None:
        self.inner = inner
        self.backend, self.label, self.origin = inner.backend, inner.label, inner.origin
        self.seconds, self.queries, self.rows = 0.0, 0, 0

    def run_kql(self, query: str, start: datetime, end: datetime) -> KqlResult:
        t0 = time.perf_counter()
        result = self.inner.run_kql(query, start, end)
        self.seconds += time.perf_counter() - t0
        self.queries += 1
        return KqlResult(result.columns, self._timed(iter(result.rows)), result.partial_error, result.types)

    def _timed(self, rows: Iterator) -> Iterator:
        while True:
            t0 = time.perf_counter()
            batch = [r for _, r in zip(range(2048), rows, strict=False)]
            self.seconds += time.perf_counter() - t0
            self.rows += len(batch)
            if not batch:
                return
            yield from batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tunnels", type=int, default=1000)
    parser.add_argument("--troubled", type=int, default=100)
    args = parser.parse_args()
    all_tunnels = tunnels(args.tunnels)
    workspace = LocalWorkspace(label="benchmark workspace", origin="bench")
    t0 = time.perf_counter()
    loaded = workspace.load_rows(generate(all_tunnels, args.troubled, random.Random(7)))
    print(f"loaded {loaded:,} rows ({args.tunnels} tunnels, 8 days) in {time.perf_counter() - t0:.1f} s "
          f"(not part of the summary)")
    timed = Timed(workspace)
    registry = TunnelRegistry(all_tunnels)
    before = rss_mb()
    reset_peak()
    t0 = time.perf_counter()
    summary = summarize_day(registry, Sources(kql=[timed]), DAY, ZONE, NOW)
    total = time.perf_counter() - t0
    peak = peak_mb()
    troubled = [t for t in summary.tunnels if t.troubled]
    bot = total - timed.seconds
    print(f"summary of {len(summary.tunnels)} tunnels: {len(troubled)} troubled, "
          f"{sum(t.drops for t in summary.tunnels)} drops, causes "
          f"{dict(sorted(_causes(summary).items()))}")
    print(f"backend queries issued: {timed.queries} (rows returned: {timed.rows:,})")
    print(f"time: total {total:.2f} s = backend {timed.seconds:.2f} s + bot side {bot:.2f} s "
          f"(target < {TARGET_S:.0f} s bot side: {'met' if bot < TARGET_S else 'NOT met'})")
    print(f"peak RSS {peak:.0f} MB (RSS before {before:.0f} MB, the DuckDB workspace included)")
    print(f"flapping: {sum(t.flapping for t in summary.tunnels)} tunnels; "
          f"with drops: {sum(1 for t in summary.tunnels if t.drops)}")
    t0 = time.perf_counter()
    png = render_timeline_png(summary)
    print(f"timeline picture: {len(png) / 1024:.0f} KB in {time.perf_counter() - t0:.2f} s")


def _causes(summary) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in summary.tunnels:
        for code, n in t.causes.items():
            out[code] = out.get(code, 0) + n
    return out


if __name__ == "__main__":
    main()
