"""A log source that cannot be set up fails only the questions that need it: an AWS tunnel configured without a
region leaves every Azure question answered, and `vpnbot serve` does not wait for EC2 discovery to start."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from support.az_cli import fake_az
from support.fixture_logs import RULE_FIXTURES
from support.raw_endpoints import SilentServer

from bot.config import load_config
from bot.workspace import DISCOVERY_PENDING, cloud_workspace
from diagnostics.azure.exports import read_azure_export

WORKSPACE_ID = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
TOKEN = "static-test-token"
CONFIG = """
timezone = "UTC"

[azure]
workspace_id = "{workspace}"
endpoint = "{endpoint}"
credential = "cli"

[[tunnels]]
name = "paris"
azure_gateway = "VPNGW01"
azure_remote_ip = "203.0.113.10"

[[tunnels]]
name = "dc1"
aws_vpn_connection = "vpn-0123456789abcdef0"
aws_outside_ips = ["52.95.10.1", "52.95.10.2"]
"""


def no_aws_region(tmp_path) -> dict[str, str]:
    """An environment where boto3 finds no region (nor a shared config file to take one from)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials")})
    return env


def test_an_aws_tunnel_without_a_region_fails_only_aws_questions_with_advice_that_works(tmp_path, log_analytics):
    rows = read_azure_export(RULE_FIXTURES / "maintenance_failover.csv").rows
    fake_az(tmp_path, TOKEN)
    server = log_analytics({WORKSPACE_ID: rows}, token=TOKEN)
    config = tmp_path / "vpnbot.toml"
    config.write_text(CONFIG.format(workspace=WORKSPACE_ID, endpoint=server.endpoint))
    env = {**no_aws_region(tmp_path), "PATH": f"{tmp_path}:{os.environ['PATH']}",
           "REQUESTS_CA_BUNDLE": str(server.ca_path)}

    def ask(question: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot.cli", "ask", question, "--config", str(config), "--now",
                               "2026-11-21T18:00:00Z", "--format", "json"],
                              capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)

    azure = ask("why did paris drop at 14:02 UTC")
    assert azure.returncode == 0, azure.stderr
    assert json.loads(azure.stdout)["findings"][0]["cause"] == "maintenance_failover"
    aws = ask("why did dc1 drop at 14:02 UTC")
    assert aws.returncode == 1
    (line,) = [x for x in aws.stderr.splitlines() if x.startswith("vpnbot: error:")]
    assert "no AWS region" in line and "AWS_DEFAULT_REGION" in line and "Traceback" not in aws.stderr


@pytest.fixture
def silent_ec2(monkeypatch, tmp_path):
    """An EC2 endpoint behind a dead proxy: it accepts connections and never answers."""
    endpoint = SilentServer().start()
    for key, value in {**no_aws_region(tmp_path), "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL_EC2": endpoint.endpoint}.items():
        monkeypatch.setenv(key, value)
    yield endpoint
    endpoint.stop()


def test_serve_does_not_wait_for_ec2_discovery_and_its_answers_say_it_is_not_finished(tmp_path, silent_ec2):
    config = tmp_path / "vpnbot.toml"
    config.write_text('[aws]\nregion = "eu-west-1"\nlog_group = "/aws/vendedlogs/vpn"\n'
                      '[[tunnels]]\nname = "dc1"\naws_vpn_connection = "vpn-0123456789abcdef0"\n')
    workspace = cloud_workspace(load_config(config), discover_in_background=True)
    silent_ec2.wait_connections(1, timeout=30)  # discovery is asking EC2, which does not answer
    assert workspace.pending == [DISCOVERY_PENDING]
    assert workspace.registry.names() == ["dc1"]  # the configured tunnels work meanwhile
    silent_ec2.release()  # EC2 hangs up: discovery ends, in one line
    assert workspace.discovery is not None and workspace.discovery.wait(60)
    assert workspace.pending == []
    assert [n for n in workspace.notes if n.startswith("Tunnel discovery skipped: ")]
