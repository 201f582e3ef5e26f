"""What never leaves in a bundle (secrets), and what leaves only on request (public IPs, point-to-site usernames):
the redactor on the shapes secrets take, then whole bundles made by `vpnbot evidence` with secrets planted in the
logs, the configuration and the environment, scanned file by file."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from support.fixture_logs import RULE_FIXTURES

from bot.cli import main
from diagnostics.evidence.redact import REDACTED, RedactionOptions, Redactor, config_view, hash_user

PSK = "Sup3r-S3cret-PSK!"
SAS_SIG = "k1%2Bq9ZJb6vSignature%3D"
BEARER = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2FwaS5sb2dhbmFseXRpY3MuaW8ifQ.c2lnbmF0dXJlc2ln"
SHARED_KEY_SIG = "c2hhcmVkLWtleS1zaWduYXR1cmUtb2YtdGhlLXdvcmtzcGFjZQ=="
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SLACK_TOKEN = "xoxb-1111-2222-fake-bot-token"
CONFIG_PSK = "config-only-psk-value-42"
NOW = "2026-11-20T12:00:00Z"  # the day after the dpd_timeout fixture
P2S_NOW = "2026-11-21T18:00:00Z"  # the p2s fixture's day


@pytest.mark.parametrize("text", [
    f"psk = {PSK}", f"PSK={PSK}", f'{{"sharedKey": "{PSK}"}}', f"pre-shared key: {PSK}",
    f"Authorization: SharedKey 0f1e2d3c:{SHARED_KEY_SIG}", f"Authorization: Bearer {BEARER}",
    f"token {BEARER}", f"https://st.blob.core.windows.net/logs/x.json?sv=2022-11-02&sig={SAS_SIG}&se=2026",
    f"key id {AWS_KEY_ID} used", f"aws_secret_access_key = {AWS_SECRET}", f"posted with {SLACK_TOKEN}",
    f'"client_secret":"{PSK}"', f"password={PSK}",
])
def test_secrets_are_masked_in_every_shape_they_take(text):
    redactor = Redactor(RedactionOptions())
    out = redactor.text(text)
    assert REDACTED in out and redactor.masked >= 1
    for secret in (PSK, BEARER, SHARED_KEY_SIG, SAS_SIG, AWS_KEY_ID, AWS_SECRET, SLACK_TOKEN):
        assert secret not in out


@pytest.mark.parametrize("text", [
    # IKE rows and the AWS and Azure messages that talk about keys without holding one stay as logged.
    "[SEND]Sending Ike payload for tunnel Id 0x3: Auth:PreShared Key- Policy1:Cipher=AES-CBC-256 Integrity=SHA1",
    "AWS could not decrypt the peer's payload with the pre-shared key: the keys differ (IKEv1)",
    "[LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status IKE authentication credentials are unacceptable",
    "TunnelDisconnected instance=GatewayTenantWorker_IN_0 remoteIP=203.0.113.10 reason='StandbyChanged'",
    "SESSION_ID :{3baa1cd0-77ec-40e6-b0d6-7ef40b2372a5} Remote 203.0.113.10:500: Local 192.0.2.10:500:",
])
def test_rows_that_only_talk_about_keys_are_left_as_logged(text):
    redactor = Redactor(RedactionOptions())
    assert redactor.text(text) == text and redactor.masked == 0


def test_public_ips_become_the_same_token_everywhere_and_private_ones_stay():
    redactor = Redactor(RedactionOptions(redact_ips=True))
    redactor.seed_ips(["203.0.113.10"])
    row = redactor.cells(["2026-11-21T14:02:06Z", "Remote 52.95.10.1:500: Local 203.0.113.10:4500:", None, 3,
                          "BGP peer 10.1.0.254 via 172.16.5.1, P2S client IP=0.113.45.12:51234, 2001:db8::7"])
    assert row == ["2026-11-21T14:02:06Z", "Remote IP-2:500: Local IP-1:4500:", None, 3,
                   "BGP peer 10.1.0.254 via 172.16.5.1, P2S client IP=0.113.45.12:51234, IP-3"]
    assert redactor.text("203.0.113.10 and 52.95.10.1") == "IP-1 and IP-2"
    assert redactor.text("at 14:02:06, version 1.2.3.400") == "at 14:02:06, version 1.2.3.400"  # not addresses
    full = "peer [2001:0db8:85a3:0000:0000:8a2e:0370:7334]:500 and fe80::1"
    assert redactor.text(full) == "peer [IP-4]:500 and fe80::1"  # uncompressed IPv6 too; link-local stays


def test_usernames_are_hashed_only_on_request():
    line = "[MSG] [default] [OVPN_7f3a] Connection successful. Username=***tosouser@contoso.com IP=10.0.0.1"
    assert Redactor(RedactionOptions()).text(line) == line
    hashed = Redactor(RedactionOptions(hash_users=True)).text(line)
    assert hashed == line.replace("***tosouser@contoso.com", hash_user("***tosouser@contoso.com"))
    assert hash_user("***tosouser@contoso.com") != hash_user("***ice@contoso.com")
    assert Redactor(RedactionOptions(hash_users=True)).text(hashed) == hashed  # redacting twice changes nothing


def test_the_configuration_keeps_identifiers_and_leaves_out_secret_looking_keys_by_name():
    kept, left_out = config_view({
        "name": "paris", "azure_gateway": "VPNGW01", "psk": PSK, "shared_key_ref": "kv://psk",
        "ipsec_policy": {"ike_encryption": "AES256", "dh_group": "DHGroup14", "preshared": PSK},
        "notes": "owner: netops", "api_token": "t0k3n",
    })
    assert kept == {"name": "paris", "azure_gateway": "VPNGW01", "notes": "owner: netops",
                    "ipsec_policy": {"ike_encryption": "AES256", "dh_group": "DHGroup14"}}
    assert left_out == ["api_token", "ipsec_policy.preshared", "psk", "shared_key_ref"]


# ------------------------------------------------------------------------------------------- whole bundles

CONFIG = """
timezone = "UTC"
state_db = "{db}"

[[tunnels]]
name = "paris"
azure_gateway = "VPNGW01"
azure_remote_ip = "203.0.113.10"
azure_resource_group = "RG-NETWORK-WEU"
azure_subscription = "5d2f7a91-3c48-4e0b-b6a2-9f1e8c7d4a30"
azure_connection = "cn-paris"
psk = "{psk}"
ipsec_policy = {{ ike_encryption = "AES256", ike_integrity = "SHA256", dh_group = "DHGroup14" }}
"""


def planted_export(tmp_path: Path) -> Path:
    """The dpd_timeout fixture with rows where secrets leaked into messages (a pasted ARM body, a SAS URL, a
    token in an error, the configured PSK itself)."""
    rows = (RULE_FIXTURES / "dpd_timeout.csv").read_text().splitlines()
    leaks = [
        f'SetConnectionConfiguration body {{""sharedKey"": ""{PSK}"", ""connectionType"": ""IPsec""}}',
        f"diagnostic upload https://st.blob.core.windows.net/insights/x.json?sv=2022-11-02&sig={SAS_SIG}&se=2026",
        f"token refresh failed: Authorization: Bearer {BEARER} key id {AWS_KEY_ID}",
        f"debug dump psk {CONFIG_PSK} posted with {SLACK_TOKEN}",
    ]
    for i, leak in enumerate(leaks):
        rows.append(f"2026-11-20T09:1{i}:00.000Z,GatewayDiagnosticLog,SetConnectionConfiguration,VPNGW01,"
                    f'RG-NETWORK-WEU,GatewayTenantWorker_IN_0,,,,Success,"{leak}"')
    path = tmp_path / "leaky.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def bundle(here: Path, capsys, monkeypatch, *extra: str) -> dict[str, bytes]:
    """`vpnbot evidence` run in `here` (the `here` fixture) with secrets planted in the logs, the configuration and the
    environment."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_TOKEN)
    config = here / "vpnbot.toml"
    config.write_text(CONFIG.format(db=here / "state.db", psk=CONFIG_PSK))
    code = main(["evidence", "--question", "why did paris drop at 09:15", "--config", str(config),
                 "--azure-export", str(planted_export(here)), "--now", NOW, "--out", "b.zip", *extra])
    _, err = capsys.readouterr()
    assert code == 0, err
    with zipfile.ZipFile(here / "b.zip") as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_no_secret_from_logs_configuration_or_environment_enters_a_bundle(here, capsys, monkeypatch):
    files = bundle(here, capsys, monkeypatch)
    assert files
    assert "chart.png" in files  # drawn from answer.json's `chart`, which is checked as text here
    for name, data in files.items():
        if name.endswith(".png"):
            continue
        text = data.decode("utf-8")
        for secret in (PSK, SAS_SIG, BEARER, AWS_KEY_ID, CONFIG_PSK, SLACK_TOKEN):
            assert secret not in text, (name, secret)
    rows = files["rows/q01-local.csv"].decode()
    assert rows.count(REDACTED) >= 5 and "connectionType" in rows  # masked, not dropped: the rest stays
    config = json.loads(files["config/tunnel.json"])
    assert "psk" not in config["tunnel"] and config["left_out_as_secret"] == ["psk"]
    assert config["tunnel"]["ipsec_policy"]["dh_group"] == "DHGroup14"
    assert config["tunnel"]["azure_connection"] == "cn-paris"
    report = files["report.md"].decode()
    assert "left out as secret-looking: psk" in report
    assert ("/subscriptions/5d2f7a91-3c48-4e0b-b6a2-9f1e8c7d4a30/resourceGroups/RG-NETWORK-WEU/providers/"
            "Microsoft.Network/connections/cn-paris") in report
    assert "203.0.113.10" in report  # IPs are kept unless asked


def test_redact_ips_replaces_public_addresses_consistently_in_every_file(here, capsys, monkeypatch):
    files = bundle(here, capsys, monkeypatch, "--redact-ips")
    assert files
    for name, data in files.items():
        if name.endswith(".png"):  # drawn from answer.json's redacted `chart`
            continue
        assert "203.0.113.10" not in data.decode(), name
    assert "| Remote (on-premises) IP | IP-1 |" in files["report.md"].decode()
    assert "Remote (on-premises) device IP: IP-1" in files["case.txt"].decode()
    assert json.loads(files["config/tunnel.json"])["tunnel"]["azure_remote_ip"] == "IP-1"
    assert ",IP-1," in files["rows/q01-local.csv"].decode()
    assert '"remoteIP_s":"IP-1"' in files["rows/q01-local.jsonl"].decode()
    assert 'Remote IP-1:' in files["queries/q01-local.kql"].decode()
    manifest = json.loads(files["manifest.json"])
    assert manifest["redaction"]["public_ips"] == "replaced"


def test_point_to_site_usernames_are_hashed_on_request_the_same_way_in_every_file(here, capsys):
    config = here / "vpnbot.toml"
    config.write_text(CONFIG.format(db=here / "state.db", psk=CONFIG_PSK))
    code = main(["evidence", "--question", "who failed to connect over point-to-site today", "--config", str(config),
                 "--azure-export", str(RULE_FIXTURES / "p2s.csv"), "--now", P2S_NOW, "--out", "p2s.zip",
                 "--hash-users"])
    _, err = capsys.readouterr()
    assert code == 0, err
    with zipfile.ZipFile(here / "p2s.zip") as zf:
        files = {name: zf.read(name).decode() for name in zf.namelist()}
    token = hash_user("***tosouser@contoso.com")
    assert files
    for name, text in files.items():
        assert "tosouser" not in text, name
    assert f"Username={token}" in files["rows/q01-local.csv"]
    assert f"user={token}" in files["report.md"]
    assert any(a["user"] == token for a in json.loads(files["answer.json"])["attempts"])
    assert "IP=0.113.45.12:51234" in files["rows/q01-local.csv"]  # already masked by Azure, not a public IP
