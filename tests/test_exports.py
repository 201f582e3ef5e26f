"""The Azure export formats of docs/exports.md parse to the same rows; bad rows are reported, good rows kept."""

from __future__ import annotations

import codecs
import json
from datetime import UTC, datetime

import duckdb
import pytest
from support.cli import run
from support.fixture_logs import FIXTURES, PARIS, RULE_FIXTURES

from diagnostics.azure.exports import ExportError, open_azure_exports, read_azure_export
from diagnostics.azure.workspace_cache import WorkspaceCache

REAL_AZURE = FIXTURES / "real" / "azure"


def test_portal_csv_with_utc_titled_time_column_is_read():
    read = read_azure_export(RULE_FIXTURES / "maintenance_failover.csv")
    assert not read.problems
    assert len(read.rows) == 13
    assert read.rows[1]["TimeGenerated"] == datetime(2026, 11, 21, 13, 58, 10, 412000, tzinfo=UTC)
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
    later = good.replace("14:02:03Z", "14:02:09Z")
    path.write_text(good + "\n{not json\n" + later + "\n")
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
    ("Category,Message\nx,y\n", "no time column"),
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


NO_CATEGORY_STILL_DOWN = """\ufeffTimeGenerated [UTC],OperationName,remoteIP_s,instance_s,Resource,ResourceGroup
"11/21/2026, 1:20:00.000 PM",ValidateGatewayConfiguration,,GatewayTenantWorker_IN_0,VPNGW01,RG-NETWORK-WEU
"11/21/2026, 1:40:00.000 PM",,,GatewayTenantWorker_IN_0,VPNGW01,RG-NETWORK-WEU
"11/21/2026, 2:02:03.120 PM",TunnelDisconnected,203.0.113.10,GatewayTenantWorker_IN_0,VPNGW01,RG-NETWORK-WEU
"11/21/2026, 2:02:03.455 PM",TunnelDisconnected,203.0.113.20,GatewayTenantWorker_IN_0,VPNGW01,RG-NETWORK-WEU
"11/21/2026, 2:02:16.204 PM",TunnelConnected,203.0.113.20,GatewayTenantWorker_IN_1,VPNGW01,RG-NETWORK-WEU
"""


def test_an_export_without_category_whose_tunnel_stays_down_is_answered_not_a_type_error(tmp_path, capsys, here):
    """Issue 13's crash: the published tunnel query's projection (no Category) and a tunnel that never came back,
    so the bot asks which categories the gateway logged; a row nothing tells the category of made that answer
    hold a None, which `coverage_notes` joined (TypeError). Now the rows say their category, the untold one is named
    in a caveat, and the answer is the drop."""
    export = tmp_path / "query_data.csv"
    export.write_text(NO_CATEGORY_STILL_DOWN, encoding="utf-8")
    code, out, err = run(capsys, "ask", "why did paris drop at 14:02", "--config",
                         str(REAL_AZURE / "vpnbot.toml"), "--azure-export", str(export), "--now",
                         "2026-11-21T18:00:00Z", "--format", "json")
    assert code == 0 and "Traceback" not in err, err
    answer = json.loads(out)
    assert [d["down_at"] for d in answer["drops"]] == ["2026-11-21T14:02:03.120Z"]
    assert answer["drops"][0]["up_at"] is None
    assert answer["findings"][0]["cause"] != "no_drop_found"
    assert any("1 rows of query_data.csv have no `Category`" in c for c in answer["caveats"]), answer["caveats"]
    assert any("sends no IKEDiagnosticLog" in n for n in answer["notes"]), answer["notes"]


def test_rows_given_twice_are_read_once_and_the_notes_say_so(tmp_path):
    """Two exports of overlapping hours pasted into one file: the overlap is not two disconnects."""
    rows = (RULE_FIXTURES / "maintenance_failover.csv").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "two-exports.csv"
    path.write_text("\n".join([*rows, *rows[3:6]]) + "\n", encoding="utf-8")
    read = read_azure_export(path)
    assert len(read.rows) == len(rows) - 1
    assert [r["OperationName"] for r in read.rows].count("TunnelDisconnected") == 4
    cache = WorkspaceCache(None)
    exports = open_azure_exports([path], cache)
    assert "two-exports.csv: 3 rows were in it twice (exports put together overlap); each was read once." \
        in exports.notes


def test_columns_no_name_explains_are_told_by_their_values_and_the_notes_say_which(tmp_path):
    """A hand-made query's `project-rename`: the operation, the peer and the instance under names of its own."""
    path = tmp_path / "renamed.csv"
    path.write_text(
        "TimeGenerated [UTC],Event type,Peer,Local side,Instance,Resource\n"
        '"11/21/2026, 2:02:03.120 PM",TunnelDisconnected,203.0.113.10,192.0.2.10,GatewayTenantWorker_IN_0,VPNGW01\n'
        '"11/21/2026, 2:02:15.870 PM",TunnelConnected,203.0.113.10,192.0.2.10,GatewayTenantWorker_IN_1,VPNGW01\n',
        encoding="utf-8")
    exports = open_azure_exports([path], WorkspaceCache(None), configured=[PARIS])  # PARIS: 203.0.113.10
    with duckdb.connect(str(exports.files[0].file), read_only=True) as con:
        rows = con.execute("SELECT Category, OperationName, remoteIP_s, instance_s FROM AzureDiagnostics_rows "
                           "ORDER BY TimeGenerated").fetchall()
    assert rows == [
        ("TunnelDiagnosticLog", "TunnelDisconnected", "203.0.113.10", "GatewayTenantWorker_IN_0"),
        ("TunnelDiagnosticLog", "TunnelConnected", "203.0.113.10", "GatewayTenantWorker_IN_1"),
    ]
    assert exports.notes == ["renamed.csv: `Event type` read as OperationName from its values; `Instance` read as "
                             "instance_s from its values; `Peer` read as the remote IP from its values."]


def test_an_export_of_all_columns_keeps_its_messages_whole_and_guesses_no_ike_columns(tmp_path):
    """Export > CSV of `AzureDiagnostics` unprojected: TenantId is a GUID on every row, not the IKE query's
    SessionID, and a maintenance message stays what the gateway logged."""
    header = ("TenantId,TimeGenerated [UTC],ResourceId,Category,ResourceGroup,SubscriptionId,ResourceProvider,Resource,"
              "ResourceType,OperationName,Level,Message,instance_s,remoteIP_s,status_s,stateChangeReason_s,Type,"
              "_ResourceId")
    arm = ("/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG-NETWORK-WEU/PROVIDERS/"
           "MICROSOFT.NETWORK/VIRTUALNETWORKGATEWAYS/VPNGW01")
    row = ('6a1b2c3d-0000-4000-8000-000000000001,"11/21/2026, 1:58:10.412 PM",{arm},GatewayDiagnosticLog,'
           "RG-NETWORK-WEU,00000000-0000-0000-0000-000000000000,MICROSOFT.NETWORK,VPNGW01,VIRTUALNETWORKGATEWAYS,"
           "HostMaintenanceEvent,Informational,Upgrade gateway started,GatewayTenantWorker_IN_0,,,,AzureDiagnostics,"
           "{lower}")
    path = tmp_path / "query_data.csv"
    path.write_text(header + "\n" + row.format(arm=arm, lower=arm.lower()) + "\n", encoding="utf-8-sig")
    exports = open_azure_exports([path], WorkspaceCache(None))
    (only,) = read_azure_export(path).rows
    assert only["Message"] == "Upgrade gateway started"
    assert only["Resource"] == "VPNGW01" and only["Category"] == "GatewayDiagnosticLog"
    assert exports.notes == [] and "TenantId" not in only
