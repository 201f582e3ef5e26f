"""A fresh `vpnbot` process pays only for its own command: `tunnels` loads no log reader, a question on the demo
loads no cloud SDK and no evidence code, and the demo's week comes from the on-disk cache (bot/demo_cache.py), built
again only when it is stale (another generator, another day) or unreadable. The speed itself is measured by
benchmarks/bench_startup.py, not here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.demo import DEMO_NOW

import bot.demo_cache as demo_cache
from bot.workspace import demo_workspace
from diagnostics.aws import demo as aws_demo
from diagnostics.azure import demo as azure_demo
from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.sources import Sources
from handlers.ask import ask
from handlers.render.text import render_text

ROOT = Path(__file__).resolve().parent.parent
#: What no demo command needs: the cloud SDKs, and the evidence bundle's code.
NEVER_ON_THE_DEMO = ("boto3", "botocore", "azure.monitor.query", "azure.identity", "diagnostics.evidence",
                     "handlers.evidence", "bot.evidence")
#: What `vpnbot tunnels` on the demo does not need either: it reads no log.
NOT_FOR_THE_TUNNELS = (*NEVER_ON_THE_DEMO, "duckdb", "duckdb_kql", "sqlite_utils", "handlers.ask",
                       "diagnostics.investigate", "diagnostics.rules")
QUESTION = "why did paris drop at 14:02"
ZONE = ZoneInfo("UTC")


def loaded_after(argv: list[str], cache: Path) -> tuple[list[str], str]:
    """The modules a fresh process has loaded after `vpnbot ARGV` (from bot.cli.main), and what it printed."""
    code = ("import io, json, sys, contextlib\n"
            "from bot.cli import main\n"
            "out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n"
            f"    status = main({argv!r})\n"
            "print(json.dumps({'status': status, 'modules': sorted(sys.modules), 'out': out.getvalue()}))\n")
    env = {**os.environ, "VPNBOT_CACHE_DIR": str(cache)}
    env.pop("VPNBOT_CONFIG", None)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 0, done.stderr
    return result["modules"], result["out"]


def test_tunnels_on_the_demo_loads_no_log_reader(tmp_path):
    modules, out = loaded_after(["tunnels"], tmp_path / "cache")
    assert "paris" in out and "hub-aws" in out
    loaded = [m for m in NOT_FOR_THE_TUNNELS if m in modules]
    assert loaded == [], f"`vpnbot tunnels` loaded {loaded}"


def test_a_second_question_on_the_demo_loads_no_sdk_no_evidence_code_and_no_kql_parser(tmp_path):
    argv = ["ask", QUESTION, "--now", "2026-12-07T16:00:00Z"]
    first, answer = loaded_after(argv, tmp_path / "cache")
    assert "duckdb_kql" in first  # the first process translated the queries' shapes, and stored them
    again, same = loaded_after(argv, tmp_path / "cache")
    assert same == answer and "paris" in answer
    assert [m for m in NEVER_ON_THE_DEMO if m in again] == []
    assert "duckdb_kql" not in again, "the stored KQL translations were not reused"


#: The rule modules an Azure question has no use for: AWS's (the message table, the AWS drop explanation) and the
#: traffic intent's (diagnostics.rules loads a provider's and an intent's rules only when they are asked for).
NOT_FOR_AN_AZURE_DROP = ("diagnostics.rules.aws_messages", "diagnostics.rules.aws_bgp",
                         "diagnostics.rules.aws_redundancy", "diagnostics.rules.aws_route_rejected",
                         "diagnostics.rules.aws_tunnel_drop", "diagnostics.rules.rekey_collision",
                         "diagnostics.rules.traffic_selector_drops", "diagnostics.rules.no_routes",
                         "diagnostics.rules.one_way_traffic", "diagnostics.rules.no_traffic",
                         "diagnostics.rules.traffic_flowing", "diagnostics.rules.support.traffic")


def test_an_azure_drop_question_loads_no_aws_rule_and_no_traffic_rule(tmp_path):
    now = ["--now", "2026-12-07T16:00:00Z"]
    azure, answer = loaded_after(["ask", "why did paris drop yesterday at 14:40", *now], tmp_path / "cache")
    assert "paris" in answer and "dropped at 2026-12-06 14:40" in answer  # a drop, explained by the drop rules
    assert "diagnostics.rules.maintenance_failover" in azure
    assert [m for m in NOT_FOR_AN_AZURE_DROP if m in azure] == []
    aws, answer = loaded_after(["ask", "why did dc2 drop 4 days ago at 10:12", *now], tmp_path / "cache")
    assert "psk_mismatch" in answer
    assert "diagnostics.rules.aws_tunnel_drop" in aws and "diagnostics.rules.aws_messages" in aws


def week_files(root: Path) -> list[Path]:
    return sorted((root / "demo").glob("demo-*.duckdb"))


@pytest.fixture
def cache_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("VPNBOT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_demo_week_is_reused_while_fresh(cache_dir):
    demo_workspace(DEMO_NOW)
    [built] = week_files(cache_dir)
    inode = built.stat().st_ino  # a week built again is a new file renamed into place
    workspace = demo_workspace(DEMO_NOW)
    assert week_files(cache_dir) == [built]
    assert built.stat().st_ino == inode
    assert "paris" in render_text(ask(QUESTION, workspace.registry, workspace.sources, DEMO_NOW, ZONE))


def test_on_the_wall_clock_a_week_built_minutes_ago_is_reused(cache_dir):
    at = DEMO_NOW.replace(minute=0)
    demo_workspace(at + timedelta(minutes=1), pinned=False)
    demo_workspace(at + timedelta(minutes=8), pinned=False)
    assert len(week_files(cache_dir)) == 1
    demo_workspace(at + timedelta(minutes=12), pinned=False)
    assert len(week_files(cache_dir)) == 2  # more than SLOT later: the recent scenarios moved on


def test_another_day_or_generator_version_builds_the_week_again(cache_dir, monkeypatch):
    demo_workspace(DEMO_NOW)
    demo_workspace(DEMO_NOW + timedelta(days=1))
    assert len(week_files(cache_dir)) == 2
    monkeypatch.setattr(demo_cache, "GENERATOR_VERSION", demo_cache.GENERATOR_VERSION + 1)
    demo_workspace(DEMO_NOW)
    names = [p.name for p in week_files(cache_dir)]
    assert len(names) == 3
    assert any(n.startswith(f"demo-g{demo_cache.GENERATOR_VERSION}-") for n in names)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_an_unreadable_cached_week_is_built_again(cache_dir, damage):
    demo_workspace(DEMO_NOW)
    [built] = week_files(cache_dir)
    whole = built.read_bytes()
    built.write_bytes({"garbage": b"not a duckdb file\n" * 100, "truncated": whole[: len(whole) // 3],
                       "empty": b""}[damage])
    workspace = demo_workspace(DEMO_NOW)
    assert "paris" in render_text(ask(QUESTION, workspace.registry, workspace.sources, DEMO_NOW, ZONE))
    assert built.stat().st_size > len(whole) // 2


def test_the_cached_week_answers_as_the_generated_one(cache_dir):
    """The cache changes where the rows come from, never the answer."""
    now = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    cached = demo_workspace(now)
    fresh = LocalWorkspace(label="demo workspace", origin="demo")
    fresh.load_rows(azure_demo.generate_rows(now))
    generated = Sources(kql=[fresh], aws=[aws_demo.demo_source(now)], metrics=cached.sources.metrics)  # not cached
    for question in (QUESTION, "is paris flapping", "status", "drops lyon this week", "summary"):
        assert render_text(ask(question, cached.registry, cached.sources, now, ZONE)) == \
            render_text(ask(question, cached.registry, generated, now, ZONE)), question


@pytest.mark.parametrize("where", ["off", "a file"])
def test_without_a_usable_cache_directory_the_demo_still_answers(monkeypatch, tmp_path, where):
    if where == "a file":
        (tmp_path / "cache").write_text("not a directory")
    monkeypatch.setenv("VPNBOT_CACHE_DIR", "off" if where == "off" else str(tmp_path / "cache"))
    workspace = demo_workspace(DEMO_NOW)
    answer = ask(QUESTION, workspace.registry, workspace.sources, DEMO_NOW, ZONE)
    assert "paris" in render_text(answer)
    assert "dc2" in render_text(ask("why did dc2 drop 4 days ago at 10:12", workspace.registry, workspace.sources,
                                    DEMO_NOW, ZONE))
