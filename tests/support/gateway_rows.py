"""AzureDiagnostics rows of one VPN gateway as it writes them (docs/sources.md#azure-columns), for the tests that need a
small, real-format workspace: a planned-maintenance failover of VPNGW01's tunnel to 203.0.113.10 at 02:10 UTC on
2024-05-01 (docs/sources.md#azure-maintenance, docs/sources.md#azure-failover)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

REMOTE = "203.0.113.10"


def at(hh: int, mm: int, ss: float = 0) -> str:
    """2024-05-01 hh:mm:ss UTC as Log Analytics prints it."""
    return (datetime(2024, 5, 1, hh, mm, tzinfo=UTC) + timedelta(seconds=ss)).isoformat().replace("+00:00", "Z")


def row(moment: str, category: str, operation: str, message: str = "", **columns: str) -> dict[str, str]:
    return {"TimeGenerated": moment, "Category": category, "OperationName": operation, "Message": message,
            "Level": "Informational", "Resource": "VPNGW01", "ResourceGroup": "RG-NETWORK", **columns}


MAINTENANCE_FAILOVER = [
    row(at(2, 9, 40), "GatewayDiagnosticLog", "HostMaintenanceEvent", "Upgrade gateway started",
        instance_s="GatewayTenantWorker_IN_0"),
    row(at(2, 10, 3.12), "TunnelDiagnosticLog", "TunnelDisconnected", instance_s="GatewayTenantWorker_IN_0",
        remoteIP_s=REMOTE, status_s="Disconnected", stateChangeReason_s="StandbyChanged"),
    row(at(2, 10, 15.87), "TunnelDiagnosticLog", "TunnelConnected", instance_s="GatewayTenantWorker_IN_1",
        remoteIP_s=REMOTE, status_s="Connected"),
]
