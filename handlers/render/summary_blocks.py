"""The daily summary as a Slack message (Block Kit): the same lines as `summary`, within Slack's limits."""

from __future__ import annotations

from diagnostics.summary.model import DaySummary
from handlers.render.blockkit import MAX_BLOCKS, Rendered, chunked, context, escape, header, section
from handlers.render.summary import counts_line, healthy_line, summary_title, traffic_text, tunnel_line, unknown_line

#: Troubled tunnels with their own line in Slack; the rest are counted (the picture and `vpnbot summary` have
#: them all).
SLACK_TROUBLED = 30
#: Tunnels whose bytes are named in Slack (the text summary and its JSON have them all).
SLACK_TRAFFIC = 40


def summary_blocks(summary: DaySummary) -> Rendered:
    """The Slack message: header, counts, one line per troubled tunnel (the worst first), the healthy line."""
    troubled = [t for t in summary.ordered() if t.troubled]
    lines = [f"• *{escape(t.name)}*{escape(tunnel_line(t)[len(t.name):])}" for t in troubled[:SLACK_TROUBLED]]
    if len(troubled) > SLACK_TROUBLED:
        lines.append(f"• … and {len(troubled) - SLACK_TROUBLED} more troubled tunnels (all of them in the picture "
                     "and in `vpnbot summary`)")
    blocks = [header(summary_title(summary)), section(escape(counts_line(summary)))]
    blocks += chunked(lines)
    for extra in (unknown_line(summary), healthy_line(summary), traffic_text(summary, limit=SLACK_TRAFFIC)):
        if extra:
            blocks.append(section(escape(extra)))
    for note in summary.notes[:3]:
        blocks.append(context(escape(note)))
    blocks = blocks[:MAX_BLOCKS]
    fallback = f"{summary_title(summary)}: {counts_line(summary)}"
    return Rendered(fallback, blocks)
