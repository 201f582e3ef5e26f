"""AWS Site-to-Site VPN: tunnel logs from CloudWatch Logs, exports and the demo, read into a timeline.

Modules: `streams` (stream names), `parser/rows` (events, both key spellings, BGP), `sources` (the `AwsLogSource`
protocol, the in-memory source, the re-runnable command line), `cloudwatch` (boto3), `exports` (an export file read,
or refused in one line), `export_shapes` (every shape CloudWatch events are saved in), `attribution` (the tunnel of
events that name no stream), `export_index` (big files indexed and cached), `export_layouts` (where the events of
each indexed shape lie in its bytes), `export_sources` (export files as log sources), `discovery` (EC2
describe_vpn_connections), `timeline` (state changes and drops per tunnel), `investigate` (the AWS side of an
investigation), `demo` (the demo connections). What the messages mean is in `diagnostics.rules` (the message table
and the AWS rules).
"""
