"""`tunnels`: the tunnels the bot knows, one line each with its provider, identifiers and aliases."""

from __future__ import annotations

from diagnostics.tunnels import Tunnel, TunnelRegistry


def tunnels_text(registry: TunnelRegistry | None) -> str:
    if registry is not None and registry.limited and not len(registry):
        return "There is no tunnel you can ask about here.\n"
    if registry is None or not len(registry):
        return "No tunnels are configured.\n"
    return "\n".join([f"{len(registry)} tunnels:", *(f"  {tunnel_line(t)}" for t in registry)]) + "\n"


def tunnel_line(tunnel: Tunnel) -> str:
    ids = ", ".join(f"{k}={v}" for k, v in tunnel.identifiers.items())
    aliases = f" (aliases: {', '.join(tunnel.aliases)})" if tunnel.aliases else ""
    return f"{tunnel.name} [{tunnel.provider}] {ids}{aliases}"


def tunnel_where(tunnel: Tunnel) -> str:
    """`VPNGW01 ↔ 203.0.113.10`, `vpn-0123…`, or both ends of a link."""
    parts = []
    if tunnel.azure_gateway:
        parts.append(tunnel.azure_gateway + (f" ↔ {tunnel.azure_remote_ip}" if tunnel.azure_remote_ip else ""))
    if tunnel.aws_vpn_connection:
        parts.append(("AWS " if parts else "") + tunnel.aws_vpn_connection)
    return ", ".join(parts)
