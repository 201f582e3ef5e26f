"""An Azure↔AWS link (a tunnel with azure_* and aws_* keys) is answered from both ends' logs on one timeline, says
which side saw what first, and still answers from one side when the other's source fails."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from support.fixture_logs import FIXTURES, utc
from support.meeting import Meeting
from support.moto_server import REGION

from diagnostics.aws.cloudwatch import CloudWatchLogsSource
from diagnostics.aws.exports import read_aws_export
from diagnostics.aws.sources import MemoryLogSource
from diagnostics.azure.exports import read_azure_export
from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.investigate import investigate
from diagnostics.model import Cause, InvestigationError
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel

LINK = Tunnel(name="hub-aws", azure_gateway="VPNGW03", azure_remote_ip="52.95.10.1",
              aws_vpn_connection="vpn-0123456789abcdef0", aws_outside_ips=("52.95.10.1", "52.95.10.2"))
AT = utc("2026-11-21T14:02:00Z")


def azure() -> LocalWorkspace:
    workspace = LocalWorkspace(label="azure fixture", origin="link_azure.csv")
    workspace.load_rows(read_azure_export(FIXTURES / "aws" / "link_azure.csv").rows)
    return workspace


def aws_export(shift_s: float = 0.0) -> MemoryLogSource:
    records = read_aws_export(FIXTURES / "aws" / "link_aws.json").records
    moved = [r._replace(timestamp=r.timestamp + int(shift_s * 1000)) for r in records]
    if shift_s:  # the body's times move too, or the parser would keep the old ones
        moved = [r._replace(message=r.message.replace('"event_timestamp":', '"was":').replace('"timestamp":', '"t":'))
                 for r in moved]
    return MemoryLogSource(moved, label="AWS fixture", origin="link_aws.json", log_group="/aws/vendedlogs/vpn")


def ask(*sources):
    kql = [s for s in sources if isinstance(s, LocalWorkspace)]
    aws = [s for s in sources if not isinstance(s, LocalWorkspace)]
    return investigate(LINK, AT - timedelta(minutes=15), AT + timedelta(minutes=15), Sources(kql, aws),
                       now=AT + timedelta(hours=4), anchor=AT)


def test_origin_on_one_side_leads_and_the_answer_says_who_saw_what_first():
    result = ask(azure(), aws_export())
    primary = result.findings[0]
    assert primary.cause is Cause.GATEWAY_FAILOVER and primary.title.startswith("Azure: ")
    assert ("Both ends of hub-aws saw it: Azure first, TunnelDisconnected on VPNGW03 (GatewayTenantWorker_IN_0) at "
            "14:02:01 UTC (gateway_failover); then AWS, 'AWS tunnel DPD timed out after 3 retransmits' on tunnel "
            "52.95.10.1 at 14:02:05 UTC, 4 s later (dpd_timeout).") in primary.explanation
    assert "The AWS side's dpd_timeout is the consequence of the Azure side's gateway_failover." in primary.explanation
    assert {e.provider for e in primary.evidence} == {"azure", "aws"}
    assert [e.ts for e in primary.evidence] == sorted(e.ts for e in primary.evidence)
    assert result.findings[1].cause is Cause.DPD_TIMEOUT and result.findings[1].title.startswith("AWS: ")


def test_one_timeline_of_both_sides_and_both_queries():
    result = ask(azure(), aws_export())
    assert [d.down.provider for d in result.drops] == ["azure", "aws", "aws"]
    assert [e.ts for e in result.events] == sorted(e.ts for e in result.events)
    assert [q.backend for q in result.queries] == ["local", "local"]
    assert "AzureDiagnostics" in result.queries[0].text and "filter-log-events" in result.queries[1].text


def test_drops_minutes_apart_are_separate_events():
    result = ask(azure(), aws_export(shift_s=600))
    assert any("separate events" in n for n in result.notes)
    assert result.findings[0].cause is Cause.GATEWAY_FAILOVER  # nearest to the asked 14:02


def test_failing_aws_source_still_answers_from_azure_and_names_the_source(aws):
    missing = CloudWatchLogsSource("/aws/vendedlogs/missing", region=REGION)
    result = ask(azure(), missing)
    assert result.findings[0].cause is Cause.GATEWAY_FAILOVER
    assert result.failures == [f"AWS side: CloudWatch Logs group /aws/vendedlogs/missing ({REGION}): the log group "
                               f"does not exist in {REGION}; check [aws] log_group and region, and that the VPN "
                               "tunnels' logging (TunnelOptions LogOptions) publishes to it."]
    assert any(n.startswith("The AWS side of hub-aws could not be read, answering from the other side only")
               for n in result.notes)
    assert result.queries[-1].backend == "cloudwatch-logs"  # what was tried is still shown


def test_no_azure_source_answers_from_aws_and_says_so():
    result = ask(aws_export())
    assert result.findings[0].cause is Cause.DPD_TIMEOUT
    assert result.failures and result.failures[0].startswith("Azure side: no log source is configured")


def test_both_sides_failing_is_an_error_naming_both():
    with pytest.raises(InvestigationError, match=r"Azure side: .*; AWS side: .*no AWS log source"):
        ask()


def test_kql_code_can_pick_the_azure_backends_out_of_the_shared_list():
    from diagnostics.aws.sources import kql_backends

    workspace, source = azure(), aws_export()
    assert kql_backends([workspace, source]) == [workspace]


def test_both_ends_of_a_link_are_read_at_the_same_time():
    barrier = threading.Barrier(2, timeout=60)
    result = investigate(LINK, AT - timedelta(minutes=15), AT + timedelta(minutes=15),
                         Sources([Meeting(azure(), barrier, "run_kql")],
                                 [Meeting(aws_export(), barrier, "read_tunnel_logs")]),
                         now=AT + timedelta(hours=4), anchor=AT)
    assert not barrier.broken
    assert result.findings[0].cause is Cause.GATEWAY_FAILOVER
    assert [q.backend for q in result.queries] == ["local", "local"]
    assert "AzureDiagnostics" in result.queries[0].text and "filter-log-events" in result.queries[1].text
