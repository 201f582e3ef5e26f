"""IKE rows grouped into negotiations, the way Microsoft's IKE log walkthroughs read them
(docs/sources.md#azure-ike-log).

"The first SA_INIT message is always the one where rCookie = 0"; whoever sends it is the initiator; "If the IPsec
tunnel fails to establish, Azure keeps retrying every few seconds. … you could just zoom into one "sample" failing
negotiation at any time".

So `NegotiationTracker` streams rows (a failing tunnel logs a million a day) into:
- open negotiations, one per SESSION_ID, read mostly with substring checks; the full parser runs for rows that
  signal a failure and for the payload rows of sample negotiations;
- once a negotiation is over (no row for a while), it is folded into the `NegotiationGroup` of negotiations that
  ended the same way: their start times (8 bytes each) and a few sample negotiations with their rows.
Memory stays flat however long the tunnel fails, and "this failed N times since HH:MM, the same way" is exact.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

from diagnostics.azure.ike import IkeMessage, Proposal, TrafficSelectors, parse_ike_message
from diagnostics.azure.ike_errors import Failure, failure_of

#: Negotiations that began this long before a drop still belong to its outage (logging is not atomic).
LEAD = 5.0
#: A row with no SESSION_ID joins the peer's latest negotiation if that one saw a row this recently.
ORPHAN_JOIN_SECONDS = 10.0
#: A negotiation with no row for this long is over.
IDLE_SECONDS = 60.0
SWEEP_EVERY = 512  # new negotiations between sweeps of idle ones
ROWS_PER_SAMPLE = 24
SAMPLE_FIRST = 3  # the first negotiations are samples, then one in SAMPLE_EVERY
SAMPLE_EVERY = 25
_OUTCOMES = {failure: failure.value for failure in Failure}
_NO_VERDICT: tuple[Failure | None, str, int | None] = (None, "", None)
_PACKET_TAGS = ("[SEND]", "[RECEIVED]", "[LOCAL_MSG][SA_INIT]")  # cookie bookkeeping, never a failure
#: Substrings of every row that can signal a failure (notify, status, error codes, structured errors).
_SIGNAL = re.compile("Notify|with status|rror|NO_PROPOSAL|TS_UNACCEPTABLE|timed out|elete|assumed to be invalid")


@dataclass(slots=True)
class Offers:
    """What each side proposed, read from the payload rows of sample negotiations."""

    azure_p1: tuple[Proposal, ...] = ()
    peer_p1: tuple[Proposal, ...] = ()
    azure_p2: tuple[Proposal, ...] = ()
    peer_p2: tuple[Proposal, ...] = ()
    azure_ts: TrafficSelectors | None = None
    peer_ts: TrafficSelectors | None = None


_NO_OFFERS = Offers()


@dataclass(slots=True, eq=False)
class Negotiation:
    """One negotiation, small: a million of them pass through in a day of failures (only samples keep more)."""

    session: str
    remote_ip: str
    start: float
    end: float
    sampled: bool = False  # its rows are kept and its payloads read
    initiator: str = ""  # "azure" | "peer" | "" (start not seen)
    failure: Failure | None = None
    failure_text: str = ""  # the row text that said so
    failure_code: int | None = None
    received: bool = False  # any packet from the peer
    ts_seen: bool = False  # a traffic-selector exchange took place
    rows: list[tuple[float, str]] | None = None  # (ts, message), sample negotiations only
    offers: Offers | None = None
    icookie: str = ""  # the initiator's cookie, which ties rows without SESSION_ID together
    mid_start: bool = False  # its first row was not its start (the logs began during the exchange)

    @property
    def azure_p1(self) -> tuple[Proposal, ...]:
        return (self.offers or _NO_OFFERS).azure_p1

    @property
    def peer_p1(self) -> tuple[Proposal, ...]:
        return (self.offers or _NO_OFFERS).peer_p1

    @property
    def azure_p2(self) -> tuple[Proposal, ...]:
        return (self.offers or _NO_OFFERS).azure_p2

    @property
    def peer_p2(self) -> tuple[Proposal, ...]:
        return (self.offers or _NO_OFFERS).peer_p2

    @property
    def azure_ts(self) -> TrafficSelectors | None:
        return (self.offers or _NO_OFFERS).azure_ts

    @property
    def peer_ts(self) -> TrafficSelectors | None:
        return (self.offers or _NO_OFFERS).peer_ts

    @property
    def outcome(self) -> str:
        return self.signature[0]

    @property
    def signature(self) -> tuple[str, str, str, bool]:
        """Two negotiations failed "the same way" when these match. Read as each of a quarter of a million
        negotiations a day closes: the outcome is looked up, not read through the enum's `.value` descriptor."""
        failure = self.failure
        return (_OUTCOMES[failure] if failure is not None else "ok" if self.received else "no_response",
                self.failure_text, self.initiator, self.ts_seen)


@dataclass(eq=False)
class NegotiationGroup:
    """Negotiations that ended the same way: when each started, and a few of them in full."""

    signature: tuple[str, str, str, bool]
    starts: array = field(default_factory=lambda: array("d"))
    samples: list[Negotiation] = field(default_factory=list)  # oldest first; the first and the latest kept
    with_proposals: Negotiation | None = None  # the latest sample in which the peer showed its proposals
    with_selectors: Negotiation | None = None

    @property
    def outcome(self) -> str:
        return self.signature[0]

    @property
    def representative(self) -> Negotiation:
        return self.samples[-1]

    def count_between(self, start: float, end: float) -> int:
        return bisect_right(self.starts, end) - bisect_left(self.starts, start)

    def starts_between(self, start: float, end: float) -> tuple[float, float] | None:
        lo, hi = bisect_left(self.starts, start), bisect_right(self.starts, end)
        return (self.starts[lo], self.starts[hi - 1]) if hi > lo else None

    def add(self, negotiation: Negotiation) -> None:
        self.starts.append(negotiation.start)
        if negotiation.sampled or not self.samples:
            if len(self.samples) >= SAMPLE_FIRST + 1:
                del self.samples[SAMPLE_FIRST]  # keep the first few and the latest
            self.samples.append(negotiation)
            if negotiation.peer_p1 or negotiation.peer_p2:
                self.with_proposals = negotiation
            if negotiation.peer_ts is not None or negotiation.azure_ts is not None:
                self.with_selectors = negotiation


@dataclass
class IkeSummary:
    groups: list[NegotiationGroup]
    rows: int
    orphans: int  # rows that could not be attributed to a negotiation
    negotiations: int

    def groups_between(self, start: float, end: float) -> list[tuple[NegotiationGroup, int]]:
        """(group, negotiations that started in [start, end]), the largest first."""
        found = [(g, g.count_between(start, end)) for g in self.groups]
        return sorted(((g, n) for g, n in found if n), key=lambda pair: -pair[1])


class NegotiationTracker:
    def __init__(self) -> None:
        self._open: dict[str, Negotiation] = {}
        self._latest_by_peer: dict[str, Negotiation] = {}
        self._latest: Negotiation | None = None
        self._by_cookie: dict[str, str] = {}  # iCookie -> key in `_open`, for rows without SESSION_ID
        self._groups: dict[tuple[str, str, str, bool], NegotiationGroup] = {}
        self.rows = 0
        self.orphans = 0
        self.started = 0
        self._verdicts: dict[str, tuple[Failure | None, str, int | None]] = {}
        self._payloads: dict[str, tuple[IkeMessage, _Payload]] = {}

    def add(self, ts: float, message: str) -> None:
        """One row (see `add_rows`)."""
        self.add_rows(((ts, message),))

    def add_rows(self, rows: Iterable[tuple[float, str]]) -> None:
        """Rows (ts, message) in order. A row of a known negotiation costs a dictionary lookup and a few substring
        checks (this is the hot path: ~90 % of a million rows a day, so it is one loop with its names bound once,
        not a call per row); the parser runs for rows that can change the story."""
        open_get, verdicts_get, timed_out = self._open.get, self._verdicts.get, Failure.TIMED_OUT
        count = 0
        for ts, message in rows:
            count += 1
            if message[49:50] == "}" and message.startswith("SESSION_ID :{"):
                negotiation = open_get(message[13:49])
                if negotiation is None and message.startswith("Remote ", 51):
                    negotiation = self._start_from_envelope(message[13:49], ts, message)
                if negotiation is not None:
                    negotiation.end = ts
                    if negotiation.sampled:
                        self._sampled_row(negotiation, ts, message)
                    elif not negotiation.received and "[RECEIVED]" in message:
                        negotiation.received = True
                    failure = negotiation.failure
                    if failure is None or failure is timed_out:
                        # Plain [SEND]/[RECEIVED] packet rows never say why a negotiation failed (failures come
                        # tagged [NOTIFY], docs/sources.md#azure-ike-errors) and they are most rows: skip the search
                        # for them. Retries fail the same way with the same words, so what a row says is cached by
                        # the text after the envelope: one parse per distinct failure row, not per retry.
                        tag = message.find("[", 51)
                        if not (tag > 0 and message.startswith(_PACKET_TAGS, tag)
                                and message.find("[NOTIFY]", tag, tag + 24) < 0):
                            key = message[tag:] if tag > 0 else message[50:]
                            verdict = verdicts_get(key)
                            if verdict is None:
                                verdict = self._verdict(key, message)
                            if verdict is not _NO_VERDICT:
                                negotiation.failure, negotiation.failure_text, negotiation.failure_code = verdict
                    if not negotiation.ts_seen and "Traffic Selector" in message:
                        negotiation.ts_seen = True
                    continue
            self._parsed_row(ts, message)
        self.rows += count

    def _parsed_row(self, ts: float, message: str) -> None:
        """A row the fast path cannot place (no SESSION_ID envelope): parsed in full."""
        msg = parse_ike_message(message)
        negotiation = self._negotiation_for(ts, msg)
        if negotiation is None:
            self.orphans += 1
            return
        negotiation.end = max(negotiation.end, ts)
        if negotiation.rows is not None and len(negotiation.rows) < ROWS_PER_SAMPLE:
            negotiation.rows.append((ts, message))
        _absorb(negotiation, msg)

    def _verdict(self, key: str, message: str) -> tuple[Failure | None, str, int | None]:
        """What a row that may signal a failure says, remembered under `key` (the text after its envelope)."""
        msg = parse_ike_message(message) if _SIGNAL.search(message, 50) else None
        failure = failure_of(msg) if msg is not None else None
        verdict = (failure, msg.notify or msg.status or msg.error_message or msg.text, msg.error_code) \
            if failure is not None and msg is not None else _NO_VERDICT
        if len(self._verdicts) > 4096:
            self._verdicts.clear()  # cleared in place: `add_rows` holds its `get`
        self._verdicts[key] = verdict
        return verdict

    def _sampled_row(self, negotiation: Negotiation, ts: float, message: str) -> None:
        """Sample negotiations keep their rows, and their payloads are read for the explanation. Every retry sends
        the same payloads: a row is parsed once per text after its SESSION_ID (the session is all that differs,
        and reading a payload does not use it)."""
        if negotiation.rows is not None and len(negotiation.rows) < ROWS_PER_SAMPLE:
            negotiation.rows.append((ts, message))
        if "[RECEIVED]" in message:
            negotiation.received = True
        if "ayload" in message or "Traffic Selector" in message:
            if message.find("}", 13) != 49:  # not the fast path's envelope: no safe key
                _absorb(negotiation, parse_ike_message(message))
                return
            parsed = self._payloads.get(message[50:])
            if parsed is None:
                msg = parse_ike_message(message)
                parsed = msg, _payload_of(msg)
                if len(self._payloads) > 1024:
                    self._payloads.clear()
                self._payloads[message[50:]] = parsed
            _absorb(negotiation, *parsed)

    def _start_from_envelope(self, session: str, ts: float, message: str) -> Negotiation:
        """A new session read without the parser: who started it is all a first row can add. Sessions are keyed
        as logged (one spelling per session); the parser's path keys them lower-case."""
        colon = message.find(":", 58)
        negotiation = self._start(session, message[58:colon] if colon > 0 else "", ts)
        first = message.endswith("rCookie 0x0") or (message[-1:].isspace()
                                                    and message.rstrip().endswith("rCookie 0x0"))
        if first and ("SA_INIT" in message or "SA INIT" in message):
            negotiation.initiator = "azure" if "[SEND]" in message else "peer" if "[RECEIVED]" in message else ""
        return negotiation

    def _negotiation_for(self, ts: float, msg: IkeMessage) -> Negotiation | None:
        if msg.session:  # keyed as logged by the fast path: GUIDs come all lower- or all upper-case
            found = self._open.get(msg.session) or self._open.get(msg.session.upper())
            return found if found is not None else self._start(msg.session, msg.remote_ip, ts)
        # Rows without SESSION_ID (Network Watcher's IkeLogs.txt, the troubleshooting article's query output):
        # a first SA_INIT (rCookie 0x0) starts a negotiation unless it repeats the latest one's; a cookie names its
        # negotiation; any other row belongs to the peer's negotiation that was just running, and a row of an
        # exchange whose start is not in the logs (they begin mid-negotiation) starts one of its own.
        # A row without the envelope (`IkeCleanupQMNegotiation called with error 13868`) names no peer: it belongs
        # to whatever negotiation was just running.
        latest = self._latest_by_peer.get(msg.remote_ip) if msg.remote_ip else self._latest
        recent = latest is not None and ts - latest.end <= ORPHAN_JOIN_SECONDS
        if msg.starts_negotiation:
            if recent and latest is not None and latest.icookie and latest.icookie == msg.icookie:
                return latest
            return self._start("", msg.remote_ip, ts, msg.icookie)
        by_cookie = self._open.get(self._by_cookie.get(msg.icookie, "")) if msg.icookie else None
        if by_cookie is not None:
            return by_cookie
        if recent:
            return latest
        if msg.remote_ip or msg.direction:
            negotiation = self._start("", msg.remote_ip, ts, msg.icookie)
            negotiation.mid_start = True
            return negotiation
        return None

    def _start(self, session: str, peer: str, ts: float, icookie: str = "") -> Negotiation:
        self.started = started = self.started + 1
        if started % SWEEP_EVERY == 0:  # only new negotiations make others idle
            self._sweep(ts)
        negotiation = Negotiation(session.lower(), peer, ts, ts)  # keywords cost: one of these every few rows
        if started <= SAMPLE_FIRST or started % SAMPLE_EVERY == 0:
            negotiation.sampled, negotiation.rows = True, []
        if icookie:
            negotiation.icookie = icookie
        key = session or f"{peer}@{ts}#{started}"
        self._open[key] = negotiation
        if icookie and not session:
            self._by_cookie[icookie] = key
        self._latest_by_peer[peer] = negotiation
        self._latest = negotiation
        return negotiation

    def _sweep(self, now: float) -> None:
        idle = [key for key, n in self._open.items() if now - n.end > IDLE_SECONDS]
        for key in idle:
            self._close(self._open.pop(key))
        if idle and self._by_cookie:
            self._by_cookie = {c: k for c, k in self._by_cookie.items() if k in self._open}

    def _close(self, negotiation: Negotiation) -> None:
        signature = negotiation.signature
        group = self._groups.get(signature)
        if group is None:
            group = self._groups[signature] = NegotiationGroup(signature)
        group.add(negotiation)

    def summary(self) -> IkeSummary:
        for negotiation in sorted(self._open.values(), key=lambda n: n.start):
            self._close(negotiation)
        self._open.clear()
        for group in self._groups.values():
            if any(a > b for a, b in zip(group.starts, group.starts[1:], strict=False)):
                group.starts = array("d", sorted(group.starts))
        return IkeSummary(list(self._groups.values()), self.rows, self.orphans, self.started)


def _absorb(negotiation: Negotiation, msg: IkeMessage, payload: _Payload | None = None) -> None:
    """Update a negotiation's summary with one fully parsed row."""
    if msg.direction == "received":
        negotiation.received = True
    if msg.starts_negotiation and not negotiation.initiator:
        # [SEND][SA_INIT] rCookie 0x0: Azure initiated; [RECEIVED][SA_INIT] … rCookie 0x0: the peer did
        # (docs/sources.md#azure-ike-log).
        negotiation.initiator = {"send": "azure", "received": "peer"}.get(msg.direction, "")
    elif negotiation.mid_start and not negotiation.initiator and "SA_AUTH" in msg.tags and "response" not in msg.text:
        # The logs began after SA_INIT: whoever sends the AUTH request initiated ([SEND][SA_AUTH] Sending SA AUTH
        # message: Azure; [RECEIVED][SA_AUTH] Received IKE AUTH message: the device).
        negotiation.initiator = {"send": "azure", "received": "peer"}.get(msg.direction, "")
    if msg.icookie and not negotiation.icookie:
        negotiation.icookie = msg.icookie
    text = msg.text
    if "Traffic Selector" in text:
        negotiation.ts_seen = True
    if negotiation.sampled and ("payload" in text or "Payload" in text):
        _read_payload(negotiation, msg, payload or _payload_of(msg))
    if not (msg.notify or msg.status or msg.error_code or msg.error_message or msg.ike_event
            or "NO_PROPOSAL" in text or "TS_UNACCEPTABLE" in text or "timed out" in text):
        return
    failure = failure_of(msg)
    if failure is not None and (negotiation.failure is None or negotiation.failure is Failure.TIMED_OUT):
        negotiation.failure = failure
        negotiation.failure_text = msg.notify or msg.status or msg.error_message or msg.text
        negotiation.failure_code = msg.error_code


#: What a payload row offers: its proposals and traffic selectors (immutable, so shared between retries).
_Payload = tuple[tuple[Proposal, ...], TrafficSelectors | None]


def _payload_of(msg: IkeMessage) -> _Payload:
    return tuple(msg.proposals()), msg.traffic_selectors()


def _read_payload(negotiation: Negotiation, msg: IkeMessage, payload: _Payload) -> None:
    offers = negotiation.offers = negotiation.offers or Offers()
    proposals, selectors = payload
    if proposals:
        mine = msg.direction == "send"
        if proposals[0].phase == 1:
            if mine:
                offers.azure_p1 = proposals
            else:
                offers.peer_p1 = proposals
        elif mine:
            offers.azure_p2 = proposals
        else:
            offers.peer_p2 = proposals
    if selectors is not None:
        if "Received" in msg.text or msg.direction == "received":
            offers.peer_ts = selectors
        else:
            offers.azure_ts = selectors

