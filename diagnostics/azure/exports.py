"""Read the Azure log exports people send each other into a local workspace, or say in one line why not.

Formats (docs/exports.md): CSV exported from the Log Analytics portal (`,` `;` or tab, the time column titled
`TimeGenerated [UTC]` or `[Local Time]`), the JSON of `az monitor log-analytics query -o json`, resource-log JSON
lines from a storage account or Event Hub (also the `{"records": [...]}` blob form) and a Log Analytics API response
(`{"tables": [...]}`); in UTF-8 or UTF-16, whatever columns the query that produced them kept
(`diagnostics.azure.export_columns`). Loading is DuckDB's (`diagnostics.azure.export_load`) and is cached by content
(`diagnostics.azure.workspace_cache`).

For each file, exactly one of (issue 13's rule):
1. it is read, and the answer is what the rows say;
2. it is refused in one line that names what the file is or looks like, what is missing and what to do instead
   (`ExportError`; files that are not exports at all: `cannot_read`);
3. it is read partly, and `AzureExports.caveats` say what it could not see and what that means; the answers say
   them in their first lines.
A bad row never costs the good ones: it is reported as `file:line: reason` and skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

import duckdb

from diagnostics.azure.export_json import ExportRead
from diagnostics.azure.export_load import (
    READER_VERSION,
    ROWS_TABLE,
    ExportMeta,
    NotAnExport,
    load_export,
    read_meta,
)
from diagnostics.azure.local_workspace import LocalWorkspace
from diagnostics.azure.workspace_cache import WorkspaceCache
from diagnostics.duck import connect as duck_connect
from diagnostics.exportfile import ExportError, readable
from diagnostics.foreign import refusal_for
from diagnostics.pasted import headerless_note
from diagnostics.tunnels import Tunnel

__all__ = ["AzureExports", "ExportError", "ExportRead", "cannot_read", "open_azure_exports", "read_azure_export"]

#: The gateway of an export that names none, when no configuration names one either.
UNNAMED_GATEWAY = "UNNAMED-GATEWAY"


def cannot_read(name: str, head: str, reason: str) -> str:
    """The one-line refusal of a file that is not an Azure export (`head`: the start of its text, to recognise
    what it is instead)."""
    foreign = refusal_for(head, name, "azure")  # Network Watcher output, a device log: say what it is
    if foreign:
        return foreign
    header = head.lstrip("\ufeff").split("\n", 1)[0]
    looks = ("it is an export of AzureMetrics (the gateway's metrics, not its logs)" if "MetricName" in header else
             "it does not look like an export of Azure VPN gateway logs (AzureDiagnostics rows with a TimeGenerated "
             "column)")
    return (f"{name}: {reason}: {looks}; run the query in docs/exports.md in Log Analytics and use Export > CSV, or "
            "`az monitor log-analytics query -o json`")


@dataclass
class LoadedExport:
    path: Path
    meta: ExportMeta
    file: Path  # the DuckDB file of its rows
    gateway: str | None = None  # the gateway of its rows that name none
    keep: Any = None


@dataclass
class AzureExports:
    """The Azure exports of one command, loaded: one workspace over all of them."""

    workspace: LocalWorkspace
    files: list[LoadedExport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # file:line: reason; row skipped
    caveats: list[str] = field(default_factory=list)  # what the files could not show, said first in answers
    notes: list[str] = field(default_factory=list)  # how they were read (guessed columns, local times)

    def tunnels(self) -> list[Tunnel]:
        """Every (gateway, remote IP) of tunnel and IKE rows, as a tunnel named after its remote IP (with the alias
        `GATEWAY/remote-ip`), for when no configuration names the tunnels."""
        pairs: dict[tuple[str, str], None] = {}
        for loaded in self.files:
            for gateway, remote in loaded.meta.peers:
                pairs[((gateway or loaded.gateway or "").upper(), remote)] = None
        with_ip = {g for g, r in pairs if r}
        tunnels = []
        for gateway, remote in pairs:
            if not gateway or (not remote and gateway in with_ip):
                continue
            tunnels.append(Tunnel(name=remote or gateway, aliases=(f"{gateway}/{remote}",) if remote else (),
                                  azure_gateway=gateway, azure_remote_ip=remote))
        return tunnels


def open_azure_exports(paths: Sequence[str | Path], cache: WorkspaceCache, export_tz: str | None = None,
                       configured: Sequence[Tunnel] = ()) -> AzureExports:
    """Load every file (from the cache when it was loaded before) into one workspace. An unreadable file stops with
    its one-line ExportError; bad rows are reported and skipped."""
    azure = [t for t in configured if t.azure_gateway]
    peers = sorted({t.azure_remote_ip for t in azure if t.azure_remote_ip})
    names = ", ".join(str(p) for p in paths)
    workspace = LocalWorkspace(label=f"export {names}", origin=names)
    workspace.translations = cache.translations()
    out = AzureExports(workspace)
    for path in paths:
        loaded = load_cached(Path(path), cache, export_tz, peers)
        loaded.gateway = file_gateway(loaded, azure)
        workspace.attach(str(loaded.file), loaded.gateway, keep=loaded.keep)
        out.files.append(loaded)
        out.problems += loaded.meta.problems
        said = caveats(loaded, azure)
        out.caveats += said
        read = reading_notes(loaded.meta)
        out.notes += read
        gateways = frozenset(g.upper() for g in [*loaded.meta.gateways, loaded.gateway or ""] if g)
        workspace.caveats += [(gateways, text) for text in said]
        workspace.reading += [(gateways, text) for text in read]
    return out


def load_cached(path: Path, cache: WorkspaceCache, export_tz: str | None, peers: Iterable[str]) -> LoadedExport:
    """One file loaded, or found loaded in the cache (keyed by its content, the reader version and the options that
    change what it loads into). A cached entry that cannot be read (truncated or damaged since) is removed and the
    file loaded again: never trusted."""
    with readable(path):
        digest = cache.content_hash(path)
    options = hashlib.sha256(f"{export_tz or ''}|{','.join(sorted(peers))}".encode()).hexdigest()[:12]
    key = f"azure-export-r{READER_VERSION}-{digest[:40]}-{options}"

    def build(target: Path) -> None:
        try:
            meta = load_export(path, target, export_tz, peers)
        except NotAnExport as exc:
            raise ExportError(cannot_read(path.name, exc.head, exc.reason)) from None
        usable(path, meta)

    entry = cache.get_or_build(key, build)
    try:
        meta = _entry_meta(entry.path)
    except duckdb.Error:
        if entry.built:
            raise
        cache.discard(entry.path)
        entry = cache.get_or_build(key, build)
        meta = _entry_meta(entry.path)
    meta.name = path.name  # the same content may arrive under another name
    meta.problems = [_renamed(p, path.name) for p in meta.problems]
    usable(path, meta)
    return LoadedExport(path, meta, entry.path, keep=entry.keep)


def _entry_meta(path: Path) -> ExportMeta:
    """What a loaded file holds; DuckDB's error if it cannot be read (a file cut short fails reading its catalog or
    the rows' count)."""
    con = duck_connect(str(path), read_only=True)
    try:
        meta = read_meta(con)
        con.execute(f"SELECT count(*) FROM {ROWS_TABLE}").fetchone()
    finally:
        con.close()
    return meta


def usable(path: Path, meta: ExportMeta) -> None:
    """A file with no row of a VPN gateway's log is refused: answering "no drop found" from it would be a guess."""
    if not meta.rows:
        raise ExportError(meta.problems[0] if meta.problems else cannot_read(path.name, "", "no log rows in it"))
    if not any(n for c, n in meta.categories.items() if c):
        reason = (f"none of its {meta.rows} rows is a VPN gateway log row (no Category, OperationName, status_s or "
                  "IKE message tells one)")
        raise ExportError(cannot_read(path.name, ",".join(meta.columns), reason))


def _renamed(problem: str, name: str) -> str:
    _, sep, rest = problem.partition(":")
    return f"{name}:{rest}" if sep else problem


def file_gateway(loaded: LoadedExport, azure: Sequence[Tunnel]) -> str | None:
    """The gateway of the rows that name none: the file's only gateway, the configuration's only Azure gateway, the
    one whose configured tunnels the file's peers are; without a configuration, one unnamed gateway. Several
    candidates are refused: guessing would mix two gateways' drops."""
    meta = loaded.meta
    if not meta.nameless:
        return None
    if meta.gateways:
        return meta.gateways[0] if len(meta.gateways) == 1 else None
    configured = sorted({t.azure_gateway.upper() for t in azure})
    if not configured:
        return UNNAMED_GATEWAY
    if len(configured) == 1:
        return configured[0]
    ips = {remote for _, remote in meta.peers if remote}
    owners = sorted({t.azure_gateway.upper() for t in azure if t.azure_remote_ip in ips})
    if len(owners) == 1:
        return owners[0]
    raise ExportError(
        f"{loaded.path}: names no gateway (no Resource, ResourceId or _ResourceId column) and the configuration has "
        f"several Azure gateways ({', '.join(configured)}): add Resource to the query's `project` and export again, "
        "or use a --config that lists only this file's gateway")


def caveats(loaded: LoadedExport, azure: Sequence[Tunnel]) -> list[str]:
    """What the file could not show and what that means for the answer, one sentence each, naming the column."""
    meta, name = loaded.meta, loaded.path.name
    has, categories = meta.has, meta.categories
    tunnel_rows = categories.get("TunnelDiagnosticLog", 0)
    said: list[str] = []
    if meta.nameless and not meta.gateways:
        whose = ("the configuration's only Azure gateway" if len({t.azure_gateway.upper() for t in azure}) == 1
                 else "the gateway of the configured tunnels it names" if azure else
                 "one gateway, given that name here")
        said.append(f"{name} names no gateway (no `Resource` or `ResourceId` column): its rows were read as "
                    f"{loaded.gateway}'s ({whose}).")
    elif meta.nameless and len(meta.gateways) > 1:
        said.append(f"{meta.nameless} rows of {name} name no gateway (`Resource` empty) while the file holds several; "
                    "they were left out.")
    if not has.get("state") and set(categories) - {"IKEDiagnosticLog"}:  # an IKE query's output says so below
        said.append(f"{name} has neither `OperationName` nor `status_s`: when tunnels disconnected and reconnected "
                    "cannot be seen in it; add OperationName to the query's `project` and export again.")
    if tunnel_rows and not has.get("instance"):
        said.append(f"{name} has no instance column (`instance_s`), so a failover between the gateway's two "
                    "instances and a reconnect on the same instance look alike; add instance_s to the query's "
                    "`project` to tell them apart.")
    if tunnel_rows and not has.get("remote"):
        said.append(f"{name} has no `remoteIP_s` column, so a disconnect of any tunnel of the gateway counts as this "
                    "tunnel's; add remoteIP_s to the query's `project`.")
    if tunnel_rows and not has.get("reason"):
        said.append(f"{name} has no `stateChangeReason_s` column, so the reason Azure logged for each disconnect "
                    "(DPD timeout, the remote side, a changed key) is not known.")
    if not has.get("message"):
        said.append(f"{name} has no `Message` column, so IKE negotiations (why a tunnel did not come back) and "
                    "maintenance messages cannot be read.")
    said += _category_caveats(name, categories, bool(has.get("message")))
    return said


def _category_caveats(name: str, categories: dict[str, int], has_message: bool) -> list[str]:
    """Rows that could not be placed, and a file cut down to one category by the query that made it (a file with a
    Message column that happens to hold only tunnel rows is a quiet day, not a cut)."""
    present = {c for c, n in categories.items() if n and c}
    said = []
    if categories.get(""):
        said.append(f"{categories['']} rows of {name} have no `Category` and nothing in them tells one (no "
                    "OperationName, status_s or IKE message); they were left out.")
    if present == {"TunnelDiagnosticLog"} and not has_message:
        said.append(f"{name} holds only TunnelDiagnosticLog rows: without GatewayDiagnosticLog a maintenance failover "
                    "cannot be told from any other failover (`HostMaintenanceEvent` is not in it), and without "
                    "IKEDiagnosticLog why a tunnel stayed down cannot be read.")
    elif present == {"IKEDiagnosticLog"}:
        said.append(f"{name} holds only IKEDiagnosticLog rows: when the tunnel dropped and came back "
                    "(TunnelDiagnosticLog) is not in it; its negotiations are explained.")
    return said


def reading_notes(meta: ExportMeta) -> list[str]:
    said = headerless_note(bool(meta.local_zone))
    notes = [f"{meta.name}: {said[0].lower()}{said[1:]}"] if meta.headerless else []
    if meta.guessed:
        notes.append(f"{meta.name}: {'; '.join(meta.guessed)}.")
    if meta.duplicates:
        notes.append(f"{meta.name}: {meta.duplicates} rows were in it twice (exports put together overlap); each "
                     "was read once.")
    if meta.local_zone:
        notes.append(f"{meta.name}: times read as {meta.local_zone} local time (--export-tz), as the exporting "
                     "browser showed them.")
    return notes


def read_azure_export(path: str | Path, export_tz: str | None = None) -> ExportRead:
    """Every row of one export as AzureDiagnostics-shaped dicts (TimeGenerated a UTC datetime), and the problems:
    for small files and tests; commands use `open_azure_exports`."""
    path = Path(path)
    loaded = load_cached(path, WorkspaceCache(None), export_tz, ())
    con = duck_connect(str(loaded.file), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        cursor = con.execute(f"SELECT * FROM {ROWS_TABLE} ORDER BY TimeGenerated")
        names = [d[0] for d in cursor.description]
        rows = [{n: (v.astimezone(UTC) if n == "TimeGenerated" else v) for n, v in zip(names, row, strict=True)
                 if v is not None} for row in cursor.fetchall()]
    finally:
        con.close()
    return ExportRead(rows, loaded.meta.problems)
