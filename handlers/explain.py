"""`explain`: log lines someone pasted or a file they sent, explained with the same readers and rules.

`vpnbot explain FILE|-` and the Slack bot (a message holding log lines, an uploaded file) both call `explain_file`:

- rows with times (an Azure or AWS export, in any shape the readers take) become a normal investigation over the
  file: its tunnel from the rows (named as the configuration names it), its window the file's time span, and the
  answer is the one `ask` gives;
- lines without times (Network Watcher's IKElogs.txt / IKEErrors.txt / Scrubbed-wfpdiag.txt, an IKE exchange
  copied without its times) and the on-premises device's own log get the negotiation analysis without a timeline
  (`diagnostics.azure.exchange`, `diagnostics.devices`);
- anything else is refused in one line that says what is accepted.

The readers need a file: the caller writes pasted text or an upload to one first (the CLI in a temporary
directory, the Slack bot under its state directory). Opening exports is the caller's (`OpenExports`: the same
function `--azure-export` / `--aws-export` use), so the answer comes from exactly the readers `ask` uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Protocol
from zoneinfo import ZoneInfo

from diagnostics.azure.exchange import explain_exchange, message_of
from diagnostics.azure.ike import parse_ike_message
from diagnostics.azure.policy import DEFAULT_POLICY, policy_from_config
from diagnostics.devices import explain_device_lines
from diagnostics.exportfile import ExportError, read_export_text
from diagnostics.foreign import Foreign, Kind, recognise
from diagnostics.investigate import investigate
from diagnostics.model import Cause
from diagnostics.pasted import Line, LineAnalysis, numbered
from diagnostics.sources import Sources
from diagnostics.timefmt import Progress
from diagnostics.troubleshoot_zip import is_zip, troubleshoot_member
from diagnostics.tunnels import AmbiguousTunnel, OutsideTunnel, Tunnel, TunnelRegistry, UnknownTunnel
from handlers.answer import Answer
from handlers.parse.intent import Intent
from handlers.parse.question import Question, TimeWindow

#: What `explain` reads, said when it reads nothing of an input.
READS = ("explain reads Azure exports (portal CSV, `az monitor log-analytics query` JSON, resource-log JSON lines), "
         "AWS `aws logs filter-log-events` output, Network Watcher VPN troubleshoot files (IKElogs.txt, IKEErrors.txt, "
         "Scrubbed-wfpdiag.txt), IKE messages copied from IKEDiagnosticLog, and strongSwan, Libreswan, Cisco ASA or "
         "FortiGate logs")
#: How an input that has no file name of its own is called in sentences about it.
SHOWN_AS = {"-": "standard input", "message": "the message"}
#: A file is complete: "now" is at least this long after its last row (no ingestion lag to allow for).
AFTER_LAST_ROW = timedelta(hours=1)
#: Tunnels of one file investigated to find the one the file is about.
MAX_TUNNELS = 4
#: Content that only AWS's logs have (a VPN connection id names the tunnel in every AWS tunnel log, JSON or text):
#: the AWS reader reads it first, so its refusal is the one said when neither reads it.
_AWS_HINTS = re.compile(r'"(?:events|logStreamName|vpn_connection_id|VpnConnectionId|event_timestamp|@message)"'
                        r'|@timestamp|@logStream|\bvpn-[0-9a-f]{8}(?:[0-9a-f]{9})?\b')
_EPOCH, _FAR = datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)


class ExplainError(ExportError):
    """The input cannot be explained; str() is one line saying why and what is accepted."""


class ExportSet(Protocol):
    """What opening export files gives (`bot.workspace.Workspace` is one)."""

    registry: TunnelRegistry  # the tunnels the rows name
    sources: Sources
    problems: list[str]  # rows that were skipped, `file:line: reason`


#: Opens Azure and AWS export files with the readers `--azure-export` / `--aws-export` use.
OpenExports = Callable[[Sequence[str], Sequence[str]], ExportSet]


@dataclass
class Explanation:
    """What one input says: an investigation (`answer`) for rows with times, an `analysis` for lines without."""

    name: str  # as the user knows it: the file name, "-" for standard input, "message" for a chat message
    what: str  # what the input is, in words
    kind: str  # "azure_export", "aws_export", or a `diagnostics.foreign.Kind` value
    answer: Answer | None = None
    analysis: LineAnalysis | None = None
    tunnel: Tunnel | None = None  # the tunnel the lines are about, when known
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # rows the readers skipped (`file:line: reason`)

    @property
    def cause(self) -> str | None:
        """The primary cause code, for the audit trail."""
        if self.answer is not None and self.answer.investigation is not None:
            primary = self.answer.investigation.primary
            return primary.cause.value if primary else None
        primary = self.analysis.primary if self.analysis else None
        return primary.cause.value if primary else None


def explain_file(path: str | Path, name: str, known: TunnelRegistry, open_exports: OpenExports, now: datetime,
                 tz: ZoneInfo, tunnel: str | None = None, progress: Progress | None = None) -> Explanation:
    """Explain the file at `path` (shown as `name`). `known` names the tunnels (the configuration's, or what a
    limited Slack channel may see); `tunnel` picks one when the file holds several. Raises ExplainError (one line),
    UnknownTunnel / AmbiguousTunnel / OutsideTunnel for `tunnel` or for rows of a tunnel `known` does not show."""
    if is_zip(path):  # Network Watcher's troubleshoot output as it was downloaded
        return _explain_zip(path, name, known, tunnel)
    try:
        text = read_export_text(path, ExplainError)
    except ExplainError as exc:  # named as the user knows the input, never by where it was written
        raise ExplainError(str(exc).replace(str(path), name)) from None
    found = recognise(text)
    if found is not None:
        return _explain_lines(found, numbered(text), name, known, tunnel)
    opened, provider = _open(Path(path), name, text, open_exports)
    return _named(_explain_rows(opened, provider, name, known, now, tz, tunnel, progress), Path(path), name)


# --- lines without times ------------------------------------------------------------------------------------------


def _explain_lines(found: Foreign, lines: list[Line], name: str, known: TunnelRegistry,
                   reference: str | None) -> Explanation:
    if found.kind is Kind.NW_STATS:
        analysis = LineAnalysis([], len(lines), len(lines), [
            "These are Network Watcher's connection or CPU statistics: nothing in them tells how a negotiation went. "
            "IKElogs.txt (or IKEErrors.txt and Scrubbed-wfpdiag.txt) in the same troubleshoot output has the IKE "
            "activity: explain that file."])
        return Explanation(name, found.what, found.kind.value, analysis=analysis)
    if found.device:
        return Explanation(name, found.what, found.kind.value, analysis=explain_device_lines(lines, found.device))
    tunnel = _tunnel_of_messages([message_of(line.text) for line in lines], known, reference)
    policy = policy_from_config(tunnel.extra) if tunnel is not None else DEFAULT_POLICY
    explanation = Explanation(name, found.what, found.kind.value, analysis=explain_exchange(lines, policy),
                              tunnel=tunnel)
    custom = [t.name for t in known if t.azure_gateway and isinstance(t.extra.get("ipsec_policy"), Mapping)]
    if tunnel is None and custom:  # the comparison with the default policy may not be the one that matters
        explanation.notes.append(f"The lines do not say which tunnel they are about, so the proposals were compared "
                                 f"with Azure's default policy; {', '.join(custom[:5])} "
                                 f"{'has' if len(custom) == 1 else 'have'} a custom IPsec policy: `--tunnel "
                                 f"{custom[0]}` compares with {'it' if len(custom) == 1 else 'its'}.")
    return explanation


def _explain_zip(path: str | Path, name: str, known: TunnelRegistry, reference: str | None) -> Explanation:
    member = troubleshoot_member(path, name)
    shown = f"{name}/{PurePosixPath(member.name).name}"
    found = recognise(member.text)
    if found is None:
        raise ExplainError(f"{shown}: not the Network Watcher log its name says (no line of it reads as one); "
                           f"{READS}")
    explanation = _explain_lines(found, numbered(member.text), shown, known, reference)
    if member.others:
        explanation.notes.append(f"Read from {name}, which also holds {', '.join(member.others)}.")
    return explanation


def _tunnel_of_messages(messages: Sequence[str], known: TunnelRegistry, reference: str | None) -> Tunnel | None:
    """The tunnel IKE messages are about: the one asked for, else the one whose remote IP they name (IKElogs.txt
    hides its addresses as `<IPaddress>`)."""
    if reference:
        return known.resolve(reference)
    peers = {parse_ike_message(m).remote_ip for m in messages[:200]} - {"", "<IPaddress>"}
    matched = {t.name: t for ip in peers for t in known.matches(ip) if t.azure_gateway}
    return next(iter(matched.values())) if len(matched) == 1 else None


# --- rows with times ----------------------------------------------------------------------------------------------


def _open(path: Path, name: str, text: str, open_exports: OpenExports) -> tuple[ExportSet, str]:
    """The file opened by the reader its content suggests, else by the other; one line when neither reads it."""
    order = ("aws", "azure") if _AWS_HINTS.search(text[:20_000]) else ("azure", "aws")
    errors: list[str] = []
    for provider in order:
        try:
            files = [str(path)]
            return open_exports(files if provider == "azure" else [], files if provider == "aws" else []), provider
        except ExportError as exc:
            errors.append(str(exc).replace(str(path), name).replace(path.name, name, 1))
    raise ExplainError(f"{errors[0]}; {READS}")


def _explain_rows(opened: ExportSet, provider: str, name: str, known: TunnelRegistry, now: datetime, tz: ZoneInfo,
                  reference: str | None, progress: Progress | None) -> Explanation:
    span = time_span(opened.sources)
    what = f"{'an Azure' if provider == 'azure' else 'an AWS'} log export"
    kind = f"{provider}_export"
    if span is None:
        raise ExplainError(f"{name}: no log rows in it; {READS}")
    candidates = _candidates(opened.registry, known, reference)
    if not candidates:
        raise ExplainError(f"{name}: its rows name no tunnel (no gateway with a remote IP, no VPN connection); give "
                           f"--tunnel NAME{' (one of: ' + ', '.join(known.names()[:12]) + ')' if len(known) else ''}")
    start, end = span
    now = max(now, end + AFTER_LAST_ROW)
    answers = []
    for tunnel in candidates[:MAX_TUNNELS]:
        question = Question(text=f"explain {name}", intent=Intent.WHY_DROP, tunnel=tunnel,
                            window=TimeWindow(start, max(end, start + timedelta(seconds=1))), anchor=None, tz=tz,
                            explicit_window=True)
        investigation = investigate(tunnel, question.window.start, question.window.end, opened.sources, now,
                                    tz=tz, progress=progress, widen=False)  # the whole file is the window
        answers.append(Answer(question, investigation=investigation))
    answer = _most_telling(answers)
    answer.notes += list(opened.problems)
    others = [a.question.tunnel.name for a in answers if a is not answer and a.question.tunnel is not None]
    others += [t.name for t in candidates[MAX_TUNNELS:]]
    if others:
        answer.notes.append(f"The file also holds rows of {', '.join(others)} (`vpnbot explain {name} --tunnel "
                            f"{others[0]}` explains {'it' if len(others) == 1 else 'one of them'}).")
    return Explanation(name, what, kind, answer=answer, tunnel=answer.question.tunnel,
                       problems=list(opened.problems))


def _named(explanation: Explanation, path: Path, name: str) -> Explanation:
    """The answer with the input called as the user knows it: the readers name the file they were given, which
    for pasted lines and uploads is a copy in a scratch directory (under the Slack bot's state directory) that no
    one should be shown."""
    shown = SHOWN_AS.get(name, name)

    def rename(text: str) -> str:
        return text.replace(str(path), shown).replace(path.name, shown)

    answer = explanation.answer
    inv = answer.investigation if answer is not None else None
    if answer is not None:
        answer.notes[:] = [rename(n) for n in answer.notes]
    if inv is not None:
        for texts in (inv.notes, inv.caveats, inv.failures):
            texts[:] = [rename(t) for t in texts]
        inv.queries[:] = [replace(q, origin=rename(q.origin)) for q in inv.queries]
    explanation.problems[:] = [rename(p) for p in explanation.problems]
    return explanation


def time_span(sources: Sources) -> tuple[datetime, datetime] | None:
    """The first and last row time over every source of an opened export (None when it holds no row)."""
    times: list[float] = []
    for backend in sources.kql:
        result = backend.run_kql("AzureDiagnostics | summarize lo=min(TimeGenerated), hi=max(TimeGenerated)", _EPOCH,
                                 _FAR)
        for lo, hi in result.rows:
            times += [t for t in (lo, hi) if t is not None]
    for source in sources.aws:
        known_range = getattr(source, "time_range", None)  # an export source that knows it without reading events
        if callable(known_range):
            times += [ms / 1000 for ms in known_range() or ()]
            continue
        records = getattr(source, "records", None) or []  # an export's events (MemoryLogSource), oldest first
        times += [r.timestamp / 1000 for r in (records[0], records[-1])] if records else []
    if not times:
        return None
    return datetime.fromtimestamp(min(times), UTC), datetime.fromtimestamp(max(times), UTC)


def _candidates(found: TunnelRegistry, known: TunnelRegistry, reference: str | None) -> list[Tunnel]:
    """The tunnels the rows are about, as `known` names them; `reference` when given."""
    if reference:
        for registry in (known, found):
            tunnel = registry.lookup(reference)
            if tunnel is not None:
                return [tunnel]
        raise UnknownTunnel(reference, known.suggest(reference) or found.suggest(reference),
                            known.names() or found.names())
    out: dict[str, Tunnel] = {}
    hidden: OutsideTunnel | None = None
    for tunnel in found:
        try:
            named = _as_known(tunnel, known)
        except OutsideTunnel as exc:  # rows of a tunnel the asker may not see: left out, never named
            hidden = hidden or exc
            continue
        out.setdefault(named.name, named)
    if hidden is not None and not out:
        raise hidden
    return list(out.values())


def _as_known(tunnel: Tunnel, known: TunnelRegistry) -> Tunnel:
    """`tunnel` (named after what the rows show) as `known` names it. In a view that does not show it (a limited
    Slack channel), OutsideTunnel: it is never named there."""
    reference = tunnel.aws_vpn_connection or tunnel.azure_remote_ip or tunnel.azure_gateway
    try:
        hit = known.lookup(reference)
    except AmbiguousTunnel:
        hit = next((k for k in known.matches(reference)
                    if k.azure_gateway.upper() == tunnel.azure_gateway.upper()), None)
    if hit is not None:
        return hit
    if known.limited:
        raise OutsideTunnel(reference, [tunnel.name])
    return tunnel


def _most_telling(answers: list[Answer]) -> Answer:
    """The answer about the tunnel the file is about: the latest drop, else a cause other than "no drop"."""
    with_drops = [a for a in answers if a.investigation is not None and a.investigation.drops]
    if with_drops:
        return max(with_drops, key=lambda a: a.investigation.drops[-1].down_ts)  # type: ignore[union-attr]
    for answer in answers:
        primary = answer.investigation.primary if answer.investigation else None
        if primary is not None and primary.cause is not Cause.NO_DROP_FOUND:
            return answer
    return answers[0]
