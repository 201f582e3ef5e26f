"""Watching tunnels: new drops found from the state changes ingested since a watermark, grouped into incidents
(a failover with its duration, a flap series, a gateway's maintenance), explained by the usual investigation and
claimed once (docs/watch.md).

    result = poll(registry, sources, state, now, owner="cli-1234")
    result.incidents   # each new incident, to print or post once
"""
