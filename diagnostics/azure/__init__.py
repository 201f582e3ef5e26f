"""Azure VPN Gateway: diagnostic logs (AzureDiagnostics) from Log Analytics, exports and the demo, read into a timeline.

Modules: `sources` (the KQL backend protocol), `loganalytics` (LogsQueryClient), `local_workspace` (DuckDB +
duckdb-kql for exports and the demo), `credentials`, `kql` (the queries), `parser/rows` (AzureDiagnostics rows into
events), `exports` (portal CSV, `az` JSON, resource-log JSON lines), `timeline` (the streaming timeline builder),
`ike`, `ike_errors`, `negotiation`, `policy` (IKE negotiations reconstructed and compared with the gateway's
policy), `p2s` (point-to-site), `investigate` (the Azure side of an investigation), `demo` (the demo workspace).
"""
