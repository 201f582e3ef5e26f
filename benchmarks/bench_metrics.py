"""The metrics sources: backend calls per question and bot-side time, for Azure Monitor (the real azure-mgmt-monitor
client over HTTPS against the local ARM metrics endpoint), CloudWatch (real boto3 against moto, in this process) and
the demo's in-process metrics.

    .venv/bin/python benchmarks/bench_metrics.py [--gateways 20] [--tunnels 10] [--connections 100] [--runs 5]
        [--only azure|aws|demo]...

Azure: `--gateways` gateways of `--tunnels` tunnels each, every tunnel with 12 hours of 5-minute points for the nine
tunnel metrics and, for one tunnel in two, the three BGP metrics of its peer. Questions: one tunnel over 1 hour (a
traffic question), one tunnel over 12 hours (a drop answer's window and more), and every tunnel of every gateway over
1 hour (the daily summary's shape of read). AWS: 100 VPN connections (200 tunnels), 1 hour, one question for one
connection and one for all. Demo: one tunnel over 1 hour, first read (builds the demo week's outages) and warm.
Printed: calls the sources made (metrics.list / GetMetricData), the server's request count, median wall time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the local endpoints

from support.credentials import StaticTokenCredential
from support.metrics_server import GRAIN_S, MetricsServer, Stored
from support.moto_server import MotoServer

from diagnostics.aws.demo_metrics import DemoCloudWatchMetrics
from diagnostics.aws.metrics import CloudWatchMetricsSource
from diagnostics.azure.demo_metrics import DemoAzureMetrics, shapes
from diagnostics.azure.metrics import AzureMetricsSource
from diagnostics.azure.metrics_query import BGP_METRICS, TUNNEL_METRICS
from diagnostics.tunnels import Tunnel

SUB = "00000000-0000-0000-0000-0000000000be"
END = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
START = END - timedelta(hours=12)


def gateway_id(g: int) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/RG/providers/Microsoft.Network/virtualNetworkGateways/GW{g:03d}"


def azure_fleet(gateways: int, tunnels: int) -> tuple[dict[str, list[Stored]], list[Tunnel]]:
    points = tuple((START.timestamp() + i * GRAIN_S, 1000.0 + i) for i in range(12 * 12))
    resources: dict[str, list[Stored]] = {}
    fleet = []
    for g in range(gateways):
        stored = resources.setdefault(gateway_id(g), [])
        for t in range(tunnels):
            ip, peer = f"198.51.{g}.{t + 1}", f"10.{g}.{t}.254"
            dims = {"ConnectionName": f"cn-{g}-{t}", "RemoteIP": ip, "Instance": "GatewayTenantWorker_IN_0"}
            stored += [Stored(m.name, dims, points) for m in TUNNEL_METRICS]
            extra = {"azure_gateway_id": gateway_id(g)}
            if t % 2 == 0:
                stored += [Stored(m.name, {"BgpPeerAddress": peer, "Instance": "IN_0"}, points) for m in BGP_METRICS]
                extra["bgp_peer_ip"] = peer
            fleet.append(Tunnel(f"t{g}-{t}", azure_gateway=f"GW{g:03d}", azure_remote_ip=ip, extra=extra))
    return resources, fleet


def median_s(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def row(what: str, calls: float, seconds: float, note: str = "") -> None:
    print(f"| {what} | {calls:g} | {seconds * 1000:,.0f} ms | {note} |")


def bench_azure(gateways: int, tunnels: int, runs: int) -> None:
    resources, fleet = azure_fleet(gateways, tunnels)
    with MetricsServer(resources) as server:
        source = AzureMetricsSource(credential=StaticTokenCredential(server.token), endpoint=server.endpoint,
                                    connection_verify=server.ca_path)
        source.read([fleet[1]], END - timedelta(hours=1), END, 300)  # TLS session, client, token: warmed once
        cases = [("Azure: 1 tunnel, 1 h (no BGP peer)", [fleet[1]], timedelta(hours=1)),
                 ("Azure: 1 tunnel with its BGP peer, 1 h", [fleet[0]], timedelta(hours=1)),
                 ("Azure: 1 tunnel with its BGP peer, 12 h", [fleet[0]], timedelta(hours=12)),
                 (f"Azure: all {len(fleet)} tunnels of {gateways} gateways, 1 h", fleet, timedelta(hours=1))]
        for what, asked, span in cases:
            before, requests, busy = source.calls, len(server.requests), server.busy_s
            seconds = median_s(runs, lambda a=asked, s=span: source.read(a, END - s, END, 300))
            calls = (source.calls - before) / runs
            served = (server.busy_s - busy) / runs
            bot = (seconds - served) * 1000
            row(what, calls, seconds, f"{(len(server.requests) - requests) / runs:g} HTTP requests; the local "
                f"endpoint's own work {served * 1000:,.0f} ms of it, the bot's side ~{bot:,.0f} ms")
        source.close()


def bench_aws(connections: int, runs: int) -> None:
    fleet = [Tunnel(f"c{i}", aws_vpn_connection=f"vpn-{i:017x}",
                    aws_outside_ips=(f"203.0.{i // 100}.{2 * (i % 100)}", f"203.0.{i // 100}.{2 * (i % 100) + 1}"))
             for i in range(connections)]
    with MotoServer() as aws:
        cloudwatch = aws.client("cloudwatch")
        end = datetime.now(UTC).replace(second=0, microsecond=0)
        for tunnel in fleet:
            for ip in tunnel.aws_outside_ips:
                dims = [{"Name": "TunnelIpAddress", "Value": ip}]
                cloudwatch.put_metric_data(Namespace="AWS/VPN", MetricData=[
                    {"MetricName": name, "Dimensions": dims, "Timestamp": end - timedelta(minutes=5 * k), "Value": 1.0}
                    for name in ("TunnelState", "TunnelDataIn", "TunnelDataOut") for k in range(12)])
        source = CloudWatchMetricsSource(region="eu-west-1", endpoint_url=aws.endpoint,
                                         session=aws.session("eu-west-1"))
        for what, asked in (("AWS: 1 connection (2 tunnels), 1 h", fleet[:1]),
                            (f"AWS: {connections} connections ({2 * connections} tunnels), 1 h", fleet)):
            before, times = source.calls, runs if len(asked) == 1 else 1  # moto answers 600 queries in ~30 s
            seconds = median_s(times, lambda a=asked: source.read(a, end - timedelta(hours=1), end, 300))
            row(what, (source.calls - before) / times, seconds, f"{3 * 2 * len(asked)} queries; moto's own work is "
                "most of the time")


def bench_demo(runs: int) -> None:
    now = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
    paris = Tunnel("paris", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.10", azure_resource_group="RG",
                   azure_subscription=SUB)
    azure = DemoAzureMetrics(now)
    started = time.perf_counter()
    azure.read([paris], now - timedelta(hours=1), now, 300)
    row("demo Azure: 1 tunnel, 1 h, first read (builds the week's outages)", 1, time.perf_counter() - started)
    row("demo Azure: 1 tunnel, 1 h, warm", 1, median_s(runs, lambda: azure.read([paris], now - timedelta(hours=1),
                                                                                 now, 300)))
    row("demo Azure: 1 tunnel, 7 days at 1 h", 1, median_s(runs, lambda: azure.read(
        [paris], now - timedelta(days=7), now, 3600)))
    dc1 = Tunnel("dc1", aws_vpn_connection="vpn-0a1b2c3d4e5f60718", aws_outside_ips=("203.0.113.130", "203.0.113.131"))
    aws = DemoCloudWatchMetrics(now)
    aws.read([dc1], now - timedelta(hours=1), now, 300)
    row("demo AWS: 1 connection, 1 h, warm", 1, median_s(runs, lambda: aws.read([dc1], now - timedelta(hours=1),
                                                                               now, 300)))
    assert shapes(now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateways", type=int, default=20)
    parser.add_argument("--tunnels", type=int, default=10)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=("azure", "aws", "demo"), action="append")
    args = parser.parse_args()
    only = set(args.only or ("azure", "aws", "demo"))
    print("| question | backend calls | median time | |")
    print("|---|---|---|---|")
    if "azure" in only:
        bench_azure(args.gateways, args.tunnels, args.runs)
    if "aws" in only:
        bench_aws(args.connections, args.runs)
    if "demo" in only:
        bench_demo(args.runs)


if __name__ == "__main__":
    main()
