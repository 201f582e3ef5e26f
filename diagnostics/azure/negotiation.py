"""IKE rows grouped into negotiations, the way seed 002's author reads them.

"In order to identify the start of an IPsec negotiation, you need to find the initial SA_INIT message … The first
SA_INIT message is always the one where rCookie = 0" (seed 000); "Whoever sends the first packet is called
initiator"; "If the IPsec tunnel fails to establish, Azure keeps retrying every few seconds … the failure will in
theory always be the same every time" (seed 000). So one sample negotiation explains the failure, and the count of
identical failures says how long it has been going on.

`NegotiationTracker` consumes rows one at a time (memory stays bounded for a million rows): it keeps a small
summary of every negotiation and the rows of only a few sample ones.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from .ike import IkeMessage, Proposal, TrafficSelectors, parse_ike_message
from .ike_errors import Failure, failure_of

#: A row with no SESSION_ID joins the peer's latest negotiation if that one saw a row this recently.
ORPHAN_JOIN_SECONDS = 10.0
#: Rows kept per sample negotiation, and how many negotiations keep their rows (the first and the latest few).
ROWS_PER_SAMPLE = 24
SAMPLES_FIRST = 3
SAMPLES_LAST = 3


@dataclass(slots=True, eq=False)
class Negotiation:
    session: str
    remote_ip: str
    start: float
    end: float
    initiator: str = ""  # "azure" | "peer" | "" (start not seen)
    azure_p1: tuple[Proposal, ...] = ()
    peer_p1: tuple[Proposal, ...] = ()
    azure_p2: tuple[Proposal, ...] = ()
    peer_p2: tuple[Proposal, ...] = ()
    azure_ts: TrafficSelectors | None = None
    peer_ts: TrafficSelectors | None = None
    failure: Failure | None = None
    failure_text: str = ""  # the row text that said so
    failure_code: int | None = None
    received: bool = False  # any packet from the peer
    sa_init_sent: int = 0
    rows: list[tuple[float, str]] = field(default_factory=list)  # (ts, message) of sample negotiations only

    @property
    def signature(self) -> tuple[str, str]:
        """Two failures "the same way" have the same signature."""
        if self.failure is not None:
            return self.failure.value, self.failure_text
        return ("no_response", "") if not self.received else ("", "")


@dataclass
class IkeSummary:
    negotiations: list[Negotiation]
    rows: int
    orphans: int  # rows that could not be attributed to a negotiation
    samples: list[Negotiation]  # negotiations whose rows were kept, oldest first

    def failures(self) -> list[Negotiation]:
        return [n for n in self.negotiations if n.failure is not None or not n.received]

    def by_signature(self) -> Counter[tuple[str, str]]:
        return Counter(n.signature for n in self.negotiations if n.signature != ("", ""))


class NegotiationTracker:
    def __init__(self) -> None:
        self.negotiations: list[Negotiation] = []
        self._by_session: dict[str, Negotiation] = {}
        self._latest_by_peer: dict[str, Negotiation] = {}
        self._first: list[Negotiation] = []
        self._recent: deque[Negotiation] = deque(maxlen=SAMPLES_LAST)
        self.rows = 0
        self.orphans = 0

    def add(self, ts: float, message: str) -> None:
        """One row. Most rows of a known negotiation are read with a few substring checks; the full parse runs
        for a negotiation's first row, rows that signal a failure, and payload rows of sample negotiations."""
        self.rows += 1
        if message.startswith("SESSION_ID :{") and message[49:50] == "}":
            negotiation = self._by_session.get(message[13:49].lower())
            if negotiation is not None:
                self._light(negotiation, ts, message)
                return
        msg = parse_ike_message(message)
        negotiation = self._negotiation_for(ts, msg)
        if negotiation is None:
            self.orphans += 1
            return
        negotiation.end = max(negotiation.end, ts)
        if len(negotiation.rows) < ROWS_PER_SAMPLE and self._sampled(negotiation):
            negotiation.rows.append((ts, message))
        _absorb(negotiation, msg)

    def _light(self, negotiation: Negotiation, ts: float, message: str) -> None:
        negotiation.end = ts
        sampled = self._sampled(negotiation)
        if sampled and len(negotiation.rows) < ROWS_PER_SAMPLE:
            negotiation.rows.append((ts, message))
        if not negotiation.received and "[RECEIVED]" in message:
            negotiation.received = True
        if "[SEND][SA_INIT]" in message:
            negotiation.sa_init_sent += 1
        settled = negotiation.failure is not None and negotiation.failure is not Failure.TIMED_OUT
        if (not settled and any(k in message for k in _SIGNAL_KEYS)) or \
                (sampled and ("ayload" in message or "Traffic Selector" in message)):
            _absorb(negotiation, parse_ike_message(message))

    def _negotiation_for(self, ts: float, msg: IkeMessage) -> Negotiation | None:
        if msg.session:
            found = self._by_session.get(msg.session)
            return found if found is not None else self._start(msg.session, msg.remote_ip, ts)
        peer = msg.remote_ip
        latest = self._latest_by_peer.get(peer) if peer else (self.negotiations[-1] if self.negotiations else None)
        if latest is not None and ts - latest.end <= ORPHAN_JOIN_SECONDS:
            return latest
        if msg.starts_negotiation:
            return self._start("", peer, ts)
        return None

    def _start(self, session: str, peer: str, ts: float) -> Negotiation:
        negotiation = Negotiation(session, peer, ts, ts)
        self.negotiations.append(negotiation)
        if session:
            self._by_session[session] = negotiation
        if peer:
            self._latest_by_peer[peer] = negotiation
        if len(self._first) < SAMPLES_FIRST:
            self._first.append(negotiation)
        elif len(self._recent) == self._recent.maxlen:
            evicted = self._recent[0]
            if not any(evicted is f for f in self._first):
                evicted.rows = []  # neither among the first nor the latest: its summary is enough
        self._recent.append(negotiation)
        return negotiation

    def _sampled(self, negotiation: Negotiation) -> bool:
        return any(negotiation is n for n in self._recent) or any(negotiation is n for n in self._first)

    def summary(self) -> IkeSummary:
        samples = [n for n in self.negotiations if n.rows]
        return IkeSummary(self.negotiations, self.rows, self.orphans, samples)


def _absorb(negotiation: Negotiation, msg: IkeMessage) -> None:
    """Update a negotiation's summary with one row."""
    if msg.direction == "received":
        negotiation.received = True
    if msg.starts_negotiation and not negotiation.initiator:
        # [SEND][SA_INIT] rCookie 0x0: Azure initiated; [RECEIVED][SA_INIT] … rCookie 0x0: the peer did (seed 002).
        negotiation.initiator = "azure" if msg.direction == "send" else "peer" if msg.direction == "received" else ""
    if msg.direction == "send" and msg.is_sa_init:
        negotiation.sa_init_sent += 1
    text = msg.text
    if "payload" in text or "Payload" in text:
        proposals = tuple(msg.proposals())
        if proposals:
            mine = msg.direction == "send"
            if proposals[0].phase == 1:
                if mine:
                    negotiation.azure_p1 = proposals
                else:
                    negotiation.peer_p1 = proposals
            elif mine:
                negotiation.azure_p2 = proposals
            else:
                negotiation.peer_p2 = proposals
        selectors = msg.traffic_selectors()
        if selectors is not None:
            if "Received" in text or msg.direction == "received":
                negotiation.peer_ts = selectors
            else:
                negotiation.azure_ts = selectors
    failure = failure_of(msg) if _may_signal(msg) else None
    if failure is not None and (negotiation.failure is None or negotiation.failure is Failure.TIMED_OUT):
        negotiation.failure = failure
        negotiation.failure_text = msg.notify or msg.status or msg.error_message or msg.text
        negotiation.failure_code = msg.error_code


#: Substrings of every row that can signal a failure (notify, status, error codes, structured errors).
_SIGNAL_KEYS = ("Notify", "status", "rror", "NO_PROPOSAL", "TS_UNACCEPTABLE", "timed out", "0x3", "delete")


def _may_signal(msg: IkeMessage) -> bool:
    return bool(msg.notify or msg.status or msg.error_code or msg.error_message or msg.ike_event) or \
        "NO_PROPOSAL" in msg.text or "TS_UNACCEPTABLE" in msg.text or "timed out" in msg.text
