"""IKEDiagnosticLog messages -> structured `IkeMessage`.

The grammar is docs/sources.md#azure-ike-log: the envelope `SESSION_ID :{guid} Remote ip:port: Local ip:port:
<event>` (derived from public parsers, seen verbatim in Network Watcher's IkeLogs.txt), with its variants: no
SESSION_ID, no Remote/Local, ports 500 or 4500, GUIDs in any case; direction and exchange tags `[SEND]`,
`[RECEIVED]`, `[LOCAL_MSG]`, `[SA_INIT]`, `[SA_AUTH]`, `[NOTIFY]` with inconsistent spacing; proposals
`Policy1:Cipher=… Integrity=… DhGroup=…` (phase 1) and `Policy1:Integrity=… Cipher=…` (phase 2), including the
real no-space form `Cipher=DESIntegrity=Md5`, and traffic-selector payloads (docs/sources.md#azure-traffic-selectors);
the newer bracketed `[IkeEvent] … [ErrorCode] 0x… [ErrorMessage] …` style (uncertain) and Windows error numbers in
decimal or hex (docs/sources.md#azure-ike-errors).

Parsing is lazy where it is expensive: proposals and traffic selectors are read only from the rows that carry
them, because a failing tunnel logs a million rows a day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- the envelope ---------------------------------------------------------------------------------------------
_SESSION = re.compile(r"SESSION_ID\s*:\s*\{([0-9A-Fa-f-]+)\}\s*")
_ENDPOINTS = re.compile(
    r"Remote\s+(?P<rip>[0-9A-Fa-f.:]+?|<IPaddress>):(?P<rport>\d+):\s*Local\s+(?P<lip>[0-9A-Fa-f.:]+?|<IPaddress>):"
    r"(?P<lport>\d+):\s*"
)
DIRECTIONS = {"SEND": "send", "RECEIVED": "received", "RECEIVE": "received", "LOCAL_MSG": "local", "LOCAL": "local"}
EXCHANGES = {"SA_INIT", "SA_AUTH", "NOTIFY"}
_PLAIN_TAGS = {f"[{t}]": t for t in ("SEND", "RECEIVED", "LOCAL_MSG", "SA_INIT", "SA_AUTH", "NOTIFY")}
#: Bracketed keys of the newer structured style; they are not direction tags.
_STRUCTURED_KEYS = {"IKEEVENT", "ERRORCODE", "ERRORMESSAGE"}

# --- what the event says ---------------------------------------------------------------------------------------
_COOKIES = re.compile(r"iCookie\s+(0x[0-9A-Fa-f]+).*?rCookie\s+(0x[0-9A-Fa-f]+)")
_NOTIFY = re.compile(r"Notify Message\s*-\s*(.+?)\s*$")
_STATUS = re.compile(r"with status\s+(.+?)\s*$")
_ERROR_DEC = re.compile(r"\berror\s+(\d{3,5})\b", re.I)
_ERROR_HEX = re.compile(r"\b0x0*(35[0-9A-Fa-f]{2}|36[0-9A-Fa-f]{2}|4[Cc]9|8007[0-9A-Fa-f]{4})\b")
_STRUCTURED_KEY = r"\[(?:IkeEvent|ErrorCode|ErrorMessage)\]"
_STRUCTURED = re.compile(r"\[(IkeEvent|ErrorCode|ErrorMessage)\]\s*(.*?)\s*(?=" + _STRUCTURED_KEY + "|$)", re.I)
_TUNNEL_ID = re.compile(r"tunnel\s?Id\s+(0x[0-9A-Fa-f]+)", re.I)


@dataclass(frozen=True)
class Proposal:
    """One proposal as logged. Values keep the log's spelling (`AES-CBC-256`, `SHA256`, `DhGroup14`)."""

    phase: int  # 1 = IKE (main mode), 2 = IPsec (quick mode / child SA)
    cipher: str = ""
    integrity: str = ""
    dh_group: str = ""  # phase 1
    pfs_group: str = ""  # phase 2, when logged

    def describe(self) -> str:
        parts = [self.cipher, self.integrity] + ([self.dh_group] if self.dh_group else []) + \
                ([f"PFS {self.pfs_group}"] if self.pfs_group else [])
        return "/".join(p for p in parts if p)


@dataclass(frozen=True)
class SelectorRange:
    start: str
    end: str
    port_start: int = 0
    port_end: int = 65535
    protocol: int = 0

    def describe(self) -> str:
        ports = "" if (self.port_start, self.port_end) == (0, 65535) else f" ports {self.port_start}-{self.port_end}"
        proto = "" if self.protocol == 0 else f" proto {self.protocol}"
        return f"{self.start}–{self.end}{ports}{proto}"


@dataclass(frozen=True)
class TrafficSelectors:
    initiator: tuple[SelectorRange, ...] = ()  # TSi
    responder: tuple[SelectorRange, ...] = ()  # TSr

    def describe(self) -> str:
        def side(ranges: tuple[SelectorRange, ...]) -> str:
            return ", ".join(r.describe() for r in ranges) or "none"
        return f"TSi {side(self.initiator)}; TSr {side(self.responder)}"


@dataclass(slots=True)
class IkeMessage:
    text: str  # the event text after the envelope and tags
    session: str = ""  # lower-case GUID
    remote_ip: str = ""
    remote_port: str = ""
    local_ip: str = ""
    local_port: str = ""
    direction: str = ""  # "send" | "received" | "local" | ""
    tags: tuple[str, ...] = ()
    icookie: str = ""
    rcookie: str = ""
    notify: str = ""  # "Authentication failed", "Policy Mismatch", …
    status: str = ""  # "… with status <X>": the Windows error text
    error_code: int | None = None
    error_message: str = ""
    ike_event: str = ""  # [IkeEvent] value, e.g. SA_NEGOTIATION_FAILED

    @property
    def tunnel_id(self) -> str:
        found = _TUNNEL_ID.search(self.text)
        return found.group(1) if found else ""

    @property
    def is_sa_init(self) -> bool:
        return "SA_INIT" in self.tags or "SA INIT" in self.text or "SA_INIT packet" in self.text

    @property
    def starts_negotiation(self) -> bool:
        """The first SA_INIT of a negotiation carries rCookie 0x0 (docs/sources.md#azure-ike-log)."""
        return self.is_sa_init and self.rcookie.lower() == "0x0"

    def proposals(self) -> list[Proposal]:
        return parse_proposals(self.text)

    def traffic_selectors(self) -> TrafficSelectors | None:
        return parse_traffic_selectors(self.text)


def parse_ike_message(message: str) -> IkeMessage:
    """One IKEDiagnosticLog Message. The envelope and tags are split with string operations (a regex per part
    would triple the cost over a million rows); the regexes fall back for unusual spellings."""
    rest = message.strip()
    msg = IkeMessage(text="")
    if rest.startswith("SESSION_ID :{"):
        close = rest.find("}", 13)
        msg.session = rest[13:close].lower()
        rest = rest[close + 1:].lstrip()
    elif rest.startswith("SESSION_ID"):
        session = _SESSION.match(rest)
        if session:
            msg.session = session.group(1).lower()
            rest = rest[session.end():]
    if rest.startswith("Remote "):
        rest = _read_endpoints(msg, rest)
    tags: list[str] = []
    while rest.startswith("["):
        close = rest.find("]")
        name = _PLAIN_TAGS.get(rest[:close + 1])
        if name is None:  # spaced or unusual spelling: `[ SEND ]`
            name = rest[1:close].strip().upper()
            if close < 0 or name in _STRUCTURED_KEYS or not name.replace("_", "").isalpha():
                break
        if name in DIRECTIONS and not msg.direction:
            msg.direction = DIRECTIONS[name]
        tags.append(name)
        rest = rest[close + 1:].lstrip()
    msg.tags = tuple(tags)
    msg.text = rest.strip()
    _read_event(msg)
    return msg


def _read_endpoints(msg: IkeMessage, rest: str) -> str:
    """`Remote 203.0.113.10:500: Local 192.0.2.4:500: ` -> the four fields; returns what follows."""
    local = rest.find(": Local ")
    after = rest.find(": ", local + 8) if local > 0 else -1
    remote_ip, _, remote_port = rest[7:local].rpartition(":")
    local_ip, _, local_port = rest[local + 8:after].rpartition(":")
    if local > 0 and after > 0 and remote_port.isdigit() and local_port.isdigit():
        msg.remote_ip, msg.remote_port, msg.local_ip, msg.local_port = remote_ip, remote_port, local_ip, local_port
        return rest[after + 2:].lstrip()
    endpoints = _ENDPOINTS.match(rest)
    if not endpoints:
        return rest
    msg.remote_ip, msg.local_ip = endpoints.group("rip"), endpoints.group("lip")
    msg.remote_port, msg.local_port = endpoints.group("rport"), endpoints.group("lport")
    return rest[endpoints.end():]


def _read_event(msg: IkeMessage) -> None:
    text = msg.text
    if "Cookie" in text:
        cookies = _COOKIES.search(text)
        if cookies:
            msg.icookie, msg.rcookie = cookies.group(1).upper().replace("0X", "0x"), cookies.group(2)
            if msg.rcookie.lower() == "0x0":
                msg.rcookie = "0x0"
    if "Notify Message" in text:
        notify = _NOTIFY.search(text)
        msg.notify = notify.group(1) if notify else ""
    if "with status" in text:
        status = _STATUS.search(text)
        msg.status = status.group(1).rstrip(".") if status else ""
    if "[" in text:
        for key, value in _STRUCTURED.findall(text):
            key = key.lower()
            if key == "ikeevent":
                msg.ike_event = value
            elif key == "errorcode":
                msg.error_code = parse_error_code(value)
            else:
                msg.error_message = value.rstrip(".")
    if msg.error_code is None and ("rror" in text or ("0x" in text and "Cookie" not in text)):
        msg.error_code = find_error_code(text)


def parse_error_code(value: str) -> int | None:
    """`0x35E9`, `0x000035e9`, `13801`, `0x80073613` -> the Windows error number (13801, 13843 …)."""
    value = value.strip().split()[0] if value.strip() else ""
    try:
        number = int(value, 16) if value.lower().startswith("0x") else int(value)
    except ValueError:
        return None
    return number & 0xFFFF if number > 0xFFFF else number  # HRESULT 0x8007xxxx wraps a Win32 code


def find_error_code(text: str) -> int | None:
    dec = _ERROR_DEC.search(text)
    if dec:
        return int(dec.group(1))
    hexa = _ERROR_HEX.search(text)
    return parse_error_code("0x" + hexa.group(1)) if hexa else None


# --- proposals -------------------------------------------------------------------------------------------------
_POLICY = re.compile(r"Policy\d+\s*:")
_KV = re.compile(r"(Cipher|Integrity|DhGroup|PfsGroup|Pfs)=(.*?)(?=\s|Cipher=|Integrity=|DhGroup=|PfsGroup=|Pfs=|$)")


def parse_proposals(text: str) -> list[Proposal]:
    """Proposals of an `Ike payload` (phase 1) or `IPSec payload` / `IPSec policy Payload` (phase 2) row.

    A proposal cut short by a screenshot (`AES-C…`) is dropped rather than guessed.
    """
    lowered = text.lower()
    if "ike payload" in lowered:
        phase = 1
    elif "ipsec payload" in lowered or "ipsec policy payload" in lowered:
        phase = 2
    else:
        return []
    proposals = []
    for chunk in _POLICY.split(text)[1:]:
        if chunk.rstrip().endswith(("…", "...")):
            continue  # cut short: one missing value would make a wrong proposal
        values = {key.lower(): value.strip().rstrip(",") for key, value in _KV.findall(chunk)}
        if values.get("cipher") or values.get("integrity"):
            proposals.append(Proposal(phase, values.get("cipher", ""), values.get("integrity", ""),
                                      values.get("dhgroup", ""), values.get("pfsgroup", values.get("pfs", ""))))
    return proposals


# --- traffic selectors -----------------------------------------------------------------------------------------
_TS_RANGE = re.compile(
    r"StartAddress\s+(?P<start>[0-9A-Fa-f.:]+)\s+EndAddress\s+(?P<end>[0-9A-Fa-f.:]+)"
    r"(?:\s+PortStart\s+(?P<ps>\d+)\s+PortEnd\s+(?P<pe>\d+))?(?:\s+Prot(?:ocol)?\s+(?P<proto>\d+))?"
)
_TS_SIDE = re.compile(r"Number of (TSIs|TSRs)\s*\d+\s*:", re.I)


def parse_traffic_selectors(text: str) -> TrafficSelectors | None:
    """TSi/TSr ranges of a `Traffic Selector payload` row (docs/sources.md#azure-traffic-selectors); None when the
    row has none."""
    if "Traffic Selector" not in text:
        return None
    sides: dict[str, list[SelectorRange]] = {"tsis": [], "tsrs": []}
    marks = list(_TS_SIDE.finditer(text))
    for i, mark in enumerate(marks):
        chunk = text[mark.end(): marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        for m in _TS_RANGE.finditer(chunk):
            sides[mark.group(1).lower()].append(SelectorRange(
                m.group("start"), m.group("end"), int(m.group("ps") or 0), int(m.group("pe") or 65535),
                int(m.group("proto") or 0)))
    return TrafficSelectors(tuple(sides["tsis"]), tuple(sides["tsrs"]))
