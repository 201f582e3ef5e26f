"""Azure VPN gateway IPsec/IKE policies as data, and which parameter a peer's proposals differ on.

Defaults are docs/sources.md#azure-ipsec-defaults ("Default IPsec/IKE parameters", RouteBased): phase 1
offers and accepts AES256/SHA1, AES256/SHA256, AES128/SHA1, AES128/SHA256, 3DES/SHA1, 3DES/SHA256, all with DH
group 2; phase 2 differs by role (6 offers as initiator, 26 accepted as responder). docs/sources.md#azure-ike-errors:
"remote VPN device is sending Diffie-Hellman Group 14 while Azure VPN Gateway expects only Group 2" (the fix: Group 2
on the device, or Group 14 in a custom policy on the Azure side). A custom policy from the tunnel's config replaces
the defaults: the gateway then sends and accepts only the algorithms and key strengths it names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from diagnostics.azure.ike import Proposal

# --- spellings: the log's (`AES-CBC-256`, `DhGroup14`, `Md5`) and the config's (`AES256`, `DHGroup14`) ------------
CIPHERS = {
    "aes-cbc-256": "AES256", "aes256": "AES256", "aes-cbc-192": "AES192", "aes192": "AES192",
    "aes-cbc-128": "AES128", "aes128": "AES128", "3des": "3DES", "des3": "3DES", "des": "DES",
    "aes-gcm-256": "GCMAES256", "gcmaes256": "GCMAES256", "aes-gcm-192": "GCMAES192", "gcmaes192": "GCMAES192",
    "aes-gcm-128": "GCMAES128", "gcmaes128": "GCMAES128", "none": "None",
}
INTEGRITY = {
    "sha1": "SHA1", "sha256": "SHA256", "sha384": "SHA384", "md5": "MD5",
    "aes-gcm-256": "GCMAES256", "gcmaes256": "GCMAES256", "aes-gcm-192": "GCMAES192", "gcmaes192": "GCMAES192",
    "aes-gcm-128": "GCMAES128", "gcmaes128": "GCMAES128",
}
#: DH / PFS group -> group number (the DH mapping table of the "Default IPsec/IKE parameters" page,
#: docs/sources.md#azure-ipsec-defaults).
GROUPS = {
    "dhgroup1": "1", "pfs1": "1", "dhgroup2": "2", "pfs2": "2", "dhgroup14": "14", "dhgroup2048": "14",
    "pfs2048": "14", "pfs14": "14", "ecp256": "19", "dhgroup19": "19", "ecp384": "20", "dhgroup20": "20",
    "dhgroup24": "24", "pfs24": "24", "none": "none", "": "none", "pfsnone": "none",
}
CONFIG_NAME_OF_GROUP = {"1": "DHGroup1", "2": "DHGroup2", "14": "DHGroup14", "19": "ECP256", "20": "ECP384",
                        "24": "DHGroup24", "none": "None"}
PFS_NAME_OF_GROUP = {"1": "PFS1", "2": "PFS2", "14": "PFS2048", "19": "ECP256", "20": "ECP384", "24": "PFS24",
                     "none": "None"}


def canonical(proposal: Proposal) -> tuple[str, str, str]:
    """(cipher, integrity, group) in the config's vocabulary; group is DH (phase 1) or PFS (phase 2)."""
    cipher = CIPHERS.get(proposal.cipher.lower(), proposal.cipher.upper())
    integrity = INTEGRITY.get(proposal.integrity.lower(), proposal.integrity.upper())
    raw_group = proposal.dh_group if proposal.phase == 1 else proposal.pfs_group
    group = GROUPS.get(raw_group.lower().replace(" ", ""), raw_group)
    return cipher, integrity, group


@dataclass(frozen=True)
class Policy:
    """What a gateway offers (as initiator) or accepts (as responder), per phase, as (cipher, integrity, group)."""

    name: str
    phase1: frozenset[tuple[str, str, str]]
    phase2_offer: frozenset[tuple[str, str, str]]
    phase2_accept: frozenset[tuple[str, str, str]]
    custom: bool = False


_P1 = [("AES256", "SHA1"), ("AES256", "SHA256"), ("AES128", "SHA1"), ("AES128", "SHA256"), ("3DES", "SHA1"),
       ("3DES", "SHA256")]
_P2_OFFER = [("GCMAES256", "GCMAES256", "none"), ("AES256", "SHA1", "none"), ("3DES", "SHA1", "none"),
             ("AES256", "SHA256", "none"), ("AES128", "SHA1", "none"), ("3DES", "SHA256", "none")]
_P2_ACCEPT_EXTRA = [
    ("DES", "SHA1", "none"), ("AES256", "SHA1", "1"), ("AES256", "SHA1", "2"), ("AES256", "SHA1", "14"),
    ("AES128", "SHA1", "1"), ("AES128", "SHA1", "2"), ("AES128", "SHA1", "14"), ("3DES", "SHA1", "1"),
    ("3DES", "SHA1", "2"), ("3DES", "SHA256", "2"), ("AES256", "SHA256", "1"), ("AES256", "SHA256", "2"),
    ("AES256", "SHA256", "14"), ("AES256", "SHA1", "24"), ("AES256", "SHA256", "24"), ("AES128", "SHA256", "none"),
    ("AES128", "SHA256", "1"), ("AES128", "SHA256", "2"), ("AES128", "SHA256", "14"), ("3DES", "SHA1", "14"),
]
DEFAULT_POLICY = Policy(
    name="the default policy",
    phase1=frozenset((c, i, "2") for c, i in _P1),
    phase2_offer=frozenset(_P2_OFFER),
    phase2_accept=frozenset(_P2_OFFER + _P2_ACCEPT_EXTRA),
)


def policy_from_config(tunnel_extra: Mapping[str, Any]) -> Policy:
    """The tunnel's `ipsec_policy` (Azure's custom IPsec/IKE policy parameters), else the default policy.

    ```toml
    ipsec_policy = { ike_encryption = "AES256", ike_integrity = "SHA256", dh_group = "DHGroup14",
                     ipsec_encryption = "GCMAES256", ipsec_integrity = "GCMAES256", pfs_group = "None" }
    ```
    """
    custom = tunnel_extra.get("ipsec_policy")
    if not isinstance(custom, Mapping):
        return DEFAULT_POLICY
    def get(key: str, table: Mapping[str, str], default: str) -> str:
        value = str(custom.get(key, default))
        return table.get(value.lower(), value)
    p1 = (get("ike_encryption", CIPHERS, "AES256"), get("ike_integrity", INTEGRITY, "SHA256"),
          get("dh_group", GROUPS, "DHGroup2"))
    p2 = (get("ipsec_encryption", CIPHERS, "AES256"), get("ipsec_integrity", INTEGRITY, "SHA256"),
          get("pfs_group", GROUPS, "None"))
    return Policy("the custom IPsec/IKE policy", frozenset([p1]), frozenset([p2]), frozenset([p2]), custom=True)


@dataclass(frozen=True)
class Mismatch:
    phase: int
    parameter: str  # "DH group", "encryption", "integrity", "PFS group", "encryption and integrity", …
    peer: str  # what the device offers, in words
    azure: str  # what the gateway accepts or offers, in words
    advice: str
    proposed: str = ""  # the device's proposals as a whole, e.g. "DES/MD5"

    def sentence(self) -> str:
        whole = f" (it proposes {self.proposed})" if self.proposed else ""
        return f"Phase {self.phase}: the device offers {self.peer}{whole}; this gateway on {self.azure}."


def _words(values: Iterable[str], label: str) -> str:
    ordered = sorted(set(values), key=lambda v: (len(v), v))
    return f"{label} {' or '.join(ordered)}" if ordered else f"no {label}"


def compare(peer: Sequence[Proposal], policy: Policy, azure_role: str) -> Mismatch | None:
    """Why none of the peer's proposals is acceptable, naming the parameter; None when one would match.

    `azure_role` is "responder" (the peer initiated, so Azure judges the peer's offers against what it accepts)
    or "initiator" (the peer answered Azure's offers; phase 2 uses the initiator set).
    """
    if not peer:
        return None
    phase = peer[0].phase
    allowed = policy.phase1 if phase == 1 else (policy.phase2_accept if azure_role == "responder"
                                                  else policy.phase2_offer)
    offers = [canonical(p) for p in peer]
    if any(o in allowed for o in offers):
        return None
    group_label = "DH group" if phase == 1 else "PFS group"
    suites = {(c, i) for c, i, _ in allowed}
    groups = {g for _, _, g in allowed}
    suite_ok = [o for o in offers if (o[0], o[1]) in suites]
    group_ok = [o for o in offers if o[2] in groups]
    if suite_ok:  # the algorithms would do: only the group differs
        parameter = group_label
        peer_words = _words((o[2] for o in suite_ok), group_label)
        azure_words = _words((g for c, i, g in allowed if (c, i) in {(o[0], o[1]) for o in suite_ok}), group_label)
    elif group_ok:
        ciphers, integrities = {c for c, _, _ in allowed}, {i for _, i, _ in allowed}
        bad_cipher = [o for o in group_ok if o[0] not in ciphers]
        bad_integrity = [o for o in group_ok if o[1] not in integrities]
        if bad_cipher and not bad_integrity:
            parameter, peer_words, azure_words = "encryption", _words((o[0] for o in group_ok), "encryption"), \
                _words(ciphers, "encryption")
        elif bad_integrity and not bad_cipher:
            parameter, peer_words, azure_words = "integrity", _words((o[1] for o in group_ok), "integrity"), \
                _words(integrities, "integrity")
        else:
            parameter = "encryption and integrity"
            peer_words = ", ".join(f"{c}/{i}" for c, i, _ in group_ok)
            azure_words = ", ".join(sorted(f"{c}/{i}" for c, i in suites))
    else:
        parameter = f"encryption, integrity and {group_label}"
        peer_words = ", ".join(f"{c}/{i}/{group_label} {g}" for c, i, g in offers)
        azure_words = ", ".join(sorted(f"{c}/{i}/{group_label} {g}" for c, i, g in allowed))
    where = f"{policy.name} {'accepts' if azure_role == 'responder' or phase == 1 else 'offers'} {azure_words} " \
            f"in phase {phase}"
    proposed = ", ".join(f"{c}/{i}" + (f"/{group_label} {g}" if g and g.lower() != "none" else "")
                         for c, i, g in offers)
    return Mismatch(phase, parameter, f"{peer_words}{' only' if len(offers) == 1 else ''}", where,
                    _advice(phase, parameter, offers, policy), proposed)


def _advice(phase: int, parameter: str, offers: list[tuple[str, str, str]], policy: Policy) -> str:
    cipher, integrity, group = offers[0]
    names = CONFIG_NAME_OF_GROUP if phase == 1 else PFS_NAME_OF_GROUP
    if phase == 1:
        setting = f"IkeEncryption {cipher}, IkeIntegrity {integrity}, DhGroup {names.get(group, group)}"
    else:
        setting = f"IpsecEncryption {cipher}, IpsecIntegrity {integrity}, PfsGroup {names.get(group, group)}"
    change = "change the custom policy" if policy.custom else "set a custom IPsec/IKE policy on the connection"
    return (f"Make the {parameter} match on both sides: either {change} with {setting} (the device's first "
            f"offer), or configure the device to offer what the gateway accepts.")
