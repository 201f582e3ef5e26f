"""DuckDB's progress bar would land on stdout in the middle of a `--format json` answer (diagnostics/duck.py)."""

from __future__ import annotations

from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.duck import connect


def progress_bar(con) -> bool:
    return con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]


def test_a_connection_to_a_file_of_the_bot_draws_no_progress_bar(tmp_path):
    con = connect(str(tmp_path / "x.duckdb"))
    try:
        assert progress_bar(con) is False
    finally:
        con.close()


def test_the_local_workspace_that_runs_every_local_query_draws_no_progress_bar():
    assert progress_bar(LocalWorkspace()._con) is False
