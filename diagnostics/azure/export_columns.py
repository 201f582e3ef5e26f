"""What each column of an Azure export is, from its name AND its values.

People export what the query they copied returns (docs/sources.md#azure-export-shapes): the published troubleshooting
queries project subsets of AzureDiagnostics (`TimeGenerated, OperationName, remoteIP_s, instance_s, Resource,
ResourceGroup`; `TimeGenerated, Resource, status_s, remoteIP_s, stateChangeReason_s`; jpaztech's `TimeGenerated,
instance_s, remoteIP_s, status_s, stateChangeReason_s, Message`), and the IKE queries `parse`/`extract` Message into
columns of their own (`SessionID`, `RemoteIP`, `LocalIP`, `IKEMessage`, `GWIN`; Microsoft's `RemoteIP, LocalIP,
Event`). A column is recognised by its name first (any case, a `[UTC]`-style suffix dropped), then a column no name
explains by what its values look like: IKE log text is the message, `TunnelConnected` an operation, `Connected` a
status, `GatewayTenantWorker_IN_1` an instance, `/subscriptions/…` a resource id, an address matching a configured
peer the remote IP.

The result, `ColumnPlan`, says which source column feeds each AzureDiagnostics column; `diagnostics.azure.export_sql`
turns it into the SQL that loads the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from diagnostics.azure.export_times import looks_like_time
from diagnostics.azure.parser.rows import CANONICAL_COLUMNS, CATEGORY_BY_OPERATION

#: Names of the IKE query's own columns (AzureMonitorCommunity "IKE log events.kql": SessionID, RemoteIP, LocalIP,
#: IKEMessage, GWIN; its commented `parse`: SESSION_ID, Remote, RemotePort, Local, LocalPort, Direction; Microsoft's
#: troubleshooting query: RemoteIP, LocalIP, Event, Message1/Message2), by lower-cased name.
IKE_PART_NAMES = {
    "sessionid": "session", "session_id": "session", "session": "session",
    "remoteip": "remote_ip", "remote": "remote_ip", "remote_ip": "remote_ip", "remoteaddress": "remote_ip",
    "localip": "local_ip", "local": "local_ip", "local_ip": "local_ip", "localaddress": "local_ip",
    "remoteport": "remote_port", "localport": "local_port",
    "direction": "direction",
    "ikemessage": "text", "event": "text", "message2": "text", "ikeevent": "text",
    "gwin": "gwin",
}
#: Other spellings of AzureDiagnostics columns: the time of resource logs and of hand-made exports, and Microsoft's
#: `extend Message1=Message`.
NAME_ALIASES = {"time": "TimeGenerated", "timestamp": "TimeGenerated", "message1": "Message",
                "resourceid_s": "ResourceId"}

#: Columns every Log Analytics table has besides AzureDiagnostics' own, which an export of all columns carries: known
#: by name and never taken for another column by their values (`TenantId` is a GUID, not an IKE session id).
TABLE_COLUMNS = frozenset({"tenantid", "sourcesystem", "type", "_billedsize", "_isbillable", "_subscriptionid",
                           "_timereceived", "_itemid", "resourceprovider", "tablename",
                           "_internal_workspaceresourceid"})

KNOWN_OPERATIONS = frozenset(CATEGORY_BY_OPERATION) | {"ikelogevent"}
_IKE_TEXT = re.compile(
    r"SESSION_ID|^Remote \S+:\d+:|^\[(?:SEND|RECEIVED|RECEIVE|LOCAL_MSG|LOCAL)\]|Notify Message|SA_INIT|SA INIT|"
    r"Ike payload|IPSec (?:policy )?payload|IkeCleanup|Traffic Selector|iCookie|\[IkeEvent\]")
_INSTANCE = re.compile(r"^GatewayTenantWorker_IN_\d+$", re.I)
_RESOURCE_ID = re.compile(r"^/subscriptions/[^/]+/resourcegroups/", re.I)
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_IPV6 = re.compile(r"^[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}$")
_GUID = re.compile(r"^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: A sample value is taken as evidence when this share of a column's non-empty sample values agree.
AGREE = 0.8


def base_name(name: str) -> tuple[str, str]:
    """(`TimeGenerated`, `UTC`) from `TimeGenerated [UTC]`: the name without its bracketed suffix, and the suffix."""
    base, suffix = name.strip().lstrip("\ufeff").strip('"'), ""
    if base.endswith("]") and "[" in base:
        base, suffix = base[: base.rindex("[")].strip(), base[base.rindex("[") + 1:-1].strip()
    return base, suffix


@dataclass
class ColumnPlan:
    """Which source column feeds which AzureDiagnostics column, and what the file lacks."""

    columns: list[str]  # the source columns, as named in the file
    time: str | None = None  # the source column of TimeGenerated
    time_suffix: str = ""  # `UTC`, `Local Time`, … from the header
    sources: dict[str, str] = field(default_factory=dict)  # canonical AzureDiagnostics column -> source column
    ike: dict[str, str] = field(default_factory=dict)  # IKE query part (session, remote_ip, text, gwin…) -> source
    passthrough: dict[str, str] = field(default_factory=dict)  # other columns kept: name in the table -> source
    guessed: list[str] = field(default_factory=list)  # "`Peer` read as remoteIP_s from its values", for the notes

    def has(self, *canonical: str) -> bool:
        return any(c in self.sources for c in canonical)

    @property
    def ike_projection(self) -> bool:
        """The file is the output of an IKE query that split Message into columns of its own."""
        return bool(self.ike.keys() - {"remote_ip"}) or "text" in self.ike

    @property
    def has_instance(self) -> bool:
        return "instance_s" in self.sources or "gwin" in self.ike

    @property
    def has_remote(self) -> bool:
        return "remoteIP_s" in self.sources or "remote_ip" in self.ike

    @property
    def has_message(self) -> bool:
        return "Message" in self.sources or "text" in self.ike

    @property
    def has_gateway(self) -> bool:
        return self.has("Resource", "ResourceId", "_ResourceId")


def plan_columns(columns: Sequence[str], sample: Sequence[Sequence[str | None]],
                 peers: Iterable[str] = ()) -> ColumnPlan:
    """The plan for a file with these header `columns` and these first rows (`sample`, cells as text or None).
    `peers` are the configured remote IPs, which tell a remote-IP column by its values."""
    plan = ColumnPlan(list(columns))
    unnamed: list[int] = []
    for i, raw in enumerate(columns):
        base, suffix = base_name(raw)
        lowered = base.lower()
        canonical = NAME_ALIASES.get(lowered) or CANONICAL_COLUMNS.get(lowered)
        if canonical == "TimeGenerated":
            if plan.time is None:
                plan.time, plan.time_suffix = raw, suffix
            continue
        if canonical and canonical not in plan.sources:
            plan.sources[canonical] = raw
            continue
        part = IKE_PART_NAMES.get(lowered)
        if part and part not in plan.ike:
            plan.ike[part] = raw
            continue
        if lowered not in TABLE_COLUMNS:
            unnamed.append(i)
    values = {i: _values(sample, i) for i in range(len(columns))}
    _by_content(plan, unnamed, values, set(peers))
    for i in unnamed:
        raw = columns[i]
        name = base_name(raw)[0]
        if raw in plan.sources.values() or raw in plan.ike.values() or raw == plan.time:
            continue
        if _IDENTIFIER.match(name) and name not in plan.passthrough and name not in CANONICAL_COLUMNS.values():
            plan.passthrough[name] = raw
    return plan


def _values(sample: Sequence[Sequence[str | None]], i: int, most: int = 200) -> list[str]:
    found: list[str] = []
    for row in sample:
        if i < len(row) and row[i] not in (None, ""):
            found.append(str(row[i]).strip())
            if len(found) >= most:
                break
    return found


def _share(values: Sequence[str], test) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


def _is_ip(value: str) -> bool:
    return bool(_IPV4.match(value) or _IPV6.match(value))


#: (target, test) in the order a column is tried: the most specific looks first.
_CONTENT_TESTS = (
    ("Message", lambda v: bool(_IKE_TEXT.search(v))),
    ("Category", lambda v: v.lower().endswith("diagnosticlog")),
    ("OperationName", lambda v: v.lower() in KNOWN_OPERATIONS),
    ("status_s", lambda v: v.lower() in ("connected", "disconnected")),
    ("instance_s", lambda v: bool(_INSTANCE.match(v))),
    ("ResourceId", lambda v: bool(_RESOURCE_ID.match(v))),
    ("session", lambda v: bool(_GUID.match(v))),
)


def _by_content(plan: ColumnPlan, unnamed: list[int], values: dict[int, list[str]], peers: set[str]) -> None:
    """Give the columns no name explained a role from their values, for roles still free."""
    ips: list[int] = []
    for i in unnamed:
        sample = values[i]
        if not sample:
            continue
        raw = plan.columns[i]
        if plan.time is None and _share(sample, looks_like_time) >= AGREE and not _share(sample, _is_ip):
            plan.time, plan.time_suffix = raw, base_name(raw)[1]
            plan.guessed.append(f"`{raw}` read as TimeGenerated from its values")
            continue
        for target, test in _CONTENT_TESTS:
            taken = plan.ike if target == "session" else plan.sources
            if (target == "Message" and "text" in plan.ike) or (target == "session" and "Message" in plan.sources):
                continue  # a whole Message is not split: a GUID next to it is some other id
            if target not in taken and _share(sample, test) >= AGREE:
                taken[target] = raw
                plan.guessed.append(f"`{raw}` read as {'SessionID' if target == 'session' else target} from its "
                                    "values")
                break
        else:
            if _share(sample, _is_ip) >= AGREE:
                ips.append(i)
    _ip_columns(plan, ips, values, peers)


def _ip_columns(plan: ColumnPlan, ips: list[int], values: dict[int, list[str]], peers: set[str]) -> None:
    """An unnamed address column is the remote IP when its values include a configured peer, or when it is the
    only one and no remote IP column is named; a second one is then the gateway's own (local) address."""
    if not ips or plan.has_remote:
        return
    matching = [i for i in ips if peers & set(values[i])]
    remote = matching[0] if matching else (ips[0] if len(ips) == 1 else None)
    if remote is None:
        return
    raw = plan.columns[remote]
    target = "remote_ip" if plan.ike_projection else "remoteIP_s"
    (plan.ike if target == "remote_ip" else plan.sources)[target] = raw
    plan.guessed.append(f"`{raw}` read as the remote IP from its values")
    others = [i for i in ips if i != remote]
    if others and "local_ip" not in plan.ike and plan.ike_projection:
        plan.ike["local_ip"] = plan.columns[others[0]]

