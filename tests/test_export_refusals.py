"""A malformed file given to any export reader is refused in one line with exit status 2, in a fresh `vpnbot`
process: the CLI recognises a reader's refusal by its class only among the modules that process loaded (bot/cli.py's
BAD_INPUT_ERRORS), and each reader loads its own modules lazily, so this is only seen in a process of its own."""

from __future__ import annotations

import gzip
import importlib
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import BAD_INPUT_ERRORS
from diagnostics.exportfile import ExportError

NOW = "2026-11-22T00:00:00Z"
CONFIG = """timezone = "UTC"

[[tunnels]]
name = "paris"
azure_gateway = "VPNGW01"
azure_remote_ip = "203.0.113.10"

[[tunnels]]
name = "frankfurt"
aws_vpn_connection = "vpn-0a1b2c3d4e5f60718"

[[tunnels]]
name = "dublin"
aws_vpn_connection = "vpn-0fedcba9876543210"
"""
EVENT = json.dumps({"event_timestamp": 1763733723, "details": "Tunnel is down: DPD timeout",
                    "tunnel_outside_ip": "3.120.44.10"})

#: (reader, file name, content, what the one line says): one malformed file per reader and refusal path.
CASES = [
    ("azure", "portal-local.csv", 'TimeGenerated [Local Time],OperationName,Resource\n'
                                  '"11/21/2026, 2:02:03.120 PM",TunnelDisconnected,VPNGW01\n', "--export-tz"),
    ("azure", "metrics.csv", "Foo,Bar\n1,2\n", "no time column"),
    ("azure", "az-cli.json", json.dumps([{"TimeGenerated": "yesterday", "OperationName": "TunnelDisconnected",
                                          "Resource": "VPNGW01"}]), "not a time the bot reads"),
    ("azure", "resource-logs.json", '{"time": "2026-11-21T14:02:03Z", "category": "TunnelDiagnosticLog", '
                                    '"properties": {\n', "invalid JSON"),
    ("azure", "blob.json", '{"records": []}', "no log rows"),
    ("azure", "api-response.json", json.dumps({"tables": [{"name": "PrimaryResult", "columns": [
        {"name": "OperationName", "type": "string"}], "rows": [["TunnelDisconnected"]]}]}), "no time"),
    ("azure", "grid.tsv", "2026-11-21 14:02:03\tTunnelDisconnected\t203.0.113.10\n"
                          "2026-11-21 14:02:15\tTunnelConnected\t203.0.113.10\n", "carry no zone"),
    ("azure", "unicode.txt", b"\xff\xfe" + "TimeGenerated [UTC],OperationName\n".encode("utf-16-le") + b"\x00\xd8A\x00",
     "export it again as UTF-8"),
    ("azure", "vpn-troubleshoot.zip", b"PK\x03\x04 cut short", "zip"),
    ("aws", "filter-log-events.json", '{"events": [{"logStreamName": "vpn-0a1b2c3d4e5f60718-3.120.44.10", '
                                      '"timestamp": 17', "filter-log-events"),
    ("aws", "get-log-events.json", json.dumps({"events": [{"timestamp": 1763733723000, "message": EVENT,
                                                           "ingestionTime": 1763733724000}]}), "--aws-stream"),
    ("aws", "insights.csv", "@timestamp,@logStream,@message\n2026-11-21 14:02:03.000,app-stream,hello\n",
     "Site-to-Site VPN"),
    ("aws", "text.txt", "EVENTS\tnot-a-number\tvpn-0a1b2c3d4e5f60718-3.120.44.10\n", "EVENTS line"),
    ("aws", "events.json.gz", gzip.compress(b'{"events": [')[:12], "gzip"),
    ("explain", "pasted.json", '[{"TimeGenerated": "2026-11-21T14:02:03Z", "OperationName": ', "invalid JSON"),
]


def argv(reader: str, path: Path, config: Path) -> list[str]:
    if reader == "explain":
        return ["explain", str(path), "--config", str(config), "--now", NOW]
    return ["ask", "why did paris drop at 14:02", "--config", str(config), f"--{reader}-export", str(path),
            "--now", NOW]


def test_a_malformed_file_for_each_reader_is_one_line_and_exit_2_in_a_fresh_process(tmp_path):
    config = tmp_path / "vpnbot.toml"
    config.write_text(CONFIG)
    env = {**os.environ, "VPNBOT_CACHE_DIR": str(tmp_path / "cache")}
    running = []
    for reader, name, content, said in CASES:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        # all at once: each is a process of its own, as a user runs it
        running.append((name, said, subprocess.Popen([sys.executable, "-m", "bot.cli", *argv(reader, path, config)],
                                                     cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                                     stderr=subprocess.PIPE, text=True)))
    for name, said, proc in running:
        out, err = proc.communicate(timeout=120)
        lines = err.splitlines()
        assert "Traceback" not in out + err, (name, err)
        assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("vpnbot: error: "), (name, err)
        assert name in lines[0] and said in lines[0], (name, said, lines[0])


READERS = ("diagnostics.exportfile", "diagnostics.foreign", "diagnostics.pasted", "diagnostics.troubleshoot_zip",
           "diagnostics.azure.exports", "diagnostics.azure.export_load", "diagnostics.azure.export_json",
           "diagnostics.azure.export_columns", "diagnostics.azure.export_times", "diagnostics.aws.exports",
           "diagnostics.aws.export_sources", "diagnostics.aws.export_index", "diagnostics.aws.export_shapes",
           "diagnostics.aws.attribution", "handlers.explain")


@pytest.mark.parametrize("module", READERS)
def test_every_error_an_export_reader_defines_means_bad_input_to_the_cli(module):
    """A new refusal class must be an ExportError or be listed in BAD_INPUT_ERRORS, else it would end `vpnbot` with a
    traceback the day a reader lets it out."""
    listed = {(m, n) for m, n in BAD_INPUT_ERRORS}
    loaded = importlib.import_module(module)
    errors = [cls for name, cls in inspect.getmembers(loaded, inspect.isclass)
              if cls.__module__ == module and issubclass(cls, Exception) and not name.startswith("_")]
    for cls in errors:
        assert issubclass(cls, ExportError) or (module, cls.__name__) in listed, f"{module}.{cls.__name__}"
