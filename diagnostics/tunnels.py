"""The tunnel registry: every way a person may name a tunnel, resolved to one `Tunnel`.

People say "paris", "branch-paris", "203.0.113.10", "VPNGW01" or "vpn-0123…"; the registry maps each to
the identifiers the log sources need, and when nothing matches it proposes the closest known names.

`registry.only(names)` is a view showing some tunnels alone (what a Slack channel limited by [[channels]] may see):
its lookups, suggestions and listings know nothing else, and a reference to another tunnel raises `OutsideTunnel`,
whose message names the reference as given, never the tunnels it stands for.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class Tunnel:
    name: str
    aliases: tuple[str, ...] = ()
    azure_gateway: str = ""  # AzureDiagnostics `Resource`
    azure_remote_ip: str = ""  # remoteIP_s: the on-premises device
    azure_resource_group: str = ""
    azure_subscription: str = ""
    aws_vpn_connection: str = ""
    aws_outside_ips: tuple[str, ...] = ()
    timezone: str = ""  # IANA zone of the site: "14:02 paris time" / "local time" in a question about it
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def provider(self) -> str:
        return "azure" if self.azure_gateway else "aws"

    @property
    def identifiers(self) -> dict[str, Any]:
        """The identifiers the JSON answer carries next to name and provider (only the known ones)."""
        ids: dict[str, Any] = {}
        if self.azure_gateway:
            ids["azure_gateway"] = self.azure_gateway
        if self.azure_remote_ip:
            ids["azure_remote_ip"] = self.azure_remote_ip
        if self.azure_resource_group:
            ids["azure_resource_group"] = self.azure_resource_group
        if self.azure_subscription:
            ids["azure_subscription"] = self.azure_subscription
        if self.aws_vpn_connection:
            ids["aws_vpn_connection"] = self.aws_vpn_connection
        if self.aws_outside_ips:
            ids["aws_outside_ips"] = list(self.aws_outside_ips)
        return ids

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Tunnel:
        known = {
            "name", "aliases", "azure_gateway", "azure_remote_ip", "azure_resource_group",
            "azure_subscription", "aws_vpn_connection", "aws_outside_ips", "timezone",
        }
        name = str(data.get("name", "")).strip()
        if not name:
            raise ValueError("every [[tunnels]] entry needs a name")
        if not data.get("azure_gateway") and not data.get("aws_vpn_connection"):
            raise ValueError(f"tunnel {name!r} needs azure_gateway or aws_vpn_connection")
        zone = str(data.get("timezone", "")).strip()
        if zone and not _is_zone(zone):
            raise ValueError(f"tunnel {name!r}: unknown timezone {zone!r} (use an IANA name such as Europe/Paris)")
        return cls(
            name=name,
            aliases=tuple(str(a) for a in data.get("aliases", ())),
            azure_gateway=str(data.get("azure_gateway", "")),
            azure_remote_ip=str(data.get("azure_remote_ip", "")),
            azure_resource_group=str(data.get("azure_resource_group", "")),
            azure_subscription=str(data.get("azure_subscription", "")),
            aws_vpn_connection=str(data.get("aws_vpn_connection", "")),
            aws_outside_ips=tuple(str(a) for a in data.get("aws_outside_ips", ())),
            timezone=zone,
            extra={k: v for k, v in data.items() if k not in known},
        )


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_CUTOFF = 0.6  # how close a misspelt name must be to be suggested (difflib's ratio)


class UnknownTunnel(LookupError):
    def __init__(self, reference: str, suggestions: list[str], known: list[str]):
        self.reference = reference
        self.suggestions = suggestions
        self.known = known
        if suggestions:
            hint = "did you mean " + " or ".join(repr(s) for s in suggestions) + "?"
        elif known:
            hint = "known tunnels: " + ", ".join(known[:12]) + ("…" if len(known) > 12 else "")
        else:
            hint = "no tunnels are configured"
        super().__init__(f"unknown tunnel {reference!r}: {hint}")


class AmbiguousTunnel(LookupError):
    def __init__(self, reference: str, candidates: list[str]):
        self.reference = reference
        self.candidates = candidates
        super().__init__(
            f"{reference!r} matches several tunnels ({', '.join(candidates)}): name one of them"
        )


class OutsideTunnel(UnknownTunnel):
    """A reference to tunnels a view of the registry (`TunnelRegistry.only`) does not show. The message names the
    reference as given and nothing else (no suggestion, no list); `hidden` (the tunnels it stands for) is for the
    audit trail, not for the asker."""

    def __init__(self, reference: str, hidden: list[str]):
        LookupError.__init__(self, f"{reference!r} is not a tunnel you can ask about here")
        self.reference = reference
        self.suggestions: list[str] = []
        self.known: list[str] = []
        self.hidden = hidden


class TunnelRegistry:
    """Lookup by name, alias, remote/outside IP, gateway name or VPN connection id, case-insensitively."""

    #: True for a view that shows only some tunnels of a larger registry (`only`).
    limited = False
    _spelled: tuple[list[Tunnel] | None, tuple[dict[str, str], frozenset[str]]] = (None, ({}, frozenset()))

    def __init__(self, tunnels: Iterable[Tunnel]):
        self.tunnels: list[Tunnel] = []
        self._by_key: dict[str, list[Tunnel]] = {}
        self.update(tunnels)

    def update(self, tunnels: Iterable[Tunnel]) -> None:
        """Know exactly `tunnels` from now on (discovery completed the configured ones and added others). Readers in
        other threads see the old registry or the new one, never a mix: both are built aside, then swapped."""
        listed = list(tunnels)
        by_key: dict[str, list[Tunnel]] = {}
        for tunnel in listed:
            for key in self._keys(tunnel):
                bucket = by_key.setdefault(key.lower(), [])
                if tunnel not in bucket:
                    bucket.append(tunnel)
        self.tunnels, self._by_key = listed, by_key

    @staticmethod
    def _keys(tunnel: Tunnel) -> list[str]:
        keys = [tunnel.name, *tunnel.aliases]
        keys += [k for k in (tunnel.azure_remote_ip, tunnel.azure_gateway, tunnel.aws_vpn_connection) if k]
        keys += list(tunnel.aws_outside_ips)
        return keys

    def __iter__(self):
        return iter(self.tunnels)

    def __len__(self) -> int:
        return len(self.tunnels)

    def names(self) -> list[str]:
        return [t.name for t in self.tunnels]

    def only(self, names: Iterable[str]) -> TunnelRegistry:
        """A view showing only the tunnels named (by name, case-insensitively)."""
        return TunnelView(self, names)

    def matches(self, reference: str) -> list[Tunnel]:
        """Every tunnel `reference` is a name, alias or identifier of."""
        return list(self._by_key.get(reference.strip().lower(), []))

    def lookup(self, reference: str) -> Tunnel | None:
        """The tunnel `reference` names, None when it names none; AmbiguousTunnel when it names several."""
        matches = self.matches(reference)
        # A name or alias beats a shared identifier (a gateway carries several tunnels).
        named = [t for t in matches if reference.strip().lower() in {n.lower() for n in (t.name, *t.aliases)}]
        if len(named) == 1:
            return named[0]
        if len(matches) > 1:
            raise AmbiguousTunnel(reference, [t.name for t in matches])
        return matches[0] if matches else None

    def resolve(self, reference: str) -> Tunnel:
        tunnel = self.lookup(reference)
        if tunnel is None:
            raise UnknownTunnel(reference, self.suggest(reference), self.names())
        return tunnel

    def suggest(self, reference: str, limit: int = 3) -> list[str]:
        """Closest tunnel names to a misspelt reference (aliases count, but the tunnel's name is shown)."""
        spelled, alphabet = self._spelling()
        ref = reference.strip().lower()
        # difflib scores 2 * matches / both lengths; the characters of a name found in `ref` bound its matches, and
        # str.translate counts them in C: names that cannot reach the cutoff are skipped, the result is the same.
        absent = {ord(c): None for c in alphabet - set(ref)}
        possible = [k for k in spelled if 2 * len(k.translate(absent)) + 1e-9 >= _CUTOFF * (len(k) + len(ref))]
        close = difflib.get_close_matches(ref, possible, n=limit * 2, cutoff=_CUTOFF)
        close += [k for k in spelled if len(ref) >= 3 and (ref in k or k in ref)]
        out: list[str] = []
        for key in close:
            if spelled[key] not in out:
                out.append(spelled[key])
        return out[:limit]

    def is_known_word(self, word: str) -> bool:
        return word.strip().lower() in self._by_key

    def _spelling(self) -> tuple[dict[str, str], frozenset[str]]:
        """Every name and alias (lower case) -> the tunnel's name, and their characters; once per tunnel list (a
        fleet has 1,000 tunnels and a question may ask for suggestions several times)."""
        tunnels, cached = self._spelled
        if tunnels is self.tunnels:
            return cached
        spelled: dict[str, str] = {}
        for tunnel in self.tunnels:
            for key in (tunnel.name, *tunnel.aliases):
                spelled.setdefault(key.lower(), tunnel.name)
        cached = (spelled, frozenset("".join(spelled)))
        self._spelled = (self.tunnels, cached)
        return cached


class TunnelView(TunnelRegistry):
    """Some tunnels of a registry (`TunnelRegistry.only`). Lookups, suggestions, names and listings see those alone;
    a reference that names only tunnels outside the view raises OutsideTunnel (a gateway name names the view's own
    tunnels on it)."""

    limited = True

    def __init__(self, registry: TunnelRegistry, names: Iterable[str]):
        wanted = {n.strip().lower() for n in names}
        super().__init__(t for t in registry if t.name.lower() in wanted)
        self.registry = registry

    def lookup(self, reference: str) -> Tunnel | None:
        everywhere = self.registry.matches(reference)
        if everywhere and not any(t in self.tunnels for t in everywhere):
            raise OutsideTunnel(reference, [t.name for t in everywhere])
        return super().lookup(reference)

    def is_known_word(self, word: str) -> bool:
        """A tunnel word of the whole registry (an outside one is still not free text: looking it up refuses it)."""
        return self.registry.is_known_word(word)
