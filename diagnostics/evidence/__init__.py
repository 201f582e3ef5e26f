"""Evidence bundles: a support-ready zip built from any stored investigation (docs/evidence.md).

One module per job: `model` (the stored investigation a bundle is built from), `rows` (its queries re-run, rows
streamed), `redact` (what never leaves, what leaves only on request), `bundle` (the deterministic zip writer and its
SHA-256 manifest), `report` (report.md), `case` (case.txt), `build` (the entry point tying them together).
"""

from diagnostics.evidence.build import BundleResult, RowsUnavailable, build_bundle
from diagnostics.evidence.bundle import verify
from diagnostics.evidence.model import EvidenceRecord
from diagnostics.evidence.redact import RedactionOptions

__all__ = ["BundleResult", "EvidenceRecord", "RedactionOptions", "RowsUnavailable", "build_bundle", "verify"]
