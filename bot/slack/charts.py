"""A drop answer's chart, posted in the answer's thread after it (docs/asking.md#the-chart-of-an-incident).

Uploaded like the daily summary's picture (`Conversation.upload_file`: files_upload_v2, confirmed with files.info). The
chart is a courtesy on top of the answer: one that cannot be drawn or posted is logged, and the answer stands. The
messages posted unasked (a watched incident, an Azure Monitor alert) get theirs through `unasked.post_details`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.logs import logger
from bot.slack.conversation import Conversation
from handlers.answer import Answer
from handlers.incident_chart import IncidentChart, safe_name
from handlers.render.incident_png import render_incident_png

log = logger("vpnbot.slack")


def post_charts(conv: Conversation, answer: Answer) -> int:
    """Upload the chart of `answer`, or of each of its parts (a question about several tunnels), into the thread;
    how many were posted (one that cannot be drawn or posted is logged and skipped)."""
    return sum(post_chart(conv, chart) for chart in answer.charts)


def post_chart(conv: Conversation, chart: IncidentChart) -> bool:
    """Upload one chart into the thread; False when there is no thread or it failed (logged)."""
    if not conv.thread_ts:
        return False
    try:
        conv.upload_file(render_incident_png(chart), chart_file_name(chart), chart_title(chart), "The chart is")
    except Exception:  # the answer is posted already: a missing picture must not turn it into an apology
        log.warning("could not post the chart of %s", chart.tunnel, exc_info=True)
        return False
    return True


def chart_file_name(chart: IncidentChart) -> str:
    """`vpnbot-paris-20261121T1347Z.png`"""
    return f"vpnbot-{safe_name(chart.tunnel)}-{datetime.fromtimestamp(chart.start, UTC).strftime('%Y%m%dT%H%MZ')}.png"


def chart_title(chart: IncidentChart) -> str:
    return f"Chart: {chart.tunnel} around the drop" + ("" if chart.has_traffic else " (no traffic metrics)")
