"""Point-to-site: "who failed to connect over point-to-site today", "why can't alice@contoso.com connect". The
attempts come from the Azure gateways' logs (`diagnostics.azure.p2s`), usernames as the gateway masked them."""

from __future__ import annotations

from diagnostics.azure.p2s import P2SReport, p2s_report
from diagnostics.sources import Sources
from diagnostics.tunnels import TunnelRegistry
from handlers.parse.question import Question, QuestionError


def point_to_site(question: Question, registry: TunnelRegistry, sources: Sources) -> P2SReport:
    """Point-to-site is per gateway: the named tunnel's gateway, else every Azure gateway the registry knows (a view
    of it, `TunnelRegistry.only`: the gateways of the tunnels it shows)."""
    if question.tunnel is not None and question.tunnel.azure_gateway:
        gateways = [question.tunnel.azure_gateway]
    else:
        gateways = sorted({t.azure_gateway for t in registry if t.azure_gateway})
    if not gateways and registry.limited:
        raise QuestionError("none of the tunnels you can ask about here is on an Azure VPN gateway, and "
                            "point-to-site logs come from one")
    if not gateways:
        raise QuestionError("no Azure VPN gateway is configured, and point-to-site logs come from one")
    return p2s_report(gateways, question.window.start, question.window.end, sources.kql,
                      user=question.user)
