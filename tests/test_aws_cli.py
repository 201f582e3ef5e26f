"""`vpnbot` on AWS as users run it: `--config` with [aws] pointing at moto through AWS_ENDPOINT_URL (real boto3,
discovery included), `--aws-export` files, an Azure↔AWS link from two exports, and one-line errors."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.cli import run
from support.fixture_logs import FIXTURES
from support.moto_server import REGION, MotoServer, rebase, seed

from diagnostics.aws.exports import read_aws_export

GROUP = "/aws/vendedlogs/vpn"
VPN = "vpn-0123456789abcdef0"
AWS_FIXTURES = FIXTURES / "aws"
CONFIG = f"""
timezone = "UTC"

[aws]
region = "{REGION}"
log_group = "{GROUP}"

[[tunnels]]
name = "dc1"
aliases = ["aws-dc1"]
aws_vpn_connection = "{VPN}"
aws_outside_ips = ["52.95.10.1", "52.95.10.2"]
"""
LINK_CONFIG = """
[[tunnels]]
name = "hub-aws"
azure_gateway = "VPNGW03"
azure_remote_ip = "52.95.10.1"
aws_vpn_connection = "vpn-0123456789abcdef0"
aws_outside_ips = ["52.95.10.1", "52.95.10.2"]
"""


@pytest.fixture
def config(here: Path) -> str:
    """The [aws] configuration, in a fresh working directory."""
    path = here / "vpnbot.toml"
    path.write_text(CONFIG)
    return str(path)


def seeded(aws: MotoServer) -> datetime:
    """dpd_timeout.json moved to end an hour ago; returns the drop's instant (14:02:05 in the file)."""
    records = read_aws_export(AWS_FIXTURES / "dpd_timeout.json").records
    moved = rebase(records, int(time.time() * 1000) - 3_600_000)
    seed(aws, GROUP, moved)
    drop = datetime(2026, 11, 21, 14, 2, 5, tzinfo=UTC).timestamp() + (moved[0].timestamp - records[0].timestamp) / 1000
    return datetime.fromtimestamp(drop, UTC)


def test_ask_reads_cloudwatch_through_aws_endpoint_url_and_answers_in_json(aws, config, capsys):
    at = seeded(aws)
    now = datetime.now(UTC).isoformat()
    code, out, err = run(capsys, "ask", f"why did aws-dc1 drop at {at:%H:%M} UTC", "--config", config,
                         "--format", "json", "--now", now)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema"] == 1 and doc["intent"] == "why_drop"
    assert doc["tunnel"] == {"name": "dc1", "provider": "aws", "aws_vpn_connection": VPN,
                             "aws_outside_ips": ["52.95.10.1", "52.95.10.2"]}
    assert doc["drops"][0]["down_instance"] == "52.95.10.1" and doc["drops"][0]["up_at"].endswith("Z")
    primary = doc["findings"][0]
    assert primary["cause"] == "dpd_timeout" and primary["confidence"] == "high"
    assert "stayed up: no outage of dc1" in primary["explanation"]
    assert any("AWS tunnel DPD timed out after 3 retransmits" in e["text"] and
               e["source"] == f"{GROUP}/{VPN}-52.95.10.1-IKE" for e in primary["evidence"])
    query = doc["queries"][0]
    assert query["backend"] == "cloudwatch-logs"
    assert f"--region {REGION} --log-group-name {GROUP}" in query["text"]
    assert f"--log-stream-names {VPN}-52.95.10.1-IKE {VPN}-52.95.10.2-IKE" in query["text"]
    assert "--start-time 17" in query["text"] and "--end-time 17" in query["text"]
    assert {"DescribeVpnConnections", "DescribeLogStreams", "FilterLogEvents"} <= set(aws.calls)


def test_ask_in_text_shows_cause_evidence_and_the_command_to_rerun(aws, config, capsys):
    at = seeded(aws)
    code, out, _ = run(capsys, "ask", f"why did dc1 drop at {at:%H:%M} UTC", "--config", config,
                       "--now", datetime.now(UTC).isoformat())
    assert code == 0
    assert "Cause: dpd_timeout (high confidence)" in out
    assert "AWS tunnel DPD timed out after 3 retransmits [phase 1 down, phase 2 down]" in out
    assert f"Query (cloudwatch-logs on {GROUP}" in out and "aws logs filter-log-events" in out


def test_tunnels_lists_configured_and_discovered(aws, config, capsys):
    discovered = aws.vpn_connection("madrid-dc")
    code, out, _ = run(capsys, "tunnels", "--config", config, "--format", "json")
    assert code == 0
    listed = {t["name"]: t for t in json.loads(out)}
    assert listed["dc1"]["aws_vpn_connection"] == VPN and "discovered" not in listed["dc1"]
    assert listed["madrid-dc"] == {"name": "madrid-dc", "provider": "aws", "aliases": [],
                                   "aws_vpn_connection": discovered, "discovered": True}
    code, out, _ = run(capsys, "tunnels", "--config", config)
    assert "Discovered from EC2 describe_vpn_connections: madrid-dc" in out


def test_a_discovered_tunnel_can_be_asked_about_by_its_id(aws, config, capsys):
    seeded(aws)
    discovered = aws.vpn_connection("madrid-dc")
    code, out, err = run(capsys, "ask", f"status {discovered}", "--config", config)
    assert code == 0, err
    first, state = out.splitlines()[:2]
    assert first.startswith("Status of madrid-dc · now, ")
    assert state.startswith(f"madrid-dc ({discovered}): NO LOGS: no tunnel log event in the last 2 h")
    assert f"no log stream of {discovered} in {GROUP}" in out


def test_access_denied_is_one_line_naming_the_log_group_and_exit_1(aws, config, capsys):
    at = seeded(aws)
    aws.fail("DescribeLogStreams", "AccessDeniedException")
    code, out, err = run(capsys, "ask", f"why did dc1 drop at {at:%H:%M} UTC", "--config", config)
    assert code == 1 and out == ""
    assert err.splitlines() == [f"vpnbot: error: CloudWatch Logs group {GROUP} ({REGION}): access denied to "
                                "logs:DescribeLogStreams; grant the bot's identity logs:DescribeLogStreams and "
                                "logs:FilterLogEvents on this log group."]


def test_aws_export_without_config_names_tunnels_by_connection_id_or_outside_ip(here, capsys):
    export = str(AWS_FIXTURES / "dpd_timeout.json")
    for reference in (VPN, "52.95.10.2"):
        code, out, err = run(capsys, "ask", f"why did {reference} drop at 14:02", "--aws-export", export,
                             "--now", "2026-11-21T18:00:00Z", "--format", "json")
        assert code == 0, err
        doc = json.loads(out)
        assert doc["tunnel"]["aws_vpn_connection"] == VPN
        assert doc["findings"][0]["cause"] == "dpd_timeout"
        assert doc["queries"][0]["backend"] == "local" and "aws logs filter-log-events" in doc["queries"][0]["text"]


def test_aws_export_bad_rows_are_reported_as_file_line_and_the_answer_stands(here, capsys):
    code, out, err = run(capsys, "ask", f"why did {VPN} drop at 14:02", "--aws-export",
                         str(AWS_FIXTURES / "bad_rows.json"), "--now", "2026-11-21T18:00:00Z")
    assert code == 0
    assert "bad_rows.json:13: unreadable event" in err and "bad_rows.json:17: message is not JSON" in err
    assert "Cause: dpd_timeout" in out and "bad_rows.json:13" in out  # said in the answer's notes too


def test_unreadable_aws_export_is_bad_input(here, capsys):
    path = here / "empty.json"
    path.write_text("")
    code, _, err = run(capsys, "ask", "why did dc1 drop", "--aws-export", str(path))
    assert code == 2 and err.strip().endswith("empty.json: the file is empty")


def test_link_from_an_azure_and_an_aws_export_says_who_saw_it_first(here, capsys):
    config = here / "link.toml"
    config.write_text(LINK_CONFIG)
    code, out, err = run(capsys, "ask", "why did hub-aws drop at 14:02", "--config", str(config),
                         "--azure-export", str(AWS_FIXTURES / "link_azure.csv"),
                         "--aws-export", str(AWS_FIXTURES / "link_aws.json"), "--now", "2026-11-21T18:00:00Z")
    assert code == 0, err
    assert "Cause: gateway_failover (medium confidence): Azure: Gateway failover with no maintenance record" in out
    assert "Azure first, TunnelDisconnected on VPNGW03" in out and "then AWS, 'AWS tunnel DPD timed out" in out
    assert "AzureDiagnostics/TunnelDiagnosticLog" in out and "link_aws.json/vpn-0123456789abcdef0-52.95.10.1" in out
