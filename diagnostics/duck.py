"""DuckDB connections for the bot's own files (the local workspace, loaded exports, indexes, the demo's week).

DuckDB draws a progress bar on stdout for any query that runs over two seconds, even when stdout is a pipe: in the
middle of `vpnbot … --format json` it would corrupt the answer, and in Slack mode it fills the service's log. Every
connection the bot opens turns it off (`enable_progress_bar` can only be set per connection, not in `config=`).
"""

from __future__ import annotations

import duckdb


def connect(path: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection to the DuckDB file at `path`, its progress bar off."""
    con = duckdb.connect(path, read_only=read_only)
    con.execute("SET enable_progress_bar = false")
    return con
