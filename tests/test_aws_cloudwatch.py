"""The real boto3 CloudWatch Logs client against moto's server on 127.0.0.1: which calls are made, what is read,
and how throttling, denied access and a missing log group come out (one sentence naming the source)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from support.fixture_logs import FIXTURES
from support.moto_server import REGION, MotoServer, rebase, seed

from diagnostics.aws.cloudwatch import CloudWatchLogsSource
from diagnostics.aws.exports import read_aws_export
from diagnostics.aws.sources import TunnelLogRequest
from diagnostics.investigate import investigate
from diagnostics.model import Cause, InvestigationError, SourceError
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel

GROUP = "/aws/vendedlogs/vpn"
VPN = "vpn-0123456789abcdef0"
DC1 = Tunnel(name="dc1", aws_vpn_connection=VPN, aws_outside_ips=("52.95.10.1", "52.95.10.2"))


def now_ms() -> int:
    return int(time.time() * 1000)


def seeded(aws: MotoServer, fixture: str = "dpd_timeout.json", end_offset_s: int = 3600) -> tuple[list, datetime]:
    """The fixture rebased so its last event is `end_offset_s` ago; returns the records and the drop's instant."""
    records = read_aws_export(FIXTURES / "aws" / fixture).records
    original_drop = datetime(2026, 11, 21, 14, 2, 0, tzinfo=UTC).timestamp()
    moved = rebase(records, now_ms() - end_offset_s * 1000)
    shift = (moved[0].timestamp - records[0].timestamp) / 1000
    seed(aws, GROUP, moved)
    return moved, datetime.fromtimestamp(original_drop + shift, UTC)


def ask(source: CloudWatchLogsSource, at: datetime, half: timedelta = timedelta(minutes=15)):
    return investigate(DC1, at - half, at + half, Sources(aws=[source]), now=datetime.now(UTC), anchor=at)


def test_drop_is_explained_from_cloudwatch_with_the_exact_parameters(aws):
    _, at = seeded(aws)
    source = CloudWatchLogsSource(GROUP, region=REGION)
    result = ask(source, at)
    assert result.findings[0].cause is Cause.DPD_TIMEOUT
    assert "Tunnel 52.95.10.2 (2 of 2) stayed up" in result.findings[0].explanation
    query = result.queries[0]
    assert query.backend == "cloudwatch-logs" and query.origin == GROUP
    request = TunnelLogRequest(VPN, DC1.aws_outside_ips, at - timedelta(minutes=15, hours=2),
                               at + timedelta(minutes=15, hours=1))
    assert f"aws logs filter-log-events --region {REGION} --log-group-name {GROUP}" in query.text
    assert f"--log-stream-names {VPN}-52.95.10.1-IKE {VPN}-52.95.10.2-IKE" in query.text
    assert f"--start-time {request.start_ms} --end-time {request.end_ms}" in query.text
    evidence = result.findings[0].evidence[0]
    assert evidence.source == f"{GROUP}/{VPN}-52.95.10.1-IKE"
    assert evidence.provenance is not None and evidence.provenance.backend == "cloudwatch-logs"


def test_streams_are_found_by_prefix_and_only_the_connections_are_read(aws):
    records, at = seeded(aws)
    other = [r._replace(stream=r.stream.replace(VPN, "vpn-0fedcba9876543210")) for r in records[:5]]
    seed(aws, GROUP, other)
    seed(aws, GROUP, [r._replace(stream="vpn-0123456789abcdef0-52.95.10.9") for r in records[:3]])  # not configured
    source = CloudWatchLogsSource(GROUP, region=REGION)
    read = source.read_tunnel_logs(TunnelLogRequest(VPN, DC1.aws_outside_ips, at - timedelta(days=1),
                                                    datetime.now(UTC)))
    assert read.streams == [f"{VPN}-52.95.10.1-IKE", f"{VPN}-52.95.10.2-IKE"]
    assert len(read.records) == len(records)
    assert [r.timestamp for r in read.records] == sorted(r.timestamp for r in read.records)  # merged, not per stream
    assert dict(source.calls) == {"DescribeLogStreams": 1, "FilterLogEvents": 1}
    assert aws.calls.count("FilterLogEvents") == 1


def test_every_page_is_read(aws):
    records, at = seeded(aws)
    source = CloudWatchLogsSource(GROUP, region=REGION, page_size=7)
    read = source.read_tunnel_logs(TunnelLogRequest(VPN, (), at - timedelta(days=1), datetime.now(UTC)))
    assert len(read.records) == len(records)
    assert source.calls["FilterLogEvents"] >= len(records) // 7


def test_throttling_is_retried_and_still_answers(aws, fast_retries):
    _, at = seeded(aws)
    aws.fail("FilterLogEvents", "ThrottlingException", times=2)
    source = CloudWatchLogsSource(GROUP, region=REGION)
    result = ask(source, at)
    assert result.findings[0].cause is Cause.DPD_TIMEOUT and not result.failures
    assert source.calls["FilterLogEvents"] == 1 and source.attempts == 1 + 2 + 1  # streams, 2 throttled, answer
    assert aws.calls.count("FilterLogEvents") == 3
    # botocore backed off before each retry, and its adaptive limiter, switched on by the first throttling answer,
    # held back both resends (the test clock moves only by those waits, so no token is ever to spare).
    assert fast_retries.retries == 2 and all(delay >= 0 for delay in fast_retries.backoffs)
    assert len(fast_retries.limiter_waits) == 2 and all(wait > 0 for wait in fast_retries.limiter_waits)


def test_throttling_after_the_retries_is_one_sentence_naming_the_group(aws, fast_retries):
    _, at = seeded(aws)
    aws.fail("FilterLogEvents", "ThrottlingException", times=10)
    source = CloudWatchLogsSource(GROUP, region=REGION, max_attempts=3)
    with pytest.raises(InvestigationError) as info:
        ask(source, at)
    assert str(info.value) == (f"CloudWatch Logs group {GROUP} ({REGION}): throttled by CloudWatch Logs on "
                               "FilterLogEvents (still after 3 attempts); try again in a minute, or ask about a "
                               "shorter window.")
    assert aws.calls.count("FilterLogEvents") == 1 + 3  # the first try and botocore's 3 retries, all throttled
    assert fast_retries.limiter_waits and all(wait > 0 for wait in fast_retries.limiter_waits)


def test_access_denied_names_the_missing_permission_and_never_the_keys(aws):
    _, at = seeded(aws)
    aws.fail("DescribeLogStreams", "AccessDeniedException")
    with pytest.raises(SourceError) as info:
        CloudWatchLogsSource(GROUP, region=REGION).read_tunnel_logs(
            TunnelLogRequest(VPN, (), at - timedelta(hours=1), at))
    message = str(info.value)
    assert message.startswith(f"CloudWatch Logs group {GROUP} ({REGION}): access denied to logs:DescribeLogStreams")
    assert "logs:FilterLogEvents" in message and message.count(".") <= 2
    assert "testing" not in message


def test_missing_log_group_says_which_setting_to_check(aws):
    source = CloudWatchLogsSource("/aws/vendedlogs/nope", region=REGION)
    with pytest.raises(SourceError, match=r"the log group does not exist in eu-west-1; check \[aws\] log_group"):
        source.read_tunnel_logs(TunnelLogRequest(VPN, (), datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC)))


def test_no_stream_of_the_connection_is_said_not_failed(aws):
    seeded(aws)
    source = CloudWatchLogsSource(GROUP, region=REGION)
    read = source.read_tunnel_logs(TunnelLogRequest("vpn-0fffffffffffffff0", (), datetime.now(UTC)
                                                    - timedelta(hours=1), datetime.now(UTC)))
    assert read.records == [] and "no log stream of vpn-0fffffffffffffff0" in read.notes[0]
    assert "--log-stream-name-prefix vpn-0fffffffffffffff0" in read.command


def test_missing_credentials_are_one_sentence(aws, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    source = CloudWatchLogsSource(GROUP, region=REGION)
    with pytest.raises(SourceError, match="no AWS credentials found; set AWS_PROFILE"):
        source.read_tunnel_logs(TunnelLogRequest(VPN, (), datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC)))


def test_no_region_is_a_setup_error(monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # the region chain would ask instance metadata
    with pytest.raises(SourceError, match=r"no AWS region is set; set \[aws\] region"):
        CloudWatchLogsSource(GROUP)


def test_log_group_from_discovery_is_used_when_none_is_configured(aws):
    _, at = seeded(aws)
    source = CloudWatchLogsSource("", region=REGION, groups={VPN: GROUP})
    assert ask(source, at).findings[0].cause is Cause.DPD_TIMEOUT
    with pytest.raises(SourceError, match="no log group for vpn-0fffffffffffffff0; set"):
        source.read_tunnel_logs(TunnelLogRequest("vpn-0fffffffffffffff0", (), at, at))
