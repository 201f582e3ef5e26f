"""AWS Site-to-Site VPN: tunnel logs from CloudWatch Logs, exports and the demo, parsed, classified and explained.

    from diagnostics.aws import CloudWatchLogsSource
    source = CloudWatchLogsSource("/aws/vendedlogs/vpn", region="eu-west-1")
    result = investigate(tunnel, start, end, backends=[source], now=now, anchor=anchor)   # diagnostics.investigate

Modules: `streams` (stream names), `parser` (events, both key spellings, BGP), `sources` (the `AwsLogSource`
protocol, the in-memory source, the re-runnable command line), `cloudwatch` (boto3), `exports`
(`aws logs filter-log-events` JSON), `discovery` (EC2 describe_vpn_connections), `rules` (message -> cause
table), `timeline` (state changes and drops per tunnel), `diagnose` (findings), `investigate` (the entry
point), `demo` (the demo connections).
"""

from __future__ import annotations

from .cloudwatch import CloudWatchLogsSource
from .discovery import DiscoveredConnection, discover, discover_connections, merge_discovered
from .exports import AwsExportError, read_aws_export
from .investigate import investigate_aws
from .parser import LogRecord, parse_record, parse_records
from .rules import BGP_MESSAGES, TUNNEL_MESSAGES, MessageRule, classify_message
from .sources import AwsLogSource, AwsRead, MemoryLogSource, TunnelLogRequest
from .streams import StreamName, parse_stream_name

__all__ = [
    "BGP_MESSAGES", "TUNNEL_MESSAGES", "AwsExportError", "AwsLogSource", "AwsRead", "CloudWatchLogsSource",
    "DiscoveredConnection", "LogRecord", "MemoryLogSource", "MessageRule", "StreamName", "TunnelLogRequest",
    "classify_message", "discover", "discover_connections", "investigate_aws", "merge_discovered", "parse_record",
    "parse_records", "parse_stream_name", "read_aws_export",
]
