"""`help`: the example questions, each naming one of the workspace's tunnels so it can be pasted as is, and the help
text of the command line. The Slack help message (Block Kit) is `render.blocks.help_message`."""

from __future__ import annotations

from diagnostics.tunnels import TunnelRegistry

_EXAMPLE_TEMPLATES = (
    "why did tunnel {t} drop at 14:02",
    "why did {t} go down yesterday around 2pm",
    "what happened to {t} between 13:00 and 15:00 UTC",
    "did {t} drop in the last hour",
    "status {t}",
    "drops {t} since monday",
    "evidence {t} at 14:02",
    "summary yesterday",
    "who failed to connect over point-to-site today",
    "is traffic flowing over {t}",
    "tunnels",
    "help",
)
HELP_EXAMPLES: list[str] = [template.format(t="paris") for template in _EXAMPLE_TEMPLATES]


def help_examples(registry: TunnelRegistry | None = None) -> list[str]:
    """HELP_EXAMPLES, naming the workspace's first tunnel so every example can be pasted as is."""
    name = example_tunnel(registry)
    return [template.format(t=name) for template in _EXAMPLE_TEMPLATES]


def example_tunnel(registry: TunnelRegistry | None) -> str:
    """The tunnel examples name: the registry's first; "paris" without one, but "<tunnel>" for a view that shows
    none (paris may be a tunnel it hides)."""
    if registry is not None and len(registry):
        return registry.names()[0]
    return "<tunnel>" if registry is not None and registry.limited else "paris"


def help_text() -> str:
    return "Ask me about a VPN tunnel, for example:\n" + "\n".join(f"  {e}" for e in HELP_EXAMPLES) + "\n"
