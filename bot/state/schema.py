"""The state store's schema: its tables, their columns, and how long their rows are kept.

What the store keeps, and why:

* `questions`: one row per question or button click (who, where, what, the outcome, the primary cause, the time
  taken, and the answer with its queries), so the bot's answers can be audited and "Show queries" can print what
  an answer ran. Kept `retention_days`, then purged.
* `slack_events`: the ids of the Slack deliveries taken (event_id, the asking message, the slash command's
  trigger_id), each with the process answering it (`owner`), the job itself and when it was answered. Slack
  re-delivers an event it thinks was not acknowledged, possibly to another instance behind the load balancer;
  claiming the id in the shared file is what makes "never twice" hold across processes. A claim is a lease held by
  a live process, not a tombstone: the job of a process that died before answering (its `owners` heartbeat went
  stale) is taken over and answered by another, or by the same one restarted.
* `owners`: each answering process and its heartbeat, which keeps its claims alive.
* `user_zones`: the asker's IANA time zone from `users.info`, cached for a day (people travel, but not hourly).
* `subscriptions`: the channels' daily summaries, one per (channel, source): made in Slack (`/vpn subscribe`) or
  copied from the configuration's [[subscriptions]] at start (the configuration one wins). Every process reads them
  here, so a subscription made through one instance is scheduled by all.
* `summary_runs`: one row per (channel, local day summarised), written in the transaction that claims the run:
  what makes a daily summary happen once across restarts and across processes (see `claim_run`).
* `watch_marks`: per log source (Log Analytics workspace, CloudWatch Logs group), the watermark up to which its
  state changes were read by `vpnbot watch` (bot/state/watch.py).
* `watch_claims`: one row per tunnel drop told by watching, claimed in one transaction before it is told, with
  its incident; what makes each drop told once across restarts, re-runs and pollers (a lease, like summary_runs).
* `watches`: the channels watching tunnels (`/vpn watch`), one per channel; the configuration's [[watches]] are
  read from the configuration, not copied here.
* `watch_messages`: per (incident, channel), the Slack message telling it, edited when the incident changes
  (bot/state/watches.py). Kept like watch_claims.
* `watch_mutes`: per (channel, tunnel), until when its drops are not posted there (`/vpn mute`) and why.
* `watch_recoveries`: per (incident, tunnel), the tunnel told "still down" that came back, claimed once before it is
  told (a lease, like watch_claims; bot/state/watch_recoveries.py). `watch_marks` also counts each source's failed
  polls in a row, for every poller (`failing`, `failing_told`).
* `azure_alerts`: one row per Azure Monitor alert posted (its alert id, channel and message ts), claimed in one
  transaction before posting: a retried webhook never posts twice and the Resolved notification edits the Fired
  one's message (bot/state/alerts.py). Kept like summary_runs.
* `bundles`: one row per evidence bundle made (which investigation, the zip's SHA-256 and size, its file name, who
  asked for it, when, and whether IPs were redacted / usernames hashed), so a bundle support received can be traced
  back to the investigation and the person who handed it over. Kept `retention_days`, like the questions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_RETENTION_DAYS = 90
#: Slack retries a delivery for minutes, not days; a day of ids is plenty.
EVENT_RETENTION = timedelta(days=1)
ZONE_MAX_AGE = timedelta(days=1)

OUTCOMES = ("running", "answered", "bad_input", "refused", "source_failed", "error", "restarted")
#: A process that has not beaten for this long is dead: its unanswered claims may be taken over.
OWNER_STALE = timedelta(seconds=30)

QUESTION_COLUMNS: dict[str, type] = {
    "id": int,
    "asked_at": str,  # ISO 8601 UTC, "2026-11-22T13:02:00Z": sorts as text
    "team": str,
    "channel": str,
    "user": str,
    "source": str,  # slash | mention | dm | button | console | watch | alert (an incident or alert posted unasked)
    "text": str,
    "intent": str,
    "tunnel": str,
    "window_start": str,
    "window_end": str,
    "outcome": str,
    "cause": str,
    "confidence": str,
    "duration_ms": int,
    "error_id": str,
    "detail": str,
    "thread_ts": str,
    "answer_ts": str,
    "answer_json": str,  # the JSON answer (schema 1)
    "queries_json": str,  # the queries as run: backend, origin, range, rows, text
    "delivery": str,  # the first delivery key of the job (slack_events.key): what a restarted answer replaces
}
DELIVERY_COLUMNS: dict[str, type] = {
    "key": str,
    "seen_at": str,
    "owner": str,  # the process answering it ("" in files from before claims were leases: answered)
    "job_json": str,  # the job, so another process can answer it if this one dies
    "done_at": str,  # when it was answered (or refused): never taken over again
}
OWNER_COLUMNS: dict[str, type] = {"owner": str, "beat_at": str, "started_at": str}


SUBSCRIPTION_COLUMNS: dict[str, type] = {
    "channel": str,
    "source": str,  # slack | config
    "time": str,  # "HH:MM" local to tz
    "tz": str,  # IANA zone
    "tunnels": str,  # JSON list of tunnel names; [] = every tunnel the channel may see
    "created_by": str,  # Slack user id
    "created_at": str,  # ISO UTC; kept when the subscription is changed (a new time today still runs today)
}
RUN_COLUMNS: dict[str, type] = {
    "channel": str,
    "day": str,  # the local day summarised, "2026-03-28" (posted the next day)
    "status": str,  # claimed | retry | posted | failed | skipped
    "owner": str,  # the scheduler holding the claim: "<pid>-<random>"
    "attempts": int,
    "scheduled_at": str,  # when it was due (ISO UTC)
    "claimed_at": str,  # last claimed (or recorded, for a skipped run)
    "lease_until": str,  # claimed: nobody else may take it before; retry: the next attempt
    "posted_at": str,
    "message_ts": str,  # the summary message: set with status posted
    "error": str,
}
RUN_STATUSES = ("claimed", "retry", "posted", "failed", "skipped")
#: Run records outlive the scheduler's look-back (48 h) by far, whatever retention_days says: a forgotten run could
#: otherwise be mistaken for a missed one (it would then be skipped as too late, but never guessed at).
RUN_RETENTION = timedelta(days=7)

BUNDLE_COLUMNS: dict[str, type] = {
    "id": int,
    "question_id": int,  # the investigation (questions.id) the bundle was built from
    "sha256": str,  # of the zip file as written
    "size": int,  # bytes
    "file_name": str,
    "created_by": str,  # Slack user id, or "cli:<local user>"
    "created_at": str,  # ISO 8601 UTC
    "redact_ips": int,  # 1 when public IPs were replaced
    "hash_users": int,  # 1 when point-to-site usernames were hashed
}

WATCH_MARK_COLUMNS: dict[str, type] = {
    "source": str,  # "azure:<workspace id>", "aws:<log group>"
    "at": str,  # ISO UTC with microseconds: state changes ingested after it are new
    "updated_at": str,
    "failing": int,  # failed polls in a row, counted by every poller (migration step 2)
    "failing_told": int,  # 1: the watching channels were told it keeps failing (told again when it answers)
}
WATCH_RECOVERY_COLUMNS: dict[str, type] = {  # migration step 2
    "incident": str,  # watch_claims.incident
    "tunnel": str,  # one of its tunnels, back
    "up_at": str,  # its reconnect (ISO UTC)
    "status": str,  # claimed | posted
    "owner": str,
    "claimed_at": str,
    "lease_until": str,  # claimed: nobody else tells it before
    "posted_at": str,
}
WATCH_CLAIM_COLUMNS: dict[str, type] = {
    "key": str,  # the drop: "<gateway>|<remote IP>|<down time>|<instance>"
    "incident": str,  # the key of the incident's first drop (a flap series, a gateway's tunnels share it)
    "status": str,  # claimed | posted
    "owner": str,
    "claimed_at": str,
    "lease_until": str,  # claimed: nobody else tells it before
    "posted_at": str,
    "message_ts": str,  # the Slack message telling it (edited when the tunnel comes back)
    "payload": str,  # the incident as told (JSON), so a poller taking over a dead claimant's claim can tell it
}

WATCH_COLUMNS: dict[str, type] = {
    "channel": str,
    "tunnels": str,  # JSON list of tunnel names; [] = every tunnel the channel may see
    "created_by": str,  # Slack user id
    "created_at": str,
}
WATCH_MESSAGE_COLUMNS: dict[str, type] = {
    "incident": str,  # watch_claims.incident
    "channel": str,
    "ts": str,  # the message telling it there
    "posted_at": str,
}

ALERT_COLUMNS: dict[str, type] = {
    "alert_id": str,  # essentials.alertId
    "channel": str,
    "status": str,  # claimed | Fired | Resolved: the condition the message shows
    "owner": str,  # the process holding the claim
    "lease_until": str,  # nobody else posts before (ISO UTC)
    "claimed_at": str,
    "message_ts": str,  # the posted message: set right after chat.postMessage
    "rule": str,
}



def quote(name: str) -> str:
    """A table or column name as an SQL identifier (both engines)."""
    return '"' + name.replace('"', '""') + '"'

def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


ZONE_COLUMNS: dict[str, type] = {"user": str, "tz": str, "fetched_at": str}
MUTE_COLUMNS: dict[str, type] = {"channel": str, "tunnel": str, "until": str, "note": str, "created_by": str}


@dataclass(frozen=True)
class Table:
    name: str
    columns: dict[str, type]
    pk: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()


#: Every table of the schema as the last migration step leaves it (bot/state/migrations.py makes them; `vpnbot db
#: copy` and `vpnbot db status` go through them in this order).
TABLES: tuple[Table, ...] = (
    Table("questions", QUESTION_COLUMNS, ("id",), (("asked_at",),)),
    Table("slack_events", DELIVERY_COLUMNS, ("key",), (("seen_at",),)),
    Table("owners", OWNER_COLUMNS, ("owner",)),
    Table("user_zones", ZONE_COLUMNS, ("user",)),
    Table("subscriptions", SUBSCRIPTION_COLUMNS, ("channel", "source")),
    Table("summary_runs", RUN_COLUMNS, ("channel", "day")),
    Table("bundles", BUNDLE_COLUMNS, ("id",), (("question_id",),)),
    Table("watch_marks", WATCH_MARK_COLUMNS, ("source",)),
    Table("watch_claims", WATCH_CLAIM_COLUMNS, ("key",), (("incident",),)),
    Table("azure_alerts", ALERT_COLUMNS, ("alert_id",)),
    Table("watches", WATCH_COLUMNS, ("channel",)),
    Table("watch_mutes", MUTE_COLUMNS, ("channel", "tunnel")),
    Table("watch_messages", WATCH_MESSAGE_COLUMNS, ("incident", "channel")),
    Table("watch_recoveries", WATCH_RECOVERY_COLUMNS, ("incident", "tunnel")),
)


def retention_limits(now: datetime, retention: timedelta) -> dict[str, tuple[str, datetime]]:
    """Per table, the column that dates a row and the oldest date kept (`retention`: retention_days)."""
    return {"questions": ("asked_at", now - retention), "slack_events": ("seen_at", now - EVENT_RETENTION),
            "user_zones": ("fetched_at", now - ZONE_MAX_AGE), "owners": ("beat_at", now - EVENT_RETENTION),
            "summary_runs": ("claimed_at", now - max(retention, RUN_RETENTION)),
            "watch_claims": ("claimed_at", now - max(retention, RUN_RETENTION)),
            "watch_recoveries": ("claimed_at", now - max(retention, RUN_RETENTION)),
            "azure_alerts": ("claimed_at", now - max(retention, RUN_RETENTION)),
            "watch_messages": ("posted_at", now - max(retention, RUN_RETENTION)),
            "watch_mutes": ("until", now - max(retention, RUN_RETENTION)),
            "bundles": ("created_at", now - retention)}


def question_row(fields: dict[str, Any]) -> dict[str, Any]:
    """Only known columns; lists/dicts as JSON; datetimes as ISO UTC."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in QUESTION_COLUMNS:
            raise KeyError(f"questions has no column {key!r}")
        if isinstance(value, datetime):
            value = iso(value)
        elif isinstance(value, (list, dict)):
            value = json.dumps(value, ensure_ascii=False)
        out[key] = value
    return out
