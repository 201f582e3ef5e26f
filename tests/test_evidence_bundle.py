"""Evidence bundles (docs/evidence.md): what a bundle holds, that its manifest verifies, that its rows are the rows of
its exact queries, that the same investigation gives the same files, and that a big investigation is streamed (memory
does not grow with the rows). Built from investigations stored the way the bot stores them."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.demo import DEMO_NOW
from support.fixture_logs import PARIS, REGISTRY, workspace_of

from bot.evidence import make_bundle
from bot.state import StateStore
from bot.workspace import Workspace
from diagnostics.aws.exports import read_aws_export
from diagnostics.azure.exports import read_azure_export
from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.azure.sources import KqlResult
from diagnostics.evidence import RedactionOptions, RowsUnavailable, build_bundle, verify
from diagnostics.evidence.bundle import FIXED_TIME
from diagnostics.evidence.model import EvidenceRecord
from diagnostics.model import QueryRecord
from diagnostics.sources import Sources
from diagnostics.tunnels import Tunnel, TunnelRegistry
from handlers.ask import ask
from handlers.evidence import load_record, record_answer

NOW = DEMO_NOW  # the `demo` fixture's instant
UTC_ZONE = ZoneInfo("UTC")


def stored(state: StateStore, workspace: Workspace, text: str, now: datetime = NOW) -> int:
    answer = ask(text, workspace.registry, workspace.sources, now, UTC_ZONE)
    question_id = record_answer(state, answer, user="U0ALICE", source="mention", channel="C0INCIDENT", now=now)
    assert question_id is not None
    return question_id


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


# ------------------------------------------------------------------------------------------------ contents


def test_a_bundle_holds_report_rows_queries_config_case_and_a_manifest_that_verifies(demo, state, tmp_path):
    question_id = stored(state, demo, "why did paris drop yesterday at 14:02")
    made = make_bundle(state, question_id, demo, tmp_path / "bundle.zip", RedactionOptions(), "U0ALICE")
    files = members(made.path)
    record = load_record(state, question_id, demo.registry)
    n = len(record.queries)
    assert set(files) == {"report.md", "case.txt", "answer.json", "timeline.csv", "config/tunnel.json",
                          "queries/queries.json", "SHA256SUMS", "manifest.json", "chart.png",  # a drop: its chart
                          *(f"queries/q{i:02d}-local.kql" for i in range(1, n + 1)),
                          *(f"rows/q{i:02d}-local.{ext}" for i in range(1, n + 1) for ext in ("csv", "jsonl"))}
    # The manifest: every other file with its SHA-256 and size, the bot's version, the generation time.
    manifest = json.loads(files["manifest.json"])
    assert {f["path"] for f in manifest["files"]} == set(files) - {"manifest.json"}
    for entry in manifest["files"]:
        data = files[entry["path"]]
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["size"]
    assert manifest["version"] == metadata.version("vpnbot") and manifest["investigation"] == question_id
    assert datetime.fromisoformat(manifest["generated_at"].replace("Z", "+00:00")) > NOW - timedelta(days=3650)
    sums = dict(reversed(line.split("  ", 1)) for line in files["SHA256SUMS"].decode().splitlines())
    assert sums == {e["path"]: e["sha256"] for e in manifest["files"] if e["path"] != "SHA256SUMS"}
    assert verify(made.path) == []
    # The zip's own hash is the one recorded in the state store, with who asked for it.
    (row,) = state.bundles(question_id)
    assert row["sha256"] == hashlib.sha256(made.path.read_bytes()).hexdigest() == made.result.file.sha256
    assert row["size"] == made.path.stat().st_size and row["created_by"] == "U0ALICE"
    assert row["file_name"] == "bundle.zip" and row["redact_ips"] == 0

    report = files["report.md"].decode()
    subscription = "5d2f7a91-3c48-4e0b-b6a2-9f1e8c7d4a30"
    for expected in (
        "why did paris drop yesterday at 14:02", f"| Subscription | {subscription} |",
        "| Resource group | RG-NETWORK-WEU |", "| Remote (on-premises) IP | 203.0.113.10 |",
        f"/subscriptions/{subscription}/resourceGroups/RG-NETWORK-WEU/providers/Microsoft.Network/"
        "virtualNetworkGateways/VPNGW01",
        "Window (UTC): 2026-11-21T13:47:00Z .. 2026-11-21T14:17:00Z",
        "maintenance_failover — high confidence — rule `maintenance_failover`",
        "HostMaintenanceEvent instance=GatewayTenantWorker_IN_0 Upgrade gateway started",
        "## What the bot could not see", "re-read with these exact queries when this bundle was generated",
    ):
        assert expected in report, expected
    case = files["case.txt"].decode()
    assert case.startswith("Subject: Site-to-site VPN paris (VPNGW01 ↔ 203.0.113.10) dropped at 2026-11-21 14:02:06")
    assert "Service: VPN Gateway" in case and f"Subscription: {subscription}" in case
    assert "Problem start (UTC): 2026-11-21T14:02:06.471Z" in case
    assert "Please confirm the platform maintenance on VPNGW01" in case
    assert "Steps already taken on our side: (fill in)" in case  # never invented
    config = json.loads(files["config/tunnel.json"])
    assert config["tunnel"]["azure_gateway"] == "VPNGW01" and config["sources"][0]["origin"] == "demo"
    answer = json.loads(files["answer.json"])
    assert answer["schema"] == 1 and answer["findings"][0]["rule"] == "maintenance_failover"


def test_the_rows_are_the_rows_of_the_exact_stored_queries_and_read_back_as_an_export(demo, state, tmp_path):
    question_id = stored(state, demo, "why did madrid drop yesterday at 10:00")
    made = make_bundle(state, question_id, demo, tmp_path / "b.zip", RedactionOptions(), "U0ALICE")
    files = members(made.path)
    record = load_record(state, question_id, demo.registry)
    queries = json.loads(files["queries/queries.json"])
    assert len(queries) == len(record.queries) >= 2  # the tunnel query and the outage's IKE query
    for doc, query in zip(queries, record.queries, strict=True):
        assert doc["text"] == query.text  # exactly as run
        assert files[doc["file"]].decode().endswith("\n" + query.text + "\n")  # under its comment header
        assert datetime.fromisoformat(doc["start"].replace("Z", "+00:00")) == query.start  # to the microsecond
        rows = csv_rows(files[doc["rows_files"][0]])
        lines = files[doc["rows_files"][1]].decode().splitlines()
        assert len(rows) == len(lines) == doc["rows_in_bundle"] == doc["rows_when_answered"] == query.rows
        assert [json.loads(line)["TimeGenerated"] for line in lines] == [r["TimeGenerated [UTC]"] for r in rows]
    # The tunnel query's CSV is a Log Analytics portal export: read back, it shows the same drops.
    export = tmp_path / "rows.csv"
    export.write_bytes(files[queries[0]["rows_files"][0]])
    again = LocalWorkspace(origin="bundle")
    again.load_rows(read_azure_export(export).rows)
    answer = ask("why did madrid drop yesterday at 10:00", demo.registry, Sources(kql=[again]), NOW, UTC_ZONE)
    original = json.loads(files["answer.json"])
    assert [d.down_ts for d in answer.investigation.drops] == [
        datetime.fromisoformat(d["down_at"].replace("Z", "+00:00")).timestamp() for d in original["drops"]]
    assert original["findings"][0]["cause"] == "psk_mismatch"


def test_the_resource_ids_come_from_the_rows_when_the_configuration_does_not_name_them(demo, state, tmp_path):
    # paris as someone configures it who knows only the gateway's name: the rows carry its ResourceId.
    bare = Workspace(TunnelRegistry([Tunnel(name="paris", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.10")]),
                     demo.sources)
    question_id = stored(state, bare, "why did paris drop yesterday at 14:02")
    files = members(make_bundle(state, question_id, bare, tmp_path / "b.zip", RedactionOptions(), "U0ALICE").path)
    report, case = files["report.md"].decode(), files["case.txt"].decode()
    subscription = "5d2f7a91-3c48-4e0b-b6a2-9f1e8c7d4a30"
    gateway_id = (f"/subscriptions/{subscription}/resourceGroups/RG-NETWORK-WEU/providers/Microsoft.Network/"
                  "virtualNetworkGateways/VPNGW01")
    for expected in (f"| Subscription | {subscription} |", "| Resource group | RG-NETWORK-WEU |",
                     f"| Gateway resource id | {gateway_id} |"):
        assert expected in report, expected
    assert "unknown" not in report.split("## Tunnel", 1)[1].split("##", 1)[0]
    assert f"Subscription: {subscription}" in case and f"Resource: {gateway_id}" in case


def test_configured_identifiers_win_over_the_rows(demo, state, tmp_path):
    other = "0a0b0c0d-1111-4222-8333-444455556666"
    configured = Tunnel(name="paris", azure_gateway="VPNGW01", azure_remote_ip="203.0.113.10",
                        azure_subscription=other, azure_resource_group="rg-vpn")
    workspace = Workspace(TunnelRegistry([configured]), demo.sources)
    question_id = stored(state, workspace, "why did paris drop yesterday at 14:02")
    files = members(make_bundle(state, question_id, workspace, tmp_path / "b.zip", RedactionOptions(), "U0ALICE").path)
    report = files["report.md"].decode()
    assert f"| Subscription | {other} |" in report and "| Resource group | rg-vpn |" in report
    assert f"/subscriptions/{other}/resourceGroups/rg-vpn/providers/Microsoft.Network/virtualNetworkGateways/VPNGW01" \
        in report
    assert "5d2f7a91" not in report.split("## Tunnel", 1)[1].split("##", 1)[0]


def test_the_same_investigation_gives_byte_identical_files_apart_from_the_generation_time(demo, state, tmp_path):
    question_id = stored(state, demo, "why did madrid drop yesterday at 10:00")
    first = make_bundle(state, question_id, demo, tmp_path / "one.zip", RedactionOptions(redact_ips=True), "U1")
    second = make_bundle(state, question_id, demo, tmp_path / "two.zip", RedactionOptions(redact_ips=True), "U2")
    a, b = members(first.path), members(second.path)
    assert a.keys() == b.keys()
    assert {name for name in a if a[name] != b[name]} <= {"manifest.json"}
    ma, mb = json.loads(a["manifest.json"]), json.loads(b["manifest.json"])
    ma.pop("generated_at"), mb.pop("generated_at")
    assert ma == mb
    with zipfile.ZipFile(first.path) as zf:
        infos = zf.infolist()
    assert {i.date_time for i in infos} == {FIXED_TIME} and {i.create_system for i in infos} == {3}
    assert [i.filename for i in infos][-2:] == ["SHA256SUMS", "manifest.json"]
    assert [r["id"] for r in state.bundles(question_id)] == [first.bundle_id, second.bundle_id]


def test_an_aws_bundle_has_the_read_commands_and_the_events_as_filter_log_events_gives_them(demo, state, tmp_path):
    question_id = stored(state, demo, "why did dc1 drop 2 days ago at 09:41")
    made = make_bundle(state, question_id, demo, tmp_path / "aws.zip", RedactionOptions(), "U0ALICE")
    files = members(made.path)
    assert verify(made.path) == []
    command = files["queries/q01-local.sh"].decode()
    assert "aws logs filter-log-events" in command and "--start-time" in command and command.startswith("# vpnbot")
    rows = csv_rows(files["rows/q01-local.csv"])
    assert rows and set(rows[0]) == {"time [UTC]", "logStreamName", "timestamp", "message"}
    assert all(r["logStreamName"].startswith("vpn-") for r in rows)
    # The JSON Lines are filter-log-events events: wrapped in {"events": [...]}, --aws-export reads them.
    export = tmp_path / "events.json"
    events = [json.loads(line) for line in files["rows/q01-local.jsonl"].decode().splitlines()]
    export.write_text(json.dumps({"events": events}))
    assert len(read_aws_export(export).records) == len(rows)
    report, case = files["report.md"].decode(), files["case.txt"].decode()
    dc1 = demo.registry.resolve("dc1")
    assert f"| AWS VPN connection id | {dc1.aws_vpn_connection} |" in report
    assert ", ".join(dc1.aws_outside_ips) in report
    assert "AWS Support case" in case and f"VPN connection id: {dc1.aws_vpn_connection}" in case
    assert "dpd_timeout" in case


def test_a_link_bundle_has_both_sides_queries_and_identifiers(demo, state, tmp_path):
    question_id = stored(state, demo, "why did hub-aws drop 2 days ago at 14:02")
    made = make_bundle(state, question_id, demo, tmp_path / "link.zip", RedactionOptions(), "U0ALICE")
    files = members(made.path)
    kinds = {json.loads(files["queries/queries.json"])[i]["kind"]
             for i in range(len(json.loads(files["queries/queries.json"])))}
    assert kinds == {"kql", "aws"}
    report = files["report.md"].decode()
    assert "Azure VPN Gateway ↔ AWS Site-to-Site VPN" in report and "| VPN gateway | VPNGW03 |" in report
    assert "| AWS VPN connection id | vpn-0e5f60718293a4b5c |" in report


def test_a_point_to_site_answer_bundles_its_attempts(state, tmp_path):
    workspace = Workspace(REGISTRY, Sources(kql=[workspace_of("p2s.csv")]))
    now = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
    question_id = stored(state, workspace, "who failed to connect over point-to-site today", now=now)
    made = make_bundle(state, question_id, workspace, tmp_path / "p2s.zip", RedactionOptions(), "U0ALICE")
    files = members(made.path)
    report = files["report.md"].decode()
    assert "## Point-to-site attempts (UTC)" in report and "user=***tosouser@contoso.com" in report
    assert "Username=***tosouser@contoso.com" in files["rows/q01-local.csv"].decode()


# -------------------------------------------------------------------------------------------- failures


def test_queries_no_source_here_can_rerun_leave_no_bundle_and_say_why(demo, state, tmp_path):
    question_id = stored(state, demo, "why did paris drop yesterday at 14:02")
    elsewhere = Workspace(demo.registry, Sources(kql=[workspace_of("dpd_timeout.csv")]))  # another origin than "demo"
    with pytest.raises(RowsUnavailable, match="no local source with origin 'demo'"):
        make_bundle(state, question_id, elsewhere, tmp_path / "none.zip", RedactionOptions(), "U0ALICE")
    assert list(tmp_path.glob("*.zip*")) == [] and state.bundles(question_id) == []


def test_a_query_that_cannot_be_rerun_is_named_and_the_others_are_bundled(demo, tmp_path):
    answer = ask("why did paris drop yesterday at 14:02", demo.registry, demo.sources, NOW, UTC_ZONE)
    from handlers.evidence import stored_answer

    inv = answer.investigation
    gone = QueryRecord("log-analytics", "AzureDiagnostics | take 1", "0f1e2d3c-gone", inv.start, inv.end, 7)
    record = EvidenceRecord(5, "why did paris drop", "2026-11-22T10:30:00Z", "U0ALICE", "C0INCIDENT", "mention",
                            stored_answer(answer), (*inv.queries, gone), PARIS)
    result = build_bundle(record, demo.sources, tmp_path / "partial.zip", version="test")
    assert result.missing == ("query 2: no Log Analytics source with origin '0f1e2d3c-gone' is configured here; run "
                              "with the configuration or exports the question was answered from",)
    files = members(result.file.path)
    assert "rows/q02-log-analytics.csv" not in files and "queries/q02-log-analytics.kql" in files
    assert "Query 2: its rows are not in this bundle" in files["report.md"].decode()


# --------------------------------------------------------------------------------------------- size bounds


class GeneratedRows:
    """A KqlBackend whose query returns `n` realistic IKE rows generated on the fly (never a list): what a day of
    a failing tunnel looks like to the bundle, without the cost of loading it into DuckDB first."""

    backend, label, origin = "local", "generated rows", "generated"

    def __init__(self, n: int) -> None:
        self.n = n

    def run_kql(self, query: str, start: datetime, end: datetime) -> KqlResult:
        columns = ["TimeGenerated", "Category", "OperationName", "Message", "Resource", "ResourceGroup"]
        base = start.timestamp()

        def rows() -> Iterator[list]:
            for i in range(self.n):
                yield [base + i * 0.35, "IKEDiagnosticLog", "IKELogEvent",
                       f"SESSION_ID :{{{i:08x}-77ec-40e6-b0d6-7ef40b2372a5}} Remote 203.0.113.10:500: Local "
                       f"192.0.2.10:500: [SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie "
                       f"0x{i:016X} and rCookie 0x0", "VPNGW01", "RG-NETWORK-WEU"]

        return KqlResult(columns, rows(), types=["datetime", "string", "string", "string", "string", "string"])


def status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))


def reset_peak_rss() -> bool:
    """Restart the process's peak-RSS count (Linux: clear_refs 5), so VmHWM measures what follows."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def generated_bundle(n: int, path: Path) -> tuple[int, int]:
    """(how much the process's peak RSS rose while bundling n rows, in bytes; rows written)."""
    start = datetime(2026, 11, 21, tzinfo=UTC)
    end = start + timedelta(seconds=n * 0.35)
    query = QueryRecord("local", "AzureDiagnostics", "generated", start, end, n)
    answer = {"schema": 1, "tunnel": {"name": "paris", "provider": "azure"}, "window": {}, "findings": [],
              "drops": [], "notes": []}
    record = EvidenceRecord(1, "q", "", "", "", "cli", answer, (query,), PARIS)
    before = status_kb("VmRSS")
    if not reset_peak_rss():
        pytest.skip("this kernel does not let a process reset its peak RSS (/proc/self/clear_refs)")
    result = build_bundle(record, Sources(kql=[GeneratedRows(n)]), path, RedactionOptions(redact_ips=True),
                          version="test")
    return (status_kb("VmHWM") - before) * 1024, result.rows


def test_a_big_investigation_is_streamed_to_disk_and_compressed_not_held_in_memory(tmp_path):
    peak, rows = generated_bundle(100_000, tmp_path / "big.zip")
    assert rows == 100_000
    files = sum(f["size"] for f in json.loads(members(tmp_path / "big.zip")["manifest.json"])["files"])
    assert files > 56 * 2**20  # 100k rows are > 56 MB as CSV + JSON Lines…
    assert peak < 48 * 2**20  # …and only a few batches of them are ever in memory
    assert (tmp_path / "big.zip").stat().st_size < files / 8  # compressed
    assert verify(tmp_path / "big.zip") == []
    with zipfile.ZipFile(tmp_path / "big.zip") as zf, zf.open("rows/q01-local.csv") as fh:
        head = fh.read(4096).decode()
    assert "Remote IP-1:500: Local IP-2:500:" in head  # redacted on the way through, consistently
    assert "203.0.113.10" not in head
