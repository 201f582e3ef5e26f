"""AWS Site-to-Site VPN: tunnel logs from CloudWatch Logs, exports and the demo, read into a timeline.

Modules: `streams` (stream names), `parser/rows` (events, both key spellings, BGP), `sources` (the `AwsLogSource`
protocol, the in-memory source, the re-runnable command line), `cloudwatch` (boto3), `exports` (`aws logs
filter-log-events` JSON), `discovery` (EC2 describe_vpn_connections), `timeline` (state changes and drops per
tunnel), `investigate` (the AWS side of an investigation), `demo` (the demo connections). What the messages mean
is in `diagnostics.rules` (the message table and the AWS rules).
"""
