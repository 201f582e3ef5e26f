"""The Azure export formats of docs/exports.md parse to the same rows; bad rows are reported, good rows kept."""

from __future__ import annotations

import codecs
import json

import pytest
from support.fixture_logs import RULE_FIXTURES

from diagnostics.azure.exports import ExportError, read_azure_export


def test_portal_csv_with_utc_titled_time_column_is_read():
    read = read_azure_export(RULE_FIXTURES / "maintenance_failover.csv")
    assert not read.problems
    assert len(read.rows) == 13
    assert read.rows[1]["TimeGenerated"] == "11/21/2026, 1:58:10.412 PM"
    assert read.rows[1]["Message"] == "Upgrade gateway started"


def test_az_cli_json_list_of_string_values_is_read():
    read = read_azure_export(RULE_FIXTURES / "remote_initiated.json")
    assert [r["Category"] for r in read.rows][:2] == ["IKEDiagnosticLog", "IKEDiagnosticLog"]
    assert read.rows[2]["stateChangeReason_s"] == "RemoteCrashTriggered"


def test_resource_log_json_lines_are_flattened_like_azure_monitor_does():
    read = read_azure_export(RULE_FIXTURES / "dpd_timeout_no_reason.jsonl")
    first = read.rows[0]
    assert first["Resource"] == "VPNGW01"
    assert first["ResourceGroup"] == "RG-NETWORK-WEU"
    assert first["instance_s"] == "GatewayTenantWorker_IN_1"
    assert first["remoteIP_s"] == "203.0.113.10"
    assert read.rows[1]["Message"].startswith("SESSION_ID :{3baa1cd0")


def test_storage_blob_records_document_is_read(tmp_path):
    record = {"time": "2026-11-21T14:02:03Z", "resourceId": "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/"
              "MICROSOFT.NETWORK/VIRTUALNETWORKGATEWAYS/VPNGW01", "category": "GatewayDiagnosticLog",
              "operationName": "HostMaintenanceEvent", "properties": {"message": "Upgrade gateway started"}}
    path = tmp_path / "PT1H.json"
    path.write_text(json.dumps({"records": [record]}))
    read = read_azure_export(path)
    assert read.rows[0]["OperationName"] == "HostMaintenanceEvent"
    assert read.rows[0]["Message"] == "Upgrade gateway started"


def test_malformed_csv_rows_are_reported_with_file_and_line_and_good_rows_kept(tmp_path):
    path = tmp_path / "paris.csv"
    path.write_text(
        "TimeGenerated [UTC],Category,OperationName,Resource,remoteIP_s\n"
        "2026-11-21T14:02:03Z,TunnelDiagnosticLog,TunnelDisconnected,VPNGW01,203.0.113.10\n"
        "not a time,TunnelDiagnosticLog,TunnelConnected,VPNGW01,203.0.113.10\n"
        "2026-11-21T14:02:15Z,TunnelDiagnosticLog,TunnelConnected,VPNGW01\n"
        "2026-11-21T14:02:16Z,TunnelDiagnosticLog,TunnelConnected,VPNGW01,203.0.113.10\n"
    )
    read = read_azure_export(path)
    assert len(read.rows) == 2
    assert read.problems == [
        "paris.csv:3: unreadable time 'not a time'; row skipped",
        "paris.csv:4: 4 fields where the header has 5; row skipped",
    ]


def test_broken_json_line_is_reported_and_the_rest_kept(tmp_path):
    good = json.dumps({"time": "2026-11-21T14:02:03Z", "category": "TunnelDiagnosticLog",
                       "operationName": "TunnelConnected", "resourceId": "/x/VPNGW01", "properties": {}})
    path = tmp_path / "blob.json"
    path.write_text(good + "\n{not json\n" + good + "\n")
    read = read_azure_export(path)
    assert len(read.rows) == 2
    assert read.problems[0].startswith("blob.json:2: invalid JSON")


def test_broken_json_array_keeps_the_elements_before_the_damage(tmp_path):
    path = tmp_path / "az.json"
    path.write_text('[\n  {"TimeGenerated": "2026-11-21T14:02:03Z", "Category": "TunnelDiagnosticLog"},\n'
                    '  {"TimeGenerated": "2026-11-21T14:02:04Z", "Category": \n')
    read = read_azure_export(path)
    assert len(read.rows) == 1
    assert read.problems[0].startswith("az.json:3: invalid JSON")


@pytest.mark.parametrize("content,message", [
    (None, "no such file"),
    ("", "the file is empty"),
    ("Category,Message\nx,y\n", "no TimeGenerated column"),
])
def test_unreadable_file_is_one_clear_error_naming_it(tmp_path, content, message):
    path = tmp_path / "export.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ExportError, match=message) as info:
        read_azure_export(path)
    assert "export.csv" in str(info.value)


PORTAL_CSV = (
    "TimeGenerated [UTC],Category,OperationName,Resource,remoteIP_s,Message\r\n"
    "2026-11-21T14:02:03Z,TunnelDiagnosticLog,TunnelDisconnected,VPNGW01,203.0.113.10,\"Tunnel disconnected: "
    "Größe ✓\"\r\n"
)


@pytest.mark.parametrize("encode", [
    lambda text: text.encode("utf-8"),
    lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),  # the portal's CSV
    lambda text: text.encode("utf-16"),  # Excel "Unicode text", Windows PowerShell `>`: LE with a BOM
    lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    lambda text: text.encode("utf-16-le"),  # a BOM lost on the way
], ids=["utf-8", "utf-8 bom", "utf-16 le bom", "utf-16 be bom", "utf-16 le no bom"])
def test_an_export_is_read_the_same_in_every_encoding_windows_tools_write(tmp_path, encode):
    path = tmp_path / "export.csv"
    path.write_bytes(encode(PORTAL_CSV))
    read = read_azure_export(path)
    assert not read.problems
    assert [(r["OperationName"], r["Message"]) for r in read.rows] == [
        ("TunnelDisconnected", "Tunnel disconnected: Größe ✓")]


def test_a_file_in_another_encoding_is_refused_with_how_to_export_it_again(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(PORTAL_CSV.encode("cp1252", errors="replace"))  # Excel's "CSV (Comma delimited)"
    with pytest.raises(ExportError, match=r"export.csv: byte \d+ is not text in UTF-8 or UTF-16; export it again"):
        read_azure_export(path)
