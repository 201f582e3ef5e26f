"""The built-in demo workspace: a deterministic week of `AzureDiagnostics` rows for twelve Azure tunnels.

`vpnbot ask` needs no cloud credentials on a fresh machine: with no configuration and no exports the
commands read these rows instead. The week ends at the caller's `now` (minus the ingestion lag) and is
rebased on it, so "yesterday at 14:02" always finds the maintenance failover, and the same `now` always
yields byte-identical rows (every random draw comes from `random.Random` seeded with a fixed string).

The rows follow the public formats quoted in docs/sources.md (the section is named per bullet). What is
verbatim and what is not:

* Column names, `Category`, `OperationName`, `status_s` and `instance_s` values: verbatim
  (docs/sources.md#azure-columns). `Resource`/`ResourceGroup`/`ResourceId` uppercase and `_ResourceId`
  lowercase as in Microsoft queries (same section); `SourceSystem`, `ResourceProvider` are the standard
  pattern (reconstruction). TunnelDiagnosticLog rows carry no `Message` (whether that category fills it is
  unknown) and IKE rows no `remoteIP_s`.
* IKEDiagnosticLog: `OperationName` is undocumented; "IKELogEvent" (after P2S's `P2SLogEvent`) is a
  reconstruction. The `SESSION_ID :{guid} Remote ip:500: Local ip:500: ...` envelope is derived from
  public parsers (docs/sources.md#azure-ike-log). Event texts are the verbatim screenshot/IKElogs.txt shapes of
  docs/sources.md#azure-ike-errors and docs/sources.md#azure-traffic-selectors (SA_INIT, Ike payload, MM Nonce,
  SA_AUTH, traffic selectors, IPSec payloads, including the `Cipher=...Integrity=...` rows with no space). The
  parts cut off in the screenshots (the rest of Azure's policy lists, the end of the traffic-selector rows) are
  completed from the default parameters (docs/sources.md#azure-ipsec-defaults), and the success path (a
  negotiation that simply ends in TunnelConnected) is a reconstruction. The DPD close row `[LOCAL_MSG] IKE Tunnel
  closed ... with status Main mode SA assumed to be invalid because peer stopped responding` is a reconstruction
  on the verbatim grammar (no public DPD row: docs/sources.md#azure-ike-log). Periodic child-SA rekeys
  (a fresh SESSION_ID each, no SA_INIT) are a reconstruction of normal background traffic.
* VPNGW04's failing negotiations (one per SESSION_ID, each with its own GUID and cookies):
  - madrid, pre-shared key mismatch: the ten rows of each negotiation are the verbatim screenshot rows of
    docs/sources.md#azure-ike-errors (SA_INIT with rCookie 0x0, Ike payload, SA Init response, MM Nonce packet,
    received Ike payload, SA_AUTH, proposed traffic selectors, IPsec policy payload, `IKE Tunnel closed ... with
    status IKE authentication credentials are unacceptable`, `Received Notify Message - Authentication failed`);
    the 6-8 s retry interval follows "Azure keeps retrying every few seconds" (docs/sources.md#azure-ike-log);
    the SetConnectionConfiguration rows before the drop are reconstructions like berlin's.
  - rome, IKE proposal mismatch: the four verbatim "remote VPN as initiator" rows of
    docs/sources.md#azure-ike-errors (the device offering only
    `Policy1:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup14`, Azure sending `Policy Mismatch`);
    the device retrying every ~10 s is a reconstruction.
  - milan, traffic selector mismatch: the `Received Traffic Selector payload request- [Tsid 0x…  ]Number of
    TSIs 2: … Number of TSRs 1:…` and `Received IPSec payload` rows are verbatim shapes of
    docs/sources.md#azure-traffic-selectors (with this tunnel's ranges); the closing `[IkeEvent]
    SA_NEGOTIATION_FAILED [ErrorCode] 0x35ED [ErrorMessage] Negotiation timed out` joins that section's verbatim
    fragments into one row (no complete row is public), and its 15 s delay is a reconstruction.
  - porto, peer unreachable: only the verbatim `[SEND][SA_INIT] ... rCookie 0x0` row per attempt (every ~7 s,
    never answered); the demo stops logging them 2 hours before `now` to keep the week small, the tunnel stays
    down.
  - seville, BGP session down with the tunnel up: reconstructed RouteDiagnosticLog Messages (below) in the
    verbatim "BgpConnectedEvent followed quickly by BgpDisconnectedEvent" pattern (docs/sources.md#azure-bgp).
  The successful negotiations that end these outages are reconstructions (no public row shows a success).
* `stateChangeReason_s` values come from the candidate vocabulary of docs/sources.md#azure-tunnel-reasons
  (uncertain: no public row shows real values).
* Timings follow docs/sources.md#azure-failover: a failover reconnects on the other instance in 10-15 s after
  maintenance (and a second failover back follows tens of minutes later, docs/sources.md#azure-maintenance), in
  about a minute after a reset; DPD glitches and peer re-initiations reconnect on the same instance within
  seconds.
* GatewayDiagnosticLog: only `Upgrade gateway started` is verbatim (its pairing with HostMaintenanceEvent in one
  row is an assumption; docs/sources.md#azure-maintenance names both); every other Message, the
  `configuration_*` columns other than `configuration_ConnectionTrafficType_s`, and the daily
  ValidateGatewayConfiguration rows are reconstructions.
* RouteDiagnosticLog Messages (BGP peer connected/disconnected, routes learned/withdrawn, static routes)
  are reconstructions that name the peer IP (docs/sources.md#azure-bgp quotes no row text).
* P2SDiagnosticLog: the three OpenVPN/Entra ID rows are verbatim formats (docs/sources.md#azure-p2s) with masked
  usernames and client IPs whose first octet is 0; the `OVPN_<32 hex>` session id shape is a reconstruction.
  Failed logins (`Connect request received`, then `Connection failed. Username=*** Reason=...`): only
  "Connection failed" is verbatim (Microsoft's queries match it); the rest of that row is a reconstruction.
* `Level`: "Informational", with "Warning" on TunnelDisconnected/BgpDisconnectedEvent and "Error" on the
  IKE close row: the real value set is undocumented (reconstruction).

All addresses are documentation ranges: 192.0.2.0/24 for the gateways, 203.0.113.0/24 and 198.51.100.0/24
for the on-premises devices. (Twelve tunnels: six on VPNGW01/02, hub-aws on VPNGW03, five on VPNGW04.)

Traffic stories (`traffic_scenarios`, told by the gateways' metrics: diagnostics.azure.demo_metrics) happen on
tunnels that stay connected, so no logged drop changes: nice negotiates narrow traffic selectors (10.10.0.0/16 <->
10.3.0.0/16, in every rekey's rows) while its site also sends from 192.168.3.0/24; munich's site stops sending;
milan's device withdraws its prefixes while its BGP session stays up (two BgpRouteUpdate rows, reconstructions);
berlin's device deletes the quick-mode (phase 2) SA while main mode stays up: the two IKE rows
`[RECEIVED][INFORMATIONAL] Received Delete payload for IPsec SA ...` and `[LOCAL_MSG] IPsec SA deleted for tunnelId
... Main Mode SA remains established` are reconstructions on the verbatim grammar (no public row shows a quick-mode
delete; docs/sources.md#azure-phase2-only-loss describes the state); rome is connected and idle since yesterday.
"""

from __future__ import annotations

import functools
import ipaddress
import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from diagnostics import demo as shared
from diagnostics.demo import (
    INGESTION_LAG,
    LINK_AWS_CONNECTION,
    LINK_AWS_OUTSIDE_IPS,
    LINK_GATEWAY_IP,
    WEEK,
    link_outage,
)

Row = dict[str, Any]

DEMO_TIMEZONE = "UTC"

TENANT_ID = "0b4e2c7d-8a13-4f5e-9c26-d1a7e3f58b94"
SUBSCRIPTION_ID = "5d2f7a91-3c48-4e0b-b6a2-9f1e8c7d4a30"
IN_0 = "GatewayTenantWorker_IN_0"
IN_1 = "GatewayTenantWorker_IN_1"

_ANY = "0.0.0.0/0"
_AZURE_IKE_OFFER = " ".join(
    f"Policy{n}:Cipher={cipher} Integrity={integrity} DhGroup=DhGroup2"
    for n, (cipher, integrity) in enumerate(
        [("AES-CBC-256", "SHA1"), ("AES-CBC-256", "SHA256"), ("AES-CBC-128", "SHA1"),
         ("AES-CBC-128", "SHA256"), ("3DES", "SHA1"), ("3DES", "SHA256")],
        start=1,
    )
)
_AZURE_IPSEC_OFFER = " ".join(
    f"Policy{n}:Integrity={integrity} Cipher={cipher}"
    for n, (integrity, cipher) in enumerate(
        [("AES-GCM-256", "AES-GCM-256"), ("SHA1", "AES-CBC-256"), ("SHA1", "3DES"),
         ("SHA256", "AES-CBC-256"), ("SHA1", "AES-CBC-128"), ("SHA256", "3DES")],
        start=1,
    )
)
_AZURE_CHILD_LIFETIME_S = 27_000


# --------------------------------------------------------------------------------------------- topology


@dataclass(frozen=True)
class _Gateway:
    name: str
    resource_group: str
    public_ip: str
    vnet: str

    @property
    def resource_id(self) -> str:
        return (
            f"/SUBSCRIPTIONS/{SUBSCRIPTION_ID.upper()}/RESOURCEGROUPS/{self.resource_group}"
            f"/PROVIDERS/MICROSOFT.NETWORK/VIRTUALNETWORKGATEWAYS/{self.name}"
        )


@dataclass(frozen=True)
class _Site:
    name: str
    aliases: tuple[str, ...]
    gateway: _Gateway
    remote_ip: str
    tunnel_id: str  # IKE "tunnelId 0x3"
    subnets: tuple[str, ...]  # on-premises prefixes (local network gateway address space or BGP routes)
    narrow_selectors: bool  # UsePolicyBasedTrafficSelectors: VNet <-> subnets instead of any <-> any
    peer_ike: str  # the single phase-1 proposal the device sends
    peer_ipsec: str  # the phase-2 proposal the device picks / sends (logged without a space)
    peer_rekey_s: int | None  # the device's child SA lifetime when shorter than Azure's
    bgp_peer: str = ""
    bgp_peer_in_config: bool = False  # the config entry names the peer (`bgp_peer_ip`): only its events count

    @property
    def connection(self) -> str:
        return f"cn-{self.gateway.name.lower()}-{self.name}"

    @property
    def local_network_gateway(self) -> str:
        return f"lng-{self.name}"


_GW1 = _Gateway("VPNGW01", "RG-NETWORK-WEU", "192.0.2.10", "10.10.0.0/16")
_GW2 = _Gateway("VPNGW02", "RG-NETWORK-NEU", "192.0.2.20", "10.20.0.0/16")
# VPNGW04 holds the tunnels whose negotiations fail (and one BGP-only drop), so the stories of VPNGW01/02 stay as
# they were: a failing tunnel keeps Azure retrying every few seconds, which would crowd their timelines.
_GW4 = _Gateway("VPNGW04", "RG-NETWORK-WEU", "192.0.2.40", "10.40.0.0/16")

_CBC256_SHA256_DH2 = "Policy1:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup2"
_CBC256_SHA1_DH2 = "Policy1:Cipher=AES-CBC-256 Integrity=SHA1 DhGroup=DhGroup2"
_CBC128_SHA256_DH2 = "Policy1:Cipher=AES-CBC-128 Integrity=SHA256 DhGroup=DhGroup2"

_SITES: tuple[_Site, ...] = (
    _Site("paris", ("branch-paris", "par"), _GW1, "203.0.113.10", "0x3", ("10.1.0.0/16", "10.11.0.0/16"),
          False, _CBC256_SHA256_DH2, "Policy1:Cipher=AES-GCM-256Integrity=AES-GCM-256", None, "10.1.0.254"),
    _Site("lyon", ("branch-lyon", "lyo"), _GW1, "203.0.113.20", "0x5", ("10.2.0.0/16",),
          False, _CBC256_SHA1_DH2, "Policy1:Cipher=AES-CBC-256Integrity=SHA1", 3600),
    _Site("nice", ("branch-nice",), _GW1, "203.0.113.30", "0x6", ("10.3.0.0/16",),
          True, _CBC128_SHA256_DH2, "Policy1:Cipher=AES-CBC-256Integrity=SHA256", 3600),
    _Site("berlin", ("branch-berlin", "ber"), _GW2, "198.51.100.40", "0x3", ("10.4.0.0/16", "10.44.0.0/16"),
          False, _CBC256_SHA256_DH2, "Policy1:Cipher=AES-CBC-256Integrity=SHA256", None, "10.4.0.254"),
    _Site("munich", ("branch-munich", "muc"), _GW2, "198.51.100.50", "0x4", ("10.5.0.0/16",),
          False, _CBC256_SHA1_DH2, "Policy1:Cipher=AES-CBC-256Integrity=SHA1", 3600),
    _Site("hamburg", ("branch-hamburg", "ham"), _GW2, "198.51.100.60", "0x7", ("10.6.0.0/16",),
          False, _CBC256_SHA256_DH2, "Policy1:Cipher=AES-CBC-256Integrity=SHA1", 3600),
    # Every VPNGW04 tunnel runs BGP and its config entry names its peer (`bgp_peer_ip`), so seville's BGP drop is
    # not read as theirs (without it, a peer counts only when the logs tie it to the tunnel: see
    # diagnostics/rules/bgp_session_down.py; paris and berlin name none, so a peer going down in a failover of
    # their whole gateway is nobody's).
    _Site("madrid", ("branch-madrid", "es-madrid"), _GW4, "198.51.100.70", "0x3", ("10.71.0.0/16",),
          False, _CBC256_SHA256_DH2, "Policy1:Cipher=AES-GCM-256Integrity=AES-GCM-256", None, "10.71.0.254",
          bgp_peer_in_config=True),
    _Site("rome", ("branch-rome", "fco"), _GW4, "198.51.100.80", "0x4", ("10.72.0.0/16",),
          False, _CBC256_SHA256_DH2, "Policy1:Cipher=AES-CBC-256Integrity=SHA256", None, "10.72.0.254",
          bgp_peer_in_config=True),
    _Site("milan", ("branch-milan", "mxp"), _GW4, "198.51.100.90", "0x5", ("10.73.0.0/16", "192.168.73.0/24"),
          False, _CBC256_SHA1_DH2, "Policy1:Cipher=AES-CBC-256Integrity=SHA1", None, "10.73.0.254",
          bgp_peer_in_config=True),
    _Site("porto", ("branch-porto", "pt-porto"), _GW4, "198.51.100.100", "0x6", ("10.74.0.0/16",),
          False, _CBC128_SHA256_DH2, "Policy1:Cipher=AES-CBC-256Integrity=SHA256", None, "10.74.0.254",
          bgp_peer_in_config=True),
    _Site("seville", ("branch-seville", "svq"), _GW4, "198.51.100.110", "0x7", ("10.75.0.0/16",),
          False, _CBC256_SHA256_DH2, "Policy1:Cipher=AES-GCM-256Integrity=AES-GCM-256", None, "10.4.0.254",
          bgp_peer_in_config=True),
)
_BY_NAME = {site.name: site for site in _SITES}


def _config_entry(site: _Site) -> dict[str, Any]:
    entry = {
        "name": site.name,
        "aliases": list(site.aliases),
        "azure_gateway": site.gateway.name,
        "azure_remote_ip": site.remote_ip,
        "azure_resource_group": site.gateway.resource_group,
        "azure_subscription": SUBSCRIPTION_ID,
    }
    if site.bgp_peer_in_config:
        entry["bgp_peer_ip"] = site.bgp_peer
    return entry


DEMO_TUNNELS: list[dict[str, Any]] = [_config_entry(site) for site in _SITES]

# The Azure↔AWS link: VPNGW03 connects to an AWS VPN connection, so its one tunnel has both azure_* and
# aws_* keys. Only the Azure side's rows are built here; diagnostics.aws.demo builds the AWS side's tunnel logs,
# aligned on `link_outage`. VPNGW03 logs only its routine child-SA rekeys
# (a healthy tunnel still logs every day: the summary's "no logs" relies on it).
LINK_GATEWAY = _Gateway("VPNGW03", "RG-NETWORK-WEU", LINK_GATEWAY_IP, "10.30.0.0/16")
_LINK_SITE = _Site("hub-aws", ("azure-aws", "vpngw03-aws"), LINK_GATEWAY, LINK_AWS_OUTSIDE_IPS[0], "0x2",
                   ("10.60.0.0/16",), False, _CBC256_SHA256_DH2, "Policy1:Cipher=AES-GCM-256Integrity=AES-GCM-256",
                   None)
DEMO_TUNNELS.append({**_config_entry(_LINK_SITE), "aws_vpn_connection": LINK_AWS_CONNECTION,
                     "aws_outside_ips": list(LINK_AWS_OUTSIDE_IPS)})


@dataclass(frozen=True)
class Scenario:
    """One story the demo week tells, so tests and docs can point at it."""

    tunnel: str
    cause: str  # a cause code (docs/rules.md)
    at: datetime  # UTC instant of the (first) disconnect (the BgpDisconnectedEvent for bgp_session_down), or the
    # quiet period start for no_drop_found
    description: str


# --------------------------------------------------------------------------------------------- row builders


def _ms(value: float) -> timedelta:
    return timedelta(milliseconds=round(value))


_rng = shared.rng


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _cookie(rng: random.Random) -> str:
    return f"0x{rng.getrandbits(64) | (1 << 60):016X}"


def _tsid(rng: random.Random) -> str:
    return f"0x{rng.randint(0x20, 0x7FF):X}"


def _base(
    gateway: _Gateway, at: datetime, category: str, operation: str, level: str = "Informational",
) -> Row:
    return {
        "TimeGenerated": at,
        "TenantId": TENANT_ID,
        "SourceSystem": "Azure",
        "Type": "AzureDiagnostics",
        "Category": category,
        "OperationName": operation,
        "Level": level,
        "Resource": gateway.name,
        "ResourceGroup": gateway.resource_group,
        "SubscriptionId": SUBSCRIPTION_ID,
        "ResourceId": gateway.resource_id,
        "_ResourceId": gateway.resource_id.lower(),
        "ResourceProvider": "MICROSOFT.NETWORK",
        "ResourceType": "VIRTUALNETWORKGATEWAYS",
    }


def _tunnel_row(site: _Site, at: datetime, connected: bool, instance: str, reason: str = "") -> Row:
    operation = "TunnelConnected" if connected else "TunnelDisconnected"
    level = "Informational" if connected else "Warning"
    row = _base(site.gateway, at, "TunnelDiagnosticLog", operation, level)
    row.update(
        instance_s=instance,
        remoteIP_s=site.remote_ip,
        status_s="Connected" if connected else "Disconnected",
        stateChangeReason_s=reason,
    )
    return row


def _gateway_row(
    gateway: _Gateway, at: datetime, operation: str, message: str, instance: str, status: str = "Success",
    **columns: str,
) -> Row:
    row = _base(gateway, at, "GatewayDiagnosticLog", operation)
    row.update(Message=message, instance_s=instance, operationStatus_s=status, **columns)
    return row


def _route_row(gateway: _Gateway, at: datetime, operation: str, message: str) -> Row:
    level = "Warning" if operation == "BgpDisconnectedEvent" else "Informational"
    row = _base(gateway, at, "RouteDiagnosticLog", operation, level)
    row["Message"] = message
    return row


def _ike_row(site: _Site, at: datetime, instance: str, session: str, text: str) -> Row:
    level = "Error" if "IKE Tunnel closed" in text else "Informational"
    row = _base(site.gateway, at, "IKEDiagnosticLog", "IKELogEvent", level)
    row["Message"] = (
        f"SESSION_ID :{{{session}}} Remote {site.remote_ip}:500: Local {site.gateway.public_ip}:500: {text}"
    )
    row["instance_s"] = instance
    return row


Step = tuple[float, str]  # (milliseconds after the previous step, IKE event text)


def _ike_rows(site: _Site, start: datetime, instance: str, session: str, steps: Iterable[Step]) -> list[Row]:
    rows, elapsed = [], 0.0
    for delay, text in steps:
        elapsed += delay
        rows.append(_ike_row(site, start + _ms(elapsed), instance, session, text))
    return rows


def _duration_ms(steps: Iterable[Step]) -> float:
    return sum(delay for delay, _ in steps)


# --------------------------------------------------------------------------------------------- IKE texts


def _ranges(cidrs: Iterable[str]) -> str:
    parts = []
    for cidr in cidrs:
        net = ipaddress.ip_network(cidr)
        parts.append(
            f"StartAddress {net.network_address} EndAddress {net.broadcast_address} "
            "PortStart 0 PortEnd 65535 Protocol 0"
        )
    return ", ".join(parts)


def _selectors(initiator: Iterable[str], responder: Iterable[str]) -> str:
    tsi, tsr = list(initiator), list(responder)
    return f"Number of TSIs {len(tsi)}: {_ranges(tsi)} Number of TSRs {len(tsr)}:{_ranges(tsr)}"


def _azure_side(site: _Site) -> tuple[str, ...]:
    return (site.gateway.vnet,) if site.narrow_selectors else (_ANY,)


def _remote_side(site: _Site) -> tuple[str, ...]:
    return site.subnets if site.narrow_selectors else (_ANY,)


def _sa_init_attempt(site: _Site, icookie: str) -> list[Step]:
    """Azure starts a negotiation (the first SA_INIT always has rCookie 0x0)."""
    tid = site.tunnel_id
    return [
        (0, f"[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId {tid}, iCookie {icookie} "
            "and rCookie 0x0"),
        (1, f"[SEND]Sending Ike payload for tunnel Id {tid}: Auth:PreShared Key- {_AZURE_IKE_OFFER}"),
    ]


def _azure_initiated(site: _Site, rng: random.Random) -> list[Step]:
    """A full negotiation with Azure as initiator that the device answers (shape of docs/sources.md#azure-ike-log)."""
    tid, icookie, rcookie, tsid = site.tunnel_id, _cookie(rng), _cookie(rng), _tsid(rng)
    rtt = rng.uniform(18, 90)
    return [
        *_sa_init_attempt(site, icookie),
        (rtt, f"[RECEIVED][SA_INIT] Received IKE SA Init response message with iCookie {icookie} "
              f"rCookie {rcookie}"),
        (1, f"[RECEIVED] Receiving MM Packet for tunnel Id {tid} iCookie {icookie} and rCookie {rcookie}: "
            "Receiving MM Nonce"),
        (1, f"[RECEIVED]Received Ike payload: {site.peer_ike}"),
        (rng.uniform(3, 9), f"[SEND][SA_AUTH] Sending SA AUTH message for tunnelId {tid} and tsId {tsid}"),
        (1, f"Proposed(send) Traffic Selector payload will be- [Tsid {tsid} ]"
            f"{_selectors(_azure_side(site), _remote_side(site))}"),
        (1, f"[SEND]Sending IPSec policy Payload for tunnel Id {tid}, tsId {tsid}: {_AZURE_IPSEC_OFFER}"),
        (rtt + rng.uniform(1, 6), "[RECEIVED][SA_AUTH] Received IKE AUTH message"),
        (1, f"[RECEIVED]Received IPSec payload: {site.peer_ipsec}"),
    ]


def _peer_sa_init(site: _Site, icookie: str, rcookie: str, offer: str = "") -> list[Step]:
    """The device starts a negotiation (docs/sources.md#azure-ike-errors, remote as initiator)."""
    return [
        (0, f"[RECEIVED][SA_INIT] Received SA INIT iCookie {icookie} rCookie 0x0"),
        (1, f"[RECEIVED]Received Ike payload: {offer or site.peer_ike}"),
        (2, f"[LOCAL_MSG][SA_INIT] Received SA INIT iCookie {icookie} and Generated new rCookie {rcookie}"),
    ]


def _psk_rejected(site: _Site, rng: random.Random) -> list[Step]:
    """Azure initiates, phase 1 is agreed, and the device rejects Azure's AUTH: the ten verbatim rows of
    docs/sources.md#azure-ike-errors (oldest first, the SA_INIT response put before the MM packet it announces)."""
    *phase1, _, _ = _azure_initiated(site, rng)  # up to `[SEND]Sending IPSec policy Payload`
    return [
        *phase1,
        (rng.uniform(20, 90), f"[LOCAL_MSG] IKE Tunnel closed for tunnelId {site.tunnel_id} with status IKE "
                              "authentication credentials are unacceptable"),
        (0, "[RECEIVED][NOTIFY] Received Notify Message - Authentication failed"),
    ]


def _peer_policy_rejected(site: _Site, offer: str, rng: random.Random) -> list[Step]:
    """The device initiates with a proposal the gateway does not accept: docs/sources.md#azure-ike-errors, remote
    as initiator."""
    return [
        *_peer_sa_init(site, _cookie(rng), _cookie(rng), offer),
        (1, "[SEND][NOTIFY] Sending Notify Message - Policy Mismatch"),
    ]


def _peer_selectors_timed_out(
    site: _Site, initiator: Iterable[str], responder: Iterable[str], rng: random.Random,
) -> list[Step]:
    """The device initiates, phase 1 and AUTH pass, its traffic selectors match nothing on the gateway, and the
    negotiation times out (docs/sources.md#azure-traffic-selectors: its rows and `[IkeEvent] … 0x35ED …
    Negotiation timed out`)."""
    tsid = _tsid(rng)
    return [
        *_peer_sa_init(site, _cookie(rng), _cookie(rng)),
        (rng.uniform(150, 450), "[RECEIVED][SA_AUTH] Received IKE AUTH message"),
        (1, f"Received Traffic Selector payload request- [Tsid {tsid}  ]{_selectors(initiator, responder)}"),
        (1, f"[RECEIVED]Received IPSec payload: {site.peer_ipsec}"),
        (rng.uniform(14_500, 15_500),
         "[IkeEvent] SA_NEGOTIATION_FAILED [ErrorCode] 0x35ED [ErrorMessage] Negotiation timed out"),
    ]


def _peer_initiated_ok(site: _Site, rng: random.Random, responder: Iterable[str] = ()) -> list[Step]:
    """The device initiates and everything matches (reconstruction: no public row shows a success)."""
    return [
        *_peer_sa_init(site, _cookie(rng), _cookie(rng)),
        (rng.uniform(150, 450), "[RECEIVED][SA_AUTH] Received IKE AUTH message"),
        *_peer_child_sa(site, _tsid(rng), responder),
    ]


def _peer_child_sa(site: _Site, tsid: str, responder: Iterable[str] = ()) -> list[Step]:
    """The device's child SA request and Azure's answer (docs/sources.md#azure-traffic-selectors, without the
    mismatch)."""
    selectors = _selectors(site.subnets, tuple(responder) or _azure_side(site))
    return [
        (1, f"Received Traffic Selector payload request- [Tsid {tsid}  ]{selectors}"),
        (1, f"[RECEIVED]Received IPSec payload: {site.peer_ipsec}"),
        (1, "[SEND] Proposed Traffic Selector payload will be (Final Negotiated) - "
            f"[Tsid {tsid}  ]{selectors}"),
    ]


def _azure_child_sa(site: _Site, tsid: str, rtt: float) -> list[Step]:
    """Azure rekeys a child SA: its IPsec offer and selectors, then the device's choice."""
    return [
        (0, f"[SEND]Sending IPSec policy Payload for tunnel Id {site.tunnel_id}, tsId {tsid}: "
            f"{_AZURE_IPSEC_OFFER}"),
        (1, f"Proposed(send) Traffic Selector payload will be- [Tsid {tsid} ]"
            f"{_selectors(_azure_side(site), _remote_side(site))}"),
        (rtt, f"[RECEIVED]Received IPSec payload: {site.peer_ipsec}"),
    ]


_VALIDATED = "Validate gateway configuration succeeded"
_DPD_CLOSE = "with status Main mode SA assumed to be invalid because peer stopped responding"


# --------------------------------------------------------------------------------------------- the week


@dataclass(frozen=True)
class _Outage:
    site: _Site
    down: datetime
    up: datetime
    up_instance: str


@dataclass
class _Week:
    """Rows, scenarios and outages collected while the week is built."""

    now: datetime
    day0: datetime  # 00:00 UTC of `now`'s day
    rows: list[Row] = field(default_factory=list)
    scenarios: list[Scenario] = field(default_factory=list)
    outages: list[_Outage] = field(default_factory=list)
    silent: list[tuple[_Site, datetime, datetime]] = field(default_factory=list)  # no routine rekeys logged there

    def day(self, days_ago: int, hour: int, minute: int, second: float = 0.0) -> datetime:
        clock = timedelta(hours=hour, minutes=minute) + _ms(second * 1000)
        return self.day0 - timedelta(days=days_ago) + clock

    def instance_at(self, gateway: _Gateway, at: datetime) -> str:
        """The active instance: where the latest reconnect on that gateway landed (IN_0 at the start)."""
        ups = [o for o in self.outages if o.site.gateway == gateway and o.up <= at]
        return max(ups, key=lambda o: o.up).up_instance if ups else IN_0

    def near_outage(self, site: _Site, at: datetime, margin: timedelta) -> bool:
        return any(o.site == site and o.down - margin <= at <= o.up + margin for o in self.outages)

    def near_gateway_outage(self, gateway: _Gateway, at: datetime, margin: timedelta) -> bool:
        return any(o.site.gateway == gateway and o.down - margin <= at <= o.up + margin for o in self.outages)


def _drop(
    week: _Week, site: _Site, down: datetime, up: datetime, instances: tuple[str, str], reason: str,
    rng: random.Random,
) -> None:
    """TunnelDisconnected/TunnelConnected (plus the BGP session when the site runs BGP)."""
    down_instance, up_instance = instances
    week.rows.append(_tunnel_row(site, down, False, down_instance, reason))
    week.rows.append(_tunnel_row(site, up, True, up_instance))
    week.outages.append(_Outage(site, down, up, up_instance))
    if site.bgp_peer:
        week.rows.extend(_bgp_bounce(site, down, up, rng))


def _bgp_lost(site: _Site, at: datetime) -> list[Row]:
    """The BGP session with the site's peer drops and its routes are withdrawn."""
    gw, peer = site.gateway, site.bgp_peer
    return [
        _route_row(gw, at, "BgpDisconnectedEvent", f"BGP peer {peer} disconnected"),
        *(_route_row(gw, at + _ms(5 + i), "BgpRouteUpdate", f"Route {prefix} withdrawn by peer {peer}")
          for i, prefix in enumerate(site.subnets)),
    ]


def _bgp_bounce(site: _Site, down: datetime, up: datetime, rng: random.Random) -> list[Row]:
    gw, peer = site.gateway, site.bgp_peer
    bgp_down, bgp_up = down + _ms(rng.uniform(150, 900)), up + _ms(rng.uniform(4000, 19000))
    rows = _bgp_lost(site, bgp_down)
    rows.append(_route_row(gw, bgp_up, "BgpConnectedEvent", f"BGP peer {peer} connected"))
    rows += [
        _route_row(gw, bgp_up + _ms(rng.uniform(300, 1500) + i), "BgpRouteUpdate",
                   f"Route {prefix} learned from peer {peer}")
        for i, prefix in enumerate(site.subnets)
    ]
    return rows


def _reconnect_ike(week: _Week, site: _Site, instance: str, up: datetime, rng: random.Random) -> None:
    """The Azure-initiated negotiation that ends just before TunnelConnected at `up`."""
    steps = _azure_initiated(site, rng)
    start = up - _ms(_duration_ms(steps) + rng.uniform(120, 600))
    week.rows.extend(_ike_rows(site, start, instance, _guid(rng), steps))


def _unanswered_attempt(week: _Week, site: _Site, instance: str, at: datetime, rng: random.Random) -> None:
    week.rows.extend(_ike_rows(site, at, instance, _guid(rng), _sa_init_attempt(site, _cookie(rng))))


def _dpd_close(week: _Week, site: _Site, instance: str, at: datetime, rng: random.Random) -> None:
    text = f"[LOCAL_MSG] IKE Tunnel closed for tunnelId {site.tunnel_id} {_DPD_CLOSE}"
    week.rows.append(_ike_row(site, at, instance, _guid(rng), text))


# --------------------------------------------------------------------------------------------- scenarios


def _failover(
    week: _Week, site: _Site, down: datetime, instances: tuple[str, str], reason: str,
    seconds: tuple[float, float], rng: random.Random,
) -> None:
    """The active instance goes away; the other one brings the tunnel up after `seconds` (min, max)."""
    up = down + _ms(rng.uniform(*seconds) * 1000)
    _reconnect_ike(week, site, instances[1], up, rng)
    _drop(week, site, down, up, instances, reason, rng)


def _maintenance_switch(
    week: _Week, start: datetime, old: str, new: str, rng: random.Random,
) -> list[datetime]:
    """HostMaintenanceEvent on `old`, then every VPNGW01 tunnel fails over to `new` in 10-15 s."""
    announced = start - _ms(rng.uniform(200, 260) * 1000)
    week.rows.append(_gateway_row(
        _GW1, announced, "HostMaintenanceEvent", "Upgrade gateway started", old, status="InProgress",
    ))
    week.rows.append(_gateway_row(
        _GW1, start + _ms(rng.uniform(1500, 2500)), "GatewayTenantPrimaryChanged",
        f"Primary instance changed from {old} to {new}", new,
    ))
    downs = []
    for site in (s for s in _SITES if s.gateway == _GW1):
        down = start + _ms(rng.uniform(0, 1200))
        _failover(week, site, down, (old, new), "StandbyChanged", (10.5, 14.5), rng)
        downs.append(down)
    return downs


def _maintenance_failover(week: _Week) -> None:
    rng = _rng("maintenance_failover")
    first = _maintenance_switch(week, week.day(1, 14, 2, 6.0), IN_0, IN_1, rng)
    second_at = week.day(1, 14, 2, 6.0) + timedelta(minutes=38, seconds=17)
    _maintenance_switch(week, second_at, IN_1, IN_0, rng)
    for site, down in zip((s for s in _SITES if s.gateway == _GW1), first, strict=True):
        week.scenarios.append(Scenario(
            site.name, "maintenance_failover", down,
            "VPNGW01 host maintenance (HostMaintenanceEvent 'Upgrade gateway started'): the tunnel fails "
            "over IN_0 -> IN_1 within 15 s, and back IN_1 -> IN_0 about 38 minutes later",
        ))


def _gateway_failover(week: _Week) -> None:
    rng = _rng("gateway_failover")
    start = week.day(2, 3, 12, 24.0)
    for site in (s for s in _SITES if s.gateway == _GW2):
        down = start + _ms(rng.uniform(0, 1500))
        _failover(week, site, down, (IN_0, IN_1), "GlobalStandbyChanged", (40, 80), rng)
        week.scenarios.append(Scenario(
            site.name, "gateway_failover", down,
            "VPNGW02 reset: every tunnel drops on IN_0 and comes back on IN_1 within 40-80 s, "
            "with no maintenance record",
        ))


def _connection_columns(site: _Site) -> dict[str, str]:
    return {
        "configuration_ConnectionTrafficType_s": "Internet",
        "configuration_IkeVersion_s": "IKEv2",
        "configuration_LocalTunnelEndpoint_s": site.gateway.public_ip,
        "configuration_RemoteTunnelEndpoint_s": site.remote_ip,
        "configuration_RemoteSite_s": site.local_network_gateway,
        "configuration_LocalSubnets_s": f'["{site.gateway.vnet}"]',
        "configuration_RemoteSubnets_s": "[" + ",".join(f'"{s}"' for s in site.subnets) + "]",
    }


def _config_change(week: _Week) -> None:
    rng, site = _rng("config_change"), _BY_NAME["berlin"]
    down = week.day(1, 16, 20, 31.4)
    instance = week.instance_at(site.gateway, down)
    columns = _connection_columns(site)
    week.rows.append(_gateway_row(
        site.gateway, down - _ms(55_300), "SetConnectionConfiguration",
        f"Setting connection configuration for {site.connection}", instance, status="InProgress", **columns,
    ))
    week.rows.append(_gateway_row(
        site.gateway, down - _ms(42_700), "SetConnectionConfiguration",
        f"Set connection configuration for {site.connection} succeeded: IPsec SA lifetime changed "
        "from 27000 to 3600 seconds", instance, **columns,
    ))
    up = down + _ms(rng.uniform(12, 24) * 1000)
    _reconnect_ike(week, site, instance, up, rng)
    _drop(week, site, down, up, (instance, instance), "SALifetimeSeconds changed", rng)
    week.scenarios.append(Scenario(
        site.name, "config_change", down,
        "SetConnectionConfiguration on cn-vpngw02-berlin (IPsec SA lifetime changed) ~43 s before the drop; "
        "the tunnel reconnects on the same instance within 30 s",
    ))


def _dpd_drop(week: _Week, site: _Site, down: datetime, outage_s: float, rng: random.Random) -> None:
    """The device stops answering DPD: close, Azure re-initiates (once unanswered), reconnect."""
    instance = week.instance_at(site.gateway, down)
    up = down + _ms(outage_s * 1000)
    _dpd_close(week, site, instance, down - _ms(rng.uniform(3, 40)), rng)
    _unanswered_attempt(week, site, instance, down + _ms(rng.uniform(700, 1500)), rng)
    _reconnect_ike(week, site, instance, up, rng)
    _drop(week, site, down, up, (instance, instance), "DPD timed out", rng)


def _dpd_timeout(week: _Week) -> None:
    rng, site = _rng("dpd_timeout"), _BY_NAME["lyon"]
    down = week.day(2, 9, 15, 18.2)
    _dpd_drop(week, site, down, rng.uniform(6.5, 9.0), rng)
    week.scenarios.append(Scenario(
        site.name, "dpd_timeout", down,
        "lyon stops answering dead-peer detection; Azure re-initiates (SA_INIT, rCookie 0x0) and the tunnel "
        "is back on the same instance within 10 s",
    ))


def _remote_initiated(week: _Week) -> None:
    rng, site = _rng("remote_initiated"), _BY_NAME["nice"]
    first_packet = week.day(3, 10, 30, 4.6)
    instance = week.instance_at(site.gateway, first_packet)
    icookie, rcookie, session = _cookie(rng), _cookie(rng), _guid(rng)
    week.rows.extend(_ike_rows(site, first_packet, instance, session, _peer_sa_init(site, icookie, rcookie)))
    down = first_packet + _ms(rng.uniform(250, 450))
    auth = down + _ms(rng.uniform(900, 1600))
    week.rows.extend(_ike_rows(site, auth, instance, session, [
        (0, "[RECEIVED][SA_AUTH] Received IKE AUTH message"), *_peer_child_sa(site, _tsid(rng)),
    ]))
    up = auth + _ms(rng.uniform(400, 1200))
    _drop(week, site, down, up, (instance, instance), "RemoteCrashTriggered", rng)
    week.scenarios.append(Scenario(
        site.name, "remote_initiated", down,
        "the nice device sends a new SA_INIT (rCookie 0x0) while the tunnel is up; Azure drops the old SA "
        "and accepts the new one on the same instance within seconds",
    ))


def _flapping(week: _Week) -> None:
    rng, site = _rng("flapping"), _BY_NAME["hamburg"]
    start = week.now.replace(microsecond=0) - timedelta(hours=3)
    offsets_min = (0.0, 4.6, 11.2, 13.9, 25.3, 31.8, 38.5)
    downs = [start + _ms((minutes * 60 + rng.uniform(0, 20)) * 1000) for minutes in offsets_min]
    for down in downs:
        _dpd_drop(week, site, down, rng.uniform(4.0, 19.0), rng)
    week.scenarios.append(Scenario(
        site.name, "flapping", downs[0],
        f"hamburg drops {len(downs)} times in 40 minutes (DPD timed out, outages of 4-19 s, same instance, "
        "irregular gaps), starting 3 hours before now",
    ))


def _unknown(week: _Week) -> None:
    rng, site = _rng("unknown"), _BY_NAME["munich"]
    down = week.day(4, 22, 40, 52.8)
    up = down + timedelta(minutes=6, seconds=10)
    _reconnect_ike(week, site, IN_0, up, rng)
    _drop(week, site, down, up, (IN_0, IN_0), "", rng)
    week.scenarios.append(Scenario(
        site.name, "unknown", down,
        "munich drops on IN_0 with no reason and reconnects on IN_0 about 6 minutes later; no gateway, "
        "configuration or maintenance row nearby",
    ))


def _quiet(week: _Week) -> None:
    week.scenarios.append(Scenario(
        "paris", "no_drop_found", week.day(6, 0, 0),
        "paris has no drop in the 5 days before yesterday (its only drops are yesterday's maintenance "
        "failovers); no tunnel drops in the last 60 minutes before now",
    ))


def _aws_link(week: _Week) -> None:
    """VPNGW03 resets with no maintenance record: its tunnel to AWS fails over IN_0 -> IN_1 within a minute, and
    AWS sees its peer vanish (DPD timeouts on both tunnels a few seconds later, diagnostics.aws.demo)."""
    down, up = link_outage(week.now)
    _drop(week, _LINK_SITE, down, up, (IN_0, IN_1), "GlobalStandbyChanged", _rng("aws_link/drop"))
    week.scenarios.append(Scenario(
        _LINK_SITE.name, "gateway_failover", down,
        "VPNGW03 (connected to AWS) fails over IN_0 -> IN_1 with no maintenance record; the AWS side logs DPD "
        "timeouts on both tunnels 4-5 s later and recovers with it",
    ))


# ------------------------------------------------------------------- VPNGW04: negotiations that keep failing


def _retries(
    week: _Week, site: _Site, instance: str, first: datetime, until: datetime, gap_s: tuple[float, float],
    attempt: Callable[[random.Random], list[Step]], rng: random.Random,
) -> datetime:
    """One failing negotiation after another (a fresh SESSION_ID and cookies each), each starting `gap_s` seconds
    after the previous one ended, until `until`; returns when the next one would have started."""
    at = first
    while at < until:
        steps = attempt(rng)
        week.rows.extend(_ike_rows(site, at, instance, _guid(rng), steps))
        at += _ms(_duration_ms(steps) + rng.uniform(*gap_s) * 1000)
    return at


def _psk_mismatch(week: _Week) -> None:
    """madrid: the key is changed on the Azure connection only; Azure re-initiates every 6-8 s and the device
    rejects its AUTH each time, until the device gets the new key 45 minutes later."""
    rng, site = _rng("psk_mismatch"), _BY_NAME["madrid"]
    down = week.day(1, 10, 0, 3.8)
    instance = week.instance_at(site.gateway, down)
    columns = _connection_columns(site)
    week.rows.append(_gateway_row(
        site.gateway, down - _ms(31_600), "SetConnectionConfiguration",
        f"Setting connection configuration for {site.connection}", instance, status="InProgress", **columns,
    ))
    week.rows.append(_gateway_row(
        site.gateway, down - _ms(19_200), "SetConnectionConfiguration",
        f"Set connection configuration for {site.connection} succeeded: shared key updated", instance, **columns,
    ))
    fixed = _retries(week, site, instance, down + _ms(rng.uniform(1200, 2400)), down + timedelta(minutes=45),
                     (6, 8), lambda r: _psk_rejected(site, r), rng)
    up = fixed + _ms(rng.uniform(900, 1400))
    _reconnect_ike(week, site, instance, up, rng)
    _drop(week, site, down, up, (instance, instance), "Pre-shared Key Changed", rng)
    week.scenarios.append(Scenario(
        site.name, "psk_mismatch", down,
        "the shared key of cn-vpngw04-madrid is changed on Azure only (SetConnectionConfiguration ~19 s before the "
        "drop); Azure re-initiates every 6-8 s for 45 minutes and the device rejects each AUTH ('Authentication "
        "failed'), until the device gets the new key",
    ))


_ROME_NEW_OFFER = "Policy1:Cipher=AES-CBC-256 Integrity=SHA256 DhGroup=DhGroup14"


def _ike_proposal_mismatch(week: _Week) -> None:
    """rome: the device's IKE policy moves to DH group 14, which Azure's default policy does not accept."""
    rng, site = _rng("ike_proposal_mismatch"), _BY_NAME["rome"]
    down = week.day(2, 8, 0, 11.6)
    instance = week.instance_at(site.gateway, down)
    fixed = _retries(week, site, instance, down + _ms(rng.uniform(800, 2000)), down + timedelta(minutes=30),
                     (9.5, 10.5), lambda r: _peer_policy_rejected(site, _ROME_NEW_OFFER, r), rng)
    steps = _peer_initiated_ok(site, rng)
    week.rows.extend(_ike_rows(site, fixed, instance, _guid(rng), steps))
    up = fixed + _ms(_duration_ms(steps) + rng.uniform(300, 900))
    _drop(week, site, down, up, (instance, instance), "RemotelyTriggered", rng)
    week.scenarios.append(Scenario(
        site.name, "ike_proposal_mismatch", down,
        "the rome device's IKE policy changes to DH group 14: for 30 minutes it initiates every ~10 s offering "
        "AES-CBC-256/SHA256/DhGroup14 only and Azure (default policy, DH group 2) answers 'Policy Mismatch'",
    ))


_MILAN_DEVICE_TSR = ("10.41.0.0/16",)  # the device's remote encryption domain: not the VNet (10.40.0.0/16)


def _traffic_selector_mismatch(week: _Week) -> None:
    """milan: narrow traffic selectors are switched on for the connection, and the device's encryption domain
    (its two prefixes <-> 10.41.0.0/16, a typo for the VNet) matches nothing; switched back off 20 minutes later,
    the gateway accepts the device's selectors again (a route-based gateway accepts what the remote proposes)."""
    rng, site = _rng("traffic_selector_mismatch"), _BY_NAME["milan"]
    down = week.day(3, 15, 30, 7.9)
    instance = week.instance_at(site.gateway, down)
    fixed = _retries(week, site, instance, down + _ms(rng.uniform(1500, 3000)), down + timedelta(minutes=20),
                     (4, 6), lambda r: _peer_selectors_timed_out(site, site.subnets, _MILAN_DEVICE_TSR, r), rng)
    steps = _peer_initiated_ok(site, rng, _MILAN_DEVICE_TSR)
    week.rows.extend(_ike_rows(site, fixed, instance, _guid(rng), steps))
    up = fixed + _ms(_duration_ms(steps) + rng.uniform(300, 900))
    _drop(week, site, down, up, (instance, instance), "UseNarrowTrafficSelectors changed", rng)
    week.scenarios.append(Scenario(
        site.name, "traffic_selector_mismatch", down,
        "narrow traffic selectors are switched on for cn-vpngw04-milan; for 20 minutes the device proposes "
        "10.73.0.0/16 + 192.168.73.0/24 <-> 10.41.0.0/16 (the VNet is 10.40.0.0/16) and every negotiation times "
        "out after AUTH (0x35ED), until the setting is switched back",
    ))


PORTO_LAST_SA_INIT = timedelta(hours=2)  # before now: Azure keeps retrying, the demo stops logging it


def _peer_unreachable(week: _Week) -> None:
    """porto: the device vanishes (DPD timed out) and never answers again; the tunnel is still down now."""
    rng, site = _rng("peer_unreachable"), _BY_NAME["porto"]
    down = week.now.replace(microsecond=0) - timedelta(hours=5) + _ms(rng.uniform(0, 20_000))
    instance = week.instance_at(site.gateway, down)
    week.rows.append(_tunnel_row(site, down, False, instance, "DPD timed out"))
    week.outages.append(_Outage(site, down, week.now + timedelta(days=1), instance))  # not back within the week
    week.rows += _bgp_lost(site, down + _ms(rng.uniform(150, 900)))
    sa_init = f"[SEND][SA_INIT] Sending IKE SA_INIT packet with tunnelId {site.tunnel_id}, iCookie {{}} and rCookie 0x0"
    at, until = down + _ms(rng.uniform(700, 1500)), week.now - PORTO_LAST_SA_INIT
    while at < until:
        week.rows.append(_ike_row(site, at, instance, _guid(rng), sa_init.format(_cookie(rng))))
        at += _ms(rng.uniform(6500, 7500))
    week.scenarios.append(Scenario(
        site.name, "peer_unreachable", down,
        "the porto device stops answering (DPD timed out) 5 hours before now; Azure sends SA_INIT (rCookie 0x0) "
        "every ~7 s and never receives anything: the tunnel is still down",
    ))


def _bgp_session_down(week: _Week) -> None:
    """seville: the BGP session comes up and drops 95 s later while the IPsec tunnel stays connected."""
    rng, site = _rng("bgp_session_down"), _BY_NAME["seville"]
    gw, peer, prefix = site.gateway, site.bgp_peer, site.subnets[0]
    connected = week.day(4, 11, 0, 6.4)
    down = connected + _ms(rng.uniform(94_000, 96_000))
    back = down + timedelta(minutes=41, seconds=17)
    week.rows += [
        _route_row(gw, connected, "BgpConnectedEvent", f"BGP peer {peer} connected"),
        _route_row(gw, connected + _ms(rng.uniform(400, 1500)), "BgpRouteUpdate",
                   f"Route {prefix} learned from peer {peer}"),
        *_bgp_lost(site, down),
        _route_row(gw, back, "BgpConnectedEvent", f"BGP peer {peer} connected"),
        _route_row(gw, back + _ms(rng.uniform(400, 1500)), "BgpRouteUpdate",
                   f"Route {prefix} learned from peer {peer}"),
    ]
    week.scenarios.append(Scenario(
        site.name, "bgp_session_down", down,
        f"the BGP session with {peer} over the seville tunnel connects and drops ~95 s later (BgpConnectedEvent, "
        "then BgpDisconnectedEvent) while the tunnel stays connected; it comes back 41 minutes later",
    ))


# ------------------------------------------------- traffic stories: connected, and traffic does not get through


@dataclass(frozen=True)
class TrafficScenario:
    """A traffic story of the demo (the gateway's metrics, `diagnostics.azure.demo_metrics`): the tunnel stays
    connected in the logs. `cause` is the traffic cause code an answer about `at` (or now) should give."""

    tunnel: str
    cause: str
    at: datetime  # when it starts (UTC)
    description: str


#: How long before `now` each traffic story starts (the same offsets for the logs and the metrics).
NICE_TS_DROPS = timedelta(hours=6)
MUNICH_ONE_WAY = timedelta(hours=2)
MILAN_ROUTES_WITHDRAWN = timedelta(hours=4)
BERLIN_PHASE2_DELETED = timedelta(minutes=90)
NICE_UNCOVERED = "192.168.3.0/24"  # what nice's site also sends from, outside its selectors


def _story_start(now: datetime, before: timedelta, seconds: float) -> datetime:
    return _utc(now).replace(second=0, microsecond=0) - before + _ms(seconds * 1000)


def traffic_scenarios(now: datetime) -> list[TrafficScenario]:
    """The traffic stories of the demo week ending at `now`, oldest first (not in `scenarios`: no drop is logged)."""
    day0 = _utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    nice, milan = _BY_NAME["nice"], _BY_NAME["milan"]
    return sorted([
        TrafficScenario(
            "nice", "traffic_selector_drops", _story_start(now, NICE_TS_DROPS, 12.4),
            f"nice stays connected with narrow selectors {nice.subnets[0]} <-> {nice.gateway.vnet} (every hourly "
            f"rekey's IKE rows show them), but its site also sends from {NICE_UNCOVERED}: "
            "TunnelIngressPacketDropTSMismatch counts those packets as dropped"),
        TrafficScenario(
            "munich", "one_way_traffic", _story_start(now, MUNICH_ONE_WAY, 41.0),
            "munich stays connected; the gateway keeps sending (TunnelEgressBytes) but nothing arrives from the site "
            "(TunnelIngressBytes 0): a route or firewall rule on one side"),
        TrafficScenario(
            "milan", "no_routes", _story_start(now, MILAN_ROUTES_WITHDRAWN, 3.2),
            f"the milan device withdraws {' and '.join(milan.subnets)} (BgpRouteUpdate rows) while its BGP session "
            "stays up: BgpPeerStatus 1, BgpRoutesLearned 0, and no traffic either way since"),
        TrafficScenario(
            "berlin", "no_traffic", _story_start(now, BERLIN_PHASE2_DELETED, 27.5),
            "the berlin device deletes the phase 2 (quick mode) SA while phase 1 stays up: no TunnelDisconnected is "
            "logged, the IKE rows show the delete, and no byte flows since"),
        TrafficScenario(
            "rome", "no_traffic", day0 - timedelta(days=1),
            "rome is connected all of yesterday and today but carries no traffic (it carries traffic on the days "
            "before): connected but idle"),
        TrafficScenario(
            "lyon", "traffic_flowing", _utc(now) - timedelta(hours=1),
            "lyon is connected and carries its usual traffic both ways"),
    ], key=lambda s: s.at)


def _milan_routes_withdrawn(week: _Week) -> None:
    """milan: the device stops advertising its prefixes; the BGP session stays up."""
    site = _BY_NAME["milan"]
    at = _story_start(week.now, MILAN_ROUTES_WITHDRAWN, 3.2)
    week.rows += [_route_row(site.gateway, at + _ms(5 + i), "BgpRouteUpdate",
                             f"Route {prefix} withdrawn by peer {site.bgp_peer}")
                  for i, prefix in enumerate(site.subnets)]


def _berlin_phase2_deleted(week: _Week) -> None:
    """berlin: the device deletes the child (quick mode) SA; the IKE SA stays, no rekey is logged after it."""
    rng, site = _rng("phase2_deleted"), _BY_NAME["berlin"]
    at = _story_start(week.now, BERLIN_PHASE2_DELETED, 27.5)
    tsid = _tsid(rng)
    week.rows.extend(_ike_rows(site, at, week.instance_at(site.gateway, at), _guid(rng), [
        (0, f"[RECEIVED][INFORMATIONAL] Received Delete payload for IPsec SA with tsId {tsid}"),
        (2, f"[LOCAL_MSG] IPsec SA deleted for tunnelId {site.tunnel_id} and tsId {tsid}: Main Mode SA remains "
            "established"),
    ]))
    week.silent.append((site, at, week.now + timedelta(days=1)))


# --------------------------------------------------------------------------------------------- background


def _periodic(
    rng: random.Random, start: datetime, end: datetime, period_s: float, jitter_s: float,
) -> list[datetime]:
    times, at = [], start + _ms(rng.uniform(0, period_s) * 1000)
    while at < end:
        times.append(at)
        at += _ms((period_s + rng.uniform(-jitter_s, jitter_s)) * 1000)
    return times


def _child_rekeys(week: _Week, site: _Site, first: datetime) -> list[Row]:
    """Routine child SA rekeys: by the device every `peer_rekey_s`, else by Azure every 27,000 s."""
    rng = _rng(f"rekey/{site.name}")
    period = site.peer_rekey_s or _AZURE_CHILD_LIFETIME_S
    rows = []
    for at in _periodic(rng, first, week.day0 + timedelta(days=1), period, 45):
        tsid, session = _tsid(rng), _guid(rng)
        rtt = rng.uniform(18, 90)
        steps = _peer_child_sa(site, tsid) if site.peer_rekey_s else _azure_child_sa(site, tsid, rtt)
        quiet = any(other == site and lo <= at <= hi for other, lo, hi in week.silent)
        if not week.near_outage(site, at, timedelta(minutes=15)) and not quiet:
            rows.extend(_ike_rows(site, at, week.instance_at(site.gateway, at), session, steps))
    return rows


def _p2s_session(at: datetime, rng: random.Random) -> list[Row]:
    users = ("contosouser", "amelie.durand", "julien.moreau", "sophie.bernard", "lucas.petit", "camille.roux")
    user = "***" + rng.choice(users)[3:] + "@contoso.com"
    session = "OVPN_" + f"{rng.getrandbits(128):032x}"
    client = f"0.51.100.{rng.randint(2, 254)}:{rng.randint(49152, 65535)}"
    texts = [
        f"Connect request received. IP={client}",
        f"AAD authentication succeeded. Username={user}",
        f"Connection successful. Username={user} IP=172.16.201.{rng.randint(2, 250)}",
    ]
    rows, t = [], at
    for text in texts:
        row = _base(_GW1, t, "P2SDiagnosticLog", "P2SLogEvent")
        row["Message"] = f"[MSG] [default] [{session}] {text}"
        rows.append(row)
        t += _ms(rng.uniform(400, 2500))
    return rows


_P2S_FAILING_USERS = ("alice", "thomas.leroy", "julien.moreau", "ines.garcia")
# RECONSTRUCTION: only the token "Connection failed" is public (Microsoft's queries match it,
# docs/sources.md#azure-p2s); the `Username=` part copies the success row's shape and the `Reason=` values are
# invented.
_P2S_FAILURE_REASONS = ("AAD authentication failed", "AAD token expired")


def _p2s_failure(at: datetime, rng: random.Random) -> list[Row]:
    """A point-to-site login that fails: the verbatim connect request, then a reconstructed failure row."""
    user = "***" + rng.choice(_P2S_FAILING_USERS)[3:] + "@contoso.com"
    session = "OVPN_" + f"{rng.getrandbits(128):032x}"
    client = f"0.51.100.{rng.randint(2, 254)}:{rng.randint(49152, 65535)}"
    texts = [
        f"Connect request received. IP={client}",
        f"Connection failed. Username={user} Reason={rng.choice(_P2S_FAILURE_REASONS)}",
    ]
    rows, t = [], at
    for text in texts:
        row = _base(_GW1, t, "P2SDiagnosticLog", "P2SLogEvent")
        row["Message"] = f"[MSG] [default] [{session}] {text}"
        rows.append(row)
        t += _ms(rng.uniform(1500, 6000))
    return rows


def _p2s(week: _Week) -> list[Row]:
    """Point-to-site OpenVPN logins on VPNGW01, every day (busy and quiet days, not tied to the calendar,
    so moving `now` by whole days moves every row by the same amount), a few failed ones among them, and some
    in the last three hours of today (so "who failed to connect today" has an answer at any hour after 00:05)."""
    rng, rows = _rng("p2s"), []
    for days_ago in range(8, -1, -1):
        day = week.day0 - timedelta(days=days_ago)
        count = rng.randint(9, 16) if rng.random() < 0.7 else rng.randint(1, 3)
        for _ in range(count):
            rows.extend(_p2s_session(day + _ms(rng.uniform(6.5, 19.5) * 3_600_000), rng))
    failed = _rng("p2s/failed")
    for days_ago in range(8, -1, -1):
        day = week.day0 - timedelta(days=days_ago)
        for _ in range(failed.randint(2, 4)):
            rows.extend(_p2s_failure(day + _ms(failed.uniform(6.5, 19.5) * 3_600_000), failed))
    recent = _rng("p2s/recent")
    start = max(week.day0, week.now - timedelta(hours=3))
    span_ms = (week.now - INGESTION_LAG - timedelta(minutes=1) - start) / timedelta(milliseconds=1)
    for kind in (_p2s_failure, _p2s_session, _p2s_failure, _p2s_session, _p2s_session):
        at = start + _ms(recent.uniform(0, span_ms)) if span_ms > 0 else week.now  # after the week: dropped
        rows.extend(kind(at, recent))
    return rows


def _daily_validation(week: _Week) -> list[Row]:
    rng, rows = _rng("validate"), []
    for gateway in (_GW1, _GW2, _GW4):
        for days_ago in range(8, -1, -1):
            at = week.day0 - timedelta(days=days_ago) + _ms(rng.uniform(0, 24) * 3_600_000)
            if not week.near_gateway_outage(gateway, at, timedelta(hours=2)):
                rows.append(_gateway_row(
                    gateway, at, "ValidateGatewayConfiguration", _VALIDATED, week.instance_at(gateway, at),
                ))
    return rows


def _address_space_change(week: _Week, site: _Site, at: datetime, prefix: str) -> list[Row]:
    """An administrator adds a prefix to a local network gateway: no drop, one static route update."""
    gw, instance = site.gateway, week.instance_at(site.gateway, at)
    return [
        _gateway_row(gw, at, "ValidateGatewayConfiguration", _VALIDATED, instance),
        _gateway_row(
            gw, at + _ms(6_200), "SetGatewayConfiguration",
            f"Set gateway configuration succeeded: local network gateway {site.local_network_gateway} "
            f"address space updated", instance,
            configuration_ConnectionTrafficType_s="Internet", configuration_Name_s=site.local_network_gateway,
        ),
        _route_row(gw, at + _ms(9_850), "StaticRouteUpdate", f"Static route {prefix} added with next hop "
                   f"{site.remote_ip} ({site.local_network_gateway})"),
    ]


def _routine_routes(week: _Week) -> list[Row]:
    paris, berlin = _BY_NAME["paris"], _BY_NAME["berlin"]
    return [
        *_address_space_change(week, _BY_NAME["lyon"], week.day(5, 11, 5, 12.0), "10.22.0.0/16"),
        *_address_space_change(week, _BY_NAME["munich"], week.day(3, 9, 40, 3.5), "10.55.0.0/16"),
        _route_row(berlin.gateway, week.day(4, 10, 12, 41.3), "BgpRouteUpdate",
                   f"Route 10.45.0.0/16 learned from peer {berlin.bgp_peer}"),
        _route_row(berlin.gateway, week.day(4, 16, 48, 2.9), "BgpRouteUpdate",
                   f"Route 10.45.0.0/16 withdrawn by peer {berlin.bgp_peer}"),
        _route_row(paris.gateway, week.day(2, 8, 31, 17.6), "BgpRouteUpdate",
                   f"Route 10.12.0.0/16 learned from peer {paris.bgp_peer}"),
    ]


def _background(week: _Week) -> list[Row]:
    rows = [*_p2s(week), *_daily_validation(week), *_routine_routes(week)]
    for site in (*_SITES, _LINK_SITE):
        rows.extend(_child_rekeys(week, site, week.day0 - timedelta(days=8)))
    return rows


# --------------------------------------------------------------------------------------------- public API

_SCENARIOS: tuple[Callable[[_Week], None], ...] = (
    _unknown, _remote_initiated, _gateway_failover, _dpd_timeout, _maintenance_failover, _config_change,
    _flapping, _quiet, _aws_link,
    _bgp_session_down, _traffic_selector_mismatch, _ike_proposal_mismatch, _psk_mismatch, _peer_unreachable,
    _milan_routes_withdrawn, _berlin_phase2_deleted,
)


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(UTC)


def _build(now: datetime) -> _Week:
    now = _utc(now)
    week = _Week(now=now, day0=now.replace(hour=0, minute=0, second=0, microsecond=0))
    for scenario in _SCENARIOS:  # in time order, so instance_at sees earlier switches
        scenario(week)
    week.rows.extend(_background(week))
    return week


def scenarios(now: datetime) -> list[Scenario]:
    """What the demo week contains, oldest first."""
    return sorted(_build(now).scenarios, key=lambda s: s.at)


#: The week, built once per `now` for the demo's metrics (which read its outages), never handed to a caller.
_built = functools.lru_cache(maxsize=2)(_build)


@functools.lru_cache(maxsize=4)
def outages(now: datetime) -> tuple[tuple[str, datetime, datetime], ...]:
    """Every tunnel outage of the demo week ending at `now`, as its logs tell it: (tunnel, down, up), `up` past
    `now` for a tunnel still down (the demo's metrics leave those hours without traffic)."""
    week = _built(now)
    return tuple(sorted((o.site.name, o.down, o.up) for o in week.outages))


@functools.lru_cache(maxsize=4)
def bgp_outages(now: datetime) -> tuple[tuple[str, datetime, datetime], ...]:
    """Every BGP session outage of the week ending at `now`, from its RouteDiagnosticLog rows: (tunnel, down, up),
    the tunnel being the one of that gateway whose site peers from that address."""
    week = _built(now)
    owners = {(site.gateway.name, site.bgp_peer): site.name for site in (*_SITES, _LINK_SITE) if site.bgp_peer}
    down_since: dict[str, datetime] = {}
    found = []
    for row in sorted((r for r in week.rows if r["Category"] == "RouteDiagnosticLog"),
                      key=lambda r: r["TimeGenerated"]):
        words = str(row.get("Message", "")).split()
        if len(words) < 4 or words[:2] != ["BGP", "peer"]:
            continue
        owner = owners.get((row["Resource"], words[2]))
        if owner is None:
            continue
        if words[3] == "disconnected":
            down_since.setdefault(owner, row["TimeGenerated"])
        elif words[3] == "connected" and owner in down_since:
            found.append((owner, down_since.pop(owner), row["TimeGenerated"]))
    found += [(owner, at, week.now + timedelta(days=1)) for owner, at in down_since.items()]
    return tuple(sorted(found))


def metric_facts() -> dict[str, tuple[bool, int]]:
    """Each demo Azure tunnel: whether it runs BGP, and how many prefixes its site advertises (for the demo's
    metrics, `diagnostics.azure.demo_metrics`)."""
    return {site.name: (bool(site.bgp_peer), len(site.subnets)) for site in (*_SITES, _LINK_SITE)}


def generate_rows(now: datetime) -> list[dict[str, Any]]:
    """A week of AzureDiagnostics rows ending at `now` minus the ingestion lag, oldest first."""
    week = _build(now)
    start, end = week.now - WEEK, week.now - INGESTION_LAG
    rows = [row for row in week.rows if start <= row["TimeGenerated"] <= end]
    rows.sort(key=lambda row: row["TimeGenerated"])
    return rows
