"""The SQL that turns an export's own columns into AzureDiagnostics columns, from a `ColumnPlan`.

Everything the plan could not take from a column is derived row by row, as a network engineer reading the file
would: the category from the operation (`TunnelDisconnected` is TunnelDiagnosticLog), from the status
(`Connected`/`Disconnected`) or from the message (IKE log text); the operation from the status; the gateway
(`Resource`) from the last segment of `ResourceId`/`_ResourceId`; the instance from the IKE query's `GWIN` digit;
and an IKE query's split columns (`SessionID`, `RemoteIP`, `LocalIP`, `IKEMessage`) back into the Message envelope
`SESSION_ID :{guid} Remote ip:port: Local ip:port: text` that the negotiation analysis reads
(docs/sources.md#azure-ike-log). The ports are not in those queries' output: 500 is written, and a local address
the query dropped is written as Network Watcher's own placeholder `<IPaddress>`.
"""

from __future__ import annotations

from diagnostics.azure.export_columns import ColumnPlan
from diagnostics.azure.parser.rows import CATEGORY_BY_OPERATION, CATEGORY_NAMES

#: Columns copied as they are when the file has them (`_ResourceId` is `ResourceId` lower-cased: it fills
#: `ResourceId` when that is missing, and is not kept twice).
COPIED = ("Level", "ResourceGroup", "SubscriptionId", "ResourceType", "stateChangeReason_s", "operationStatus_s",
          "AdditionalFields", "CorrelationId")
#: Property columns of AzureDiagnostics carry a type suffix (docs/sources.md#azure-columns); other columns of a
#: full-table export (TenantId, Type, SourceSystem, _BilledSize…) say nothing about tunnels and are not kept.
PROPERTY_SUFFIXES = ("_s", "_d", "_b", "_t", "_g")
#: A message that is IKE log text (docs/sources.md#azure-ike-log), for rows without a category.
IKE_TEXT = (r"SESSION_ID|^Remote \S+:\d+:|^\[(SEND|RECEIVED|RECEIVE|LOCAL_MSG|LOCAL)\]|Notify Message|SA_INIT|"
            r"SA INIT|Ike payload|IPSec (policy )?payload|IkeCleanup|Traffic Selector|iCookie")


def ident(name: str) -> str:
    """A column name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _text(source: str | None) -> str:
    return f"nullif(CAST({ident(source)} AS VARCHAR), '')" if source else "NULL"


def _first(*expressions: str) -> str:
    """The first non-NULL of `expressions`, each computed only for the rows the ones before left NULL (DuckDB runs a
    CASE branch on its rows only; COALESCE arguments are computed for every row). NULL-literal ones are dropped."""
    kept = [e for e in expressions if e != "NULL"]
    if not kept:
        return "NULL"
    out = kept[-1]
    for expression in reversed(kept[:-1]):
        out = f"CASE WHEN ({expression}) IS NOT NULL THEN ({expression}) ELSE {out} END"
    return out


def projection(plan: ColumnPlan, time_sql: str) -> str:
    """The SELECT list that makes AzureDiagnostics rows of the file's rows (`time_sql`: TimeGenerated)."""
    src = plan.sources
    operation, status = _text(src.get("OperationName")), _text(src.get("status_s"))
    message = _message(plan)
    resource_id = _first(_text(src.get("ResourceId")), _text(src.get("_ResourceId")))
    from_id = "NULL" if resource_id == "NULL" else \
        f"upper(nullif(regexp_extract({resource_id}, '([^/]+)/*$', 1), ''))"
    columns = {
        "TimeGenerated": time_sql,
        "Category": _category(plan, operation, status, message),
        "OperationName": _first(operation, _state_as(status, ("connected", "TunnelConnected"),
                                                     ("disconnected", "TunnelDisconnected"))),
        "Message": message,
        "Resource": _first(_text(src.get("Resource")), from_id),
        "instance_s": _first(_text(src.get("instance_s")), _gwin(plan)),
        "remoteIP_s": _first(_text(src.get("remoteIP_s")), _text(plan.ike.get("remote_ip"))),
        "status_s": _first(status, _state_as(operation, ("tunnelconnected", "Connected"),
                                             ("tunneldisconnected", "Disconnected"))),
        "ResourceId": _first(_text(src.get("ResourceId")), f"upper({_text(src.get('_ResourceId'))})"
                             if "_ResourceId" in src else "NULL"),
    }
    for name in COPIED:
        columns[name] = _text(src.get(name))
    if "ResourceGroup" not in src and resource_id != "NULL":
        columns["ResourceGroup"] = f"upper(nullif(regexp_extract({resource_id}, '(?i)/resourcegroups/([^/]+)', 1), ''))"
    for name, source in plan.passthrough.items():
        if name.endswith(PROPERTY_SUFFIXES):
            columns.setdefault(name, _text(source))
    return ", ".join(f"{expr} AS {ident(name)}" for name, expr in columns.items())


def _state_as(column: str, *pairs: tuple[str, str]) -> str:
    if column == "NULL":
        return "NULL"
    whens = " ".join(f"WHEN {literal(value)} THEN {literal(result)}" for value, result in pairs)
    return f"CASE lower({column}) {whens} END"


def _category(plan: ColumnPlan, operation: str, status: str, message: str) -> str:
    given = _text(plan.sources.get("Category"))
    canonical = "NULL" if given == "NULL" else (
        f"CASE WHEN {given} IN ({', '.join(literal(n) for n in CATEGORY_NAMES.values())}) THEN {given} ELSE "
        f"CASE lower({given}) " + " ".join(f"WHEN {literal(low)} THEN {literal(name)}"
                                           for low, name in CATEGORY_NAMES.items()) + f" ELSE {given} END END")
    by_operation = "NULL" if operation == "NULL" else (
        f"CASE lower({operation}) " + " ".join(
            f"WHEN {literal(op)} THEN {literal(category)}"
            for op, category in {**CATEGORY_BY_OPERATION, "ikelogevent": "IKEDiagnosticLog"}.items()) + " END")
    by_status = "NULL" if status == "NULL" else \
        f"CASE WHEN lower({status}) IN ('connected', 'disconnected') THEN 'TunnelDiagnosticLog' END"
    by_message = "NULL" if message == "NULL" else (
        f"CASE WHEN regexp_matches({message}, {literal(IKE_TEXT)}) THEN 'IKEDiagnosticLog' "
        f"WHEN {message} ILIKE '%upgrade gateway started%' THEN 'GatewayDiagnosticLog' "
        f"WHEN starts_with({message}, '[MSG]') THEN 'P2SDiagnosticLog' END")
    return _first(canonical, by_operation, by_status, by_message,
                  literal("IKEDiagnosticLog") if plan.ike_projection else "NULL")


def _gwin(plan: ColumnPlan) -> str:
    gwin = _text(plan.ike.get("gwin"))
    if gwin == "NULL":
        return "NULL"
    return f"CASE WHEN regexp_matches({gwin}, '^\\d+$') THEN 'GatewayTenantWorker_IN_' || {gwin} ELSE {gwin} END"


def _message(plan: ColumnPlan) -> str:
    """The Message, with an IKE query's split columns put back into the envelope."""
    text = _first(_text(plan.sources.get("Message")), _text(plan.ike.get("text")))
    parts = plan.ike
    if not parts.keys() & {"session", "remote_ip", "direction"}:
        return text
    session, remote = _text(parts.get("session")), _text(parts.get("remote_ip"))
    local = _text(parts.get("local_ip"))
    remote_port, local_port = _text(parts.get("remote_port")), _text(parts.get("local_port"))
    direction = _text(parts.get("direction"))
    envelope = (
        f"CASE WHEN {session} IS NOT NULL THEN 'SESSION_ID :{{' || trim({session}, '{{}}') || '}} ' ELSE '' END || "
        f"CASE WHEN {remote} IS NOT NULL THEN 'Remote ' || {remote} || ':' || coalesce({remote_port}, '500') || "
        f"': Local ' || coalesce({local}, '<IPaddress>') || ':' || coalesce({local_port}, '500') || ': ' "
        "ELSE '' END || "
        f"CASE WHEN {direction} IS NOT NULL THEN '[' || {direction} || ']' ELSE '' END"
    )
    return (f"CASE WHEN {text} IS NULL THEN NULL WHEN starts_with({text}, 'SESSION_ID') OR starts_with({text}, "
            f"'Remote ') THEN {text} ELSE {envelope} || {text} END")
