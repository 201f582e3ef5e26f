"""A bundle is byte for byte what the row-by-row writer made before rows were written a batch and a column at a time
(diagnostics/evidence/lines.py, `Redactor.rows`, `Reread.batches`, the JSON Lines deflated alongside): the same
investigation, over rows chosen to hit every path (secrets, usernames, addresses, ties in time, quotes, commas, line
breaks, NULs, non-ASCII, numbers, nulls, dynamic values, a source that gives no column types), gives the files and
the zip recorded in tests/fixtures/evidence_golden.json by the earlier writer.

Regenerate the golden file only when the bundle is meant to change:
`.venv/bin/python tests/test_evidence_golden.py` (it writes what the checked-out code gives).
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # support.* when run as a script

from support.fixture_logs import PARIS

from diagnostics.azure.sources import KqlResult
from diagnostics.evidence import RedactionOptions, build_bundle
from diagnostics.evidence.model import EvidenceRecord
from diagnostics.model import QueryRecord
from diagnostics.sources import Sources

GOLDEN = Path(__file__).parent / "fixtures" / "evidence_golden.json"
START = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)
GENERATED_AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
ROWS = 6_000  # three batches and a bit
ENVELOPE = "SESSION_ID :{{{:08x}-77ec-40e6-b0d6-7ef40b2372a5}} Remote 203.0.113.10:500: Local 192.0.2.10:500: "
TEXTS = [
    "[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie 0xCBF235637168FA00 and rCookie 0x0",
    "[SEND]Sending Ike payload for tunnel Id 0x3: Auth:PreShared Key- Policy1:Cipher=AES-CBC-256 Integrity=SHA1",
    "[LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status IKE authentication credentials are unacceptable",
    'pasted config: psk = "S3cr3t-Sh4red!" and "password": "hunter2hunter2"',
    "Authorization: Bearer eyJ0eXAiOiJKV1QiLCJh.eyJzdWIiOiIxMjM0NTY3.c2lnbmF0dXJlLXRlc3Q tried",
    "https://store.blob.core.windows.net/logs?sv=2022&sig=AbCdEf%2Bsecret%3D&se=2026",
    "P2S: Username=***tosouser@contoso.com connected from 198.51.100.23, peer 2001:db8::17 via 10.1.2.3",
    'quoted "value", with a comma\r\nand a line break; café – naïve ÅSIA',
    "AKIAIOSFODNN7EXAMPLE used by xoxb-123456789012-abcdefghijkl in the key: Zx9-!kQ2",
    "the pre-shared key: the keys differ",
    "a NUL \x00 inside a cell",
    "İstanbul gateway (a capital whose lower case is longer)",
    "",
]
SECRETS = ("S3cr3t-Sh4red!", "known-secret-value-42")


def typed_rows(start: float) -> Iterator[list[Any]]:
    for i in range(ROWS):
        ts = start + (i // 3) * 0.35 + (0.000_123 if i % 7 == 0 else 0)  # runs of equal times, some microseconds
        text = TEXTS[i % len(TEXTS)]
        message = (ENVELOPE.format(i) + text) if i % 5 else text
        if i == 4_321:
            message += " known-secret-value-42"
        remote = "203.0.113.10" if i % 4 == 0 else None
        yield [ts, "IKEDiagnosticLog" if i % 11 else "TunnelDiagnosticLog", "IKELogEvent", message, "VPNGW01",
               "RG-NETWORK-WEU", remote, i if i % 13 else None, {"b": [1, 2], "a": "x,y"} if i % 17 == 0 else None,
               (i / 3) if i % 19 else math.nan]


class Source:
    """Two queries' rows: the first with its column types (the typed path), the second without (every cell looked
    at), as a Log Analytics workspace and an older export would give them."""

    backend, label, origin = "local", "golden rows", "golden"
    COLUMNS = ("TimeGenerated", "Category", "OperationName", "Message", "Resource", "ResourceGroup", "remoteIP_s",
               "Count", "AdditionalFields", "Ratio")
    TYPES = ("datetime", "string", "string", "string", "string", "string", "string", "long", "dynamic", "real")

    def run_kql(self, query: str, start: datetime, end: datetime) -> KqlResult:
        if query.endswith("// typed"):
            return KqlResult(list(self.COLUMNS), typed_rows(start.timestamp()), types=list(self.TYPES))
        rows = ([START + timedelta(seconds=i // 2), f"row {i}, \"{TEXTS[i % len(TEXTS)]}\"", None, i * 1.5]
                for i in range(500))
        return KqlResult(["TimeGenerated", "Message", "Empty", "Value"], rows)


def record() -> EvidenceRecord:
    end = START + timedelta(hours=2)
    queries = (QueryRecord("local", "AzureDiagnostics // typed", "golden", START, end, ROWS),
               QueryRecord("local", "AzureDiagnostics // untyped", "golden", START, end, 500))
    answer = {"schema": 1, "question": "why did paris drop", "intent": "why_drop",
              "tunnel": {"name": "paris", "provider": "azure"},
              "window": {"start": "2026-11-21T13:00:00Z", "end": "2026-11-21T15:00:00Z"},
              "drops": [], "findings": [], "notes": ["psk = abc12345!"]}
    return EvidenceRecord(7, "why did paris drop", "2026-11-22T08:00:00Z", "U0ALICE", "C0INCIDENT", "mention",
                          answer, queries, PARIS)


OPTIONS = {
    "default": RedactionOptions(),
    "ips_and_users": RedactionOptions(redact_ips=True, hash_users=True),
    "known_secrets": RedactionOptions(secrets=SECRETS),
}


def bundle(name: str, out: Path) -> dict[str, Any]:
    result = build_bundle(record(), Sources(kql=[Source()]), out, OPTIONS[name], version="golden",
                          generated_at=GENERATED_AT)
    with open(out, "rb") as fh:
        zipped = hashlib.sha256(fh.read()).hexdigest()
    return {"files": [[f.path, f.sha256, f.size] for f in result.file.files], "zip": zipped,
            "zlib": zlib.ZLIB_RUNTIME_VERSION, "rows": result.rows}


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_a_bundle_is_byte_for_byte_what_the_row_by_row_writer_made(name, tmp_path):
    golden = json.loads(GOLDEN.read_text())[name]
    got = bundle(name, tmp_path / f"{name}.zip")
    assert got["rows"] == golden["rows"] == ROWS + 500
    assert got["files"] == golden["files"]  # every member, its SHA-256 and size
    if got["zlib"] == golden["zlib"]:  # deflate's bytes are the same for the same zlib
        assert got["zip"] == golden["zip"]


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        GOLDEN.write_text(json.dumps({name: bundle(name, Path(tmp) / f"{name}.zip") for name in sorted(OPTIONS)},
                                     indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
