"""Fast, deterministic AzureDiagnostics rows for benchmarks: a tunnel that keeps failing, and noise around it.

Gateway VPNGW01 carries tunnel "paris" (remote 203.0.113.10). Its log is mostly IKEDiagnosticLog: Azure retries
the negotiation every few seconds and the peer rejects it (pre-shared key mismatch, sometimes a policy mismatch),
in the grammar of docs/sources.md#azure-ike-log (rows verbatim from docs/sources.md#azure-ike-errors; the success
path and the DPD close row are reconstructions, as no public row shows them). Between the runs of failures the
tunnel comes up, and TunnelDiagnosticLog logs each disconnect/reconnect (docs/sources.md#azure-tunnel-log); some
drops are failovers to the other instance, a few after a HostMaintenanceEvent.
A drop comes every ~255 paris rows (a run of 10-60 failed negotiations), so drops grow with N (~3,900 per 1M).
About 10 % of the rows belong elsewhere and must be filtered out by the bot's query: a second tunnel on VPNGW01
(remote 198.51.100.7; its tunnel rows come back from the query and are dropped in Python) and gateway VPNGW02.

    for row in rows(100_000, start, end): ...   # ~100k rows the bot's query returns, ~111k in all
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

GATEWAY, REMOTE = "VPNGW01", "203.0.113.10"
OTHER_REMOTE = "198.51.100.7"
GATEWAY2, GATEWAY2_REMOTE = "VPNGW02", "203.0.113.77"
IN_0, IN_1 = "GatewayTenantWorker_IN_0", "GatewayTenantWorker_IN_1"
#: Share of rows the bot's query for paris does not want (VPNGW02, and the other tunnel's IKE rows).
NOISE = 0.10

COLUMNS = ("TimeGenerated", "Category", "OperationName", "Message", "Resource", "ResourceGroup",
           "instance_s", "remoteIP_s", "status_s", "stateChangeReason_s")

_IKE_OFFER = " ".join(
    f"Policy{i}:Cipher={c} Integrity={h} DhGroup=DhGroup2"
    for i, (c, h) in enumerate([("AES-CBC-256", "SHA1"), ("AES-CBC-256", "SHA256"), ("AES-CBC-128", "SHA1"),
                                ("AES-CBC-128", "SHA256"), ("3DES", "SHA1"), ("3DES", "SHA256")], start=1))
_IPSEC_OFFER = " ".join(
    f"Policy{i}:Integrity={h} Cipher={c}"
    for i, (h, c) in enumerate([("AES-GCM-256", "AES-GCM-256"), ("SHA1", "AES-CBC-256"), ("SHA1", "3DES"),
                                ("SHA256", "AES-CBC-256")], start=1))
_ANY_TS = ("StartAddress 0.0.0.0 EndAddress 255.255.255.255 PortStart 0 PortEnd 65535 Protocol 0")
#: TunnelDisconnected reasons (the candidate vocabulary of docs/sources.md#azure-tunnel-reasons) and how often each
#: is used.
_REASONS = (("DPD timed out", 4), ("RemotelyTriggered", 2), ("IKE authentication credentials are unacceptable", 2),
            ("", 2))

# (Category, OperationName, Message, instance_s, remoteIP_s, status_s, stateChangeReason_s)
Raw = tuple[str, str, str, str, str, str, str]


def _guid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _negotiation(rng: random.Random, remote: str, local: str, outcome: str) -> list[str]:
    """One IKE negotiation started by Azure, as Message texts: "psk" | "policy" | "ok" | "dpd" | "peer_init"."""
    env = f"SESSION_ID :{{{_guid(rng)}}} Remote {remote}:500: Local {local}:500: "
    ic, rc = f"{rng.getrandbits(64):016X}", f"{rng.getrandbits(64):016X}"
    if outcome == "peer_init":
        return [env + f"[RECEIVED][SA_INIT] Received SA INIT iCookie 0x{ic} rCookie 0x0"]
    if outcome == "dpd":
        return [env + "[LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status Main mode SA assumed to be "
                      "invalid because peer stopped responding"]
    head = [env + f"[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId 0x3, iCookie 0x{ic} and rCookie 0x0",
            env + f"[SEND]Sending Ike payload for tunnel Id 0x3: Auth:PreShared Key- {_IKE_OFFER}"]
    if outcome == "policy":
        return [*head,
                env + "[LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status Policy match error",
                env + "[RECEIVED][NOTIFY] Received Notify Message - Policy Mismatch"]
    mid = [env + f"[RECEIVED] Receiving MM Packet for tunnel Id 0x3 iCookie 0x{ic} and rCookie 0x{rc}: "
                 "Receiving MM Nonce",
           env + "[RECEIVED]Received Ike payload: Policy1:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup2",
           env + "[SEND][SA_AUTH] Sending SA AUTH message for tunnelId 0x3 and tsId 0x37",
           env + f"[RECEIVED][SA_INIT] Received IKE SA Init response message with iCookie 0x{ic} rCookie 0x{rc}"]
    if outcome == "psk":
        return [*head, *mid,
                env + "[LOCAL_MSG] IKE Tunnel closed for tunnelId 0x3 with status IKE authentication credentials "
                      "are unacceptable",
                env + "[RECEIVED][NOTIFY] Received Notify Message - Authentication failed"]
    return [*head, *mid,
            env + f"Proposed(send) Traffic Selector payload will be- [Tsid 0x37 ]Number of TSIs 1: {_ANY_TS} "
                  f"Number of TSRs 1:{_ANY_TS}",
            env + f"[SEND]Sending IPSec policy Payload for tunnel Id 0x3, tsId 0x37: {_IPSEC_OFFER}"]


def _tunnel(rng: random.Random, remote: str, local: str, gateway_rows: bool) -> Iterator[Raw]:
    """Endless log of one flapping tunnel: drop, a run of failed negotiations, reconnect, repeat."""
    instance = IN_0
    reasons, weights = zip(*_REASONS, strict=True)
    while True:
        failover = rng.random() < 0.04
        if gateway_rows and failover and rng.random() < 0.5:
            yield ("GatewayDiagnosticLog", "HostMaintenanceEvent", "Upgrade gateway started", instance, "", "", "")
        if gateway_rows and rng.random() < 0.02:
            yield ("GatewayDiagnosticLog", "SetGatewayConfiguration", "Set gateway configuration succeeded",
                   instance, "", "", "")
        if gateway_rows and rng.random() < 0.02:
            yield ("RouteDiagnosticLog", "BgpDisconnectedEvent", "BGP peer 10.200.200.254 disconnected",
                   instance, "", "", "")
        reason = "StandbyChanged" if failover else rng.choices(reasons, weights)[0]
        before = "dpd" if reason == "DPD timed out" else "peer_init" if reason == "RemotelyTriggered" else ""
        if before:
            for msg in _negotiation(rng, remote, local, before):
                yield ("IKEDiagnosticLog", "IKELogEvent", msg, instance, "", "", "")
        yield ("TunnelDiagnosticLog", "TunnelDisconnected", "", instance, remote, "Disconnected", reason)
        attempts = rng.randint(1, 4) if failover else rng.randint(10, 60)
        if failover:
            instance = IN_1 if instance == IN_0 else IN_0
        for _ in range(attempts):
            for msg in _negotiation(rng, remote, local, "policy" if rng.random() < 0.2 else "psk"):
                yield ("IKEDiagnosticLog", "IKELogEvent", msg, instance, "", "", "")
        if rng.random() < 0.1:  # no SESSION_ID envelope: no tunnel to attribute it to (docs/sources.md#azure-ike-log)
            yield ("IKEDiagnosticLog", "IKELogEvent", "IkeCleanupQMNegotiation called with error 13868 and flags a",
                   instance, "", "", "")
        for msg in _negotiation(rng, remote, local, "ok"):
            yield ("IKEDiagnosticLog", "IKELogEvent", msg, instance, "", "", "")
        yield ("TunnelDiagnosticLog", "TunnelConnected", "", instance, remote, "Connected", "")


def _down(rng: random.Random, remote: str, local: str, instance: str = IN_0) -> Iterator[Raw]:
    """A tunnel that drops (the peer stopped answering DPD) and never comes back: Azure retries all along and the
    peer rejects every attempt (pre-shared key mismatch)."""
    for msg in _negotiation(rng, remote, local, "dpd"):
        yield ("IKEDiagnosticLog", "IKELogEvent", msg, instance, "", "", "")
    yield ("TunnelDiagnosticLog", "TunnelDisconnected", "", instance, remote, "Disconnected", "DPD timed out")
    yield from _failing(rng, remote, local, "psk", instance)


def _failing(rng: random.Random, remote: str, local: str, outcome: str, instance: str = IN_0) -> Iterator[Raw]:
    """Endless failed negotiations of one outcome ("psk" | "policy"): a tunnel that never comes up logs no
    TunnelDiagnosticLog row at all (it logs state changes), only its IKE retries."""
    while True:
        for msg in _negotiation(rng, remote, local, outcome):
            yield ("IKEDiagnosticLog", "IKELogEvent", msg, instance, "", "", "")
        if rng.random() < 0.02:  # no SESSION_ID envelope (docs/sources.md#azure-ike-log)
            yield ("IKEDiagnosticLog", "IKELogEvent", "IkeCleanupQMNegotiation called with error 13868 and flags a",
                   instance, "", "", "")


#: What paris does over the window: "flapping" (drops every ~255 rows), "down" (drops at the start of the window and
#: stays down, every negotiation failing), "never_up" (no state change at all: every negotiation fails, policy
#: mismatch). The noise is the same in all three.
SCENARIOS = ("flapping", "down", "never_up")


def rows(n: int, start: datetime, end: datetime, seed: int = 1,
         scenario: str = "flapping") -> Iterator[dict[str, Any]]:
    """About `n` rows for the bot's paris query, plus ~10 % noise, spread evenly over [start, end)."""
    rng = random.Random(seed)
    total = round(n / (1 - NOISE))
    step = (end - start).total_seconds() / max(total, 1)
    if scenario == "down":
        paris = _down(rng, REMOTE, "192.0.2.10")
    elif scenario == "never_up":
        paris = _failing(rng, REMOTE, "192.0.2.10", "policy")
    else:
        paris = _tunnel(rng, REMOTE, "192.0.2.10", gateway_rows=True)
    other = _tunnel(rng, OTHER_REMOTE, "192.0.2.10", gateway_rows=False)
    gw2 = _tunnel(rng, GATEWAY2_REMOTE, "192.0.2.20", gateway_rows=True)
    pick = rng.random
    for i in range(total):
        r = pick()
        if r >= NOISE:
            raw, resource, group = next(paris), GATEWAY, "RG-VPN"
        elif r < NOISE / 2:
            raw, resource, group = next(gw2), GATEWAY2, "RG-VPN2"
        else:
            raw, resource, group = next(other), GATEWAY, "RG-VPN"
        yield {
            "TimeGenerated": start + timedelta(seconds=i * step),
            "Category": raw[0], "OperationName": raw[1], "Message": raw[2], "Resource": resource,
            "ResourceGroup": group, "instance_s": raw[3], "remoteIP_s": raw[4], "status_s": raw[5],
            "stateChangeReason_s": raw[6],
        }
