"""Evidence bundles in Slack: the "Evidence bundle" button, `/vpn evidence 42` and `/vpn evidence paris at 14:02`.

One click puts a complete, verifiable, secret-free bundle and a ready support-case text in the thread
(docs/evidence.md); what the thread gets:

1. "Making the evidence bundle of investigation 42…", edited when done into the bundle's summary: what it covers,
   its size and row count, the zip's SHA-256 (so what support received can be checked against the thread), and the
   support-case text in a code block ready to paste (as `case.txt` beside it when too long for one message);
2. the zip itself, uploaded with files_upload_v2 and confirmed with files.info (a link follows when Slack is slow
   to show it, as for long answers).

Only investigations asked in the same channel are bundled ("evidence 42" from another channel is refused
politely: an id is easy to guess, the logs behind it may not be for this channel's eyes), and a channel limited to
some tunnels ([[channels]]) gets bundles of those only. "redact ips" / "hash users" in the request turn on the
redaction options of `vpnbot evidence --redact-ips / --hash-users`. Every bundle is recorded in the state store.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from typing import Any

from bot.evidence import make_bundle
from bot.logs import logger, redact
from bot.slack.conversation import DEGRADED, DONE, Conversation
from bot.slack.core import Audit, SlackBot
from bot.state import StoreUnavailable
from diagnostics.evidence import RedactionOptions
from diagnostics.model import InvestigationError
from handlers.evidence import EvidenceError, MadeBundle, load_record
from handlers.render.blockkit import MAX_SECTION, Rendered, context, escape, section

log = logger("vpnbot.slack")

#: "evidence 42", "bundle #42", "evidence for investigation 42 redact ips": a stored investigation by id. The id must
#: stand alone, so "evidence 203.0.113.10 at 14:02" stays a question about a tunnel.
STORED = re.compile(r"^\s*(?:(?:<@[A-Z0-9]+(?:\|[^>]*)?>|/vpn\b)[\s,:]*)*"  # "@vpnbot evidence 42", "/vpn …"
                    r"(?:evidence|bundle)\s+(?:for\s+)?(?:investigation\s+|answer\s+|id\s+)?#?(\d+)(?=\s|$)",
                    re.IGNORECASE)
REDACT_IPS = re.compile(r"--redact-ips|\bredact(?:ed)?[- ]?(?:the[- ])?ips?\b|\b(?:no|without|hide)[- ]ips?\b",
                        re.IGNORECASE)
#: "evidence" / "bundle" with nothing after it but redaction words (captured, checked by `wants_stored`).
LATEST = re.compile(r"^\s*(?:(?:<@[A-Z0-9]+(?:\|[^>]*)?>|/vpn\b)[\s,:]*)*(?:evidence|bundle)\b(.*)$",
                    re.IGNORECASE | re.DOTALL)
HASH_USERS = re.compile(r"--hash-users|\bhash(?:ed)?[- ]?(?:the[- ])?(?:user(?:name)?s?)\b", re.IGNORECASE)
#: A row id has at most 19 digits (SQLite's integers are 64-bit).
MAX_ID_DIGITS = 19
#: Slack's limit for one uploaded file.
MAX_UPLOAD = 1 << 30


def stored_id(text: str) -> int | None:
    """The investigation id of "evidence 42" (also "bundle #42 redact ips"), None for anything else; an id no
    investigation can have (more digits than a row id holds) is 0, which finds none."""
    match = STORED.match(text or "")
    return as_id(match.group(1)) if match else None


def as_id(digits: str) -> int:
    """A number someone typed or a button carried, as a row id: 0 (no row) when it cannot be one."""
    return int(digits) if digits.isdigit() and len(digits) <= MAX_ID_DIGITS else 0


def wants_stored(text: str) -> bool:
    """"evidence 42", or "evidence" alone (with redaction words at most): a stored investigation, not a question
    about a tunnel ("evidence paris at 14:02")."""
    if stored_id(text) is not None:
        return True
    match = LATEST.match(text or "")
    return bool(match) and not REDACT_IPS.sub("", HASH_USERS.sub("", match.group(1))).strip(" ,.")


def latest_id(bot: SlackBot, channel: str, thread_ts: str) -> int | None:
    """The last investigation answered in the thread, else in the channel (a bare `/vpn evidence`)."""
    answered = "channel = ? AND queries_json IS NOT NULL AND outcome = 'answered'"
    for where, args in ((f"{answered} AND thread_ts = ?", [channel, thread_ts]), (answered, [channel])):
        if where.endswith("thread_ts = ?") and not thread_ts:
            continue
        rows = bot.state.questions(f"id = (SELECT MAX(id) FROM questions WHERE {where})", args)
        if rows:
            return int(rows[0]["id"])
    return None


def options_in(text: str) -> RedactionOptions:
    return RedactionOptions(redact_ips=bool(REDACT_IPS.search(text or "")),
                            hash_users=bool(HASH_USERS.search(text or "")))


def send_stored(bot: SlackBot, conv: Conversation, text: str, audit: Audit) -> None:
    """`/vpn evidence 42`: the bundle of a stored investigation of this channel, in its thread; `/vpn evidence`: of
    the thread's (else the channel's) last investigation."""
    audit.set(intent="evidence")
    question_id = stored_id(text)
    if question_id is None:
        question_id = latest_id(bot, conv.channel, conv.thread_ts)
        if question_id is None:
            _refuse(bot, conv, audit, "There is no answer to bundle here yet: ask about a tunnel first (e.g. `why "
                                      "did paris drop at 14:02`), or give an investigation id: `evidence 42`.",
                    "bad_input")
            return
    row = bot.state.question(question_id)
    if row is None or row.get("channel") != conv.channel:
        days = bot.options.retention_days
        reply = (f"Sorry, I can only bundle investigations asked in this channel, and {question_id or 'that'} is "
                 "not one of "
                 f"them (or it is older than {days} days). Use the *Evidence bundle* button under an answer here, "
                 "or ask `evidence <tunnel> at <time>`.")
        _refuse(bot, conv, audit, reply, "bad_input")
        return
    if conv.job.source == "slash" and not conv.thread_ts and row.get("thread_ts"):
        conv.thread_ts = str(row["thread_ts"])  # a slash command has no thread: the answer's own thread is the place
    if not conv.open_thread():
        bot.record(audit, outcome="error", detail="the bot is not in the channel")
        return
    bundle(bot, conv, question_id, options_in(text), audit)


def on_click(bot: SlackBot, conv: Conversation, value: Mapping[str, Any], audit: Audit) -> None:
    """The "Evidence bundle" button under an answer."""
    question_id = as_id(str(value.get("id", ""))) or None
    if question_id is None:
        _refuse(bot, conv, audit, "I can't tell which answer this button belongs to: ask the question again.",
                "bad_input")
        return
    bundle(bot, conv, question_id, RedactionOptions(), audit)


def after_answer(bot: SlackBot, conv: Conversation, question_id: int | None, text: str, audit: Audit) -> None:
    """`/vpn evidence paris at 14:02`: the question was answered in the thread (and stored); now its bundle."""
    if question_id is not None and audit.fields.get("outcome") == "answered":
        bundle(bot, conv, question_id, options_in(text), None)


def bundle(bot: SlackBot, conv: Conversation, question_id: int, options: RedactionOptions,
           audit: Audit | None) -> MadeBundle | None:
    """Make the bundle of `question_id`, upload it to the conversation's thread, say what it is; audited."""
    try:
        record = load_record(bot.state, question_id, bot.workspace.registry, channel=conv.channel)
    except EvidenceError as exc:
        _refuse(bot, conv, audit, f"Sorry: {escape(str(exc))}.", "bad_input")
        return None
    except StoreUnavailable:
        _refuse(bot, conv, audit, "Sorry, I can't read the stored answer right now (my state store is failing): "
                                  "try again in a few minutes.", "error")
        return None
    refusal = bot.policy.refusal(conv.channel, record.tunnel)
    if refusal is not None:
        _refuse(bot, conv, audit, refusal, "refused")
        return None
    working = f"Making the evidence bundle of investigation {question_id} ({escape(record.tunnel_name or '?')})…"
    conv.post_looking(Rendered(working, [section(working)]))
    with tempfile.TemporaryDirectory(prefix="vpnbot-evidence-") as directory:
        try:
            made = make_bundle(bot.state, question_id, bot.workspace, None, options, conv.job.user or "slack",
                               channel=conv.channel, directory=directory)
        except (EvidenceError, InvestigationError) as exc:
            text = escape(f"Sorry, no evidence bundle: {exc}")
            conv.update_looking(Rendered(text, [section(text)]))
            _finish(conv, audit, DEGRADED)
            if audit is not None:
                bot.record(audit, outcome="source_failed", tunnel=record.tunnel_name, detail=str(exc))
            return None
        result = made.result
        name = made.path.name
        if result.file.size > MAX_UPLOAD:
            text = (f"The evidence bundle of investigation {question_id} is {result.file.size / 2**20:.0f} MB, over "
                    f"Slack's 1 GB per file: run `vpnbot evidence --id {question_id}` where the bot runs.")
            conv.update_looking(Rendered(text, [section(text)]))
            _finish(conv, audit, DEGRADED)
            return made
        conv.update_looking(summary_message(made, question_id))
        conv.upload_file(str(made.path), name, f"Evidence bundle: {result.title}")
    if len(escape(result.case_text)) > MAX_SECTION - 6:
        conv.upload(result.case_text, f"case-{question_id}.txt", f"Support-case text (investigation {question_id})")
    _finish(conv, audit, DEGRADED if result.missing else DONE)
    log.info("evidence bundle %s of investigation %s: %s (%s bytes)", made.bundle_id, question_id,
             result.file.sha256, result.file.size)
    if audit is not None:
        bot.record(audit, outcome="answered", tunnel=record.tunnel_name,
                    detail=f"bundle {made.bundle_id}: {name} sha256 {result.file.sha256}")
    return made


def summary_message(made: MadeBundle, question_id: int) -> Rendered:
    """What the bundle is, its SHA-256, and the case text ready to paste."""
    r = made.result
    size = f"{r.file.size / 2**20:.1f} MB" if r.file.size >= 2**20 else f"{max(1, round(r.file.size / 1024))} kB"
    head = (f"*Evidence bundle* of investigation {question_id}: {escape(r.title)}\n"
            f"`{escape(made.path.name)}`: {len(r.file.files) + 1} files, {r.rows:,} rows, {size}. "
            f"SHA-256 `{r.file.sha256}`")
    blocks = [section(head)]
    case = escape(r.case_text.rstrip())
    if len(case) <= MAX_SECTION - 6:
        blocks.append(section("Support-case text (also `case.txt` in the bundle):"))
        blocks.append(section(f"```{case}```"))
    else:
        blocks.append(section("The support-case text is in the file below (and `case.txt` in the bundle)."))
    notes = ["report.md first; rows re-read with the exact queries; secrets masked"]
    notes.append("public IPs replaced" if r.redact_ips else "IPs as logged (ask `evidence "
                                                             f"{question_id} redact ips` to replace them)")
    if r.hash_users:
        notes.append("usernames hashed")
    notes += [f"not included: {m}" for m in r.missing]
    blocks.append(context(escape(redact(" · ".join(notes)))))
    text = f"Evidence bundle of investigation {question_id}: {r.title} (SHA-256 {r.file.sha256})"
    return Rendered(escape(text), blocks)


def _finish(conv: Conversation, audit: Audit | None, reaction: str) -> None:
    """The outcome's reaction on the asking message; none after an answer, which has had its own (`audit` None)."""
    if audit is not None:
        conv.finish(reaction)


def _refuse(bot: SlackBot, conv: Conversation, audit: Audit | None, text: str, outcome: str) -> None:
    conv.reply(Rendered(text, [section(text)]))
    _finish(conv, audit, "")
    if audit is not None:
        bot.record(audit, outcome=outcome, detail=text)
