"""The CloudWatch AWS/VPN metrics source through real boto3 against moto's CloudWatch on 127.0.0.1.

moto stores what `put_metric_data` puts under AWS/VPN and answers `get_metric_data` with it (Period and Stat applied);
it never paginates (no NextToken) and enforces no IAM, so denials and throttling come from the fault layer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.aws_retries import NoWaitRetries
from support.moto_server import MotoServer

from diagnostics import deadline
from diagnostics.aws.metrics import CloudWatchMetricsSource
from diagnostics.aws.metrics_query import MAX_QUERIES
from diagnostics.traffic.model import Metric
from diagnostics.tunnels import Tunnel

DC1 = Tunnel("dc1", aws_vpn_connection="vpn-0a1b2c3d4e5f60718", aws_outside_ips=("203.0.113.130", "203.0.113.131"))
DC2 = Tunnel("dc2", aws_vpn_connection="vpn-0b2c3d4e5f6071829")


def window() -> tuple[datetime, datetime]:
    # CloudWatch refuses data points more than two weeks old: the data is put around the wall clock.
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    end -= timedelta(minutes=end.minute % 5)
    return end - timedelta(hours=1), end


def put(aws: MotoServer, dimension: str, value: str, start: datetime, state: list[float], data_in: list[float],
        data_out: list[float]) -> None:
    cloudwatch = aws.client("cloudwatch")
    for i, (s, a, b) in enumerate(zip(state, data_in, data_out, strict=True)):
        at = start + timedelta(minutes=5 * i)
        dims = [{"Name": dimension, "Value": value}]
        cloudwatch.put_metric_data(Namespace="AWS/VPN", MetricData=[
            {"MetricName": "TunnelState", "Dimensions": dims, "Timestamp": at, "Value": s},
            {"MetricName": "TunnelDataIn", "Dimensions": dims, "Timestamp": at, "Value": a, "Unit": "Bytes"},
            {"MetricName": "TunnelDataOut", "Dimensions": dims, "Timestamp": at, "Value": b, "Unit": "Bytes"},
        ])


def test_every_tunnel_of_a_question_is_read_in_one_get_metric_data_call_per_region(aws: MotoServer):
    start, end = window()
    put(aws, "TunnelIpAddress", "203.0.113.130", start, [1] * 12, [2000] * 12, [5000] * 12)
    put(aws, "TunnelIpAddress", "203.0.113.131", start, [1] * 12, [0] * 12, [0] * 12)
    put(aws, "VpnId", "vpn-0b2c3d4e5f6071829", start, [1] * 12, [300] * 12, [100] * 12)
    aws.layer.calls.clear()
    source = CloudWatchMetricsSource(region="eu-west-1")
    traffic = source.read([DC1, DC2], start, end, 300)
    assert aws.calls == ["GetMetricData"]
    assert traffic["dc1"].get(Metric.BYTES_IN).total == 12 * 2000
    assert traffic["dc1"].get(Metric.BYTES_OUT).total == 12 * 5000
    assert traffic["dc1"].parts["203.0.113.131"][Metric.BYTES_IN].total == 0
    assert traffic["dc2"].get(Metric.BYTES_OUT).total == 12 * 100  # no outside IPs known: by VpnId
    assert traffic["dc1"].queries[0].backend == "cloudwatch-metrics"
    assert "aws cloudwatch get-metric-data --region eu-west-1" in traffic["dc1"].queries[0].text
    assert not traffic["dc1"].failures


def test_a_connection_is_up_while_one_of_its_tunnels_is(aws: MotoServer):
    start, end = window()
    put(aws, "TunnelIpAddress", "203.0.113.130", start, [1, 1, 0, 0] + [1] * 8, [2000] * 12, [5000] * 12)
    put(aws, "TunnelIpAddress", "203.0.113.131", start, [1] * 12, [10] * 12, [10] * 12)
    traffic = CloudWatchMetricsSource(region="eu-west-1").read([DC1], start, end, 300)["dc1"]
    assert [v for _, v in traffic.parts["203.0.113.130"][Metric.TUNNEL_UP].points][:4] == [1, 1, 0, 0]
    assert {v for _, v in traffic.get(Metric.TUNNEL_UP).points} == {1}


def test_access_denied_is_one_line_naming_cloudwatch_get_metric_data(aws: MotoServer):
    start, end = window()
    aws.fail("GetMetricData", "AccessDeniedException")
    traffic = CloudWatchMetricsSource(region="eu-west-1").read([DC1], start, end, 300)["dc1"]
    assert not traffic.readable
    assert traffic.failures == ["CloudWatch AWS/VPN metrics (eu-west-1): access denied to cloudwatch:GetMetricData; "
                                "grant the bot's identity cloudwatch:GetMetricData (e.g. the CloudWatchReadOnlyAccess "
                                "policy)."]


def test_throttling_is_retried_and_then_answered(aws: MotoServer, fast_retries: NoWaitRetries):
    start, end = window()
    put(aws, "TunnelIpAddress", "203.0.113.130", start, [1] * 12, [2000] * 12, [5000] * 12)
    aws.layer.calls.clear()
    aws.fail("GetMetricData", "ThrottlingException", times=2)
    traffic = CloudWatchMetricsSource(region="eu-west-1").read([DC1], start, end, 300)["dc1"]
    assert traffic.get(Metric.BYTES_IN).total == 12 * 2000 and not traffic.failures
    assert aws.calls == ["GetMetricData"] * 3 and len(fast_retries.backoffs) == 2


def test_throttling_that_outlasts_the_retries_is_one_line(aws: MotoServer, fast_retries: NoWaitRetries):
    start, end = window()
    aws.fail("GetMetricData", "ThrottlingException", times=20)
    traffic = CloudWatchMetricsSource(region="eu-west-1", max_attempts=3).read([DC1], start, end, 300)["dc1"]
    assert traffic.failures == ["CloudWatch AWS/VPN metrics (eu-west-1): throttled on GetMetricData (still after 3 "
                                "attempts); try again in a minute."]


def test_more_tunnels_than_one_request_holds_are_read_in_chunks_of_500_queries(aws: MotoServer):
    start, end = window()
    many = [Tunnel(f"t{i}", aws_vpn_connection=f"vpn-{i:017x}", aws_outside_ips=(f"198.18.{i // 200}.{i % 200}",
                                                                                 f"198.19.{i // 200}.{i % 200}"))
            for i in range(100)]  # 200 tunnels x 3 metrics = 600 queries
    aws.layer.calls.clear()
    source = CloudWatchMetricsSource(region="eu-west-1")
    traffic = source.read(many, start, end, 300)
    assert MAX_QUERIES < 600 and aws.calls == ["GetMetricData", "GetMetricData"] and source.calls == 2
    assert all(not t.failures for t in traffic.values())


def test_a_tunnel_without_a_vpn_connection_is_not_covered():
    source = CloudWatchMetricsSource(region="eu-west-1")
    assert not source.covers(Tunnel("paris", azure_gateway="VPNGW01"))
    assert source.read([Tunnel("paris", azure_gateway="VPNGW01")], *window(), 300) == {}


def test_a_question_out_of_time_gets_one_line_and_no_call(aws: MotoServer):
    aws.layer.calls.clear()
    with deadline.within(0):
        traffic = CloudWatchMetricsSource(region="eu-west-1").read([DC1], *window(), 300)["dc1"]
    assert aws.calls == []
    assert len(traffic.failures) == 1 and "did not answer within the question's" in traffic.failures[0]


def test_network_and_credential_failures_are_said_as_for_cloudwatch_logs():
    from botocore.exceptions import ConnectTimeoutError, PartialCredentialsError, ReadTimeoutError

    source = CloudWatchMetricsSource(region="eu-west-1")
    url = "https://monitoring.eu-west-1.amazonaws.com"
    assert source.explain(ConnectTimeoutError(endpoint_url=url)).startswith("cannot reach CloudWatch")
    assert "did not answer GetMetricData in time" in source.explain(ReadTimeoutError(endpoint_url=url))
    assert source.explain(PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY")).startswith(
        "no AWS credentials found")
